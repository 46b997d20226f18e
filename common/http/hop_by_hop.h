#pragma once
// Hop-by-hop header fields (RFC 9110 §7.6.1): meaningful for one connection only, so a proxy
// removes them before forwarding. The fixed list is data; names listed in `Connection:` are
// removed too.

#include <string_view>

#include "common/http/message.h"

namespace portico::http {

// True if `name` is in the fixed hop-by-hop list (Connection, Keep-Alive, Proxy-Connection,
// TE, Trailer, Transfer-Encoding, Upgrade, Proxy-Authenticate, Proxy-Authorization).
bool isHopByHop(std::string_view name);

// Removes the fixed hop-by-hop fields and every field named in a Connection header.
void stripHopByHop(HeaderMap& headers);

}  // namespace portico::http
