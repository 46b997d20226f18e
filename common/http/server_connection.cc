#include "common/http/server_connection.h"

#include <event2/bufferevent_ssl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cinttypes>
#include <cstring>
#include <ctime>

#include <spdlog/spdlog.h>

#include "common/http/message_encoder.h"
#include "common/net/address.h"
#include "common/net/bufferevent_tuning.h"
#include "common/net/timeval.h"
#include "common/net/tls_context.h"

namespace portico::http {

using net::toTimeval;

namespace {

// Unread request body bytes the engine reads and drops after an early response to keep the
// connection; beyond this the connection is closed instead (nginx's lingering approach).
constexpr uint64_t kMaxDiscardBytes = uint64_t{1024} * 1024;
// Body bytes parsed but not yet delivered before the engine stops parsing more.
constexpr size_t kMaxPendingBody = size_t{256} * 1024;
// How long a closing connection keeps reading (and dropping) input after its last response,
// so that the client reads the response instead of a reset.
constexpr timeval kLingerTimeout = {2, 0};

std::atomic<uint64_t> next_connection_id{1};

ParserLimits parserLimits(const ServerLimits& limits) {
  ParserLimits p;
  p.header_bytes = limits.header_bytes;
  p.header_count = limits.header_count;
  p.request_line_bytes = limits.request_line_bytes;
  p.body_bytes = limits.body_bytes;
  return p;
}

// RFC 9110 §5.6.7 IMF-fixdate, cached per thread and second.
std::string_view httpDate() {
  thread_local time_t cached_second = 0;
  thread_local char cached[40] = {};
  time_t now = time(nullptr);
  if (now != cached_second) {
    tm parts{};
    gmtime_r(&now, &parts);
    strftime(cached, sizeof(cached), "%a, %d %b %Y %H:%M:%S GMT", &parts);
    cached_second = now;
  }
  return cached;
}

}  // namespace

std::string_view connectionErrorName(ConnectionError error) {
  switch (error) {
    case ConnectionError::PeerClosed:
      return "PeerClosed";
    case ConnectionError::Io:
      return "Io";
    case ConnectionError::Tls:
      return "Tls";
    case ConnectionError::Timeout:
      return "Timeout";
    case ConnectionError::Shutdown:
      return "Shutdown";
    case ConnectionError::FileRead:
      return "FileRead";
  }
  return "Unknown";
}

// ---------------------------------------------------------------------------------------
// ConnectionSet

ConnectionSet::ConnectionSet(event_base& base)
    : base_(base),
      reaper_(event_new(&base, -1, 0, &ConnectionSet::onReap, this)),
      idle_trim_(evtimer_new(&base, &ConnectionSet::onIdleTrim, this)) {}

ConnectionSet::~ConnectionSet() {
  dead_.clear();
  live_.clear();
}

void ConnectionSet::accept(int fd, const sockaddr* peer, socklen_t peer_length,
                           const ListenerContext& listener) {
  if (draining_) {
    close(fd);
    return;
  }
  ConnectionInfo info;
  info.id = next_connection_id.fetch_add(1, std::memory_order_relaxed);
  if (peer->sa_family == AF_UNIX) {
    info.peer_address = "unix";
  } else {
    auto address = net::Address::fromSockaddr(peer, peer_length);
    info.peer_address = address.host();
    info.peer_port = address.port();
  }
  info.local_address = listener.address;
  info.listener = listener.name;
  info.tls = listener.tls != nullptr;

  net::BuffereventPtr bev;
  if (listener.tls) {
    net::SslPtr ssl = listener.tls->newSsl();
    if (!ssl) {
      spdlog::error("cannot create TLS session: {}", net::opensslErrors());
      close(fd);
      return;
    }
    bev.reset(bufferevent_openssl_socket_new(&base_, fd, ssl.release(), BUFFEREVENT_SSL_ACCEPTING,
                                             BEV_OPT_CLOSE_ON_FREE));
    if (bev) bufferevent_openssl_set_allow_dirty_shutdown(bev.get(), 1);
  } else {
    bev.reset(bufferevent_socket_new(&base_, fd, BEV_OPT_CLOSE_ON_FREE));
  }
  if (!bev) {
    close(fd);
    return;
  }
  net::tuneBufferevent(bev.get());
  auto connection =
      std::make_unique<ServerConnection>(base_, *this, std::move(bev), std::move(info), listener);
  ServerConnection* raw = connection.get();
  live_.emplace(raw, std::move(connection));
  raw->start();
}

void ConnectionSet::retire(ServerConnection& connection) {
  auto it = live_.find(&connection);
  if (it == live_.end()) return;
  dead_.push_back(std::move(it->second));
  live_.erase(it);
  event_active(reaper_.get(), EV_TIMEOUT, 0);
}

void ConnectionSet::drain(std::function<void()> on_empty) {
  draining_ = true;
  on_empty_ = std::move(on_empty);
  std::vector<ServerConnection*> connections;
  connections.reserve(live_.size());
  for (auto& [raw, owned] : live_) connections.push_back(raw);
  for (auto* connection : connections) connection->drain();
  event_active(reaper_.get(), EV_TIMEOUT, 0);
}

void ConnectionSet::closeAll() {
  std::vector<ServerConnection*> connections;
  connections.reserve(live_.size());
  for (auto& [raw, owned] : live_) connections.push_back(raw);
  Error reason(ConnectionError::Shutdown, "server shutting down");
  for (auto* connection : connections) connection->abort(reason);
}

void ConnectionSet::onReap(evutil_socket_t /*fd*/, short /*what*/, void* arg) {
  static_cast<ConnectionSet*>(arg)->reap();
}

void ConnectionSet::onIdleTrim(evutil_socket_t /*fd*/, short /*what*/, void* arg) {
  auto* self = static_cast<ConnectionSet*>(arg);
  if (self->live_.empty()) net::releaseFreeMemory();  // else the next idle moment re-arms
}

void ConnectionSet::reap() {
  // Destroying a connection may run observer destructors that retire nothing else; swap
  // first so that a retire during destruction lands in a fresh list.
  std::vector<std::unique_ptr<ServerConnection>> dead;
  dead.swap(dead_);
  const bool reaped = !dead.empty();
  dead.clear();
  if (reaped && live_.empty() && !draining_ && !evtimer_pending(idle_trim_.get(), nullptr)) {
    // The worker went idle: give its freed buffers back once it stays idle a while.
    timeval delay = toTimeval(kIdleTrimDelay);
    evtimer_add(idle_trim_.get(), &delay);
  }
  if (draining_ && live_.empty() && on_empty_) {
    auto callback = std::move(on_empty_);
    on_empty_ = nullptr;
    callback();
  }
}

// ---------------------------------------------------------------------------------------
// ServerConnection: setup and teardown

namespace {
std::atomic<int64_t> g_open_connections{0};
}  // namespace

int64_t openServerConnections() {
  return g_open_connections.load(std::memory_order_relaxed);
}

ServerConnection::ServerConnection(event_base& base, ConnectionSet& owner, net::BuffereventPtr bev,
                                   ConnectionInfo info, const ListenerContext& listener)
    : base_(base),
      owner_(owner),
      bev_(std::move(bev)),
      info_(std::move(info)),
      limits_(*listener.limits),
      handler_(*listener.handler),
      parser_(Parser::Type::Request, *this, parserLimits(*listener.limits)),
      deferred_(event_new(&base, -1, 0, &ServerConnection::deferredCallback, this)),
      flush_(event_new(&base, -1, 0, &ServerConnection::flushCallback, this)),
      timer_(event_new(&base, -1, 0, &ServerConnection::timerCallback, this)),
      pending_body_(evbuffer_new()),
      tail_(evbuffer_new()),
      staged_(evbuffer_new()),
      tls_(listener.tls != nullptr) {
  g_open_connections.fetch_add(1, std::memory_order_relaxed);
}

ServerConnection::~ServerConnection() {
  g_open_connections.fetch_sub(1, std::memory_order_relaxed);
  if (bev_) bufferevent_setcb(bev_.get(), nullptr, nullptr, nullptr, nullptr);
  // The observer may refer to the exchange; destroy it while the connection is whole.
  observer_.reset();
  retired_observer_.reset();
  if (file_fd_ >= 0) close(file_fd_);
}

void ServerConnection::start() {
  bufferevent_setcb(bev_.get(), &ServerConnection::readCallback, &ServerConnection::writeCallback,
                    &ServerConnection::eventCallback, this);
  bufferevent_setwatermark(bev_.get(), EV_WRITE, limits_.low_watermark, 0);
  timeval send_timeout = toTimeval(limits_.send_timeout);
  bufferevent_set_timeouts(bev_.get(), nullptr, &send_timeout);
  if (tls_) {
    bufferevent_enable(bev_.get(), EV_READ | EV_WRITE);
  } else {
    bufferevent_enable(bev_.get(), EV_READ);
    bufferevent_disable(bev_.get(), EV_WRITE);  // see onFlush()
  }
  armTimer(Timer::Header);
}

bool ServerConnection::idle() const {
  return phase_ == Phase::Idle && !parser_.inMessage();
}

bool ServerConnection::exchangeOpen() const {
  switch (request_state_) {
    case RequestState::Receiving:
    case RequestState::Discarding:
    case RequestState::Received:
    case RequestState::Delivered:
      return true;
    default:
      return false;
  }
}

bool ServerConnection::requestComplete() const {
  return request_state_ == RequestState::ParsedWhole || request_state_ == RequestState::Received ||
         request_state_ == RequestState::Delivered;
}

bool ServerConnection::headSent() const {
  return response_ == ResponseState::Sending || response_ == ResponseState::Blocked ||
         response_ == ResponseState::Finished;
}

void ServerConnection::drain() {
  if (idle()) {
    closeNow();
  } else {
    close_after_response_ = true;  // also the request whose head is half read
  }
}

void ServerConnection::abort(const Error& reason) {
  notifyReset(reason);
  closeNow();
}

void ServerConnection::closeNow() {
  if (phase_ == Phase::Closed) return;
  phase_ = Phase::Closed;
  bufferevent_setcb(bev_.get(), nullptr, nullptr, nullptr, nullptr);
  bufferevent_disable(bev_.get(), EV_READ | EV_WRITE);
  event_del(timer_.get());
  event_del(deferred_.get());
  event_del(flush_.get());
  sink_ = nullptr;
  owner_.retire(*this);
}

void ServerConnection::notifyReset(const Error& reason) {
  if (!exchangeOpen()) return;
  bool body_ended = request_state_ == RequestState::Delivered;
  request_state_ = RequestState::Ended;
  BodySink* sink = sink_;
  sink_ = nullptr;
  if (sink != nullptr && !body_ended) sink->onBodyError(reason);
  if (observer_ && response_ != ResponseState::Finished) {
    auto observer = std::move(observer_);
    observer->onExchangeReset(reason);
    retired_observer_ = std::move(observer);
  }
}

// ---------------------------------------------------------------------------------------
// Input

void ServerConnection::readCallback(bufferevent* /*bev*/, void* arg) {
  static_cast<ServerConnection*>(arg)->onRead();
}

void ServerConnection::writeCallback(bufferevent* /*bev*/, void* arg) {
  static_cast<ServerConnection*>(arg)->onWrite();
}

void ServerConnection::eventCallback(bufferevent* /*bev*/, short what, void* arg) {
  static_cast<ServerConnection*>(arg)->onEvent(what);
}

void ServerConnection::deferredCallback(evutil_socket_t /*fd*/, short /*what*/, void* arg) {
  static_cast<ServerConnection*>(arg)->onDeferred();
}

void ServerConnection::flushCallback(evutil_socket_t /*fd*/, short /*what*/, void* arg) {
  static_cast<ServerConnection*>(arg)->onFlush();
}

void ServerConnection::timerCallback(evutil_socket_t /*fd*/, short /*what*/, void* arg) {
  static_cast<ServerConnection*>(arg)->onTimer();
}

void ServerConnection::onRead() {
  if (phase_ == Phase::Lingering) {
    evbuffer* input = bufferevent_get_input(bev_.get());
    evbuffer_drain(input, evbuffer_get_length(input));
    return;
  }
  // libevent read 4 KiB at most (one TLS record); take the rest of what the socket holds while
  // it can be parsed.
  if (canParse()) net::readRest(bev_.get(), tls_, limits_.high_watermark);
  processInput();
}

void ServerConnection::schedule() {
  if (phase_ != Phase::Closed) event_active(deferred_.get(), EV_TIMEOUT, 0);
}

void ServerConnection::onDeferred() {
  retired_observer_.reset();
  if (phase_ == Phase::Idle && parser_.paused()) parser_.resume();
  processInput();
}

bool ServerConnection::canParse() const {
  if (parser_.paused()) return false;
  switch (request_state_) {
    case RequestState::Idle:
      return phase_ == Phase::Idle;
    case RequestState::Discarding:
      return phase_ == Phase::Exchange;
    case RequestState::Receiving:
      return phase_ == Phase::Exchange && sink_ != nullptr && !body_paused_ &&
             evbuffer_get_length(pending_body_.get()) < kMaxPendingBody;
    default:
      return false;
  }
}

void ServerConnection::processInput() {
  evbuffer* input = bufferevent_get_input(bev_.get());
  while (phase_ == Phase::Idle || phase_ == Phase::Exchange) {
    if (headWaiting()) {
      dispatchHead();
      continue;
    }
    deliverBody();
    if (request_state_ == RequestState::Idle && phase_ == Phase::Idle &&
        queuedBytes() >= limits_.high_watermark) {
      // Responses wait for a client that does not read them: parse nothing more until the
      // output drains (onWrite), and leave a client that never reads to the send timeout.
      request_state_ = RequestState::Held;
      armTimer(Timer::None);
    }
    if (!canParse()) break;
    if (evbuffer_get_length(input) == 0) break;
    if (phase_ == Phase::Idle && !parser_.inMessage() && timer_kind_ != Timer::Header) {
      armTimer(Timer::Header);  // the first byte of a new request starts the head timeout
    }
    evbuffer_iovec vec;
    if (evbuffer_peek(input, -1, nullptr, &vec, 1) < 1) break;
    body_spans_.begin(static_cast<const char*>(vec.iov_base));
    auto consumed = parser_.feed(static_cast<const char*>(vec.iov_base), vec.iov_len);
    if (!consumed) {
      failRequest(consumed.error());
      return;
    }
    body_spans_.consume(input, *consumed, pending_body_.get());
    if (*consumed < vec.iov_len && !parser_.paused() && !headWaiting()) {
      // http-parser stops after an Upgrade/CONNECT head: no more requests on this connection.
      if (parser_.upgrade()) close_after_response_ = true;
      break;
    }
  }
  updateReading();
}

void ServerConnection::updateReading() {
  if (phase_ == Phase::Closed || phase_ == Phase::Closing) return;
  bool want = phase_ == Phase::Lingering || canParse();
  if (!want && (phase_ == Phase::Idle || phase_ == Phase::Exchange)) {
    // Waiting for the response (or the next turn of the loop) with nothing buffered: keep
    // reading so that EOF is seen and the epoll set is not toggled on every request. What
    // arrives meanwhile stays in the input (one read at most: reading stops once it is
    // non-empty). A body that must not be read (no sink, paused) is the exception.
    bool body_blocked = phase_ == Phase::Exchange && (request_state_ == RequestState::Receiving ||
                                                      request_state_ == RequestState::Discarding);
    want = !body_blocked && evbuffer_get_length(bufferevent_get_input(bev_.get())) == 0;
  }
  if (want) {
    bufferevent_enable(bev_.get(), EV_READ);
  } else {
    bufferevent_disable(bev_.get(), EV_READ);
  }
}

void ServerConnection::onRequestHead(RequestHead&& head) {
  request_ = std::move(head);
  request_state_ = RequestState::Parsed;
  phase_ = Phase::Exchange;
  armTimer(Timer::None);
  if (parser_.bodyExpected()) {
    timeval body_timeout = toTimeval(limits_.body_timeout);
    timeval send_timeout = toTimeval(limits_.send_timeout);
    bufferevent_set_timeouts(bev_.get(), &body_timeout, &send_timeout);
  }
}

void ServerConnection::onBody(const char* data, size_t len) {
  if (request_state_ == RequestState::Discarding) return;
  body_spans_.add(data, len);  // moved to pending_body_ after feed()
}

void ServerConnection::onMessageComplete() {
  RequestState before = request_state_;
  request_state_ =
      before == RequestState::Parsed ? RequestState::ParsedWhole : RequestState::Received;
  timeval send_timeout = toTimeval(limits_.send_timeout);
  bufferevent_set_timeouts(bev_.get(), nullptr, &send_timeout);
  if (before == RequestState::Discarding) maybeEndExchange();
}

void ServerConnection::dispatchHead() {
  // RFC 9112 §3.2: HTTP/1.1 requests need exactly one Host; no request may carry two.
  size_t hosts = request_.headers.getAll("Host").size();
  if (hosts > 1 || (hosts == 0 && request_.version == Version{1, 1})) {
    failRequest(Error(ParseError::Malformed, "missing or repeated Host header"));
    return;
  }
  request_state_ = request_state_ == RequestState::ParsedWhole ? RequestState::Received
                                                               : RequestState::Receiving;
  fillTlsInfo();
  if (!parser_.keepAlive() || parser_.upgrade()) close_after_response_ = true;
  bool expect_continue = request_.version == Version{1, 1} && parser_.bodyExpected() &&
                         request_.headers.hasToken("Expect", "100-continue");
  response_ = expect_continue ? ResponseState::Continue : ResponseState::None;
  handler_.onRequest(*this);
}

void ServerConnection::deliverBody() {
  if (phase_ != Phase::Exchange || !exchangeOpen() || request_state_ == RequestState::Discarding) {
    return;
  }
  while (sink_ != nullptr && !body_paused_ && evbuffer_get_length(pending_body_.get()) > 0 &&
         phase_ == Phase::Exchange) {
    size_t before = evbuffer_get_length(pending_body_.get());
    body_delivered_ += before;
    sink_->onBodyData(*pending_body_);
    // A sink must drain what it is given; drop what it left so the loop cannot spin.
    if (phase_ != Phase::Closed) evbuffer_drain(pending_body_.get(), SIZE_MAX);
  }
  if (phase_ == Phase::Exchange && sink_ != nullptr && !body_paused_ &&
      request_state_ == RequestState::Received && evbuffer_get_length(pending_body_.get()) == 0) {
    request_state_ = RequestState::Delivered;
    BodySink* sink = sink_;
    sink->onBodyEnd();
  }
}

void ServerConnection::fillTlsInfo() {
  if (!tls_ || !info_.tls_version.empty()) return;  // filled on the first request
  SSL* ssl = bufferevent_openssl_get_ssl(bev_.get());
  if (ssl == nullptr) return;
  if (const char* name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name)) info_.sni = name;
  info_.tls_version = SSL_get_version(ssl);
}

