#pragma once
// Fakes of the proxy session's two peers, without sockets: FakeExchange (an
// http::ServerExchange: the client's side) and FakePool / FakeConnection (an http::ClientPool
// handing out http::ClientConnections: the upstream's side). Each is driven by the test:
// nothing happens until the test feeds a body chunk, completes an acquire or answers a
// request. As the engine does, the exchange owns its observer and destroys it when the
// exchange ends (finish() or reset()); here that happens inside the call, the harshest case.

#include <event2/buffer.h>

#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/error.h"
#include "common/http/body.h"
#include "common/http/client.h"
#include "common/http/server.h"

namespace portico::proxy::testing {

inline std::string drain(evbuffer& data) {
  std::string out(evbuffer_get_length(&data), '\0');
  evbuffer_remove(&data, out.data(), out.size());
  return out;
}

// A body the test delivers chunk by chunk (feed/end/fail) to whatever sink is attached.
class FakeBody final : public http::BodySource {
 public:
  std::optional<uint64_t> length;  // declared Content-Length (nullopt: chunked)
  bool has_body = false;
  http::BodySink* sink = nullptr;
  bool paused = false;
  uint64_t received = 0;
  bool ended = false;

  // Delivers `bytes` to the attached sink (which must be there).
  void feed(std::string_view bytes) {
    evbuffer* buffer = evbuffer_new();
    evbuffer_add(buffer, bytes.data(), bytes.size());
    received += bytes.size();
    sink->onBodyData(*buffer);
    evbuffer_free(buffer);
  }
  void end() {
    ended = true;
    sink->onBodyEnd();
  }
  void fail(const Error& error) { sink->onBodyError(error); }

  void setSink(http::BodySink* s) override { sink = s; }
  void pause() override { paused = true; }
  void resume() override { paused = false; }
  std::optional<uint64_t> declaredLength() const override { return length; }
  bool empty() const override { return !has_body; }
  bool complete() const override { return ended; }
  uint64_t bytesReceived() const override { return received; }
};

// The client's side of one exchange: records what the session sends downstream.
class FakeExchange final : public http::ServerExchange {
 public:
  FakeExchange(event_base& base, http::RequestHead head) : base_(base), head_(std::move(head)) {
    info_.peer_address = "192.0.2.7";
    info_.peer_port = 50000;
    info_.tls = true;
  }
  ~FakeExchange() override { observer_.reset(); }

  FakeBody body;
  std::optional<http::ResponseHead> response;
  std::string response_body;
  int continues = 0;  // sendContinue() calls
  bool finished = false;
  bool was_reset = false;
  bool blocked = false;  // outputBlocked()

  // The attached observer (the session), or null once the exchange ended.
  http::ExchangeObserver* observer() const { return observer_.get(); }
  // The client connection failed: the engine tells the observer, then destroys it.
  void clientGone(const Error& reason) {
    observer_->onExchangeReset(reason);
    observer_.reset();
  }

  const http::RequestHead& request() const override { return head_; }
  http::BodySource& requestBody() override { return body; }
  const http::ConnectionInfo& connection() const override { return info_; }
  event_base& eventBase() override { return base_; }
  void attach(std::unique_ptr<http::ExchangeObserver> state) override {
    observer_ = std::move(state);
  }
  void sendContinue() override { ++continues; }
  void sendHead(http::ResponseHead head) override { response = std::move(head); }
  void sendBody(evbuffer& data) override { response_body += drain(data); }
  void sendBody(std::string_view data) override { response_body += data; }
  void sendFile(int /*fd*/, uint64_t /*offset*/, uint64_t /*length*/) override {}
  void finish() override {
    finished = true;
    observer_.reset();
  }
  void reset() override {
    was_reset = true;
    observer_.reset();
  }
  bool outputBlocked() const override { return blocked; }
  bool headSent() const override { return response.has_value(); }
  uint64_t bytesSent() const override { return response_body.size(); }

 private:
  event_base& base_;
  http::RequestHead head_;
  http::ConnectionInfo info_;
  std::unique_ptr<http::ExchangeObserver> observer_;
};

// What one upstream connection saw and did; outlives the connection (shared with the test).
struct UpstreamRecord {
  std::optional<http::RequestHead> head;
  std::string body;
  bool request_finished = false;
  bool aborted = false;
  bool destroyed = false;
  bool blocked = false;  // the connection's outputBlocked()
  http::ClientCallbacks* callbacks = nullptr;
  FakeBody response;  // the response body the test feeds

  // Upstream answers: an interim response, a final head, or a failure before the head.
  void informational(int status) {
    http::ResponseHead head;
    head.status = status;
    callbacks->onInformational(head);
  }
  void respond(int status, const std::vector<std::pair<std::string, std::string>>& headers = {}) {
    http::ResponseHead head;
    head.status = status;
    for (auto& [name, value] : headers) head.headers.add(name, value);
    response.has_body = true;
    callbacks->onResponseHead(std::move(head), response);
  }
  void fail(const Error& error) { callbacks->onClientError(error); }
  // The request output drained below the low watermark.
  void drained() {
    blocked = false;
    callbacks->onWriteDrained();
  }
};

class FakeConnection final : public http::ClientConnection {
 public:
  explicit FakeConnection(std::shared_ptr<UpstreamRecord> record) : record_(std::move(record)) {}
  ~FakeConnection() override { record_->destroyed = true; }

  bool is_reusable = true;

  void sendRequest(http::RequestHead head, http::ClientCallbacks& callbacks) override {
    record_->head = std::move(head);
    record_->callbacks = &callbacks;
  }
  void sendBody(evbuffer& data) override { record_->body += drain(data); }
  void sendBody(std::string_view data) override { record_->body += data; }
  void finishRequest() override { record_->request_finished = true; }
  bool outputBlocked() const override { return record_->blocked; }
  bool reusable() const override { return is_reusable && !record_->aborted; }
  void abort() override {
    record_->aborted = true;
    record_->callbacks = nullptr;
  }

 private:
  std::shared_ptr<UpstreamRecord> record_;
};

// One upstream server's pool: acquire() waits until the test completes it.
class FakePool final : public http::ClientPool {
 public:
  std::deque<AcquireCallback> waiting;
  size_t acquires = 0;
  std::vector<std::unique_ptr<http::ClientConnection>> returned;  // release()d

  // Completes the oldest acquire() with a fresh connection; returns what it records.
  std::shared_ptr<UpstreamRecord> connect() {
    auto record = std::make_shared<UpstreamRecord>();
    AcquireCallback callback = take();
    callback(std::make_unique<FakeConnection>(record), nullptr);
    return record;
  }
  // Completes the oldest acquire() with an error.
  void fail(const Error& error) {
    AcquireCallback callback = take();
    callback(nullptr, &error);
  }

  void acquire(AcquireCallback callback) override {
    ++acquires;
    waiting.push_back(std::move(callback));
  }
  void release(std::unique_ptr<http::ClientConnection> connection) override {
    returned.push_back(std::move(connection));
  }
  size_t idleCount() const override { return returned.size(); }

 private:
  AcquireCallback take() {
    AcquireCallback callback = std::move(waiting.front());
    waiting.pop_front();
    return callback;
  }
};

}  // namespace portico::proxy::testing
