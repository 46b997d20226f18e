#pragma once
// Version and build facts printed by --version and logged at startup.

#include <string_view>

namespace portico {

// The project version from meson.build ("0.1.0").
std::string_view version();

}  // namespace portico
