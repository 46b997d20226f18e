#include "proxy/proxy_session.h"

#include <algorithm>

#include <event2/buffer.h>
#include <event2/event.h>

#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

#include "common/http/hop_by_hop.h"
#include "common/log/access_log.h"
#include "common/log/log.h"
#include "proxy/metrics.h"
#include "proxy/proxy_runtime.h"
#include "proxy/router.h"

namespace portico::proxy {
namespace {

using Clock = std::chrono::steady_clock;

constexpr std::string_view kApiVersionHeader = "Docker-Distribution-Api-Version";
constexpr std::string_view kApiVersion = "registry/2.0";
// How long a request with Expect: 100-continue waits for the upstream's 100 before its body
// is read anyway (curl waits 1 s too).
constexpr timeval kContinueWait = {1, 0};

std::string joinValues(const std::vector<std::string_view>& values) {
  std::string out;
  for (auto v : values) {
    if (!out.empty()) out += ", ";
    out += v;
  }
  return out;
}

// Closes or pools an upstream connection from the event loop, outside any of its callbacks.
// The pool's group counts the release as a user until it ran, so the pool outlives it.
struct DeferredRelease {
  ProxyWorker* worker;
  WorkerUpstream* owner;   // of `pool`; null with a null pool
  http::ClientPool* pool;  // null: close
  std::unique_ptr<http::ClientConnection> connection;

  static void run(evutil_socket_t, short, void* arg) {
    std::unique_ptr<DeferredRelease> self(static_cast<DeferredRelease*>(arg));
    if (self->pool != nullptr) self->pool->release(std::move(self->connection));
    self->connection.reset();
    if (self->owner != nullptr) self->worker->unuse(*self->owner);
  }
};

void deferRelease(ProxyWorker& worker, WorkerUpstream* owner, http::ClientPool* pool,
                  std::unique_ptr<http::ClientConnection> connection) {
  if (pool == nullptr) owner = nullptr;
  if (owner != nullptr) worker.use(*owner);
  auto* deferred = new DeferredRelease{&worker, owner, pool, std::move(connection)};
  timeval now{0, 0};
  if (event_base_once(&worker.base(), -1, EV_TIMEOUT, &DeferredRelease::run, deferred, &now) != 0) {
    if (owner != nullptr) worker.unuse(*owner);
    delete deferred;  // closes the connection right away; only fails when out of memory
  }
}

double secondsBetween(Clock::time_point from, Clock::time_point to) {
  return std::chrono::duration<double>(to - from).count();
}

// RFC 9110 §5.6.2 token characters.
bool isToken(std::string_view name) {
  if (name.empty()) return false;
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
    if (!ok) return false;
  }
  return true;
}

}  // namespace

bool isV2Path(std::string_view path) {
  return path == "/v2" || path.substr(0, 4) == "/v2/";
}

http::RequestHead buildUpstreamRequestHead(const http::RequestHead& request,
                                           const http::ConnectionInfo& connection,
                                           std::optional<uint64_t> declared_length, bool has_body,
                                           std::string_view default_host) {
  http::RequestHead head;
  head.method = request.method;
  head.target = request.originForm();  // absolute-form is for proxies; the upstream is origin
  head.path = request.path;
  head.query = request.query;
  head.version = http::Version{1, 1};
  head.headers = request.headers;
  http::stripHopByHop(head.headers);
  // Defence in depth against desynchronisation: a field whose name is not a token (e.g.
  // "Transfer-Encoding " with a space before the colon, RFC 9112 §5.1) is never forwarded,
  // since an upstream might read it as framing that this hop did not apply.
  auto& fields = head.headers.fields();
  fields.erase(std::remove_if(fields.begin(), fields.end(),
                              [](const http::HeaderMap::Field& f) { return !isToken(f.first); }),
               fields.end());

  // Framing is decided again for the upstream hop (RFC 9112 §6.3, §7.1).
  head.headers.remove("Content-Length");
  if (declared_length) {
    head.headers.add("Content-Length", std::to_string(*declared_length));
  } else if (has_body) {
    head.headers.add("Transfer-Encoding", "chunked");
  }

  if (!head.headers.has("Host")) head.headers.add("Host", std::string(default_host));

  const std::string& peer = connection.peer_address;
  auto forwarded = head.headers.getAll("X-Forwarded-For");
  if (forwarded.empty()) {
    head.headers.add("X-Forwarded-For", peer);
  } else {
    head.headers.set("X-Forwarded-For", joinValues(forwarded) + ", " + peer);
  }
  head.headers.set("X-Real-IP", peer);
  head.headers.set("X-Forwarded-Proto", connection.tls ? "https" : "http");
  if (auto host = head.headers.get("Host"); host && !head.headers.has("X-Forwarded-Host")) {
    head.headers.add("X-Forwarded-Host", std::string(*host));
  }
  return head;
}

