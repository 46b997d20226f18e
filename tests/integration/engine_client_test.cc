// The client side of the HTTP engine (Http1ClientConnection, ClientPool) against scripted
// upstreams on 127.0.0.1:0: a raw socket server in this file for exact byte control, and the
// fixtures' FakeUpstream for TLS. The client runs on an event_base in the test thread.

#include <arpa/inet.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/http/client.h"
#include "common/http/client_connection.h"
#include "common/net/address.h"
#include "common/net/event_ptr.h"
#include "common/net/tls_context.h"
#include "tests/fixtures/fake_upstream.h"
#include "tests/fixtures/test_certificates.h"

using portico::Error;
using portico::http::BodySink;
using portico::http::BodySource;
using portico::http::ClientCallbacks;
using portico::http::ClientConnectionOptions;
using portico::http::ClientErrc;
using portico::http::ClientPool;
using portico::http::Http1ClientConnection;
using portico::http::RequestHead;
using portico::http::ResponseHead;
using portico::net::Address;

namespace {

// One accepted connection of the scripted server, with blocking helpers.
class Peer {
 public:
  Peer(int fd, std::function<void(int)> forget) : fd_(fd), forget_(std::move(forget)) {}
  ~Peer() {
    if (fd_ >= 0) {
      forget_(fd_);
      ::close(fd_);
    }
  }

  // Reads one request (head, then a Content-Length or chunked body); false on EOF.
  bool readRequest(std::string* raw = nullptr) {
    size_t end;
    while ((end = buffer_.find("\r\n\r\n")) == std::string::npos) {
      if (!fill()) return false;
    }
    size_t head_end = end + 4;
    std::string head = buffer_.substr(0, head_end);
    std::string lower = head;
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    size_t total = head_end;
    if (size_t pos = lower.find("content-length:"); pos != std::string::npos) {
      total += std::stoull(head.substr(pos + 15));
      while (buffer_.size() < total) {
        if (!fill()) return false;
      }
    } else if (lower.find("transfer-encoding: chunked") != std::string::npos) {
      while ((end = buffer_.find("\r\n0\r\n\r\n", head_end - 2)) == std::string::npos) {
        if (!fill()) return false;
      }
      total = end + 7;
    }
    if (raw != nullptr) *raw = buffer_.substr(0, total);
    requests_.push_back(buffer_.substr(0, total));
    buffer_.erase(0, total);
    return true;
  }

  void write(std::string_view data) {
    while (!data.empty()) {
      ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (n <= 0) return;
      data.remove_prefix(static_cast<size_t>(n));
    }
  }
  // Writes one byte per send() (TCP_NODELAY), so the client sees many small reads.
  void writeBytewise(std::string_view data) {
    int one = 1;
    setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    for (char c : data) write(std::string_view(&c, 1));
  }
  // Closes with RST instead of FIN.
  void reset() {
    linger hard{1, 0};
    setsockopt(fd_, SOL_SOCKET, SO_LINGER, &hard, sizeof(hard));
    forget_(fd_);
    ::close(fd_);
    fd_ = -1;
  }
  // Blocks until the client closes the connection (or the server stops).
  void waitForClose() {
    while (fill()) {
    }
  }
  int fd() const { return fd_; }
  const std::vector<std::string>& requests() const { return requests_; }

 private:
  bool fill() {
    if (fd_ < 0) return false;
    char chunk[16384];
    ssize_t n = ::recv(fd_, chunk, sizeof(chunk), 0);
    if (n <= 0) return false;
    buffer_.append(chunk, static_cast<size_t>(n));
    return true;
  }

  int fd_;
  std::function<void(int)> forget_;  // the server stops tracking a closed fd
  std::string buffer_;
  std::vector<std::string> requests_;
};

// A loopback server on 127.0.0.1:0 running `script` for each accepted connection in its own
// thread. The destructor shuts every socket down (waking blocked reads) and joins.
class ScriptedServer {
 public:
  using Script = std::function<void(Peer&)>;

  explicit ScriptedServer(Script script) : script_(std::move(script)) {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    REQUIRE(listen_fd_ >= 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0);
    REQUIRE(::listen(listen_fd_, 64) == 0);
    socklen_t len = sizeof(addr);
    ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    acceptor_ = std::thread([this] { acceptLoop(); });
  }