// ---------------------------------------------------------------------------------------
// Timers and socket events

void ServerConnection::armTimer(Timer timer) {
  timer_kind_ = timer;
  event_del(timer_.get());
  timeval tv{};
  switch (timer) {
    case Timer::None:
      return;
    case Timer::Header:
      tv = toTimeval(limits_.header_timeout);
      break;
    case Timer::Idle:
      tv = toTimeval(limits_.idle_timeout);
      break;
    case Timer::Linger:
      tv = kLingerTimeout;
      break;
  }
  event_add(timer_.get(), &tv);
}

void ServerConnection::onTimer() {
  Timer kind = timer_kind_;
  timer_kind_ = Timer::None;
  switch (kind) {
    case Timer::Header:
      if (phase_ == Phase::Idle) {
        spdlog::debug("connection {}: request head timeout", info_.id);
        if (parser_.inMessage()) {
          writeErrorResponse(408);
          startClosing();
        } else {
          closeNow();
        }
      }
      return;
    case Timer::Idle:
      if (idle()) closeNow();
      return;
    case Timer::Linger:
      closeNow();
      return;
    case Timer::None:
      return;
  }
}

void ServerConnection::onEvent(short what) {
  if (phase_ == Phase::Lingering || phase_ == Phase::Closing) {
    closeNow();
    return;
  }
  if (what & BEV_EVENT_EOF) {
    // An EOF while writing means the peer is gone. On TLS, libevent stops reading and writing
    // after any EOF (bufferevent_openssl.c, conn_closed) and only starts writing again when
    // bytes are added to an empty output: bytes already queued would never leave, and a
    // response paused on them would wait for a drain that never comes.
    bool can_send =
        (what & BEV_EVENT_WRITING) == 0 && (!tls_ || evbuffer_get_length(output()) == 0);
    if (can_send && phase_ == Phase::Exchange &&
        (request_state_ == RequestState::Received || request_state_ == RequestState::Delivered)) {
      // The client half-closed after a complete request: answer it, then close.
      close_after_response_ = true;
      return;
    }
    if (can_send && phase_ == Phase::Idle && !parser_.inMessage()) {
      startClosing();  // flushes a response still queued, then closes
      return;
    }
    if (phase_ == Phase::Exchange) {
      auto finished = parser_.finish();
      Error reason = finished ? Error(ConnectionError::PeerClosed, "client closed the connection")
                              : finished.error();
      notifyReset(reason);
    }
    closeNow();
    return;
  }
  if (what & (BEV_EVENT_ERROR | BEV_EVENT_TIMEOUT)) {
    std::string why;
    ConnectionError code;
    if (what & BEV_EVENT_TIMEOUT) {
      code = ConnectionError::Timeout;
      why = (what & BEV_EVENT_READING) ? "request body timeout" : "send timeout";
    } else if (tls_) {
      code = ConnectionError::Tls;
      why = "TLS/socket error: " + net::opensslErrors();
    } else {
      code = ConnectionError::Io;
      why = std::string("socket error: ") + strerror(EVUTIL_SOCKET_ERROR());
    }
    spdlog::debug("connection {}: {} ({})", info_.id, why, connectionErrorName(code));
    notifyReset(Error(code, why));
    closeNow();
  }
}

