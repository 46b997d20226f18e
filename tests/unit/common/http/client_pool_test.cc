// http::ClientPool against a real loopback upstream (tests/fixtures FakeUpstream, its own
// threads): reuse, the idle limit, idle expiry, connections the upstream closed. The pool's
// event loop runs on the test thread, driven until a condition holds (with a deadline).

#include <event2/buffer.h>
#include <event2/event.h>

#include <catch2/catch.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>

#include "common/http/client.h"
#include "common/net/address.h"
#include "tests/fixtures/fixtures.h"

using namespace portico;
using namespace std::chrono_literals;
using portico::testing::FakeUpstream;
using portico::testing::UpstreamReply;

namespace {

// A loop on this thread; a heartbeat timer wakes it so that a deadline is noticed even when
// nothing happens on its sockets.
class Loop {
 public:
  Loop() : base_(event_base_new()) {
    heartbeat_ = event_new(
        base_, -1, EV_PERSIST, [](evutil_socket_t, short, void*) {}, nullptr);
    timeval tick{0, 20'000};
    event_add(heartbeat_, &tick);
  }
  ~Loop() {
    event_free(heartbeat_);
    event_base_free(base_);
  }
  Loop(const Loop&) = delete;
  Loop& operator=(const Loop&) = delete;

  event_base& base() { return *base_; }
  // Runs the loop until `done()`; false if `timeout` passed first.
  bool runUntil(const std::function<bool()>& done, std::chrono::milliseconds timeout = 10s) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!done()) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      event_base_loop(base_, EVLOOP_ONCE);
    }
    return true;
  }

 private:
  event_base* base_;
  event* heartbeat_;
};

// Collects one response: head, body, end or error.
struct Exchange final : http::ClientCallbacks, http::BodySink {
  int status = 0;
  std::string body;
  bool done = false;
  std::string error;

  void onResponseHead(http::ResponseHead&& head, http::BodySource& source) override {
    status = head.status;
    source.setSink(this);
  }
  void onClientError(const Error& e) override {
    error = e.message();
    done = true;
  }
  void onBodyData(evbuffer& data) override {
    std::string chunk(evbuffer_get_length(&data), '\0');
    evbuffer_remove(&data, chunk.data(), chunk.size());
    body += chunk;
  }
  void onBodyEnd() override { done = true; }
  void onBodyError(const Error& e) override {
    error = e.message();
    done = true;
  }
};

struct PoolHarness {
  explicit PoolHarness(uint16_t port, http::ClientPool::Options options = {}) {
    pool = http::ClientPool::create(loop.base(), net::Address::inet("127.0.0.1", port), nullptr,
                                    options);
  }

  // acquire() and wait for its callback; throws on a connect error.
  std::unique_ptr<http::ClientConnection> acquire() {
    std::unique_ptr<http::ClientConnection> got;
    bool called = false;
    std::string error;
    pool->acquire([&](std::unique_ptr<http::ClientConnection> c, const Error* e) {
      called = true;
      got = std::move(c);
      if (e != nullptr) error = e->message();
    });
    if (!loop.runUntil([&] { return called; })) throw std::runtime_error("acquire never completed");
    if (!got) throw std::runtime_error("acquire failed: " + error);
    return got;
  }

  // GET `target` on `connection` and wait for the whole response.
  Exchange get(http::ClientConnection& connection, const std::string& target) {
    Exchange exchange;
    http::RequestHead head;
    head.method = "GET";
    head.target = target;
    head.path = target;
    head.headers.add("Host", "upstream");
    connection.sendRequest(std::move(head), exchange);
    connection.finishRequest();
    if (!loop.runUntil([&] { return exchange.done; })) {
      throw std::runtime_error("no response to GET " + target);
    }
    return exchange;
  }

  Loop loop;
  std::unique_ptr<http::ClientPool> pool;
};

}  // namespace