  ~ScriptedServer() {
    stopping_ = true;
    ::shutdown(listen_fd_, SHUT_RDWR);
    acceptor_.join();
    {
      std::lock_guard<std::mutex> lock(mutex_);
      for (int fd : fds_) ::shutdown(fd, SHUT_RDWR);
    }
    for (auto& worker : workers_) worker.join();
    ::close(listen_fd_);
  }

  Address address() const { return Address::inet("127.0.0.1", port_); }
  int connections() const { return connections_; }
  bool stopping() const { return stopping_; }
  std::vector<std::string> requests() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return requests_;
  }

 private:
  void acceptLoop() {
    while (!stopping_) {
      int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) return;
      ++connections_;
      std::lock_guard<std::mutex> lock(mutex_);
      fds_.push_back(fd);
      workers_.emplace_back([this, fd] {
        Peer peer(fd, [this](int closing) {
          std::lock_guard<std::mutex> lock(mutex_);
          std::erase(fds_, closing);
        });
        script_(peer);
        {
          std::lock_guard<std::mutex> lock(mutex_);
          for (const auto& request : peer.requests()) requests_.push_back(request);
        }
        // The server never closes first unless the script says so: wait for the client.
        peer.waitForClose();
      });
    }
  }

  Script script_;
  int listen_fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<int> connections_{0};
  std::thread acceptor_;
  mutable std::mutex mutex_;
  std::vector<int> fds_;
  std::vector<std::thread> workers_;
  std::vector<std::string> requests_;
};