void ServerConnection::scheduleFlush() {
  if (phase_ != Phase::Closed) event_active(flush_.get(), EV_TIMEOUT, 0);
}

size_t ServerConnection::queuedBytes() const {
  return evbuffer_get_length(bufferevent_get_output(bev_.get())) +
         evbuffer_get_length(staged_.get());
}

void ServerConnection::onFlush() {
  if (phase_ == Phase::Closed || phase_ == Phase::Lingering) return;
  if (tls_) {
    if (net::flushTlsNow(bev_.get(), staged_.get())) onWrite();
    return;
  }
  if (net::flushNow(bev_.get())) onWrite();
}

void ServerConnection::onWrite() {
  if (phase_ == Phase::Closed) return;
  if (file_fd_ >= 0) pumpFile();
  evbuffer* out = output();
  size_t queued = evbuffer_get_length(out);
  if (!tls_ && queued == 0) bufferevent_disable(bev_.get(), EV_WRITE);
  if (phase_ == Phase::Closing) {
    if (queued == 0) startLingering();
    return;
  }
  if (response_ == ResponseState::Blocked && queued <= limits_.low_watermark && file_fd_ < 0) {
    response_ = ResponseState::Sending;
    if (exchangeUsable() && observer_) observer_->onWriteDrained();
  }
  if (request_state_ == RequestState::Held && queuedBytes() <= limits_.low_watermark) {
    request_state_ = RequestState::Idle;
    if (phase_ == Phase::Idle) {
      armTimer(Timer::Idle);  // the first byte parsed starts the head timeout
      schedule();
    }
  }
}