void rewriteResponseHead(http::ResponseHead& head) {
  head.version = http::Version{1, 1};
  http::stripHopByHop(head.headers);
}

LocalResponse makeErrorResponse(int status, std::string_view path, std::string_view message) {
  LocalResponse response;
  response.status = status;
  if (isV2Path(path)) {
    std::string code = status == 404 ? "NOT_FOUND" : "UNAVAILABLE";
    nlohmann::json body = {
        {"errors", {{{"code", code}, {"message", std::string(message)}, {"detail", nullptr}}}}};
    response.body = body.dump() + "\n";
    response.headers.add("Content-Type", "application/json; charset=utf-8");
    response.headers.add(std::string(kApiVersionHeader), std::string(kApiVersion));
  } else {
    response.body = std::to_string(status) + " " + std::string(http::reasonPhrase(status)) + ": " +
                    std::string(message) + "\n";
    response.headers.add("Content-Type", "text/plain; charset=utf-8");
  }
  return response;
}

// Upstream exchange events → session (ClientCallbacks has its own onWriteDrained, distinct
// from the downstream one, hence a separate object).
struct ProxySession::UpstreamCallbacks final : http::ClientCallbacks {
  explicit UpstreamCallbacks(ProxySession& s) : session(s) {}
  void onInformational(const http::ResponseHead& head) override { session.onInformational(head); }
  void onResponseHead(http::ResponseHead&& head, http::BodySource& body) override {
    session.onResponseHead(std::move(head), body);
  }
  void onClientError(const Error& error) override { session.onUpstreamError(error); }
  void onWriteDrained() override { session.onUpstreamWriteDrained(); }
  ProxySession& session;
};

// Downstream request body → upstream connection.
struct ProxySession::RequestBodyPump final : http::BodySink {
  explicit RequestBodyPump(ProxySession& s) : session(s) {}
  void onBodyData(evbuffer& data) override { session.onRequestBodyData(data); }
  void onBodyEnd() override { session.onRequestBodyEnd(); }
  void onBodyError(const Error& error) override { session.onRequestBodyError(error); }
  ProxySession& session;
};

// Upstream response body → downstream exchange.
struct ProxySession::ResponseBodyPump final : http::BodySink {
  explicit ResponseBodyPump(ProxySession& s) : session(s) {}
  void onBodyData(evbuffer& data) override { session.onResponseBodyData(data); }
  void onBodyEnd() override { session.onResponseBodyEnd(); }
  void onBodyError(const Error& error) override { session.onResponseBodyError(error); }
  ProxySession& session;
};

ProxySession::ProxySession(http::ServerExchange& exchange, ProxyWorker& worker,
                           std::shared_ptr<const ProxySnapshot> snapshot)
    : exchange_(exchange),
      worker_(worker),
      snapshot_(std::move(snapshot)),
      expect_continue_(exchange.request().headers.hasToken("Expect", "100-continue")),
      log_(std::in_place),
      start_time_(Clock::now()) {
  worker_.runtime().metrics.active_requests.fetch_add(1, std::memory_order_relaxed);
}