// Runs the loop until `done()` or a 20 s safety limit (a hang guard, not a timing assert).
bool runUntil(event_base& base, const std::function<bool()>& done) {
  auto limit = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (!done()) {
    if (std::chrono::steady_clock::now() > limit) return false;
    event_base_loop(&base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
    if (!done()) {
      timeval slice{0, 10'000};
      event_base_loopexit(&base, &slice);
      event_base_loop(&base, EVLOOP_ONCE);
    }
  }
  return true;
}

// Runs the loop for `duration` (used only to give a broken implementation time to misbehave).
void runFor(event_base& base, std::chrono::milliseconds duration) {
  auto end = std::chrono::steady_clock::now() + duration;
  runUntil(base, [&] { return std::chrono::steady_clock::now() >= end; });
}

// Records one exchange; is also the body sink.
class Recorder : public ClientCallbacks, public BodySink {
 public:
  std::vector<int> interim;
  std::optional<ResponseHead> head;
  std::string body;
  bool ended = false;
  std::optional<Error> error;
  bool error_before_head = false;
  BodySource* source = nullptr;
  bool pause_on_data = false;
  int data_calls = 0;
  int drained = 0;
  std::function<void()> on_data;  // runs after each onBodyData
  std::function<void()> on_end;   // runs after onBodyEnd

  void onInformational(const ResponseHead& h) override { interim.push_back(h.status); }
  void onResponseHead(ResponseHead&& h, BodySource& b) override {
    head = std::move(h);
    source = &b;
    b.setSink(this);
  }
  void onClientError(const Error& e) override {
    error = e;
    error_before_head = true;
  }
  void onBodyData(evbuffer& data) override {
    ++data_calls;
    size_t n = evbuffer_get_length(&data);
    size_t old = body.size();
    body.resize(old + n);
    evbuffer_remove(&data, body.data() + old, n);
    if (pause_on_data) source->pause();
    if (on_data) on_data();
  }
  void onBodyEnd() override {
    ended = true;
    if (on_end) on_end();
  }
  void onWriteDrained() override { ++drained; }
  void onBodyError(const Error& e) override { error = e; }

  bool done() const { return ended || error.has_value(); }
  ClientErrc errc() const {
    REQUIRE(error.has_value());
    REQUIRE(error->inDomain<ClientErrc>());
    return error->code<ClientErrc>();
  }
};

RequestHead get(std::string target, std::string method = "GET") {
  RequestHead head;
  head.method = std::move(method);
  head.target = std::move(target);
  head.headers.add("Host", "upstream.test");
  return head;
}

struct Loop {
  portico::net::EventBasePtr base{event_base_new()};
  event_base& operator*() { return *base; }
};

std::unique_ptr<Http1ClientConnection> connectTo(
    event_base& base, const Address& address,
    std::shared_ptr<portico::net::TlsClientContext> tls = nullptr,
    ClientConnectionOptions options = {}, std::optional<Error>* failure = nullptr) {
  bool called = false;
  std::optional<Error> error;
  auto connection =
      Http1ClientConnection::connect(base, address, std::move(tls), options, [&](const Error* e) {
        called = true;
        if (e != nullptr) error = *e;
      });
  CHECK_FALSE(called);  // never inside connect()
  REQUIRE(runUntil(base, [&] { return called; }));
  if (failure != nullptr) *failure = error;
  if (error) return nullptr;
  return connection;
}

// A signal from the test to a server script.
class Release {
 public:
  void release() {
    if (!released_.exchange(true)) promise_.set_value();
  }
  std::shared_future<void> future() { return future_; }

 private:
  std::promise<void> promise_;
  std::shared_future<void> future_ = promise_.get_future().share();
  std::atomic<bool> released_{false};
};

const char kHello[] = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello";

}  // namespace

TEST_CASE("a Content-Length response arrives as head then body, and the connection is reusable",
          "[engine_client]") {
  ScriptedServer server([](Peer& peer) {
    while (peer.readRequest()) peer.write(kHello);
  });
  Loop loop;
  auto connection = connectTo(*loop, server.address());
  REQUIRE(connection);
  Recorder recorder;
  connection->sendRequest(get("/v2/?x=1"), recorder);
  REQUIRE(runUntil(*loop, [&] { return recorder.done(); }));
  REQUIRE_FALSE(recorder.error);
  CHECK(recorder.head->status == 200);
  CHECK(recorder.body == "hello");
  CHECK(recorder.source->complete());
  CHECK(connection->reusable());
  CHECK(connection->exchanges() == 1);
  REQUIRE(server.connections() == 1);
}

TEST_CASE("a second request on a kept-alive connection reuses the same socket", "[engine_client]") {
  ScriptedServer server([](Peer& peer) {
    while (peer.readRequest()) peer.write(kHello);
  });
  Loop loop;
  auto connection = connectTo(*loop, server.address());
  REQUIRE(connection);
  for (int i = 0; i < 5; ++i) {
    Recorder recorder;
    connection->sendRequest(get("/n/" + std::to_string(i)), recorder);
    REQUIRE(runUntil(*loop, [&] { return recorder.done(); }));
    REQUIRE_FALSE(recorder.error);
    CHECK(recorder.body == "hello");
    REQUIRE(connection->reusable());
  }
  CHECK(server.connections() == 1);
  CHECK(connection->exchanges() == 5);
}

TEST_CASE("a chunked response with extensions and trailers is de-chunked", "[engine_client]") {
  ScriptedServer server([](Peer& peer) {
    if (!peer.readRequest()) return;
    peer.write(
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        "5;a=b\r\nhello\r\n7\r\n, world\r\n0\r\nX-Trailer: 1\r\n\r\n");
  });
  Loop loop;
  auto connection = connectTo(*loop, server.address());
  REQUIRE(connection);
  Recorder recorder;
  connection->sendRequest(get("/chunked"), recorder);
  REQUIRE(runUntil(*loop, [&] { return recorder.done(); }));
  REQUIRE_FALSE(recorder.error);
  CHECK(recorder.body == "hello, world");
  CHECK_FALSE(recorder.source->declaredLength().has_value());
  CHECK(recorder.source->bytesReceived() == 12);
  CHECK(connection->reusable());
}

TEST_CASE("a response written one byte per packet parses the same", "[engine_client]") {
  ScriptedServer server([](Peer& peer) {
    if (!peer.readRequest()) return;
    peer.writeBytewise(
        "HTTP/1.1 201 Created\r\nLocation: /x\r\nTransfer-Encoding: chunked\r\n\r\n"
        "3\r\nabc\r\n3\r\ndef\r\n0\r\n\r\n");
  });
  Loop loop;
  auto connection = connectTo(*loop, server.address());
  REQUIRE(connection);
  Recorder recorder;
  connection->sendRequest(get("/split"), recorder);
  REQUIRE(runUntil(*loop, [&] { return recorder.done(); }));
  REQUIRE_FALSE(recorder.error);
  CHECK(recorder.head->status == 201);
  CHECK(recorder.head->headers.get("location") == "/x");
  CHECK(recorder.body == "abcdef");
}

TEST_CASE("a chunked response with bad framing is Malformed and never ends", "[engine_client]") {
  const std::string body =
      GENERATE(std::string("5\r\nhelloXX0\r\n\r\n"), std::string("5 junk\r\nhello\r\n0\r\n\r\n"),
               std::string("5\r\nhello\r\n0\r\n\rX"));
  const bool bytewise = GENERATE(false, true);
  INFO(body << (bytewise ? " one byte per packet" : ""));
  ScriptedServer server([&](Peer& peer) {
    if (!peer.readRequest()) return;
    const std::string response = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + body;
    if (bytewise) {
      peer.writeBytewise(response);
    } else {
      peer.write(response);
    }
  });
  Loop loop;
  auto connection = connectTo(*loop, server.address());
  REQUIRE(connection);
  Recorder recorder;
  connection->sendRequest(get("/bad-chunks"), recorder);
  REQUIRE(runUntil(*loop, [&] { return recorder.done(); }));
  CHECK_FALSE(recorder.ended);
  CHECK(recorder.errc() == ClientErrc::Malformed);
  CHECK_FALSE(connection->reusable());
}

TEST_CASE("1xx interim responses are relayed before the final head", "[engine_client]") {
  ScriptedServer server([](Peer& peer) {
    if (!peer.readRequest()) return;
    peer.write("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </s>\r\n\r\n");
    peer.write(kHello);
  });
  Loop loop;
  auto connection = connectTo(*loop, server.address());
  REQUIRE(connection);
  Recorder recorder;
  connection->sendRequest(get("/interim"), recorder);
  REQUIRE(runUntil(*loop, [&] { return recorder.done(); }));
  REQUIRE_FALSE(recorder.error);
  CHECK(recorder.interim == std::vector<int>{100, 103});
  CHECK(recorder.head->status == 200);
  CHECK(recorder.body == "hello");
}

TEST_CASE("a response to HEAD has no body and the connection stays reusable", "[engine_client]") {
  ScriptedServer server([](Peer& peer) {
    while (peer.readRequest()) peer.write("HTTP/1.1 200 OK\r\nContent-Length: 12345\r\n\r\n");
  });
  Loop loop;
  auto connection = connectTo(*loop, server.address());
  REQUIRE(connection);
  Recorder recorder;
  connection->sendRequest(get("/blob", "HEAD"), recorder);
  REQUIRE(runUntil(*loop, [&] { return recorder.done(); }));
  REQUIRE_FALSE(recorder.error);
  CHECK(recorder.head->headers.get("content-length") == "12345");
  CHECK(recorder.body.empty());
  CHECK(recorder.source->empty());
  CHECK(connection->reusable());
}

TEST_CASE("a close-delimited response ends at EOF and the connection is not reused",
          "[engine_client]") {
  ScriptedServer server([](Peer& peer) {
    if (!peer.readRequest()) return;
    peer.write("HTTP/1.1 200 OK\r\n\r\nuntil the end");
    ::shutdown(peer.fd(), SHUT_WR);
  });
  Loop loop;
  auto connection = connectTo(*loop, server.address());
  REQUIRE(connection);
  Recorder recorder;
  connection->sendRequest(get("/eof"), recorder);
  REQUIRE(runUntil(*loop, [&] { return recorder.done(); }));
  REQUIRE_FALSE(recorder.error);
  CHECK(recorder.body == "until the end");
  CHECK_FALSE(connection->reusable());
}

TEST_CASE("Connection: close from the upstream makes the connection not reusable",
          "[engine_client]") {
  ScriptedServer server([](Peer& peer) {
    if (!peer.readRequest()) return;
    peer.write("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok");
  });
  Loop loop;
  auto connection = connectTo(*loop, server.address());
  REQUIRE(connection);
  Recorder recorder;
  connection->sendRequest(get("/close"), recorder);
  REQUIRE(runUntil(*loop, [&] { return recorder.done(); }));
  CHECK(recorder.body == "ok");
  CHECK_FALSE(connection->reusable());
}

TEST_CASE("no response within the read timeout is ReadTimeout", "[engine_client]") {
  ScriptedServer server([](Peer& peer) {
    if (!peer.readRequest()) return;
    peer.waitForClose();  // never answers
  });
  Loop loop;
  ClientConnectionOptions options;
  options.timeouts.read = std::chrono::milliseconds(200);
  auto connection = connectTo(*loop, server.address(), nullptr, options);
  REQUIRE(connection);
  Recorder recorder;
  connection->sendRequest(get("/slow"), recorder);
  REQUIRE(runUntil(*loop, [&] { return recorder.done(); }));
  CHECK(recorder.error_before_head);
  CHECK(recorder.errc() == ClientErrc::ReadTimeout);
  CHECK_FALSE(connection->reusable());
}

TEST_CASE("a reset in the middle of the body reaches the body sink as an error",
          "[engine_client]") {
  ScriptedServer server([](Peer& peer) {
    if (!peer.readRequest()) return;
    peer.write("HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n0123456789");
    peer.reset();
  });
  Loop loop;
  auto connection = connectTo(*loop, server.address());
  REQUIRE(connection);
  Recorder recorder;
  connection->sendRequest(get("/reset"), recorder);
  REQUIRE(runUntil(*loop, [&] { return recorder.done(); }));
  REQUIRE(recorder.head);
  CHECK_FALSE(recorder.error_before_head);
  CHECK_FALSE(recorder.ended);
  CHECK(recorder.errc() == ClientErrc::Reset);
  CHECK(recorder.body.size() <= 10);
  CHECK_FALSE(connection->reusable());
}

TEST_CASE("a FIN before the declared length is a Reset, not a complete body", "[engine_client]") {
  ScriptedServer server([](Peer& peer) {
    if (!peer.readRequest()) return;
    peer.write("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort");
    ::shutdown(peer.fd(), SHUT_WR);
  });
  Loop loop;
  auto connection = connectTo(*loop, server.address());
  REQUIRE(connection);
  Recorder recorder;
  connection->sendRequest(get("/short"), recorder);
  REQUIRE(runUntil(*loop, [&] { return recorder.done(); }));
  CHECK_FALSE(recorder.ended);
  CHECK(recorder.errc() == ClientErrc::Reset);
  CHECK(recorder.body == "short");
}

TEST_CASE("an upstream closing without answering is a Reset before the head", "[engine_client]") {
  ScriptedServer server([](Peer& peer) {
    if (!peer.readRequest()) return;
    ::shutdown(peer.fd(), SHUT_WR);
  });
  Loop loop;
  auto connection = connectTo(*loop, server.address());
  REQUIRE(connection);
  Recorder recorder;
  connection->sendRequest(get("/nothing"), recorder);
  REQUIRE(runUntil(*loop, [&] { return recorder.done(); }));
  CHECK(recorder.error_before_head);
  CHECK(recorder.errc() == ClientErrc::Reset);
}

TEST_CASE("a response that is not HTTP is Malformed", "[engine_client]") {
  ScriptedServer server([](Peer& peer) {
    if (!peer.readRequest()) return;
    peer.write("SSH-2.0-OpenSSH_9.2\r\n\r\n");
  });
  Loop loop;
  auto connection = connectTo(*loop, server.address());
  REQUIRE(connection);
  Recorder recorder;
  connection->sendRequest(get("/garbage"), recorder);
  REQUIRE(runUntil(*loop, [&] { return recorder.done(); }));
  CHECK(recorder.errc() == ClientErrc::Malformed);
}

TEST_CASE("a refused connection is ConnectFailed, reported from the loop", "[engine_client]") {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0);
  socklen_t len = sizeof(addr);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);  // nothing listens on this port now
  Loop loop;
  std::optional<Error> failure;
  auto connection =
      connectTo(*loop, Address::inet("127.0.0.1", ntohs(addr.sin_port)), nullptr, {}, &failure);
  CHECK_FALSE(connection);
  REQUIRE(failure);
  CHECK(failure->is(ClientErrc::ConnectFailed));
}