// ---------------------------------------------------------------------------------------
// Errors and the end of an exchange

void ServerConnection::failRequest(const Error& error) {
  int status = error.inDomain<ParseError>() ? httpStatus(error.code<ParseError>()) : 400;
  spdlog::debug("connection {}: bad request ({}): {}", info_.id, status, error.message());
  if (exchangeOpen()) {
    bool head_was_sent = headSent();
    notifyReset(error);
    if (head_was_sent) {
      closeNow();
      return;
    }
  }
  request_state_ = RequestState::Ended;
  writeErrorResponse(status);
  startClosing();
}

void ServerConnection::writeErrorResponse(int status) {
  std::string_view phrase = reasonPhrase(status);
  std::string body = std::to_string(status) + " " + std::string(phrase) + "\n";
  ResponseHead head;
  head.status = status;
  head.headers.add("Date", std::string(httpDate()));
  head.headers.add("Content-Type", "text/plain");
  head.headers.add("Content-Length", std::to_string(body.size()));
  head.headers.add("Connection", "close");
  evbuffer* out = sink();
  appendHead(out, head);
  evbuffer_add(out, body.data(), body.size());
  scheduleFlush();
}

bool ServerConnection::unreadBodyForcesClose() const {
  // RFC 9110 §10.1.1: without a 100 the client may or may not send the body; and a body of
  // unknown or large remaining length is not worth reading to keep the connection.
  bool body_unread = body_delivered_ == 0 && evbuffer_get_length(pending_body_.get()) == 0;
  auto declared = declaredLength();
  uint64_t remaining = declared ? *declared - std::min(*declared, parser_.bodyBytes()) : 0;
  return (response_ == ResponseState::Continue && body_unread) || !declared ||
         remaining > kMaxDiscardBytes;
}

