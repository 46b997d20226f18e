#pragma once
// The server side of the HTTP engine: one ServerExchange per request, handed to a
// RequestHandler as soon as the request head is parsed. The request body streams through
// requestBody(); the response streams out through sendHead/sendBody/sendFile/finish.
// Connections (plain or TLS), parsing, keep-alive, pipelining (responses in request order),
// Expect: 100-continue, limits and timeouts are the engine's job, not the handler's.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "common/error.h"
#include "common/http/body.h"
#include "common/http/message.h"

struct event_base;

namespace portico::http {

// Why a server connection ended an exchange that had not finished (the reason given to
// ExchangeObserver::onExchangeReset and BodySink::onBodyError). A request that was cut off
// or malformed is reported in the parser's domain instead (ParseError::Truncated, ...).
enum class ConnectionError {
  PeerClosed,  // the client closed the connection (EOF) with the response unfinished
  Io,          // a socket error (plain TCP)
  Tls,         // a TLS or socket error on a TLS connection
  Timeout,     // the request body or the response did not move within the timeout
  Shutdown,    // the server stopped (ConnectionSet::closeAll)
  FileRead,    // a response file could not be queued or read
};
// A short stable name ("PeerClosed") for logs.
std::string_view connectionErrorName(ConnectionError error);

// Limits applied to every server connection (defaults in one place, nginx-style).
struct ServerLimits {
  uint64_t header_bytes = uint64_t{64} * 1024;       // whole header section; over → 431, close
  uint32_t header_count = 100;                       // over → 431, close
  uint64_t request_line_bytes = uint64_t{8} * 1024;  // over → 414, close
  uint64_t body_bytes = 0;                           // 0 = unlimited; over → 413, close
  std::chrono::milliseconds header_timeout{30'000};  // first byte to end of head (slowloris)
  std::chrono::milliseconds idle_timeout{120'000};   // keep-alive wait between requests
  std::chrono::milliseconds body_timeout{900'000};   // max gap between body bytes
  std::chrono::milliseconds send_timeout{900'000};   // max stall writing to the client
  size_t high_watermark = size_t{128} * 1024;        // output queued before outputBlocked()
  size_t low_watermark = size_t{32} * 1024;          // onWriteDrained() fires below this
};

// Facts about the connection a request came on.
struct ConnectionInfo {
  uint64_t id = 0;           // unique per process
  std::string peer_address;  // "127.0.0.1" or "unix"
  uint16_t peer_port = 0;
  std::string local_address;  // the listener's address as configured
  std::string listener;       // the listener's name (http::ListenerSpec::name)
  bool tls = false;
  std::string sni;          // TLS server name the client sent, if any
  std::string tls_version;  // "TLSv1.3"
};

// Per-request application state. The exchange owns it (ServerExchange::attach) and destroys
// it when the exchange ends, so handlers never `delete this`.
class ExchangeObserver {
 public:
  virtual ~ExchangeObserver() = default;
  // The connection failed before the response finished (peer gone, timeout). The exchange
  // is unusable after this returns; the observer is destroyed right after.
  virtual void onExchangeReset(const Error& /*reason*/) {}
  // Output dropped below the low watermark after outputBlocked() was true.
  virtual void onWriteDrained() {}
};

// One request/response exchange on a server connection.
class ServerExchange {
 public:
  virtual ~ServerExchange() = default;

  virtual const RequestHead& request() const = 0;
  // The request body; empty() when the request has none.
  virtual BodySource& requestBody() = 0;
  virtual const ConnectionInfo& connection() const = 0;
  // The worker's event loop (for timers and upstream connections on the same thread).
  virtual event_base& eventBase() = 0;
  // Hands per-request state to the exchange (see ExchangeObserver).
  virtual void attach(std::unique_ptr<ExchangeObserver> state) = 0;

  // Sends "100 Continue" now if the client sent Expect: 100-continue (RFC 9110 §10.1.1).
  // The engine also sends it by itself when a body sink is first attached.
  virtual void sendContinue() = 0;
  // Starts the response. Framing is decided here, once (RFC 9112 §6.3): Content-Length if the
  // head has one; none for HEAD requests and 1xx/204/304; otherwise chunked for HTTP/1.1
  // clients and close-delimited for HTTP/1.0. The engine adds Date and Connection.
  virtual void sendHead(ResponseHead head) = 0;
  // Queues body bytes (drains `data`).
  virtual void sendBody(evbuffer& data) = 0;
  virtual void sendBody(std::string_view data) = 0;
  // Queues `length` bytes of an open file from `offset`; takes ownership of `fd`. Uses
  // sendfile on plain connections (zero copy), reads through the buffer on TLS.
  virtual void sendFile(int fd, uint64_t offset, uint64_t length) = 0;
  // Ends the response. An unread request body is drained (or the connection closed after
  // the response when draining would be unbounded).
  virtual void finish() = 0;
  // Closes the connection at once (e.g. a proxied upstream died mid-body).
  virtual void reset() = 0;
  // True while queued output is above the high watermark: stop producing until
  // ExchangeObserver::onWriteDrained().
  virtual bool outputBlocked() const = 0;
  virtual bool headSent() const = 0;
  // Bytes of response body queued so far (for access logs).
  virtual uint64_t bytesSent() const = 0;

  // Convenience: a complete response with a small in-memory body and Content-Length.
  void respond(int status, HeaderMap headers, std::string_view body);
};

// Application entry point, one instance per worker thread.
class RequestHandler {
 public:
  virtual ~RequestHandler() = default;
  // A request head has arrived. The handler must eventually call finish() or reset().
  virtual void onRequest(ServerExchange& exchange) = 0;
};

}  // namespace portico::http
