#include "common/build_info.h"

namespace portico {

std::string_view version() {
  return PORTICO_VERSION;
}

}  // namespace portico
