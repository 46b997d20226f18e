#pragma once
// ServerConnection: one accepted HTTP/1.1 connection (plain or TLS bufferevent) carrying a
// sequence of exchanges, one at a time. It is the ServerExchange and the request BodySource
// of its current exchange.
//
// Life of a connection: accept → [head timeout] request head parsed → handler.onRequest →
// body streamed to the handler's sink → handler finishes the response → keep-alive: parse the
// next (possibly pipelined) request; else flush, half-close and linger briefly, then free.
// Pipelined requests are parsed strictly one after another: request N+1 is not parsed before
// response N is finished, nor while the output is above the high watermark (a client that
// pipelines and never reads), so responses are in request order and input and output stay
// bounded.
//
// Ownership: a ConnectionSet per worker owns its connections. A connection leaves through
// ConnectionSet::retire(); the set destroys it from the event loop, never inside a callback
// (the first of the two rules of common/lifetime.h).
// What this does not do: HTTP/2, Upgrade/CONNECT tunnels (answered, then closed), trailers
// (parsed and dropped).

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/http/body_spans.h"
#include "common/http/message_encoder.h"
#include "common/http/parser.h"
#include "common/http/server.h"
#include "common/net/event_ptr.h"

namespace portico::net {
class TlsServerContext;
}

namespace portico::http {

class ServerConnection;

// What an accepted connection needs from the listener it came on.
struct ListenerContext {
  std::string name;                            // ListenerSpec::name
  std::string address;                         // as configured
  std::shared_ptr<net::TlsServerContext> tls;  // null for plain HTTP
  const ServerLimits* limits = nullptr;        // outlives the connections
  RequestHandler* handler = nullptr;           // the worker's handler
};

// The connections of one worker.
class ConnectionSet {
 public:
  explicit ConnectionSet(event_base& base);
  ~ConnectionSet();
  ConnectionSet(const ConnectionSet&) = delete;
  ConnectionSet& operator=(const ConnectionSet&) = delete;

  // Wraps an accepted socket (TCP_NODELAY already set) in a connection and starts it.
  void accept(int fd, const sockaddr* peer, socklen_t peer_length, const ListenerContext& listener);
  // Removes a connection; it is destroyed from the event loop shortly after.
  void retire(ServerConnection& connection);
  // Graceful stop: idle connections close now, busy ones after their current response.
  // `on_empty` runs (from the loop) once no connection is left.
  void drain(std::function<void()> on_empty);
  // Closes every connection at once (in-flight exchanges are reset).
  void closeAll();
  size_t size() const { return live_.size(); }
  bool draining() const { return draining_; }

  // How long a worker stays without connections before its free memory goes back to the
  // kernel (net::releaseFreeMemory): at most one trim per this delay per worker, and none
  // while connections come and go.
  static constexpr std::chrono::milliseconds kIdleTrimDelay{1000};

 private:
  static void onReap(evutil_socket_t fd, short what, void* arg);
  static void onIdleTrim(evutil_socket_t fd, short what, void* arg);
  void reap();

  event_base& base_;
  std::unordered_map<ServerConnection*, std::unique_ptr<ServerConnection>> live_;
  std::vector<std::unique_ptr<ServerConnection>> dead_;
  net::EventPtr reaper_;
  net::EventPtr idle_trim_;  // armed when the last connection is reaped
  bool draining_ = false;
  std::function<void()> on_empty_;
};

class ServerConnection final : public ServerExchange, public BodySource, private ParserCallbacks {
 public:
  ServerConnection(event_base& base, ConnectionSet& owner, net::BuffereventPtr bev,
                   ConnectionInfo info, const ListenerContext& listener);
  ~ServerConnection() override;
  ServerConnection(const ServerConnection&) = delete;
  ServerConnection& operator=(const ServerConnection&) = delete;

  // Starts reading (called once by the ConnectionSet).
  void start();
  // Graceful stop: close now if idle, else after the current response.
  void drain();
  // Immediate close; a live exchange gets onExchangeReset(reason).
  void abort(const Error& reason);
  bool idle() const;