ProxySession::~ProxySession() {
  if (continue_timer_ != nullptr) event_free(continue_timer_);
  // The exchange retires its observer after finish()/reset(): do not touch it here.
  if (response_body_ != nullptr && connection_) response_body_->setSink(nullptr);
  if (connection_) releaseUpstream(false);
  endUpstreamRequest(false);
  logRequest();
  worker_.runtime().metrics.active_requests.fetch_sub(1, std::memory_order_relaxed);
  if (upstream_ != nullptr) worker_.unuse(*upstream_);
}

// route: the first matching rule decides; no rule → 404.
void ProxySession::start() {
  const http::RequestHead& request = exchange_.request();
  // What the access log needs, taken now: the engine reuses the head after the exchange.
  log::AccessRecord& record = *log_;
  record.remote_addr = exchange_.connection().peer_address;
  record.method = request.method;
  record.target = request.target;
  record.protocol = request.version.minor == 0 ? "HTTP/1.0" : "HTTP/1.1";
  if (auto v = request.headers.get("Referer")) record.referer = std::string(*v);
  if (auto v = request.headers.get("User-Agent")) record.user_agent = std::string(*v);
  if (auto v = request.headers.get("Host")) record.host = std::string(*v);
  if (worker_.runtime().access_log) record.request_id = log::newRequestId();
  const RouteAction* action = snapshot_->router ? snapshot_->router->match(request) : nullptr;
  if (action == nullptr) {
    metrics_ = snapshot_->unrouted_metrics;
    route_name_ = "";
    error_ = "no route";
    LocalResponse response = makeErrorResponse(404, request.path, "no route for this path");
    respondLocally(404, std::move(response.headers), response.body);
    return;
  }
  route_name_ = action->route;
  metrics_ = &snapshot_->metricsFor(route_name_);
  if (action->kind == RouteAction::Kind::Respond) {
    respondLocally(action->respond.status, action->respond.headers, action->respond.body);
    return;
  }
  upstream_name_ = action->upstream;
  const SnapshotUpstream* upstream = snapshot_->upstream(action->upstream);
  if (upstream == nullptr) {
    failToProxy(FailureSource::Internal, 502,
                "upstream " + action->upstream + " is not configured");
    return;
  }
  if (upstream->group->size() == 0) {
    failToProxy(FailureSource::Internal, 502, "upstream " + action->upstream + " has no servers");
    return;
  }
  upstream_ = &worker_.upstream(*upstream);
  worker_.use(*upstream_);
  connectUpstream();
}

void ProxySession::respondLocally(int status, http::HeaderMap headers, std::string_view body) {
  status_ = status;
  bytes_out_ = body.size();
  response_phase_ = ResponsePhase::Ended;
  logRequest();
  exchange_.respond(status, std::move(headers), body);  // may destroy the session
}

// connectUpstream: pick a server (balancing, health), then a pooled connection.
void ProxySession::connectUpstream() {
  ++attempts_;
  request_phase_ = RequestPhase::Unsent;  // a retry starts over: nothing of the body was read
  server_index_ = upstream_->group->pick(upstream_->cursor, Clock::now(), tried_servers_);
  if (server_index_ < 64) tried_servers_ |= uint64_t{1} << server_index_;
  active_server_ = &upstream_->group->server(server_index_);
  active_server_->beginRequest();
  upstream_start_ = Clock::now();
  auto alive = liveness_.watch();
  http::ClientPool* pool = upstream_->pools[server_index_].get();
  // The pool is alive when it calls back, and so is its owner (the worker destroys a group's
  // pools only when no session or release uses them; a destroyed pool drops its callbacks).
  pool->acquire([this, alive, pool, worker = &worker_, owner = upstream_](
                    std::unique_ptr<http::ClientConnection> connection, const Error* error) {
    if (!alive.alive()) {
      if (connection) deferRelease(*worker, owner, pool, std::move(connection));
      return;
    }
    onUpstreamConnected(std::move(connection), error);
  });
}