void ServerConnection::maybeEndExchange() {
  if (phase_ != Phase::Exchange || response_ != ResponseState::Finished || file_fd_ >= 0) return;
  if (!requestComplete() && !close_after_response_) return;  // still dropping the body
  request_state_ = RequestState::Ended;
  retired_observer_ = std::move(observer_);
  // (A close-delimited body set close_after_response_ in sendHead.)
  if (close_after_response_) {
    startClosing();
    return;
  }
  resetExchangeState();
  phase_ = Phase::Idle;
  evbuffer* input = bufferevent_get_input(bev_.get());
  armTimer(evbuffer_get_length(input) > 0 ? Timer::Header : Timer::Idle);
  schedule();
}

void ServerConnection::resetExchangeState() {
  request_ = RequestHead();
  request_state_ = RequestState::Idle;
  response_ = ResponseState::None;
  body_paused_ = false;
  close_after_response_ = false;
  sink_ = nullptr;
  body_delivered_ = 0;
  evbuffer_drain(pending_body_.get(), SIZE_MAX);
  body_ = BodyEncoder();
}

void ServerConnection::startClosing() {
  if (phase_ == Phase::Closed || phase_ == Phase::Closing || phase_ == Phase::Lingering) return;
  phase_ = Phase::Closing;
  request_state_ = RequestState::Ended;
  sink_ = nullptr;
  armTimer(Timer::None);
  bufferevent_disable(bev_.get(), EV_READ);
  bufferevent_setwatermark(bev_.get(), EV_WRITE, 0, 0);
  // TLS bytes still staged leave through onFlush (net::flushTlsNow: SSL_write straight away
  // while nothing else is queued), which ends in onWrite and so in startLingering.
  if (queuedBytes() == 0 && file_fd_ < 0) {
    startLingering();
  } else {
    scheduleFlush();
  }
}

