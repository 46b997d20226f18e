#pragma once
// Http1ClientConnection: one HTTP/1.1 connection to an upstream over a libevent bufferevent,
// plain or TLS (bufferevent_openssl), implementing ClientConnection (client.h). It carries
// one exchange at a time: the request head and a streamed body go out (framed by
// message_encoder.h: Content-Length or chunked), the response head and body come in through
// http::Parser and are handed out as a BodySource with pause/resume. A paused or sink-less
// body stops reading the socket, so at most one input buffer (high watermark) is held.
//
// Timeouts map to ClientErrc: connect (TCP + TLS handshake) → ConnectTimeout; no response
// bytes for `read` after the request was finished → ReadTimeout; queued request bytes not
// drained for `write` → WriteTimeout. Callbacks always run from the event loop, and the
// owner may destroy the connection inside any callback (including the body sink's).
// What this does not do: pipeline requests, HTTP/2, protocol upgrades, or retry.

#include <event2/buffer.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "common/error.h"
#include "common/http/body.h"
#include "common/http/body_spans.h"
#include "common/http/client.h"
#include "common/http/message_encoder.h"
#include "common/http/parser.h"
#include "common/lifetime.h"
#include "common/net/address.h"
#include "common/net/event_ptr.h"

namespace portico::net {
class TlsClientContext;
}