void ProxySession::onUpstreamConnected(std::unique_ptr<http::ClientConnection> connection,
                                       const Error* error) {
  if (error != nullptr || !connection) {
    Error failure =
        error != nullptr ? *error : Error(http::ClientErrc::ConnectFailed, "no connection");
    // Nothing was sent: another server may take the request.
    if (attempts_ < upstream_->group->size()) {
      upstream_->group->server(server_index_).recordFailure(Clock::now());
      endUpstreamRequest(false);
      metrics_->recordFailure(failureSourceOf(failure));
      connectUpstream();
      return;
    }
    onUpstreamError(failure);
    return;
  }
  connection_ = std::move(connection);
  forwardRequestHead();
}

// forwardRequestHead: the rewritten head goes upstream; the body follows.
void ProxySession::forwardRequestHead() {
  http::BodySource& body = exchange_.requestBody();
  const std::string& server = upstream_->group->server(server_index_).address();
  http::RequestHead head = buildUpstreamRequestHead(exchange_.request(), exchange_.connection(),
                                                    body.declaredLength(), !body.empty(), server);
  if (!upstream_callbacks_) upstream_callbacks_ = std::make_unique<UpstreamCallbacks>(*this);
  connection_->sendRequest(std::move(head), *upstream_callbacks_);
  if (!connection_) return;  // failed synchronously (onUpstreamError ran)
  if (body.empty()) {
    request_phase_ = RequestPhase::NoBody;
    connection_->finishRequest();
    return;
  }
  if (expect_continue_ && !exchange_.headSent()) {
    // Wait for the upstream's 100 (or its final answer) before reading the body.
    if (continue_timer_ == nullptr) {
      continue_timer_ = evtimer_new(&worker_.base(), &ProxySession::onContinueTimer, this);
    }
    if (continue_timer_ != nullptr) {
      request_phase_ = RequestPhase::AwaitingContinue;
      evtimer_add(continue_timer_, &kContinueWait);
      return;
    }
  }
  startRequestBody();
}

void ProxySession::onContinueTimer(int, short, void* arg) {
  auto* self = static_cast<ProxySession*>(arg);
  self->startRequestBody();
}

bool ProxySession::requestBodyStarted() const {
  return request_phase_ == RequestPhase::Streaming || request_phase_ == RequestPhase::Paused ||
         request_phase_ == RequestPhase::Sent;
}

bool ProxySession::requestComplete() const {
  return request_phase_ == RequestPhase::NoBody || request_phase_ == RequestPhase::Sent;
}

void ProxySession::startRequestBody() {
  if (request_phase_ != RequestPhase::Unsent && request_phase_ != RequestPhase::AwaitingContinue) {
    return;
  }
  if (!connection_) return;
  request_phase_ = RequestPhase::Streaming;
  if (!request_pump_) request_pump_ = std::make_unique<RequestBodyPump>(*this);
  exchange_.requestBody().setSink(request_pump_.get());
}

void ProxySession::onRequestBodyData(evbuffer& data) {
  if (!connection_) {
    evbuffer_drain(&data, evbuffer_get_length(&data));
    return;
  }
  bytes_in_ += evbuffer_get_length(&data);
  connection_->sendBody(data);
  if (connection_ && connection_->outputBlocked() && request_phase_ == RequestPhase::Streaming) {
    request_phase_ = RequestPhase::Paused;
    exchange_.requestBody().pause();
  }
}

void ProxySession::onRequestBodyEnd() {
  request_phase_ = RequestPhase::Sent;
  if (connection_) connection_->finishRequest();
}

void ProxySession::onRequestBodyError(const Error& error) {
  // The client failed mid-upload: the upstream exchange cannot complete; drop its connection.
  error_ = "client request body: " + error.message();
  exchange_.requestBody().setSink(nullptr);
  request_phase_ = RequestPhase::Abandoned;
  if (connection_) releaseUpstream(false);
  endUpstreamRequest(false);
  if (response_phase_ != ResponsePhase::Ended) {
    response_phase_ = ResponsePhase::Ended;
    if (!exchange_.headSent()) status_ = 400;
    exchange_.reset();  // may destroy the session
  }
}

void ProxySession::onUpstreamWriteDrained() {
  if (request_phase_ == RequestPhase::Paused) {
    request_phase_ = RequestPhase::Streaming;
    exchange_.requestBody().resume();
  }
}