void ServerConnection::startLingering() {
  if (phase_ == Phase::Closed) return;
  phase_ = Phase::Lingering;
  int fd = bufferevent_getfd(bev_.get());
  if (fd < 0 || shutdown(fd, SHUT_WR) != 0) {
    closeNow();
    return;
  }
  evbuffer* input = bufferevent_get_input(bev_.get());
  evbuffer_drain(input, evbuffer_get_length(input));
  bufferevent_set_timeouts(bev_.get(), nullptr, nullptr);
  bufferevent_enable(bev_.get(), EV_READ);
  armTimer(Timer::Linger);
}

// ---------------------------------------------------------------------------------------
// http::ServerExchange

void ServerConnection::attach(std::unique_ptr<ExchangeObserver> state) {
  if (!exchangeOpen()) return;  // the exchange is over: the state dies with this call
  if (observer_) retired_observer_ = std::move(observer_);
  observer_ = std::move(state);
}

void ServerConnection::sendContinue() {
  if (!exchangeUsable() || response_ != ResponseState::Continue) return;
  response_ = ResponseState::None;
  appendContinue(sink());
  scheduleFlush();
}

void ServerConnection::sendHead(ResponseHead head) {
  if (!exchangeUsable() || headSent()) return;
  // A response that starts before its request body ended, with nobody reading that body any
  // more, closes the connection unless the rest is small enough to read and drop: say so now
  // (RFC 9112 §9.6), not only by closing. (A handler still reading it, full duplex as the
  // echo or the proxy, may yet see it end: that is decided when the response ends.)
  if (head.status >= 200 && !requestComplete() && sink_ == nullptr && unreadBodyForcesClose()) {
    close_after_response_ = true;
  }
  response_ = ResponseState::Sending;
  ResponseContext context;
  context.request_method = request_.method;
  context.request_version = request_.version;
  context.keep_alive = !close_after_response_;
  context.date = httpDate();
  MessageFraming framing = frameResponse(head, context);
  if (!framing.keep_alive) close_after_response_ = true;
  body_ = BodyEncoder(framing);
  appendHead(sink(), head);
  scheduleFlush();
}

