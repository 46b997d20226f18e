#include "common/http/client_connection.h"

#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "common/http/message_encoder.h"
#include "common/net/bufferevent_tuning.h"
#include "common/net/timeval.h"
#include "common/net/tls_context.h"

namespace portico::http {

namespace {

using net::toTimeval;

std::string socketError(bufferevent* bev) {
  std::string text;
  int err = EVUTIL_SOCKET_ERROR();
  if (err != 0) text = evutil_socket_error_to_string(err);
  if (bev != nullptr) {
    while (unsigned long ssl_err = bufferevent_get_openssl_error(bev)) {
      char buffer[256];
      ERR_error_string_n(ssl_err, buffer, sizeof(buffer));
      if (!text.empty()) text += "; ";
      text += buffer;
    }
  }
  return text.empty() ? "unknown error" : text;
}

}  // namespace

template <typename F>
bool Http1ClientConnection::callOut(F&& f) {
  auto watch = liveness_.watch();
  f();
  return watch.alive();
}

std::unique_ptr<Http1ClientConnection> Http1ClientConnection::connect(
    event_base& base, const net::Address& address, std::shared_ptr<net::TlsClientContext> tls,
    ClientConnectionOptions options, ConnectCallback done) {
  std::unique_ptr<Http1ClientConnection> connection(
      new Http1ClientConnection(base, address, std::move(tls), options));
  connection->startConnect(std::move(done));
  return connection;
}

Http1ClientConnection::Http1ClientConnection(event_base& base, net::Address address,
                                             std::shared_ptr<net::TlsClientContext> tls,
                                             ClientConnectionOptions options)
    : base_(base),
      address_(std::move(address)),
      tls_(std::move(tls)),
      options_(options),
      timer_(evtimer_new(&base, &Http1ClientConnection::onTimerCb, this)),
      deferred_(event_new(&base, -1, 0, &Http1ClientConnection::onDeferredCb, this)),
      flush_(event_new(&base, -1, 0, &Http1ClientConnection::onFlushCb, this)),
      parser_(Parser::Type::Response, *this, options.limits),
      body_(evbuffer_new()) {}

Http1ClientConnection::~Http1ClientConnection() {
  bev_.reset();
}

void Http1ClientConnection::startConnect(ConnectCallback done) {
  connect_done_ = std::move(done);
  auto resolved = address_.resolve();
  if (!resolved) {
    pending_error_ = Error(ClientErrc::ConnectFailed,
                           "cannot resolve " + address_.str() + ": " + resolved.error().message());
    scheduleDeferred();
    return;
  }
  const int options = BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS;
  bufferevent* bev = nullptr;
  if (tls_) {
    net::SslPtr ssl = tls_->newSsl(address_.host());
    if (!ssl) {
      pending_error_ =
          Error(ClientErrc::ConnectFailed,
                "cannot create a TLS session for " + address_.str() + ": " + net::opensslErrors());
      scheduleDeferred();
      return;
    }
    bev = bufferevent_openssl_socket_new(&base_, -1, ssl.release(), BUFFEREVENT_SSL_CONNECTING,
                                         options);
    if (bev != nullptr) bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
  } else {
    bev = bufferevent_socket_new(&base_, -1, options);
  }
  if (bev == nullptr) {
    pending_error_ = Error(ClientErrc::ConnectFailed, "cannot create a bufferevent");
    scheduleDeferred();
    return;
  }
  bev_.reset(bev);
  net::tuneBufferevent(bev);
  bufferevent_setcb(bev, &Http1ClientConnection::onReadCb, &Http1ClientConnection::onWriteCb,
                    &Http1ClientConnection::onEventCb, this);
  timeval connect_timeout = toTimeval(options_.timeouts.connect);
  evtimer_add(timer_.get(), &connect_timeout);
  if (bufferevent_socket_connect(bev, resolved->get(), static_cast<int>(resolved->length)) != 0) {
    pending_error_ = Error(ClientErrc::ConnectFailed,
                           "cannot connect to " + address_.str() + ": " + socketError(nullptr));
    scheduleDeferred();
    return;
  }
  evutil_socket_t fd = bufferevent_getfd(bev);
  if (fd >= 0 && resolved->family() != AF_UNIX) {
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  }
}

void Http1ClientConnection::onReadCb(bufferevent* /*bev*/, void* ctx) {
  auto* self = static_cast<Http1ClientConnection*>(ctx);
  if (self->state_ == State::Idle) {
    // Nothing is expected between exchanges: the upstream is closing or confused.
    if (self->idle_gone_) {
      self->notifyIdleGone();
      return;
    }
    self->closeSocket();
    self->state_ = State::Closed;
    return;
  }
  // libevent read 4 KiB at most (one TLS record): take the rest of what the socket holds, up
  // to the high watermark, unless the body is held back.
  if (self->wantsInput()) {
    net::readRest(self->bev_.get(), self->tls_ != nullptr, self->options_.high_watermark);
  }
  self->processInput();
}

void Http1ClientConnection::onWriteCb(bufferevent* bev, void* ctx) {
  auto* self = static_cast<Http1ClientConnection*>(ctx);
  if (!self->tls_ && evbuffer_get_length(bufferevent_get_output(bev)) == 0) {
    bufferevent_disable(bev, EV_WRITE);  // see flush()
  }
  self->onWritten();
}

void Http1ClientConnection::onWritten() {
  if (request_ != RequestState::Blocked || !bev_) return;
  if (evbuffer_get_length(bufferevent_get_output(bev_.get())) > options_.low_watermark) return;
  request_ = RequestState::Sending;
  if (state_ == State::Exchange && callbacks_ != nullptr) {
    ClientCallbacks* callbacks = callbacks_;
    callOut([&] { callbacks->onWriteDrained(); });
  }
}

void Http1ClientConnection::onFlushCb(evutil_socket_t /*fd*/, short /*events*/, void* ctx) {
  static_cast<Http1ClientConnection*>(ctx)->flush();
}

void Http1ClientConnection::scheduleFlush() {
  if (tls_ || !bev_) return;  // TLS: bufferevent_openssl writes as bytes are added
  event_active(flush_.get(), EV_TIMEOUT, 0);
}

void Http1ClientConnection::flush() {
  if (!bev_ || state_ == State::Connecting) return;
  if (net::flushNow(bev_.get())) onWritten();
}

void Http1ClientConnection::onEventCb(bufferevent* /*bev*/, short events, void* ctx) {
  static_cast<Http1ClientConnection*>(ctx)->onEvent(events);
}

void Http1ClientConnection::onTimerCb(evutil_socket_t /*fd*/, short /*events*/, void* ctx) {
  static_cast<Http1ClientConnection*>(ctx)->onTimer();
}

void Http1ClientConnection::onDeferredCb(evutil_socket_t /*fd*/, short /*events*/, void* ctx) {
  static_cast<Http1ClientConnection*>(ctx)->runDeferred();
}

void Http1ClientConnection::onEvent(short events) {
  if ((events & BEV_EVENT_CONNECTED) != 0) {
    onConnected();
    return;
  }
  if (state_ == State::Connecting) {
    fail(ClientErrc::ConnectFailed,
         "cannot connect to " + address_.str() + ": " + socketError(bev_.get()));
    return;
  }
  if (state_ == State::Idle) {
    if (idle_gone_) {
      notifyIdleGone();
      return;
    }
    closeSocket();
    state_ = State::Closed;
    return;
  }
  if (state_ != State::Exchange) return;
  if ((events & BEV_EVENT_TIMEOUT) != 0) {
    if ((events & BEV_EVENT_READING) != 0) {
      fail(ClientErrc::ReadTimeout, "upstream " + address_.str() + " sent nothing in time");
    } else {
      fail(ClientErrc::WriteTimeout, "upstream " + address_.str() + " stopped reading");
    }
    return;
  }
  if ((events & BEV_EVENT_ERROR) != 0) {
    fail(ClientErrc::Reset, "upstream " + address_.str() + ": " + socketError(bev_.get()));
    return;
  }
  if ((events & BEV_EVENT_EOF) != 0) {
    // Bytes still buffered are parsed first; processInput() handles the end of stream.
    peer_eof_ = true;
    processInput();
  }
}

void Http1ClientConnection::onConnected() {
  evtimer_del(timer_.get());
  state_ = State::Idle;
  bufferevent* bev = bev_.get();
  bufferevent_setwatermark(bev, EV_READ, 0, options_.high_watermark);
  bufferevent_setwatermark(bev, EV_WRITE, options_.low_watermark, 0);
  bufferevent_set_timeouts(bev, nullptr, nullptr);
  if (!tls_) bufferevent_disable(bev, EV_WRITE);  // see flush()
  updateReading();
  ConnectCallback done = std::move(connect_done_);
  connect_done_ = nullptr;
  if (done) done(nullptr);
}

void Http1ClientConnection::onTimer() {
  if (state_ == State::Connecting) {
    fail(ClientErrc::ConnectTimeout, "connect to " + address_.str() + " timed out");
  } else if (state_ == State::Idle && idle_gone_) {
    notifyIdleGone();
  }
}

void Http1ClientConnection::scheduleDeferred() {
  event_active(deferred_.get(), EV_TIMEOUT, 1);
}

void Http1ClientConnection::runDeferred() {
  if (pending_error_) {
    Error error = std::move(*pending_error_);
    pending_error_.reset();
    fail(error.code<ClientErrc>(), error.message());
    return;
  }
  if (state_ == State::Exchange) {
    processInput();
    return;
  }
  // The exchange is over; a sink attached late still gets its ending.
  if (sink_ == nullptr) return;
  BodySink* sink = sink_;
  if (response_ == ResponseState::Failed) {
    response_ = ResponseState::Ended;
    Error error = *body_error_;
    sink->onBodyError(error);
  } else if (response_ == ResponseState::Complete) {
    response_ = ResponseState::Ended;
    sink->onBodyEnd();
  }
}

void Http1ClientConnection::sendRequest(RequestHead head, ClientCallbacks& callbacks) {
  callbacks_ = &callbacks;
  sink_ = nullptr;
  pending_head_.reset();
  response_ = ResponseState::AwaitingHead;
  body_paused_ = false;
  body_error_.reset();
  body_received_ = 0;
  request_ = RequestState::Sent;
  evbuffer_drain(body_.get(), evbuffer_get_length(body_.get()));
  if (state_ != State::Idle) {
    // Reported from the loop, as every failure is.
    closeSocket();
    evtimer_del(timer_.get());
    connect_done_ = nullptr;
    idle_gone_ = nullptr;
    state_ = State::Exchange;
    pending_error_ = Error(ClientErrc::Reset, "connection to " + address_.str() + " is not usable");
    scheduleDeferred();
    return;
  }
  stopWatchingIdle();
  request_body_ = BodyEncoder(frameRequest(head));
  request_ =
      request_body_.framing() == BodyFraming::None ? RequestState::Sent : RequestState::Sending;
  parser_.setRequestMethod(head.method);
  parser_.resume();
  state_ = State::Exchange;
  bufferevent* bev = bev_.get();
  appendHead(bufferevent_get_output(bev), head);
  timeval read_timeout = toTimeval(options_.timeouts.read);
  timeval write_timeout = toTimeval(options_.timeouts.write);
  bufferevent_set_timeouts(bev, request_ == RequestState::Sent ? &read_timeout : nullptr,
                           &write_timeout);
  if (tls_) {
    bufferevent_enable(bev, EV_WRITE);
  } else {
    scheduleFlush();
  }
  updateReading();
}

void Http1ClientConnection::sendBody(evbuffer& data) {
  size_t length = evbuffer_get_length(&data);
  if (state_ != State::Exchange || request_ == RequestState::Sent || length == 0) {
    evbuffer_drain(&data, length);
    return;
  }
  (void)request_body_.write(bufferevent_get_output(bev_.get()), data);
  scheduleFlush();
}

void Http1ClientConnection::sendBody(std::string_view data) {
  if (state_ != State::Exchange || request_ == RequestState::Sent || data.empty()) return;
  (void)request_body_.write(bufferevent_get_output(bev_.get()), data);
  scheduleFlush();
}

void Http1ClientConnection::finishRequest() {
  if (state_ != State::Exchange || request_ == RequestState::Sent) return;
  request_ = RequestState::Sent;  // a producer that is done is owed no onWriteDrained()
  bufferevent* bev = bev_.get();
  if (request_body_.framing() == BodyFraming::Chunked) {
    (void)request_body_.finish(bufferevent_get_output(bev));
    scheduleFlush();
  }
  timeval read_timeout = toTimeval(options_.timeouts.read);
  timeval write_timeout = toTimeval(options_.timeouts.write);
  bufferevent_set_timeouts(bev, &read_timeout, &write_timeout);
  updateReading();
}

bool Http1ClientConnection::outputBlocked() const {
  if (!bev_) return false;
  bool blocked = evbuffer_get_length(bufferevent_get_output(bev_.get())) > options_.high_watermark;
  if (blocked && request_ == RequestState::Sending) request_ = RequestState::Blocked;
  return blocked;
}

bool Http1ClientConnection::reusable() const {
  // Idle after a completed exchange: kept alive (a fresh connection is Idle too, never used).
  return state_ == State::Idle && exchanges_ > 0;
}

void Http1ClientConnection::abort() {
  callbacks_ = nullptr;
  sink_ = nullptr;
  connect_done_ = nullptr;
  pending_error_.reset();
  idle_gone_ = nullptr;
  event_del(deferred_.get());
  event_del(flush_.get());
  evtimer_del(timer_.get());
  closeSocket();
  state_ = State::Closed;
}

void Http1ClientConnection::watchIdle(std::chrono::milliseconds timeout,
                                      std::function<void()> on_gone) {
  idle_gone_ = std::move(on_gone);
  timeval tv = toTimeval(timeout);
  evtimer_add(timer_.get(), &tv);
  updateReading();
  if (bev_ && evbuffer_get_length(bufferevent_get_input(bev_.get())) > 0) scheduleDeferred();
}

void Http1ClientConnection::stopWatchingIdle() {
  idle_gone_ = nullptr;
  evtimer_del(timer_.get());
}

void Http1ClientConnection::notifyIdleGone() {
  closeSocket();
  state_ = State::Closed;
  evtimer_del(timer_.get());
  std::function<void()> gone = std::move(idle_gone_);
  idle_gone_ = nullptr;
  if (gone) gone();  // may destroy this; nothing may follow
}

void Http1ClientConnection::closeSocket() {
  bev_.reset();
}

bool Http1ClientConnection::wantsInput() const {
  if (state_ == State::Idle) return true;
  if (state_ != State::Exchange) return false;
  bool holding = response_ != ResponseState::AwaitingHead &&
                 (body_paused_ || (sink_ == nullptr && evbuffer_get_length(body_.get()) > 0));
  return !peer_eof_ && !holding;
}

void Http1ClientConnection::updateReading() {
  if (!bev_) return;
  if (wantsInput()) {
    bufferevent_enable(bev_.get(), EV_READ);
  } else {
    bufferevent_disable(bev_.get(), EV_READ);
  }
}

void Http1ClientConnection::processInput() {
  if (!bev_) return;
  while (state_ == State::Exchange) {
    if (pending_head_) {
      ResponseHead head = std::move(*pending_head_);
      pending_head_.reset();
      ClientCallbacks* callbacks = callbacks_;
      if (head.status / 100 == 1 && head.status != 101) {
        if (callbacks != nullptr && !callOut([&] { callbacks->onInformational(head); })) return;
      } else {
        if (response_ == ResponseState::AwaitingHead) response_ = ResponseState::Body;
        if (callbacks != nullptr &&
            !callOut([&] { callbacks->onResponseHead(std::move(head), *this); })) {
          return;
        }
      }
      if (state_ != State::Exchange) return;
      parser_.resume();
      continue;
    }
    if (evbuffer_get_length(body_.get()) > 0) {
      if (sink_ == nullptr || body_paused_) break;
      BodySink* sink = sink_;
      if (!callOut([&] { sink->onBodyData(*body_); })) return;
      if (state_ != State::Exchange) return;
      if (evbuffer_get_length(body_.get()) > 0) break;  // the sink broke its contract
      continue;
    }
    if (response_ == ResponseState::Complete) {
      completeExchange();
      return;
    }
    if (body_paused_ && response_ != ResponseState::AwaitingHead) break;
    evbuffer* in = bufferevent_get_input(bev_.get());
    if (evbuffer_get_length(in) == 0) {
      if (!peer_eof_) break;
      auto finished = parser_.finish();
      if (finished && response_ == ResponseState::Complete) continue;
      fail(ClientErrc::Reset, response_ != ResponseState::AwaitingHead
                                  ? "upstream " + address_.str() + " closed mid-response"
                                  : "upstream " + address_.str() + " closed without a response");
      return;
    }
    evbuffer_iovec vec;
    evbuffer_peek(in, -1, nullptr, &vec, 1);
    body_spans_.begin(static_cast<const char*>(vec.iov_base));
    auto consumed = parser_.feed(static_cast<const char*>(vec.iov_base), vec.iov_len);
    if (!consumed) {
      fail(ClientErrc::Malformed,
           "malformed response from " + address_.str() + ": " + consumed.error().message());
      return;
    }
    body_spans_.consume(in, *consumed, body_.get());
  }
  updateReading();
}

void Http1ClientConnection::completeExchange() {
  ++exchanges_;
  bool keep = request_ == RequestState::Sent && parser_.keepAlive() && !peer_eof_ &&
              evbuffer_get_length(bufferevent_get_input(bev_.get())) == 0;
  callbacks_ = nullptr;
  if (keep) {
    state_ = State::Idle;
    bufferevent_set_timeouts(bev_.get(), nullptr, nullptr);
    updateReading();
  } else {
    closeSocket();
    state_ = State::Closed;
  }
  if (sink_ == nullptr) return;  // delivered when a sink is attached
  BodySink* sink = sink_;
  response_ = ResponseState::Ended;
  sink->onBodyEnd();  // may destroy this
}

void Http1ClientConnection::fail(ClientErrc code, std::string message) {
  Error error(code, std::move(message));
  State previous = state_;
  state_ = State::Closed;
  evtimer_del(timer_.get());
  closeSocket();
  switch (previous) {
    case State::Connecting: {
      ConnectCallback done = std::move(connect_done_);
      connect_done_ = nullptr;
      if (done) done(&error);  // may destroy this
      return;
    }
    case State::Idle:
      if (idle_gone_) notifyIdleGone();
      return;
    case State::Exchange:
      if (response_ == ResponseState::AwaitingHead) {
        ClientCallbacks* callbacks = callbacks_;
        callbacks_ = nullptr;
        if (callbacks != nullptr) callbacks->onClientError(error);  // may destroy this
        return;
      }
      callbacks_ = nullptr;
      if (response_ == ResponseState::Ended) return;  // (not while Exchange: defensive)
      body_error_ = error;
      response_ = ResponseState::Failed;
      if (sink_ != nullptr) {
        BodySink* sink = sink_;
        response_ = ResponseState::Ended;
        sink->onBodyError(error);  // may destroy this
      }
      return;
    case State::Closed:
      return;
  }
}

void Http1ClientConnection::onResponseHead(ResponseHead&& head) {
  pending_head_ = std::move(head);
  parser_.pause();  // handed out by processInput(), outside the parser
}

void Http1ClientConnection::onBody(const char* data, size_t len) {
  body_spans_.add(data, len);  // moved to body_ after feed()
  body_received_ += len;
}

void Http1ClientConnection::onMessageComplete() {
  response_ = ResponseState::Complete;
}

void Http1ClientConnection::setSink(BodySink* sink) {
  sink_ = sink;
  if (sink != nullptr) scheduleDeferred();
  updateReading();
}

void Http1ClientConnection::pause() {
  body_paused_ = true;
  updateReading();
}

void Http1ClientConnection::resume() {
  body_paused_ = false;
  scheduleDeferred();
  updateReading();
}

std::optional<uint64_t> Http1ClientConnection::declaredLength() const {
  if (parser_.framing() != BodyFraming::ContentLength) return std::nullopt;
  return parser_.contentLength();
}

bool Http1ClientConnection::empty() const {
  return !parser_.bodyExpected();
}

bool Http1ClientConnection::complete() const {
  bool ended =
      response_ == ResponseState::Complete || (response_ == ResponseState::Ended && !body_error_);
  return ended && evbuffer_get_length(body_.get()) == 0;
}

uint64_t Http1ClientConnection::bytesReceived() const {
  return body_received_ - evbuffer_get_length(body_.get());
}

}  // namespace portico::http
