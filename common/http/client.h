#pragma once
// The client side of the HTTP engine: one HTTP/1.1 connection to an upstream (plain or TLS),
// carrying one request at a time; kept alive and reused through a per-worker ClientPool.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "common/error.h"
#include "common/http/body.h"
#include "common/http/message.h"

struct event_base;

namespace portico::net {
class Address;
class TlsClientContext;
}  // namespace portico::net

namespace portico::http {

// Why an upstream exchange failed; the proxy maps these to 502/504 (Pingora-style sources).
enum class ClientErrc {
  ConnectFailed,  // refused, unreachable, DNS, TLS handshake
  ConnectTimeout,
  ReadTimeout,
  WriteTimeout,
  Reset,      // closed or reset before the response completed
  Malformed,  // the upstream sent something that is not HTTP
};

struct ClientTimeouts {
  std::chrono::milliseconds connect{5'000};
  std::chrono::milliseconds read{900'000};
  std::chrono::milliseconds write{900'000};

  bool operator==(const ClientTimeouts&) const = default;
};

// Receives the upstream's side of one exchange.
class ClientCallbacks {
 public:
  virtual ~ClientCallbacks() = default;
  // An interim 1xx response (e.g. 100 Continue), to be relayed.
  virtual void onInformational(const ResponseHead& /*head*/) {}
  // The final response head; its body streams from `body` (attach a sink).
  virtual void onResponseHead(ResponseHead&& head, BodySource& body) = 0;
  // The exchange failed; no further callbacks follow for it.
  virtual void onClientError(const Error& error) = 0;
  // Request output dropped below the low watermark after outputBlocked().
  virtual void onWriteDrained() {}
};

class ClientConnection {
 public:
  virtual ~ClientConnection() = default;
  // Starts a request. Framing from the head: Content-Length if present; chunked if
  // Transfer-Encoding: chunked; otherwise no body. `method` HEAD means no response body.
  virtual void sendRequest(RequestHead head, ClientCallbacks& callbacks) = 0;
  virtual void sendBody(evbuffer& data) = 0;
  virtual void sendBody(std::string_view data) = 0;
  // Ends the request body.
  virtual void finishRequest() = 0;
  virtual bool outputBlocked() const = 0;
  // True when the last exchange completed cleanly and the connection may be reused.
  virtual bool reusable() const = 0;
  // Detaches callbacks and aborts the current exchange (no callbacks after this).
  virtual void abort() = 0;
};

// Per-worker keep-alive pool for one upstream server.
class ClientPool {
 public:
  struct Options {
    size_t max_idle = 32;  // idle connections kept
    ClientTimeouts timeouts;
    std::chrono::milliseconds idle_timeout{60'000};
    size_t high_watermark = size_t{128} * 1024;
    size_t low_watermark = size_t{32} * 1024;
    uint32_t max_header_bytes = 64 * 1024;
  };
  virtual ~ClientPool() = default;
  using AcquireCallback = std::function<void(std::unique_ptr<ClientConnection>, const Error*)>;
  // Gives an idle connection at once, or connects (callback with error on failure). The
  // callback runs from the event loop, never inside acquire().
  virtual void acquire(AcquireCallback callback) = 0;
  // Returns a connection; kept if reusable() and the pool has room, else closed.
  virtual void release(std::unique_ptr<ClientConnection> connection) = 0;
  virtual size_t idleCount() const = 0;

  static std::unique_ptr<ClientPool> create(event_base& base, const net::Address& address,
                                            std::shared_ptr<net::TlsClientContext> tls,
                                            Options options);
};

}  // namespace portico::http