  // http::ServerExchange
  const RequestHead& request() const override { return request_; }
  BodySource& requestBody() override { return *this; }
  const ConnectionInfo& connection() const override { return info_; }
  event_base& eventBase() override { return base_; }
  void attach(std::unique_ptr<ExchangeObserver> state) override;
  void sendContinue() override;
  void sendHead(ResponseHead head) override;
  void sendBody(evbuffer& data) override;
  void sendBody(std::string_view data) override;
  void sendFile(int fd, uint64_t offset, uint64_t length) override;
  void finish() override;
  void reset() override;
  bool outputBlocked() const override;
  bool headSent() const override;
  uint64_t bytesSent() const override { return body_.bytesSent(); }

  // http::BodySource
  void setSink(BodySink* sink) override;
  void pause() override;
  void resume() override;
  std::optional<uint64_t> declaredLength() const override;
  bool empty() const override;
  bool complete() const override;
  uint64_t bytesReceived() const override { return body_delivered_; }

 private:
  // The connection, from accept to destruction. Idle and Exchange are the two halves of a
  // keep-alive loop; the request and response states below say where the current exchange is.
  //   Idle ⇄ Exchange → Closing → Lingering → Closed    (any phase → Closed on error or abort)
  enum class Phase {
    Idle,       // between exchanges: request state Idle or Held
    Exchange,   // a request is being handled: request state Parsed … Ended
    Closing,    // flushing the last response before closing
    Lingering,  // write side shut down; discarding input until EOF or a short timeout
    Closed,     // retired, waiting to be destroyed
  };
  // The request side of the current exchange. Legal transitions (anything else is a bug):
  //
  //   Idle ──output ≥ high watermark──► Held ──output ≤ low watermark──► Idle
  //   Idle ──onRequestHead──► Parsed ──onMessageComplete (same read)──► ParsedWhole
  //   Parsed ──dispatchHead──► Receiving          ParsedWhole ──dispatchHead──► Received
  //   Receiving ──onMessageComplete──► Received ──deliverBody: onBodyEnd──► Delivered
  //   Receiving ──finish() with a small unread body──► Discarding ──onMessageComplete──► Received
  //   Receiving … Delivered ──maybeEndExchange / notifyReset / reset / startClosing──► Ended
  //   Idle, Held, Parsed, ParsedWhole ──failRequest / startClosing──► Ended
  //   Ended ──resetExchangeState (keep-alive)──► Idle
  // The exchange is open to the handler (exchangeOpen()) from Receiving to Delivered.
  enum class RequestState {
    Idle,         // no request yet: reading and parsing the next head
    Held,         // no request yet, and none parsed while the output holds responses above
                  // the high watermark (a client that pipelines and never reads)
    Parsed,       // head parsed, not yet handed to the handler; the body has not ended
    ParsedWhole,  // head parsed, not yet handed to the handler; the request has ended
    Receiving,    // handed to the handler; body bytes still to come
    Discarding,   // the response finished first: the rest of the body is read and dropped
    Received,     // the parser saw the end; parsed bytes may still wait for the sink
    Delivered,    // the sink got onBodyEnd
    Ended,        // the exchange is over (finished, reset or failed): the handler and the sink
                  // hear nothing more
  };
  // The response side of the current exchange. Legal transitions:
  //
  //   None ──dispatchHead: Expect: 100-continue──► Continue ──sendContinue──► None
  //   None, Continue ──sendHead──► Sending ⇄ Blocked;  Sending, Blocked ──finish──► Finished
  //     Sending → Blocked: queued output reached the high watermark (a TLS file: always);
  //     Blocked → Sending: it drained below the low watermark with no file left to pump,
  //     and the observer gets onWriteDrained().
  //   any ──resetExchangeState (keep-alive)──► None
  enum class ResponseState {
    None,      // nothing sent, no 100 owed
    Continue,  // the request has Expect: 100-continue; neither 100 nor a final head sent
    Sending,   // head sent; body being queued
    Blocked,   // head sent; output reached the high watermark: onWriteDrained() owed
    Finished,  // finish() called; the exchange stays open while the rest of the request
               // body is dropped or a file is pumped
  };
  enum class Timer { None, Header, Idle, Linger };

  // http::ParserCallbacks
  void onRequestHead(RequestHead&& head) override;
  void onBody(const char* data, size_t len) override;
  void onMessageComplete() override;