TEST_CASE("request bodies are framed by Content-Length or encoded as chunks", "[engine_client]") {
  ScriptedServer server([](Peer& peer) {
    while (peer.readRequest()) peer.write("HTTP/1.1 204 No Content\r\n\r\n");
  });
  Loop loop;
  auto connection = connectTo(*loop, server.address());
  REQUIRE(connection);

  Recorder first;
  RequestHead put = get("/upload", "PUT");
  put.headers.add("Content-Length", "7");
  connection->sendRequest(put, first);
  connection->sendBody(std::string_view("abc"));
  evbuffer* rest = evbuffer_new();
  evbuffer_add(rest, "defg", 4);
  connection->sendBody(*rest);
  CHECK(evbuffer_get_length(rest) == 0);
  connection->finishRequest();
  REQUIRE(runUntil(*loop, [&] { return first.done(); }));
  REQUIRE_FALSE(first.error);
  CHECK(first.head->status == 204);
  REQUIRE(connection->reusable());

  Recorder second;
  RequestHead patch = get("/upload", "PATCH");
  patch.headers.add("Transfer-Encoding", "chunked");
  connection->sendRequest(patch, second);
  connection->sendBody(std::string_view("hello"));
  evbuffer_add(rest, "0123456789abcdefXY", 18);
  connection->sendBody(*rest);
  connection->sendBody(std::string_view());  // an empty piece is not the last chunk
  connection->finishRequest();
  REQUIRE(runUntil(*loop, [&] { return second.done(); }));
  REQUIRE_FALSE(second.error);
  evbuffer_free(rest);

  connection.reset();
  std::vector<std::string> requests;
  REQUIRE(runUntil(*loop, [&] {
    requests = server.requests();
    return requests.size() == 2;
  }));
  CHECK(requests[0] ==
        "PUT /upload HTTP/1.1\r\nHost: upstream.test\r\nContent-Length: 7\r\n\r\nabcdefg");
  CHECK(requests[1] ==
        "PATCH /upload HTTP/1.1\r\nHost: upstream.test\r\nTransfer-Encoding: chunked\r\n\r\n"
        "5\r\nhello\r\n12\r\n0123456789abcdefXY\r\n0\r\n\r\n");
}

