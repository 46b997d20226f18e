#pragma once
// FakeExchange: an http::ServerExchange without sockets for handler unit tests. The request
// body is handed to the sink in chunks when deliverBody() runs, or, with `defer` set (a loop
// to run tasks on, e.g. a net::Worker's post), by itself from that loop once a sink is
// attached, honouring pause()/resume() as the engine does; the response (head, body,
// sendFile bytes) is recorded, and `on_end` is called when it finishes or resets.

#include <event2/buffer.h>
#include <event2/event.h>
#include <unistd.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/http/server.h"

namespace portico::testing {

class FakeBody : public http::BodySource {
 public:
  std::string data;
  bool has_body = false;
  bool chunked = false;
  http::BodySink* sink = nullptr;
  uint64_t received = 0;
  bool ended = false;
  // Automatic delivery (see the top of this file).
  std::function<void(std::function<void()>)> defer;
  size_t chunk = 7;
  size_t offset = 0;
  bool paused = false;
  bool scheduled = false;
  size_t pauses = 0;  // times the sink paused the body

  void setSink(http::BodySink* s) override {
    sink = s;
    schedule();
  }
  void pause() override {
    if (!paused) ++pauses;
    paused = true;
  }
  void resume() override {
    paused = false;
    schedule();
  }
  // Delivers from the loop until paused, detached or done.
  void schedule() {
    if (!defer || sink == nullptr || paused || ended || scheduled) return;
    scheduled = true;
    defer([this] {
      scheduled = false;
      deliverSome();
    });
  }
  void deliverSome() {
    while (sink != nullptr && !paused && offset < data.size()) {
      size_t n = std::min(chunk, data.size() - offset);
      evbuffer* buffer = evbuffer_new();
      evbuffer_add(buffer, data.data() + offset, n);
      received += n;
      offset += n;
      sink->onBodyData(*buffer);
      evbuffer_free(buffer);
    }
    if (sink != nullptr && !paused && offset >= data.size() && !ended) {
      ended = true;
      sink->onBodyEnd();
    }
  }
  std::optional<uint64_t> declaredLength() const override {
    if (!has_body || chunked) return std::nullopt;
    return data.size();
  }
  bool empty() const override { return !has_body; }
  bool complete() const override { return ended; }
  uint64_t bytesReceived() const override { return received; }
};

class FakeExchange : public http::ServerExchange {
 public:
  FakeExchange() : base_(event_base_new()) {}
  ~FakeExchange() override {
    state_.reset();
    event_base_free(base_);
  }

  http::RequestHead head;
  FakeBody body;
  http::ConnectionInfo info;
  std::optional<http::ResponseHead> response;
  std::string response_body;
  bool finished = false;
  bool was_reset = false;
  std::function<void()> on_end;

  // Feeds the body to the attached sink in `chunk`-byte pieces, then ends it.
  void deliverBody(size_t chunk = 7) {
    size_t offset = 0;
    while (body.sink != nullptr && offset < body.data.size()) {
      size_t n = std::min(chunk, body.data.size() - offset);
      evbuffer* buffer = evbuffer_new();
      evbuffer_add(buffer, body.data.data() + offset, n);
      body.received += n;
      body.sink->onBodyData(*buffer);
      evbuffer_free(buffer);
      offset += n;
    }
    body.ended = true;
    if (body.sink != nullptr) body.sink->onBodyEnd();
  }

  const http::RequestHead& request() const override { return head; }
  http::BodySource& requestBody() override { return body; }
  const http::ConnectionInfo& connection() const override { return info; }
  event_base& eventBase() override { return *base_; }
  void attach(std::unique_ptr<http::ExchangeObserver> state) override { state_ = std::move(state); }
  void sendContinue() override {}
  void sendHead(http::ResponseHead h) override { response = std::move(h); }
  void sendBody(evbuffer& data) override {
    size_t n = evbuffer_get_length(&data);
    std::string chunk(n, '\0');
    evbuffer_remove(&data, chunk.data(), n);
    response_body += chunk;
  }
  void sendBody(std::string_view data) override { response_body += data; }
  void sendFile(int fd, uint64_t offset, uint64_t length) override {
    std::string chunk(length, '\0');
    ssize_t got = pread(fd, chunk.data(), length, static_cast<off_t>(offset));
    chunk.resize(got < 0 ? 0 : static_cast<size_t>(got));
    response_body += chunk;
    close(fd);
  }
  void finish() override {
    finished = true;
    if (on_end) on_end();
  }
  void reset() override {
    was_reset = true;
    if (on_end) on_end();
  }
  bool outputBlocked() const override { return false; }
  bool headSent() const override { return response.has_value(); }
  uint64_t bytesSent() const override { return response_body.size(); }

 private:
  event_base* base_;
  std::unique_ptr<http::ExchangeObserver> state_;
};

}  // namespace portico::testing