void ProxySession::onInformational(const http::ResponseHead& head) {
  // The upstream's 100 is relayed while the body waits for it; a later one (the wait ran
  // out and the engine already sent its own 100 when the body sink was attached) is not.
  if (head.status != 100 || request_phase_ != RequestPhase::AwaitingContinue) return;
  if (continue_timer_ != nullptr) evtimer_del(continue_timer_);
  exchange_.sendContinue();
  startRequestBody();
}

// onResponseHead: relay the upstream's head, then stream its body.
void ProxySession::onResponseHead(http::ResponseHead&& head, http::BodySource& body) {
  upstream_head_time_ = Clock::now();
  upstream_status_ = head.status;
  if (continue_timer_ != nullptr) evtimer_del(continue_timer_);
  // The server answered: a success for passive ejection. It stays "active" (least
  // connections) until its body has been relayed.
  upstream_->group->server(server_index_).recordSuccess();
  rewriteResponseHead(head);
  status_ = head.status;
  response_phase_ = ResponsePhase::Streaming;
  exchange_.sendHead(std::move(head));
  response_body_ = &body;
  if (!response_pump_) response_pump_ = std::make_unique<ResponseBodyPump>(*this);
  body.setSink(response_pump_.get());
}

void ProxySession::onResponseBodyData(evbuffer& data) {
  bytes_out_ += evbuffer_get_length(&data);
  exchange_.sendBody(data);
  if (exchange_.outputBlocked() && response_phase_ == ResponsePhase::Streaming &&
      response_body_ != nullptr) {
    response_phase_ = ResponsePhase::Paused;
    response_body_->pause();
  }
}

void ProxySession::onWriteDrained() {
  if (response_phase_ == ResponsePhase::Paused && response_body_ != nullptr) {
    response_phase_ = ResponsePhase::Streaming;
    response_body_->resume();
  }
}

// finish: the response is complete; the connection goes back to the pool when the request
// body was sent completely too (an upstream that answered early is not reused).
void ProxySession::onResponseBodyEnd() {
  response_body_->setSink(nullptr);
  response_body_ = nullptr;
  bool reusable = requestComplete() && connection_ && connection_->reusable();
  if (request_phase_ == RequestPhase::Streaming || request_phase_ == RequestPhase::Paused) {
    // The upstream answered before the whole request body: stop forwarding it; the engine
    // drains or closes the client connection after the response.
    exchange_.requestBody().setSink(nullptr);
    request_phase_ = RequestPhase::Abandoned;
  }
  releaseUpstream(reusable);
  endUpstreamRequest(true);
  response_phase_ = ResponsePhase::Ended;
  logRequest();        // before the last byte can reach the client: a scrape that follows sees it
  exchange_.finish();  // may destroy the session
}

void ProxySession::onResponseBodyError(const Error& error) {
  // failToProxy after the head: the client cannot be told; reset its connection.
  error_ = std::string(describe(FailureSource::ResetAfterHead)) + ": " + error.message();
  if (metrics_ != nullptr) metrics_->recordFailure(FailureSource::ResetAfterHead);
  upstream_->group->server(server_index_).recordFailure(Clock::now());
  response_body_ = nullptr;
  releaseUpstream(false);
  response_phase_ = ResponsePhase::Ended;
  exchange_.reset();  // may destroy the session
}