TEST_CASE("a paused body delivers nothing until resumed", "[engine_client]") {
  const size_t total = 8 * 1024 * 1024;
  ScriptedServer server([&](Peer& peer) {
    if (!peer.readRequest()) return;
    peer.write("HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(total) + "\r\n\r\n");
    std::string block(64 * 1024, 'z');
    for (size_t sent = 0; sent < total; sent += block.size()) peer.write(block);
  });
  Loop loop;
  ClientConnectionOptions options;
  options.high_watermark = 64 * 1024;
  auto connection = connectTo(*loop, server.address(), nullptr, options);
  REQUIRE(connection);
  Recorder recorder;
  recorder.pause_on_data = true;
  connection->sendRequest(get("/big"), recorder);
  REQUIRE(runUntil(*loop, [&] { return recorder.data_calls > 0; }));
  size_t at_pause = recorder.body.size();
  runFor(*loop, std::chrono::milliseconds(300));
  CHECK(recorder.body.size() == at_pause);
  CHECK(recorder.data_calls == 1);
  CHECK(recorder.body.size() < total);
  recorder.pause_on_data = false;
  recorder.source->resume();
  REQUIRE(runUntil(*loop, [&] { return recorder.done(); }));
  REQUIRE_FALSE(recorder.error);
  CHECK(recorder.body.size() == total);
  CHECK(recorder.body.find_first_not_of('z') == std::string::npos);
}

TEST_CASE("the pool reuses a released connection and calls back only from the loop",
          "[engine_client][pool]") {
  ScriptedServer server([](Peer& peer) {
    while (peer.readRequest()) peer.write(kHello);
  });
  Loop loop;
  auto pool = ClientPool::create(*loop, server.address(), nullptr, {});
  for (int i = 0; i < 3; ++i) {
    std::unique_ptr<portico::http::ClientConnection> connection;
    bool called = false;
    pool->acquire([&](std::unique_ptr<portico::http::ClientConnection> c, const Error* e) {
      called = true;
      REQUIRE(e == nullptr);
      connection = std::move(c);
    });
    CHECK_FALSE(called);
    REQUIRE(runUntil(*loop, [&] { return called; }));
    CHECK(pool->idleCount() == 0);
    Recorder recorder;
    connection->sendRequest(get("/pooled"), recorder);
    REQUIRE(runUntil(*loop, [&] { return recorder.done(); }));
    CHECK(recorder.body == "hello");
    pool->release(std::move(connection));
    CHECK(pool->idleCount() == 1);
  }
  CHECK(server.connections() == 1);
}

TEST_CASE("the pool drops an idle connection that the upstream closed", "[engine_client][pool]") {
  ScriptedServer server([](Peer& peer) {
    if (!peer.readRequest()) return;
    peer.write(kHello);
    ::shutdown(peer.fd(), SHUT_RDWR);  // closes after a keep-alive response
  });
  Loop loop;
  auto pool = ClientPool::create(*loop, server.address(), nullptr, {});
  for (int round = 1; round <= 2; ++round) {
    std::unique_ptr<portico::http::ClientConnection> connection;
    pool->acquire([&](std::unique_ptr<portico::http::ClientConnection> c, const Error* e) {
      REQUIRE(e == nullptr);
      connection = std::move(c);
    });
    REQUIRE(runUntil(*loop, [&] { return connection != nullptr; }));
    Recorder recorder;
    connection->sendRequest(get("/once"), recorder);
    REQUIRE(runUntil(*loop, [&] { return recorder.done(); }));
    REQUIRE_FALSE(recorder.error);
    pool->release(std::move(connection));
    // Either the close was already seen (not reusable) or the idle watch drops it.
    REQUIRE(runUntil(*loop, [&] { return pool->idleCount() == 0; }));
    CHECK(server.connections() == round);
  }
}

TEST_CASE("the pool closes idle connections after the idle timeout", "[engine_client][pool]") {
  std::atomic<int> closed{0};
  ScriptedServer server([&](Peer& peer) {
    while (peer.readRequest()) peer.write(kHello);
    ++closed;
  });
  Loop loop;
  ClientPool::Options options;
  options.idle_timeout = std::chrono::milliseconds(100);
  auto pool = ClientPool::create(*loop, server.address(), nullptr, options);
  std::unique_ptr<portico::http::ClientConnection> connection;
  pool->acquire([&](std::unique_ptr<portico::http::ClientConnection> c, const Error*) {
    connection = std::move(c);
  });
  REQUIRE(runUntil(*loop, [&] { return connection != nullptr; }));
  Recorder recorder;
  connection->sendRequest(get("/idle"), recorder);
  REQUIRE(runUntil(*loop, [&] { return recorder.done(); }));
  pool->release(std::move(connection));
  CHECK(pool->idleCount() == 1);
  REQUIRE(runUntil(*loop, [&] { return pool->idleCount() == 0; }));
  REQUIRE(runUntil(*loop, [&] { return closed == 1; }));
}

TEST_CASE("the pool reports a connect failure through the callback", "[engine_client][pool]") {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0);
  socklen_t len = sizeof(addr);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  Loop loop;
  auto pool =
      ClientPool::create(*loop, Address::inet("127.0.0.1", ntohs(addr.sin_port)), nullptr, {});
  std::optional<Error> failure;
  bool called = false;
  pool->acquire([&](std::unique_ptr<portico::http::ClientConnection> c, const Error* e) {
    called = true;
    CHECK(c == nullptr);
    if (e != nullptr) failure = *e;
  });
  REQUIRE(runUntil(*loop, [&] { return called; }));
  REQUIRE(failure);
  CHECK(failure->is(ClientErrc::ConnectFailed));
}

