#pragma once
// ProxySession joins one downstream ServerExchange to one upstream exchange. It is the
// request's ExchangeObserver: the exchange owns it and destroys it when the exchange ends.
//
// Phases (Pingora-style; docs/ARCHITECTURE.md "Proxy"):
//   onRequestHead      the engine parsed a head; the session starts (start()).
//   route              Router::match → respond locally, forward, or 404 unrouted.
//   connectUpstream    pick a server of the group (balancing, health), acquire a pooled
//                      keep-alive connection; a connect failure retries the next server.
//   forwardRequestHead rewrite the head (hop-by-hop stripped, framing re-decided,
//                      X-Forwarded-*, X-Real-IP, Host kept) and send it.
//   stream bodies      request body downstream → upstream and response body upstream →
//                      downstream, evbuffers moved (never copied), with backpressure: a
//                      source is paused while its sink's output is above the high watermark.
//   onResponseHead     relay the upstream's head (hop-by-hop stripped), then its body.
//   finish             both bodies done: the upstream connection returns to its pool.
//   failToProxy        an error with a source: upstream connect/reset → 502, timeout → 504
//                      (before the response head); after the head was sent the downstream
//                      connection is reset. Never throws, never kills the worker.
//   log                the destructor writes the access log line and the metrics.
// Expect: 100-continue is passed through: the request body is not read (so the engine sends
// no 100 of its own) until the upstream answers 100 or 1 s passes. If the upstream answers
// finally first, the body is never read: the engine drains it or closes the client
// connection after the response, and the upstream connection is not reused.
// What this does not do: retry after request body bytes were sent, or buffer a body.
//
// State: two phases, one per direction, and nothing else that changes (no flags).
//
// RequestPhase — the downstream request on its way upstream (one upstream attempt at a time):
//   Unsent ──(head sent, no body)──────────────────────────▶ NoBody
//   Unsent ──(head sent, Expect: 100-continue)─────────────▶ AwaitingContinue
//   Unsent | AwaitingContinue ──(body sink attached: no Expect, the upstream's 100, or
//                                kContinueWait passed)─────▶ Streaming
//   (AwaitingContinue stays while a final answer is relayed: the body is never read.)
//   Streaming ◀──(upstream output drained)──(upstream output above its high watermark)──▶ Paused
//   Streaming | Paused ──(client body ended)───────────────▶ Sent
//   Streaming | Paused ──(upstream answered before the whole body, client body error)──▶ Abandoned
//   Streaming | Paused | Sent ──(failToProxy: the body sink is detached)──▶ Abandoned
//   any ──(client connection reset)────────────────────────▶ Abandoned
//   Unsent | AwaitingContinue | NoBody ──(retry on a fresh connection)──▶ Unsent
// A retry is possible only from Unsent, AwaitingContinue and NoBody: no body byte has been
// read, so nothing is lost by sending the request again.
//
// ResponsePhase — what the client has been sent:
//   AwaitingHead ──(upstream head relayed)─────────────────▶ Streaming
//   Streaming ◀──(client output drained)──(client output above its high watermark)──▶ Paused
//   AwaitingHead ──(local answer: route respond, 404, 502/504; exchange finished)──▶ Ended
//   Streaming | Paused ──(upstream body ended: exchange finished)──▶ Ended
//   any ──(exchange reset by us, or by the client: onExchangeReset)──▶ Ended
// Ended is final: the exchange must not be touched again (finish/reset/respond happen once).

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "common/http/client.h"
#include "common/http/message.h"
#include "common/http/server.h"
#include "common/lifetime.h"
#include "common/log/access_log.h"
#include "proxy/failure.h"

struct event;

namespace portico::proxy {

class ProxyWorker;
class ProxySnapshot;
struct RouteMetrics;
struct WorkerUpstream;
class UpstreamServer;

// Builds the head sent upstream from the client's request (pure; unit-tested):
// hop-by-hop fields removed (stripHopByHop), HTTP/1.1, framing re-decided from the body
// (Content-Length kept when declared, chunked when the body has no declared length),
// X-Forwarded-For appended, X-Forwarded-Proto, X-Forwarded-Host and X-Real-IP set, Host kept
// (added from `default_host` when the client sent none).
http::RequestHead buildUpstreamRequestHead(const http::RequestHead& request,
                                           const http::ConnectionInfo& connection,
                                           std::optional<uint64_t> declared_length, bool has_body,
                                           std::string_view default_host);

// Prepares an upstream response head for the client: hop-by-hop fields removed, version 1.1
// (the engine adds Connection and decides framing, keeping Content-Length).
void rewriteResponseHead(http::ResponseHead& head);

// A response the proxy gives itself (502, 504, 404 unrouted): the registry's JSON error
// format with code UNAVAILABLE/NOT_FOUND and Docker-Distribution-Api-Version on /v2/ paths,
// plain text elsewhere.
struct LocalResponse {
  int status = 502;
  http::HeaderMap headers;
  std::string body;
};
LocalResponse makeErrorResponse(int status, std::string_view path, std::string_view message);

// True for paths of the Registry v2 API ("/v2" and "/v2/...").
bool isV2Path(std::string_view path);

class ProxySession final : public http::ExchangeObserver {
 public:
  // The two phases (transitions at the top of this file).
  enum class RequestPhase { Unsent, AwaitingContinue, Streaming, Paused, NoBody, Sent, Abandoned };
  enum class ResponsePhase { AwaitingHead, Streaming, Paused, Ended };