void ProxySession::onUpstreamError(const Error& error) {
  FailureSource source = failureSourceOf(error);
  // A reset of a reused keep-alive connection is not the server's failure (it may have
  // closed it while idle); everything else counts towards passive ejection.
  if (source != FailureSource::Reset) {
    upstream_->group->server(server_index_).recordFailure(Clock::now());
  }
  endUpstreamRequest(false);
  response_body_ = nullptr;
  if (connection_) releaseUpstream(false);
  // A pooled connection the upstream had closed, or a refused connect: nothing of the
  // request reached the upstream, so a safe method may go to a fresh connection.
  const std::string& method = exchange_.request().method;
  bool safe_method = method == "GET" || method == "HEAD" || method == "OPTIONS";
  if (!upstream_head_time_ && !requestBodyStarted() && bytes_in_ == 0 && safe_method &&
      (source == FailureSource::Reset || source == FailureSource::ConnectFailed) &&
      attempts_ <= upstream_->group->size() && !exchange_.headSent()) {
    if (metrics_ != nullptr) metrics_->recordFailure(source);
    if (continue_timer_ != nullptr) evtimer_del(continue_timer_);
    connectUpstream();
    return;
  }
  if (upstream_head_time_ || exchange_.headSent()) {
    error_ = std::string(describe(FailureSource::ResetAfterHead)) + ": " + error.message();
    if (metrics_ != nullptr) metrics_->recordFailure(FailureSource::ResetAfterHead);
    if (response_phase_ != ResponsePhase::Ended) {
      response_phase_ = ResponsePhase::Ended;
      exchange_.reset();
    }
    return;
  }
  int status = source == FailureSource::Timeout ? 504 : 502;
  std::string message = std::string(describe(source)) + " (upstream " + upstream_name_ + " " +
                        upstream_->group->server(server_index_).address() + ": " + error.message() +
                        ")";
  failToProxy(source, status, message);
}

// failToProxy before the response head: the proxy answers itself.
void ProxySession::failToProxy(FailureSource source, int status, const std::string& message) {
  error_ = message;
  if (metrics_ != nullptr) metrics_->recordFailure(source);
  if (continue_timer_ != nullptr) evtimer_del(continue_timer_);
  if (requestBodyStarted()) {
    exchange_.requestBody().setSink(nullptr);
    request_phase_ = RequestPhase::Abandoned;
  }
  if (response_phase_ == ResponsePhase::Ended) return;
  LocalResponse response = makeErrorResponse(status, exchange_.request().path, message);
  respondLocally(status, std::move(response.headers), response.body);
}

void ProxySession::onExchangeReset(const Error& reason) {
  // The client went away: release the upstream connection (it is mid-exchange: closed).
  response_phase_ = ResponsePhase::Ended;
  if (error_.empty()) error_ = "client connection: " + reason.message();
  if (continue_timer_ != nullptr) evtimer_del(continue_timer_);
  if (response_body_ != nullptr) {
    response_body_->setSink(nullptr);
    response_body_ = nullptr;
  }
  request_phase_ = RequestPhase::Abandoned;
  if (connection_) releaseUpstream(false);
}

void ProxySession::releaseUpstream(bool reusable) {
  if (!connection_) return;
  if (!reusable) connection_->abort();
  http::ClientPool* pool = reusable ? upstream_->pools[server_index_].get() : nullptr;
  deferRelease(worker_, upstream_, pool, std::move(connection_));
}

void ProxySession::endUpstreamRequest(bool success) {
  if (active_server_ == nullptr) return;
  active_server_->endRequest();
  if (success) active_server_->recordSuccess();
  active_server_ = nullptr;
}

void ProxySession::logRequest() {
  if (!log_) return;  // written already
  log::AccessRecord record = std::move(*log_);
  log_.reset();
  auto now = Clock::now();
  auto duration = std::chrono::duration_cast<std::chrono::microseconds>(now - start_time_);
  if (metrics_ != nullptr) metrics_->record(status_, duration, bytes_in_, bytes_out_);
  if (!error_.empty() && (status_ >= 500 || status_ == 0)) {
    spdlog::warn("{} {} -> {}: {}", record.method, record.target, status_, error_);
  }
  ProxyRuntime& runtime = worker_.runtime();
  if (!runtime.access_log) return;
  record.status = status_;
  record.bytes_sent = bytes_out_;
  record.bytes_received = bytes_in_;
  record.duration_seconds = secondsBetween(start_time_, now);
  record.route = route_name_;
  if (upstream_ != nullptr) {
    record.upstream = upstream_name_;
    record.upstream_address = upstream_->group->server(server_index_).address();
  }
  record.upstream_status = upstream_status_;
  if (upstream_head_time_) {
    record.upstream_duration_seconds = secondsBetween(upstream_start_, *upstream_head_time_);
  }
  runtime.access_log->write(record);
}

}  // namespace portico::proxy