TEST_CASE("a TLS upstream verified against the test CA answers through the client",
          "[engine_client][tls]") {
  portico::testing::FakeUpstreamOptions upstream_options;
  upstream_options.tls = true;
  portico::testing::FakeUpstream upstream(upstream_options);
  const auto& certs = portico::testing::TestCertificates::shared();
  portico::net::TlsClientOptions tls_options;
  tls_options.ca_file = certs.caCert();
  tls_options.server_name = "localhost";
  auto tls = portico::net::TlsClientContext::create(tls_options);
  REQUIRE(tls);
  Loop loop;
  auto pool = ClientPool::create(*loop, Address::inet("127.0.0.1", upstream.port()), *tls, {});
  for (int i = 0; i < 2; ++i) {
    std::unique_ptr<portico::http::ClientConnection> connection;
    pool->acquire([&](std::unique_ptr<portico::http::ClientConnection> c, const Error* e) {
      if (e != nullptr) FAIL(e->message());
      connection = std::move(c);
    });
    REQUIRE(runUntil(*loop, [&] { return connection != nullptr; }));
    Recorder recorder;
    RequestHead post = get("/tls/echo", "POST");
    post.headers.add("Content-Length", "4");
    connection->sendRequest(post, recorder);
    connection->sendBody(std::string_view("ping"));
    connection->finishRequest();
    REQUIRE(runUntil(*loop, [&] { return recorder.done(); }));
    REQUIRE_FALSE(recorder.error);
    CHECK(recorder.head->status == 200);
    CHECK(recorder.body.find("\"/tls/echo\"") != std::string::npos);
    CHECK(recorder.body.find("ping") != std::string::npos);
    pool->release(std::move(connection));
  }
  CHECK(upstream.connectionCount() == 1);
}

