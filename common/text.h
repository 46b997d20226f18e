#pragma once
// Small string helpers shared by the parsers (HTTP headers, YAML values, User-Agents).
// (Not named strings.h: common/ is on the include path, and <strings.h> is a system header.)

#include <string_view>

namespace portico {

// `text` without leading and trailing blanks (space and horizontal tab: HTTP's OWS).
inline std::string_view trimBlanks(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

}  // namespace portico