namespace portico::http {

struct ClientConnectionOptions {
  ClientTimeouts timeouts;
  size_t high_watermark = size_t{128} * 1024;  // request output queued before outputBlocked();
                                               // also the most response bytes read ahead
  size_t low_watermark = size_t{32} * 1024;    // onWriteDrained() fires below this
  ParserLimits limits;                         // response head limits (header_bytes, header_count)
};

class Http1ClientConnection final : public ClientConnection,
                                    private BodySource,
                                    private ParserCallbacks {
 public:
  // Called once when the connection is established (TLS handshake included) with nullptr,
  // or failed (ClientErrc::ConnectFailed / ConnectTimeout). Never called inside connect().
  using ConnectCallback = std::function<void(const Error* error)>;

  // Starts a non-blocking connect to `address` (host names resolve here with getaddrinfo).
  // `tls` null = plain TCP. The returned object owns the socket; destroying it cancels.
  static std::unique_ptr<Http1ClientConnection> connect(event_base& base,
                                                        const net::Address& address,
                                                        std::shared_ptr<net::TlsClientContext> tls,
                                                        ClientConnectionOptions options,
                                                        ConnectCallback done);

  ~Http1ClientConnection() override;
  Http1ClientConnection(const Http1ClientConnection&) = delete;
  Http1ClientConnection& operator=(const Http1ClientConnection&) = delete;

  // http::ClientConnection
  void sendRequest(RequestHead head, ClientCallbacks& callbacks) override;
  void sendBody(evbuffer& data) override;
  void sendBody(std::string_view data) override;
  void finishRequest() override;
  bool outputBlocked() const override;
  bool reusable() const override;
  void abort() override;

  // True while connected with no exchange in progress.
  bool idle() const { return state_ == State::Idle; }
  // Keep-alive support for ClientPool: while idle, `on_gone` runs (once, from the event loop)
  // when the upstream closes, sends unexpected bytes, errors, or `timeout` passes. The
  // callback may destroy the connection. stopWatchingIdle() cancels.
  void watchIdle(std::chrono::milliseconds timeout, std::function<void()> on_gone);
  void stopWatchingIdle();
  // Completed exchanges on this connection (for tests and metrics).
  uint64_t exchanges() const { return exchanges_; }
  const net::Address& address() const { return address_; }

 private:
  enum class State {
    Connecting,
    Idle,      // connected, no exchange
    Exchange,  // request sent or being sent; response pending or streaming
    Closed,    // failed, aborted or closed by the peer; never reusable
  };

  Http1ClientConnection(event_base& base, net::Address address,
                        std::shared_ptr<net::TlsClientContext> tls,
                        ClientConnectionOptions options);
  void startConnect(ConnectCallback done);

  // libevent trampolines.
  static void onReadCb(bufferevent* bev, void* ctx);
  static void onWriteCb(bufferevent* bev, void* ctx);
  static void onEventCb(bufferevent* bev, short events, void* ctx);
  static void onTimerCb(evutil_socket_t fd, short events, void* ctx);
  static void onDeferredCb(evutil_socket_t fd, short events, void* ctx);
  static void onFlushCb(evutil_socket_t fd, short events, void* ctx);

  void onEvent(short events);
  void onConnected();
  void onTimer();
  // Parses buffered input and delivers head/body/end as far as pause/sink allow.
  void processInput();
  // True while input can be consumed (an exchange in progress whose body is not held back).
  bool wantsInput() const;
  // Reading is on only while input can be consumed.
  void updateReading();
  void scheduleDeferred();
  void runDeferred();
  // Plain sockets: request bytes are written once per loop pass straight to the socket
  // (net::flushNow); EV_WRITE is enabled only while bytes are left over.
  void scheduleFlush();
  void flush();
  // Output went below the low watermark: tells a producer that was blocked.
  void onWritten();
  // Ends the exchange successfully (body complete) and returns to Idle.
  void completeExchange();
  // Fails the connection; reports to the connect callback, ClientCallbacks or body sink.
  void fail(ClientErrc code, std::string message);
  void closeSocket();
  void notifyIdleGone();
  // Runs `f` (an out-call) and returns false if `this` was destroyed during it
  // (common/lifetime.h).
  template <typename F>
  bool callOut(F&& f);

  // http::ParserCallbacks
  void onResponseHead(ResponseHead&& head) override;
  void onBody(const char* data, size_t len) override;
  void onMessageComplete() override;

  // http::BodySource (the response body)
  void setSink(BodySink* sink) override;
  void pause() override;
  void resume() override;
  std::optional<uint64_t> declaredLength() const override;
  bool empty() const override;
  bool complete() const override;
  uint64_t bytesReceived() const override;

  event_base& base_;
  net::Address address_;
  std::shared_ptr<net::TlsClientContext> tls_;
  ClientConnectionOptions options_;
  net::BuffereventPtr bev_;
  net::EventPtr timer_;     // connect timeout, then idle timeout
  net::EventPtr deferred_;  // runs runDeferred() from the loop
  net::EventPtr flush_;     // runs flush() from the loop
  Parser parser_;
  net::EvbufferPtr body_;  // de-chunked response body bytes not yet given to the sink
  BodySpans body_spans_;   // body bytes of the current feed(), moved to body_ after it

  State state_ = State::Connecting;
  ConnectCallback connect_done_;
  std::optional<Error> pending_error_;  // a failure to report from the loop
  ClientCallbacks* callbacks_ = nullptr;
  BodySink* sink_ = nullptr;
  Liveness liveness_;  // callOut's guard (common/lifetime.h)

  // The request side of the current exchange:
  //   Sending ──outputBlocked() true──► Blocked ──output ≤ low watermark: onWriteDrained()──►
  //   Sending;  Sending, Blocked ──finishRequest──► Sent  (sendRequest: Sent when no body)
  // A request finished while Blocked is owed no onWriteDrained(): its producer is done.
  enum class RequestState {
    Sending,  // body being sent
    Blocked,  // body being sent; outputBlocked() said so, onWriteDrained() owed
    Sent,     // the request is complete (also: no exchange)
  };
  // The response side of the current exchange:
  //   AwaitingHead ──final head handed out──► Body ──onMessageComplete──► Complete
  //   Body, Complete ──fail──► Failed;  Complete, Failed ──end or error given to the sink──► Ended
  //   (AwaitingHead ──fail──► onClientError, the connection Closed)
  // The ending reaches the sink in completeExchange/fail, or from the loop (runDeferred) when
  // the sink is attached later.
  enum class ResponseState {
    AwaitingHead,  // no final head handed out yet (1xx heads may have been)
    Body,          // head handed out; body bytes still to come
    Complete,      // the parser saw the end; body bytes may still wait for the sink
    Failed,        // the connection failed after the head; body_error_ waits for the sink
    Ended,         // the sink got onBodyEnd or onBodyError
  };

  // The current exchange. Two facts stay flags, being independent of both states:
  //  - body_paused_: the response body's consumer asked to pause, whatever the progress;
  //  - peer_eof_: the upstream closed its side (whatever either side's state); what is
  //    buffered is still parsed, and the connection is not reused.
  BodyEncoder request_body_;  // the request body's framing (message_encoder.h)
  // mutable: outputBlocked(), const in ClientConnection, records that the producer was told
  // to wait.
  mutable RequestState request_ = RequestState::Sent;
  ResponseState response_ = ResponseState::AwaitingHead;
  std::optional<ResponseHead> pending_head_;  // parsed, not yet handed out
  bool body_paused_ = false;
  bool peer_eof_ = false;
  std::optional<Error> body_error_;  // failure after the head, for the sink
  uint64_t body_received_ = 0;
  uint64_t exchanges_ = 0;

  std::function<void()> idle_gone_;
};

}  // namespace portico::http
