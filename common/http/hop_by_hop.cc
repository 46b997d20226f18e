#include "common/http/hop_by_hop.h"
#include "common/text.h"

#include <array>
#include <string>
#include <vector>

namespace portico::http {
namespace {

constexpr std::array<std::string_view, 9> kHopByHop = {
    "Connection", "Keep-Alive",         "Proxy-Connection",    "TE", "Trailer", "Transfer-Encoding",
    "Upgrade",    "Proxy-Authenticate", "Proxy-Authorization",
};

constexpr std::array<std::string_view, 4> kEndToEnd = {
    "Host",
    "Content-Length",
    "Authorization",
    "X-Real-IP",
};

constexpr std::string_view kForwardedPrefix = "X-Forwarded-";

}  // namespace

bool isEndToEnd(std::string_view name) {
  for (auto field : kEndToEnd) {
    if (equalsIgnoreCase(field, name)) return true;
  }
  return name.size() > kForwardedPrefix.size() &&
         equalsIgnoreCase(name.substr(0, kForwardedPrefix.size()), kForwardedPrefix);
}

bool isHopByHop(std::string_view name) {
  for (auto hop : kHopByHop) {
    if (equalsIgnoreCase(hop, name)) return true;
  }
  return false;
}

void stripHopByHop(HeaderMap& headers) {
  std::vector<std::string> listed;
  for (auto value : headers.getAll("Connection")) {
    while (!value.empty()) {
      size_t comma = value.find(',');
      auto item = trimBlanks(value.substr(0, comma));
      if (!item.empty() && !isEndToEnd(item)) listed.emplace_back(item);
      if (comma == std::string_view::npos) break;
      value.remove_prefix(comma + 1);
    }
  }
  auto& fields = headers.fields();
  std::erase_if(fields, [&](const HeaderMap::Field& f) {
    if (isHopByHop(f.first)) return true;
    for (const auto& name : listed) {
      if (equalsIgnoreCase(name, f.first)) return true;
    }
    return false;
  });
}

}  // namespace portico::http