TEST_CASE("a TLS upstream whose certificate is not trusted fails to connect",
          "[engine_client][tls]") {
  portico::testing::FakeUpstreamOptions upstream_options;
  upstream_options.tls = true;
  portico::testing::FakeUpstream upstream(upstream_options);
  portico::net::TlsClientOptions tls_options;  // system trust store: the test CA is unknown
  tls_options.server_name = "localhost";
  auto tls = portico::net::TlsClientContext::create(tls_options);
  REQUIRE(tls);
  Loop loop;
  std::optional<Error> failure;
  auto connection =
      connectTo(*loop, Address::inet("127.0.0.1", upstream.port()), *tls, {}, &failure);
  CHECK_FALSE(connection);
  REQUIRE(failure);
  CHECK(failure->is(ClientErrc::ConnectFailed));
}

TEST_CASE("a blocked request body reports onWriteDrained once the upstream reads",
          "[engine_client]") {
  const size_t total = 16 * 1024 * 1024;
  Release go;
  ScriptedServer server([started = go.future()](Peer& peer) {
    started.wait();
    if (peer.readRequest()) peer.write(kHello);
  });
  // Destroyed before the server: a failing test never leaves the script waiting at join.
  std::unique_ptr<Release, void (*)(Release*)> release_on_exit(&go,
                                                               [](Release* r) { r->release(); });
  Loop loop;
  ClientConnectionOptions options;
  options.high_watermark = 64 * 1024;
  options.low_watermark = 16 * 1024;
  auto connection = connectTo(*loop, server.address(), nullptr, options);
  REQUIRE(connection);
  Recorder recorder;
  RequestHead put = get("/big-upload", "PUT");
  put.headers.add("Content-Length", std::to_string(total));
  connection->sendRequest(put, recorder);
  connection->sendBody(std::string(total, 'u'));
  REQUIRE(connection->outputBlocked());
  go.release();
  REQUIRE(runUntil(*loop, [&] { return recorder.drained > 0; }));
  CHECK_FALSE(connection->outputBlocked());
  connection->finishRequest();
  REQUIRE(runUntil(*loop, [&] { return recorder.done(); }));
  REQUIRE_FALSE(recorder.error);
  CHECK(recorder.body == "hello");
}