TEST_CASE("a released connection is reused for the next request", "[client_pool]") {
  FakeUpstream upstream;
  upstream.setDefaultReply(UpstreamReply::respond(200, "ok"));
  PoolHarness h(upstream.port());
  auto first = h.acquire();
  http::ClientConnection* first_address = first.get();
  auto response = h.get(*first, "/one");
  CHECK(response.status == 200);
  CHECK(response.body == "ok");
  REQUIRE(first->reusable());
  h.pool->release(std::move(first));
  CHECK(h.pool->idleCount() == 1);

  auto second = h.acquire();
  CHECK(second.get() == first_address);  // the idle connection, not a new one
  CHECK(h.pool->idleCount() == 0);
  CHECK(h.get(*second, "/two").status == 200);
  CHECK(upstream.requestCount() == 2);
  CHECK(upstream.connectionCount() == 1);  // both requests on one TCP connection
}

TEST_CASE("the pool keeps at most max_idle connections; the rest are closed", "[client_pool]") {
  FakeUpstream upstream;
  upstream.setDefaultReply(UpstreamReply::respond(200, "ok"));
  http::ClientPool::Options options;
  options.max_idle = 1;
  PoolHarness h(upstream.port(), options);
  auto a = h.acquire();
  auto b = h.acquire();  // none idle: a second connection
  CHECK(h.get(*a, "/a").status == 200);
  CHECK(h.get(*b, "/b").status == 200);
  CHECK(upstream.connectionCount() == 2);
  h.pool->release(std::move(a));
  h.pool->release(std::move(b));
  CHECK(h.pool->idleCount() == 1);  // the second one was closed, not kept

  auto c = h.acquire();
  auto d = h.acquire();
  CHECK(h.get(*c, "/c").status == 200);
  CHECK(h.get(*d, "/d").status == 200);
  CHECK(upstream.connectionCount() == 3);  // one reused, one new
}

TEST_CASE("an idle connection is closed after idle_timeout and not handed out again",
          "[client_pool]") {
  FakeUpstream upstream;
  upstream.setDefaultReply(UpstreamReply::respond(200, "ok"));
  http::ClientPool::Options options;
  options.idle_timeout = 50ms;
  PoolHarness h(upstream.port(), options);
  auto connection = h.acquire();
  CHECK(h.get(*connection, "/").status == 200);
  h.pool->release(std::move(connection));
  REQUIRE(h.pool->idleCount() == 1);
  CHECK(h.loop.runUntil([&] { return h.pool->idleCount() == 0; }));  // expired
  auto fresh = h.acquire();
  CHECK(h.get(*fresh, "/").status == 200);
  CHECK(upstream.connectionCount() == 2);
}

TEST_CASE("a connection the upstream asked to close is not kept", "[client_pool]") {
  FakeUpstream upstream;
  upstream.push(UpstreamReply::respond(200, "bye").closeAfter());
  upstream.setDefaultReply(UpstreamReply::respond(200, "ok"));
  PoolHarness h(upstream.port());
  auto connection = h.acquire();
  auto response = h.get(*connection, "/");
  CHECK(response.body == "bye");
  CHECK_FALSE(connection->reusable());
  h.pool->release(std::move(connection));
  CHECK(h.pool->idleCount() == 0);
  auto fresh = h.acquire();
  CHECK(h.get(*fresh, "/").body == "ok");
  CHECK(upstream.connectionCount() == 2);
}

TEST_CASE("an idle connection the upstream closed is dropped at once", "[client_pool]") {
  auto upstream = std::make_unique<FakeUpstream>();
  upstream->setDefaultReply(UpstreamReply::respond(200, "ok"));
  PoolHarness h(upstream->port());
  auto connection = h.acquire();
  CHECK(h.get(*connection, "/").status == 200);
  h.pool->release(std::move(connection));
  REQUIRE(h.pool->idleCount() == 1);
  upstream.reset();  // closes every connection and the listener
  CHECK(h.loop.runUntil([&] { return h.pool->idleCount() == 0; }));
  CHECK_THROWS_WITH(h.acquire(), Catch::Contains("acquire failed"));  // refused: nothing stale
}