evbuffer* ServerConnection::output() {
  return bufferevent_get_output(bev_.get());
}

evbuffer* ServerConnection::sink() {
  if (file_fd_ >= 0) return tail_.get();
  return tls_ ? staged_.get() : output();
}

void ServerConnection::onBodyTruncated() {
  // More than Content-Length announced: never let it reach the client as a next response.
  spdlog::warn("connection {}: response body exceeds its Content-Length {}; truncated", info_.id,
               body_.declaredLength().value_or(0));
  close_after_response_ = true;
}

void ServerConnection::sendBody(evbuffer& data) {
  size_t length = evbuffer_get_length(&data);
  if (!exchangeUsable() || !headSent() || length == 0) {
    evbuffer_drain(&data, length);
    return;
  }
  if (body_.framing() == BodyFraming::None) {
    evbuffer_drain(&data, length);
    return;
  }
  if (!body_.write(sink(), data)) onBodyTruncated();
  if (queuedBytes() >= limits_.high_watermark) response_ = ResponseState::Blocked;
  scheduleFlush();
}

void ServerConnection::sendBody(std::string_view data) {
  if (!exchangeUsable() || !headSent() || data.empty()) return;
  if (body_.framing() == BodyFraming::None) return;
  if (!body_.write(sink(), data)) onBodyTruncated();
  if (queuedBytes() >= limits_.high_watermark) response_ = ResponseState::Blocked;
  scheduleFlush();
}

void ServerConnection::sendFile(int fd, uint64_t offset, uint64_t length) {
  if (!exchangeUsable() || !headSent() || length == 0 || body_.framing() == BodyFraming::None ||
      file_fd_ >= 0) {
    close(fd);
    return;
  }
  evbuffer* out = sink();
  bool truncated = false;
  length = body_.beginSegment(out, length, truncated);
  if (truncated) onBodyTruncated();
  if (length == 0) {
    close(fd);
    return;
  }
  if (!tls_) {
    // Plain sockets: libevent sends the file segment with sendfile(2), no copy.
    if (evbuffer_add_file(out, fd, static_cast<ev_off_t>(offset), static_cast<ev_off_t>(length)) !=
        0) {
      close(fd);
      notifyReset(Error(ConnectionError::FileRead, "cannot queue response file"));
      closeNow();
      return;
    }
    body_.endSegment(out);
    if (queuedBytes() >= limits_.high_watermark) response_ = ResponseState::Blocked;
    scheduleFlush();
    return;
  }
  // TLS: read through a bounded buffer, refilled as the socket drains (pumpFile), behind
  // the head (written now, or queued first in the output).
  (void)net::flushTlsNow(bev_.get(), staged_.get());
  file_fd_ = fd;
  file_offset_ = offset;
  file_remaining_ = length;
  response_ = ResponseState::Blocked;
  pumpFile();
}