TEST_CASE("an upstream that stops reading the request body is a WriteTimeout", "[engine_client]") {
  // The script never reads; it waits for the client or the server's shutdown to hang up.
  ScriptedServer server([](Peer& peer) {
    pollfd hangup{peer.fd(), POLLRDHUP, 0};
    ::poll(&hangup, 1, -1);
  });
  Loop loop;
  ClientConnectionOptions options;
  options.timeouts.write = std::chrono::milliseconds(200);
  auto connection = connectTo(*loop, server.address(), nullptr, options);
  REQUIRE(connection);
  Recorder recorder;
  RequestHead put = get("/stalled", "PUT");
  const size_t total = 64 * 1024 * 1024;
  put.headers.add("Content-Length", std::to_string(total));
  connection->sendRequest(put, recorder);
  connection->sendBody(std::string(total, 's'));
  REQUIRE(runUntil(*loop, [&] { return recorder.done(); }));
  CHECK(recorder.error_before_head);
  CHECK(recorder.errc() == ClientErrc::WriteTimeout);
}

TEST_CASE("the owner may destroy the connection inside body callbacks", "[engine_client]") {
  ScriptedServer server([](Peer& peer) {
    while (peer.readRequest()) {
      peer.write("HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nab");
      peer.write("cdef");
    }
  });
  Loop loop;
  SECTION("in onBodyData") {
    auto connection = connectTo(*loop, server.address());
    REQUIRE(connection);
    Recorder recorder;
    recorder.on_data = [&] { connection.reset(); };
    connection->sendRequest(get("/destroy"), recorder);
    REQUIRE(runUntil(*loop, [&] { return connection == nullptr; }));
    runFor(*loop, std::chrono::milliseconds(50));
    CHECK_FALSE(recorder.ended);
    CHECK_FALSE(recorder.error);
  }
  SECTION("in onBodyEnd, through the pool") {
    auto pool = ClientPool::create(*loop, server.address(), nullptr, {});
    std::unique_ptr<portico::http::ClientConnection> connection;
    pool->acquire([&](std::unique_ptr<portico::http::ClientConnection> c, const Error*) {
      connection = std::move(c);
    });
    REQUIRE(runUntil(*loop, [&] { return connection != nullptr; }));
    Recorder recorder;
    recorder.on_end = [&] { pool->release(std::move(connection)); };
    connection->sendRequest(get("/release"), recorder);
    REQUIRE(runUntil(*loop, [&] { return recorder.done(); }));
    CHECK(recorder.body == "abcdef");
    CHECK(pool->idleCount() == 1);
  }
}