  void processInput();
  bool canParse() const;
  void dispatchHead();
  void deliverBody();
  void updateReading();
  void schedule();
  void onDeferred();
  void armTimer(Timer timer);
  void onTimer();
  void onRead();
  void onWrite();
  // Response bytes leave once per loop pass. Plain sockets: written straight to the socket
  // (net::flushNow); EV_WRITE is enabled only while bytes are left over. TLS: bytes are
  // staged and moved to the output together (bufferevent_openssl writes every addition at
  // once, one record and one syscall each), a small response as one chain: one record.
  void scheduleFlush();
  void onFlush();
  // Response bytes not yet written: the output plus what is staged (TLS).
  size_t queuedBytes() const;
  void onEvent(short what);

  void failRequest(const Error& error);
  void writeErrorResponse(int status);
  void maybeEndExchange();
  // Whether the rest of an unfinished request body means closing after the response.
  bool unreadBodyForcesClose() const;
  void resetExchangeState();
  void startClosing();
  void startLingering();
  void closeNow();
  // Tells the sink and observer that the exchange died (not when the handler caused it).
  void notifyReset(const Error& reason);
  // Handed to the handler and not ended (request state Receiving … Delivered).
  bool exchangeOpen() const;
  // The handler may still send and attach: open and not finished.
  bool exchangeUsable() const {
    return phase_ == Phase::Exchange && exchangeOpen() && response_ != ResponseState::Finished;
  }
  // The head is parsed but not yet handed to the handler.
  bool headWaiting() const {
    return request_state_ == RequestState::Parsed || request_state_ == RequestState::ParsedWhole;
  }
  // The parser saw the end of the current request.
  bool requestComplete() const;
  evbuffer* output();
  // Where response bytes go: the socket's output, or the tail queued behind a file pump.
  evbuffer* sink();
  void pumpFile();
  // The handler sent more than the response's Content-Length: the rest was dropped, and the
  // connection closes after the response.
  void onBodyTruncated();
  void fillTlsInfo();

  static void readCallback(bufferevent* bev, void* arg);
  static void writeCallback(bufferevent* bev, void* arg);
  static void eventCallback(bufferevent* bev, short what, void* arg);
  static void deferredCallback(evutil_socket_t fd, short what, void* arg);
  static void flushCallback(evutil_socket_t fd, short what, void* arg);
  static void timerCallback(evutil_socket_t fd, short what, void* arg);

  event_base& base_;
  ConnectionSet& owner_;
  net::BuffereventPtr bev_;
  ConnectionInfo info_;
  const ServerLimits& limits_;
  RequestHandler& handler_;
  Parser parser_;
  net::EventPtr deferred_;
  net::EventPtr flush_;
  net::EventPtr timer_;
  Timer timer_kind_ = Timer::None;
  net::EvbufferPtr pending_body_;  // de-chunked body bytes not yet handed to the sink
  BodySpans body_spans_;           // body bytes of the current feed(), moved after it
  net::EvbufferPtr tail_;          // response bytes queued behind a file being pumped (TLS)
  net::EvbufferPtr staged_;        // TLS response bytes of this loop pass, see onFlush()
  Phase phase_ = Phase::Idle;
  const bool tls_;  // a fact of the listener, fixed at accept

  // The current exchange. Two facts stay flags, being independent of both states (either
  // can hold in most states of both sides, so folding them in would double those states):
  //  - body_paused_: the body's consumer asked to pause (BodySource::pause), whether or not
  //    a sink is attached and whatever the request's progress;
  //  - close_after_response_: the connection ends after this response. Decided by any of
  //    the client (HTTP/1.0, "Connection: close", an upgrade, a half-close), the server
  //    (drain), the handler ("Connection: close"), the framing (close-delimited) or the
  //    body (over or under its Content-Length, an unread body too large to drop), at any
  //    point of the exchange; and set by drain() while a head is half read, before any.
  RequestHead request_;
  RequestState request_state_ = RequestState::Idle;
  ResponseState response_ = ResponseState::None;
  bool body_paused_ = false;
  bool close_after_response_ = false;
  BodySink* sink_ = nullptr;
  uint64_t body_delivered_ = 0;
  std::unique_ptr<ExchangeObserver> observer_;
  std::unique_ptr<ExchangeObserver> retired_observer_;
  BodyEncoder body_;  // the response body's framing and bytes sent
  int file_fd_ = -1;
  uint64_t file_offset_ = 0;
  uint64_t file_remaining_ = 0;
};

}  // namespace portico::http
