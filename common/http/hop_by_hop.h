#pragma once
// Hop-by-hop header fields (RFC 9110 §7.6.1): meaningful for one connection only, so a proxy
// removes them before forwarding. The fixed list is data; names listed in `Connection:` are
// removed too, except end-to-end fields that a sender must not list there (RFC 9110 §7.6.1:
// "intended for all recipients"): `Connection: close, Host` must not strip Host.

#include <string_view>

#include "common/http/message.h"

namespace portico::http {

// True if `name` is in the fixed hop-by-hop list (Connection, Keep-Alive, Proxy-Connection,
// TE, Trailer, Transfer-Encoding, Upgrade, Proxy-Authenticate, Proxy-Authorization).
bool isHopByHop(std::string_view name);

// True if `name` is end to end whatever Connection says: Host, Content-Length,
// Authorization, X-Real-IP and X-Forwarded-* (framing, routing and identity that the proxy
// relies on or sets). Transfer-Encoding is in the fixed list: stripped, framing re-decided.
bool isEndToEnd(std::string_view name);

// Removes the fixed hop-by-hop fields and every field named in a Connection header, except
// those isEndToEnd() names (a Connection option naming one is ignored).
void stripHopByHop(HeaderMap& headers);

}  // namespace portico::http