void ServerConnection::pumpFile() {
  evbuffer* out = output();
  constexpr size_t kPiece = size_t{64} * 1024;
  while (file_fd_ >= 0 && file_remaining_ > 0 &&
         evbuffer_get_length(out) < limits_.high_watermark) {
    size_t want = static_cast<size_t>(std::min<uint64_t>(file_remaining_, kPiece));
    evbuffer_iovec vec;
    if (evbuffer_reserve_space(out, static_cast<ev_ssize_t>(want), &vec, 1) < 1) break;
    ssize_t n = pread(file_fd_, vec.iov_base, want, static_cast<off_t>(file_offset_));
    if (n <= 0) {
      spdlog::error("connection {}: reading response file failed: {}", info_.id,
                    n == 0 ? "unexpected end of file" : strerror(errno));
      close(file_fd_);
      file_fd_ = -1;
      notifyReset(Error(ConnectionError::FileRead, "response file read failed"));
      closeNow();
      return;
    }
    vec.iov_len = static_cast<size_t>(n);
    evbuffer_commit_space(out, &vec, 1);
    file_offset_ += static_cast<uint64_t>(n);
    file_remaining_ -= static_cast<uint64_t>(n);
  }
  if (file_fd_ >= 0 && file_remaining_ == 0) {
    close(file_fd_);
    file_fd_ = -1;
    body_.endSegment(out);
    evbuffer_add_buffer(out, tail_.get());
    if (response_ == ResponseState::Finished) maybeEndExchange();
    if (phase_ == Phase::Closing && evbuffer_get_length(out) == 0) startLingering();
  }
}

void ServerConnection::finish() {
  if (!exchangeUsable()) return;
  if (!headSent()) {
    ResponseHead head;
    head.status = 200;
    head.headers.add("Content-Length", "0");
    sendHead(std::move(head));
  }
  if (!body_.finish(sink())) {
    // The body does not match its Content-Length: the connection cannot be reused.
    spdlog::warn("connection {}: response body {} bytes, Content-Length {}", info_.id,
                 body_.bytesSent(), body_.declaredLength().value_or(0));
    close_after_response_ = true;
  }
  response_ = ResponseState::Finished;
  sink_ = nullptr;
  scheduleFlush();
  if (!requestComplete()) {
    if (unreadBodyForcesClose()) {
      close_after_response_ = true;
    } else {
      request_state_ = RequestState::Discarding;
      evbuffer_drain(pending_body_.get(), SIZE_MAX);
      schedule();
    }
  }
  maybeEndExchange();
}

void ServerConnection::reset() {
  if (phase_ == Phase::Closed) return;
  request_state_ = RequestState::Ended;
  sink_ = nullptr;
  if (observer_) retired_observer_ = std::move(observer_);
  closeNow();
}

bool ServerConnection::outputBlocked() const {
  if (phase_ == Phase::Closed) return false;
  if (file_fd_ >= 0) return true;
  return queuedBytes() >= limits_.high_watermark;
}

// ---------------------------------------------------------------------------------------
// http::BodySource

void ServerConnection::setSink(BodySink* sink) {
  if (!exchangeOpen() || response_ == ResponseState::Finished) return;
  sink_ = sink;
  if (sink != nullptr) {
    sendContinue();
    schedule();
  } else {
    updateReading();
  }
}

void ServerConnection::pause() {
  if (body_paused_) return;
  body_paused_ = true;
  updateReading();
}

void ServerConnection::resume() {
  if (!body_paused_) return;
  body_paused_ = false;
  schedule();
}

std::optional<uint64_t> ServerConnection::declaredLength() const {
  if (parser_.framing() == BodyFraming::ContentLength) return parser_.contentLength();
  if (parser_.framing() == BodyFraming::None) return 0;
  return std::nullopt;
}

bool ServerConnection::empty() const {
  return !parser_.bodyExpected();
}

bool ServerConnection::complete() const {
  return requestComplete() && evbuffer_get_length(pending_body_.get()) == 0;
}

}  // namespace portico::http