  ProxySession(http::ServerExchange& exchange, ProxyWorker& worker,
               std::shared_ptr<const ProxySnapshot> snapshot);
  ~ProxySession() override;
  ProxySession(const ProxySession&) = delete;
  ProxySession& operator=(const ProxySession&) = delete;

  // onRequestHead: routes and starts the exchange. The session may be destroyed inside
  // this call (a local answer finishes the exchange): the caller must not touch it after.
  void start();

  // http::ExchangeObserver
  void onExchangeReset(const Error& reason) override;
  void onWriteDrained() override;

  RequestPhase requestPhase() const { return request_phase_; }
  ResponsePhase responsePhase() const { return response_phase_; }

 private:
  struct UpstreamCallbacks;
  struct RequestBodyPump;
  struct ResponseBodyPump;

  void respondLocally(int status, http::HeaderMap headers, std::string_view body);
  void connectUpstream();
  void onUpstreamConnected(std::unique_ptr<http::ClientConnection> connection, const Error* error);
  void forwardRequestHead();
  void startRequestBody();
  void onRequestBodyData(evbuffer& data);
  void onRequestBodyEnd();
  void onRequestBodyError(const Error& error);
  void onUpstreamWriteDrained();
  void onInformational(const http::ResponseHead& head);
  void onResponseHead(http::ResponseHead&& head, http::BodySource& body);
  void onResponseBodyData(evbuffer& data);
  void onResponseBodyEnd();
  void onResponseBodyError(const Error& error);
  void onUpstreamError(const Error& error);
  void failToProxy(FailureSource source, int status, const std::string& message);
  // Gives the upstream connection back (to the pool if `reusable`, else closed), deferred to
  // the event loop so that it never dies inside its own callback.
  void releaseUpstream(bool reusable);
  void endUpstreamRequest(bool success);
  static void onContinueTimer(int fd, short what, void* arg);
  // True once body bytes may have gone upstream in this attempt (no retry from here).
  bool requestBodyStarted() const;
  // True when the whole request (head and body) is upstream.
  bool requestComplete() const;
  // Records the metrics and the access log line, once: when the response is complete (before
  // its last byte can reach the client) or, for an exchange that ends otherwise, on destruction.
  void logRequest();

  http::ServerExchange& exchange_;
  ProxyWorker& worker_;
  std::shared_ptr<const ProxySnapshot> snapshot_;
  Liveness liveness_;  // guards callbacks that may outlive the session (common/lifetime.h)

  std::string route_name_;
  std::string upstream_name_;
  RouteMetrics* metrics_ = nullptr;
  WorkerUpstream* upstream_ = nullptr;
  size_t server_index_ = 0;
  uint64_t tried_servers_ = 0;
  unsigned attempts_ = 0;
  // The server whose beginRequest() counts this request (least connections); null when none.
  UpstreamServer* active_server_ = nullptr;
  const bool expect_continue_;  // the client sent Expect: 100-continue

  std::unique_ptr<http::ClientConnection> connection_;
  std::unique_ptr<UpstreamCallbacks> upstream_callbacks_;
  std::unique_ptr<RequestBodyPump> request_pump_;
  std::unique_ptr<ResponseBodyPump> response_pump_;
  http::BodySource* response_body_ = nullptr;
  event* continue_timer_ = nullptr;

  RequestPhase request_phase_ = RequestPhase::Unsent;
  ResponsePhase response_phase_ = ResponsePhase::AwaitingHead;

  int status_ = 0;           // status sent downstream
  int upstream_status_ = 0;  // status received from upstream
  uint64_t bytes_in_ = 0;    // request body bytes forwarded
  uint64_t bytes_out_ = 0;   // response body bytes sent
  std::string error_;        // why the proxy failed, for the log
  // Request facts for the access log, taken at start(); taken out (empty) once metrics and
  // the log line are written, before the last byte leaves.
  std::optional<log::AccessRecord> log_;
  std::chrono::steady_clock::time_point start_time_;
  std::chrono::steady_clock::time_point upstream_start_;
  // When the upstream's response head arrived; empty until it has.
  std::optional<std::chrono::steady_clock::time_point> upstream_head_time_;
};

}  // namespace portico::proxy
