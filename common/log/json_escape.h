#pragma once
// Internal helpers of common/log: escaping for the JSON and text log formats, shared logger
// plumbing. Not part of the public interface.

#include <spdlog/formatter.h>

#include <memory>
#include <string>
#include <string_view>

#include "common/log/log.h"

namespace portico::log {

// Escapes `text` for the inside of a JSON string (quotes, backslash, control characters;
// bytes >= 0x80 pass through).
std::string jsonEscape(std::string_view text);
// Escapes like nginx's access log: `"`, `\`, control bytes and bytes >= 0x7f become \xHH.
std::string nginxEscape(std::string_view text);

// Starts spdlog's shared async thread pool once per process.
void ensureThreadPool();
// The formatter of the process log for `format`.
std::unique_ptr<spdlog::formatter> makeFormatter(Format format, const Fields& fields = {});

}  // namespace portico::log
