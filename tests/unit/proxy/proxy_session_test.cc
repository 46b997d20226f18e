#include "proxy/proxy_session.h"

#include <event2/event.h>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "proxy/metrics.h"
#include "proxy/proxy_runtime.h"
#include "proxy/router.h"
#include "tests/unit/proxy/fake_peers.h"

using namespace portico;
using namespace portico::proxy;

namespace {

http::RequestHead request(const std::vector<std::pair<std::string, std::string>>& headers) {
  http::RequestHead head;
  head.method = "PUT";
  head.target = "/v2/foo/blobs/uploads/1?digest=sha256:ab";
  head.path = "/v2/foo/blobs/uploads/1";
  head.query = "digest=sha256:ab";
  head.version = http::Version{1, 0};
  for (auto& [n, v] : headers) head.headers.add(n, v);
  return head;
}

http::ConnectionInfo client(bool tls = true) {
  http::ConnectionInfo info;
  info.peer_address = "192.0.2.7";
  info.peer_port = 50000;
  info.tls = tls;
  return info;
}

}  // namespace

TEST_CASE("hop-by-hop fields and the fields named in Connection are not forwarded",
          "[proxy_session]") {
  auto head = buildUpstreamRequestHead(request({{"Host", "registry.example.com"},
                                                {"Connection", "keep-alive, X-Secret"},
                                                {"Keep-Alive", "timeout=5"},
                                                {"Proxy-Connection", "keep-alive"},
                                                {"TE", "trailers"},
                                                {"Trailer", "X-Checksum"},
                                                {"Upgrade", "h2c"},
                                                {"X-Secret", "s"},
                                                {"Authorization", "Bearer t"}}),
                                       client(), 0, false, "127.0.0.1:5001");
  for (auto name : {"Connection", "Keep-Alive", "Proxy-Connection", "TE", "Trailer", "Upgrade",
                    "X-Secret", "Transfer-Encoding"}) {
    INFO(name);
    CHECK_FALSE(head.headers.has(name));
  }
  CHECK(head.headers.get("Authorization") == std::optional<std::string_view>("Bearer t"));
  CHECK(head.version == http::Version{1, 1});
  CHECK(head.target == "/v2/foo/blobs/uploads/1?digest=sha256:ab");
}

TEST_CASE("Host is kept and X-Forwarded-* and X-Real-IP are set", "[proxy_session]") {
  auto head = buildUpstreamRequestHead(request({{"Host", "registry.example.com:5000"}}), client(),
                                       std::nullopt, false, "127.0.0.1:5001");
  CHECK(head.headers.get("Host") == std::optional<std::string_view>("registry.example.com:5000"));
  CHECK(head.headers.get("X-Forwarded-For") == std::optional<std::string_view>("192.0.2.7"));
  CHECK(head.headers.get("X-Real-IP") == std::optional<std::string_view>("192.0.2.7"));
  CHECK(head.headers.get("X-Forwarded-Proto") == std::optional<std::string_view>("https"));
  CHECK(head.headers.get("X-Forwarded-Host") ==
        std::optional<std::string_view>("registry.example.com:5000"));
}

TEST_CASE("X-Forwarded-For is appended to, not replaced", "[proxy_session]") {
  auto head = buildUpstreamRequestHead(
      request({{"Host", "h"}, {"X-Forwarded-For", "203.0.113.1"}, {"X-Forwarded-For", "10.0.0.1"}}),
      client(false), std::nullopt, false, "u");
  CHECK(head.headers.getAll("X-Forwarded-For").size() == 1);
  CHECK(head.headers.get("X-Forwarded-For") ==
        std::optional<std::string_view>("203.0.113.1, 10.0.0.1, 192.0.2.7"));
  CHECK(head.headers.get("X-Forwarded-Proto") == std::optional<std::string_view>("http"));
}

TEST_CASE("a client-supplied X-Real-IP is replaced by the peer address", "[proxy_session]") {
  auto head = buildUpstreamRequestHead(request({{"Host", "h"}, {"X-Real-IP", "1.2.3.4"}}), client(),
                                       std::nullopt, false, "u");
  CHECK(head.headers.getAll("X-Real-IP") == std::vector<std::string_view>{"192.0.2.7"});
}

TEST_CASE("a request without Host gets the upstream's address as Host", "[proxy_session]") {
  auto head = buildUpstreamRequestHead(request({}), client(), std::nullopt, false, "10.1.1.1:5001");
  CHECK(head.headers.get("Host") == std::optional<std::string_view>("10.1.1.1:5001"));
}

TEST_CASE("a declared Content-Length is forwarded as is", "[proxy_session]") {
  auto head = buildUpstreamRequestHead(request({{"Host", "h"}, {"Content-Length", "1234"}}),
                                       client(), 1234, true, "u");
  CHECK(head.headers.getAll("Content-Length") == std::vector<std::string_view>{"1234"});
  CHECK_FALSE(head.headers.has("Transfer-Encoding"));
}

TEST_CASE("a chunked request body is forwarded chunked", "[proxy_session]") {
  auto head = buildUpstreamRequestHead(request({{"Host", "h"}, {"Transfer-Encoding", "chunked"}}),
                                       client(), std::nullopt, true, "u");
  CHECK(head.headers.getAll("Transfer-Encoding") == std::vector<std::string_view>{"chunked"});
  CHECK_FALSE(head.headers.has("Content-Length"));
}

TEST_CASE("a request without body gets no framing fields", "[proxy_session]") {
  auto head =
      buildUpstreamRequestHead(request({{"Host", "h"}}), client(), std::nullopt, false, "u");
  CHECK_FALSE(head.headers.has("Transfer-Encoding"));
  CHECK_FALSE(head.headers.has("Content-Length"));
}

TEST_CASE("Expect: 100-continue is passed through", "[proxy_session]") {
  auto head = buildUpstreamRequestHead(
      request({{"Host", "h"}, {"Expect", "100-continue"}, {"Content-Length", "5"}}), client(), 5,
      true, "u");
  CHECK(head.headers.get("Expect") == std::optional<std::string_view>("100-continue"));
}

TEST_CASE("response hop-by-hop fields are removed and Content-Length kept", "[proxy_session]") {
  http::ResponseHead head;
  head.status = 200;
  head.version = http::Version{1, 0};
  head.headers.add("Connection", "close, X-Hop");
  head.headers.add("X-Hop", "1");
  head.headers.add("Keep-Alive", "timeout=4");
  head.headers.add("Content-Length", "42");
  head.headers.add("Docker-Content-Digest", "sha256:00");
  rewriteResponseHead(head);
  CHECK_FALSE(head.headers.has("Connection"));
  CHECK_FALSE(head.headers.has("X-Hop"));
  CHECK_FALSE(head.headers.has("Keep-Alive"));
  CHECK(head.headers.get("Content-Length") == std::optional<std::string_view>("42"));
  CHECK(head.headers.has("Docker-Content-Digest"));
  CHECK(head.version == http::Version{1, 1});
}

TEST_CASE("proxy errors on /v2/ are registry JSON with the API version header", "[proxy_session]") {
  auto response = makeErrorResponse(502, "/v2/library/alpine/manifests/latest", "upstream down");
  CHECK(response.status == 502);
  CHECK(response.headers.get("Docker-Distribution-Api-Version") ==
        std::optional<std::string_view>("registry/2.0"));
  auto body = nlohmann::json::parse(response.body);
  CHECK(body["errors"][0]["code"] == "UNAVAILABLE");
  CHECK(body["errors"][0]["message"] == "upstream down");
}

TEST_CASE("an unrouted /v2/ path is a NOT_FOUND registry error", "[proxy_session]") {
  auto response = makeErrorResponse(404, "/v2/", "no route");
  auto body = nlohmann::json::parse(response.body);
  CHECK(body["errors"][0]["code"] == "NOT_FOUND");
  CHECK(response.headers.has("Docker-Distribution-Api-Version"));
}

TEST_CASE("proxy errors elsewhere are plain text without the API version header",
          "[proxy_session]") {
  auto response = makeErrorResponse(504, "/v1/_ping", "upstream timed out");
  CHECK_FALSE(response.headers.has("Docker-Distribution-Api-Version"));
  CHECK(response.headers.get("Content-Type") ==
        std::optional<std::string_view>("text/plain; charset=utf-8"));
  CHECK(response.body == "504 Gateway Timeout: upstream timed out\n");
}

TEST_CASE("only /v2 and /v2/... are v2 paths", "[proxy_session]") {
  CHECK(isV2Path("/v2/"));
  CHECK(isV2Path("/v2"));
  CHECK(isV2Path("/v2/x/tags/list"));
  CHECK_FALSE(isV2Path("/v21/"));
  CHECK_FALSE(isV2Path("/v1/_ping"));
  CHECK_FALSE(isV2Path("/"));
}

TEST_CASE("a field whose name is not a token is never forwarded", "[proxy_session]") {
  auto head = buildUpstreamRequestHead(
      request({{"Host", "h"}, {"Transfer-Encoding ", "chunked"}, {"X Bad", "1"}, {"X-Good", "2"}}),
      client(), std::nullopt, false, "u");
  CHECK_FALSE(head.headers.has("Transfer-Encoding "));
  CHECK_FALSE(head.headers.has("X Bad"));
  CHECK(head.headers.has("X-Good"));
}

// ProxySession driven through its phases with fake peers (tests/unit/proxy/fake_peers.h): no
// sockets. Each test pins today's behaviour of one path through the session.
namespace {

using portico::proxy::testing::FakeExchange;
using portico::proxy::testing::FakePool;
using Headers = std::vector<std::pair<std::string, std::string>>;

// A worker with one upstream group "up" of `servers` servers behind fake pools, and one
// route that forwards everything to it.
struct SessionHarness {
  explicit SessionHarness(size_t servers = 1) : base(event_base_new()) {
    UpstreamGroupOptions options;
    options.name = "up";
    for (size_t i = 0; i < servers; ++i) {
      options.servers.push_back("127.0.0.1:" + std::to_string(5001 + i));
    }
    auto group = std::make_shared<UpstreamGroup>(options);
    auto next = std::make_shared<ProxySnapshot>();
    RouteRule rule;
    rule.action.route = "all";
    rule.action.kind = RouteAction::Kind::Forward;
    rule.action.upstream = "up";
    next->router = std::make_shared<Router>(std::vector<RouteRule>{rule});
    next->upstreams["up"] = SnapshotUpstream{group, [this](event_base&, size_t index) {
                                               auto pool = std::make_unique<FakePool>();
                                               pools.resize(std::max(pools.size(), index + 1));
                                               pools[index] = pool.get();
                                               return pool;
                                             }};
    metrics = &runtime.metrics.route("all", "up");
    next->route_metrics["all"] = metrics;
    next->unrouted_metrics = &runtime.metrics.route("", "");
    snapshot = next;
    // Published, as a reload does: the worker's current snapshot holds the group, so its pools
    // are not pruned as a replaced group's when a session ends (the test inspects them after).
    runtime.publish(snapshot);
    worker = std::make_unique<ProxyWorker>(*base, runtime);
    REQUIRE(worker->snapshot() == snapshot);
  }
  ~SessionHarness() {
    exchange.reset();
    runLoop();  // deferred releases
    worker.reset();
    event_base_free(base);
  }
  SessionHarness(const SessionHarness&) = delete;
  SessionHarness& operator=(const SessionHarness&) = delete;

  // A request arrives: the session is created, attached and started (as ProxyHandler does).
  FakeExchange& start(const std::string& method, const std::string& path,
                      const Headers& headers = {}, std::optional<std::string> body = std::nullopt) {
    http::RequestHead head;
    head.method = method;
    head.target = path;
    head.path = path;
    head.headers.add("Host", "registry.example.com");
    for (auto& [name, value] : headers) head.headers.add(name, value);
    if (body) head.headers.add("Content-Length", std::to_string(body->size()));
    exchange = std::make_unique<FakeExchange>(*base, std::move(head));
    if (body) {
      exchange->body.has_body = true;
      exchange->body.length = body->size();
    }
    auto session = std::make_unique<ProxySession>(*exchange, *worker, snapshot);
    ProxySession& started = *session;
    exchange->attach(std::move(session));
    started.start();
    return *exchange;
  }

  ProxySession& session() const {
    REQUIRE(exchange->observer() != nullptr);
    return dynamic_cast<ProxySession&>(*exchange->observer());
  }
  FakePool& pool(size_t index = 0) const {
    REQUIRE(index < pools.size());
    return *pools[index];
  }
  // Runs what the session deferred to the event loop (connections released or closed).
  void runLoop() const { event_base_loop(base, EVLOOP_NONBLOCK); }
  uint64_t failures(FailureSource source) const {
    return metrics->failures[static_cast<size_t>(source)].load();
  }

  event_base* base;
  ProxyRuntime runtime;
  RouteMetrics* metrics = nullptr;
  std::vector<FakePool*> pools;
  std::shared_ptr<const ProxySnapshot> snapshot;
  std::unique_ptr<ProxyWorker> worker;
  std::unique_ptr<FakeExchange> exchange;  // destroyed first: the session uses the worker
};

nlohmann::json errorBody(const FakeExchange& exchange) {
  return nlohmann::json::parse(exchange.response_body);
}

}  // namespace

TEST_CASE("a GET is relayed both ways and its upstream connection goes back to the pool",
          "[proxy_session][phases]") {
  SessionHarness h;
  FakeExchange& client = h.start("GET", "/v2/library/alpine/manifests/latest",
                                 {{"Connection", "keep-alive"}, {"Accept", "*/*"}});
  REQUIRE(h.pool().waiting.size() == 1);  // connectUpstream asked the pool
  auto upstream = h.pool().connect();
  REQUIRE(upstream->head);
  CHECK(upstream->head->method == "GET");
  CHECK(upstream->head->target == "/v2/library/alpine/manifests/latest");
  CHECK(upstream->head->headers.get("X-Forwarded-For") ==
        std::optional<std::string_view>("192.0.2.7"));
  CHECK_FALSE(upstream->head->headers.has("Connection"));
  CHECK(upstream->request_finished);  // no body: the request is complete with its head
  CHECK(h.session().requestPhase() == ProxySession::RequestPhase::NoBody);
  CHECK(h.session().responsePhase() == ProxySession::ResponsePhase::AwaitingHead);

  upstream->respond(200, {{"Content-Length", "5"},
                          {"Connection", "keep-alive"},
                          {"Docker-Content-Digest", "sha256:00"}});
  REQUIRE(client.response);
  CHECK(client.response->status == 200);
  CHECK_FALSE(client.response->headers.has("Connection"));  // hop-by-hop, not relayed
  CHECK(client.response->headers.has("Docker-Content-Digest"));
  CHECK(h.session().responsePhase() == ProxySession::ResponsePhase::Streaming);

  upstream->response.feed("hel");
  upstream->response.feed("lo");
  upstream->response.end();
  CHECK(client.finished);
  CHECK(client.response_body == "hello");
  CHECK(client.observer() == nullptr);  // the exchange ended and destroyed the session
  h.runLoop();
  CHECK(h.pool().returned.size() == 1);  // kept alive for the next request
  CHECK_FALSE(upstream->aborted);
  CHECK(h.pool().acquires == 1);
  CHECK(h.runtime.metrics.active_requests.load() == 0);
  CHECK(h.metrics->responses[1].load() == 1);  // one 2xx counted
}

TEST_CASE(
    "a GET whose reused upstream connection closes before any response byte is retried "
    "on a fresh connection",
    "[proxy_session][phases][retry]") {
  SessionHarness h;
  FakeExchange& client = h.start("GET", "/v2/");
  auto stale = h.pool().connect();
  REQUIRE(stale->request_finished);
  stale->fail(Error(http::ClientErrc::Reset, "connection closed by peer"));
  CHECK(stale->aborted);            // the failed connection is closed, not pooled
  CHECK_FALSE(client.response);     // the client has been told nothing
  REQUIRE(h.pool().acquires == 2);  // a second connection was asked for
  REQUIRE(h.pool().waiting.size() == 1);
  CHECK(h.session().requestPhase() == ProxySession::RequestPhase::Unsent);
  auto fresh = h.pool().connect();
  REQUIRE(fresh->head);
  CHECK(fresh->head->method == "GET");
  fresh->respond(200, {{"Content-Length", "2"}});
  fresh->response.feed("{}");
  fresh->response.end();
  REQUIRE(client.response);
  CHECK(client.response->status == 200);
  CHECK(client.response_body == "{}");
  CHECK(client.finished);
  CHECK(h.failures(FailureSource::Reset) == 1);  // the retried failure is still counted
  h.runLoop();
  CHECK(stale->destroyed);
  CHECK(h.pool().returned.size() == 1);
}

TEST_CASE("a POST whose body was sent is not retried when its upstream connection closes: 502",
          "[proxy_session][phases][retry]") {
  SessionHarness h;
  FakeExchange& client = h.start("POST", "/v2/foo/blobs/uploads/", {}, "abc");
  auto upstream = h.pool().connect();
  REQUIRE(client.body.sink != nullptr);  // no Expect: the body is read at once
  CHECK(h.session().requestPhase() == ProxySession::RequestPhase::Streaming);
  client.body.feed("abc");
  client.body.end();
  CHECK(upstream->body == "abc");
  CHECK(upstream->request_finished);
  CHECK(h.session().requestPhase() == ProxySession::RequestPhase::Sent);
  upstream->fail(Error(http::ClientErrc::Reset, "connection closed by peer"));
  CHECK(h.pool().acquires == 1);  // not sent again: the upstream may have acted on it
  REQUIRE(client.response);
  CHECK(client.response->status == 502);
  CHECK(errorBody(client)["errors"][0]["code"] == "UNAVAILABLE");
  CHECK(client.finished);
  CHECK(upstream->aborted);
}

TEST_CASE("Expect: 100-continue: the body waits for the upstream's 100, which is relayed",
          "[proxy_session][phases][continue]") {
  SessionHarness h;
  FakeExchange& client =
      h.start("PUT", "/v2/foo/blobs/uploads/1", {{"Expect", "100-continue"}}, "abc");
  auto upstream = h.pool().connect();
  REQUIRE(upstream->head);
  CHECK(upstream->head->headers.get("Expect") == std::optional<std::string_view>("100-continue"));
  CHECK(client.body.sink == nullptr);  // not read yet, so the engine sends no 100 itself
  CHECK(h.session().requestPhase() == ProxySession::RequestPhase::AwaitingContinue);
  upstream->informational(100);
  CHECK(client.continues == 1);          // the upstream's 100 reaches the client
  REQUIRE(client.body.sink != nullptr);  // and the body is read now
  client.body.feed("abc");
  client.body.end();
  CHECK(upstream->body == "abc");
  upstream->informational(100);  // a second 100 is not relayed again
  CHECK(client.continues == 1);
  upstream->respond(201, {{"Content-Length", "0"}});
  upstream->response.end();
  REQUIRE(client.response);
  CHECK(client.response->status == 201);
  CHECK(client.finished);
  h.runLoop();
  CHECK(h.pool().returned.size() == 1);
}

TEST_CASE(
    "Expect: 100-continue: a final answer before the body is relayed and the body is "
    "never read",
    "[proxy_session][phases][continue]") {
  SessionHarness h;
  FakeExchange& client =
      h.start("PUT", "/v2/foo/blobs/uploads/1", {{"Expect", "100-continue"}}, "abc");
  auto upstream = h.pool().connect();
  CHECK(client.body.sink == nullptr);  // waiting for the upstream's 100 or final answer
  upstream->respond(401, {{"Content-Length", "0"}, {"WWW-Authenticate", "Basic"}});
  REQUIRE(client.response);
  CHECK(client.response->status == 401);
  CHECK(client.continues == 0);
  upstream->response.end();
  CHECK(client.finished);
  CHECK(upstream->body.empty());  // the body was never read
  h.runLoop();
  CHECK(h.pool().returned.empty());  // the request was not sent completely: not reused
  CHECK(upstream->aborted);
  CHECK(upstream->destroyed);
}

TEST_CASE("a refused connect is 502 after a GET was tried twice and a POST once",
          "[proxy_session][phases][fail]") {
  auto [method, attempts] = GENERATE(table<std::string, size_t>({{"GET", 2}, {"POST", 1}}));
  INFO(method);
  SessionHarness h;
  FakeExchange& client = h.start(method, "/v2/");
  for (size_t i = 0; i < attempts; ++i) {
    REQUIRE(h.pool().waiting.size() == 1);
    h.pool().fail(Error(http::ClientErrc::ConnectFailed, "connection refused"));
  }
  CHECK(h.pool().acquires == attempts);
  REQUIRE(client.response);
  CHECK(client.response->status == 502);
  CHECK(errorBody(client)["errors"][0]["message"].get<std::string>().find(
            "upstream connection failed") != std::string::npos);
  CHECK(client.finished);
  CHECK(h.failures(FailureSource::ConnectFailed) == attempts);
}

TEST_CASE("a refused connect tries the next server of the group", "[proxy_session][phases][fail]") {
  SessionHarness h(2);
  FakeExchange& client = h.start("POST", "/v2/foo/blobs/uploads/");
  REQUIRE(h.pools.size() == 2);
  size_t first = h.pools[0]->waiting.empty() ? 1 : 0;
  h.pool(first).fail(Error(http::ClientErrc::ConnectFailed, "connection refused"));
  FakePool& other = h.pool(1 - first);
  REQUIRE(other.waiting.size() == 1);
  auto upstream = other.connect();
  upstream->respond(202, {{"Content-Length", "0"}});
  upstream->response.end();
  REQUIRE(client.response);
  CHECK(client.response->status == 202);
}

TEST_CASE("an upstream timeout before the response head is 504, not retried",
          "[proxy_session][phases][fail]") {
  SessionHarness h;
  FakeExchange& client = h.start("GET", "/v1/_ping");
  auto upstream = h.pool().connect();
  upstream->fail(Error(http::ClientErrc::ReadTimeout, "no response"));
  CHECK(h.pool().acquires == 1);
  REQUIRE(client.response);
  CHECK(client.response->status == 504);
  CHECK(client.response_body.rfind("504 Gateway Timeout: upstream timed out", 0) == 0);
  CHECK(h.failures(FailureSource::Timeout) == 1);
}

TEST_CASE("an upstream failure after the response head was relayed resets the client connection",
          "[proxy_session][phases][fail]") {
  SessionHarness h;
  FakeExchange& client = h.start("GET", "/v2/foo/blobs/sha256:00");
  auto upstream = h.pool().connect();
  upstream->respond(200, {{"Content-Length", "10"}});
  upstream->response.feed("hello");
  upstream->response.fail(Error(http::ClientErrc::Reset, "reset by peer"));
  CHECK(client.was_reset);       // the client cannot be told otherwise
  CHECK_FALSE(client.finished);  // and must not see a complete response
  CHECK(client.response->status == 200);
  CHECK(client.response_body == "hello");
  CHECK(h.pool().acquires == 1);
  CHECK(h.failures(FailureSource::ResetAfterHead) == 1);
  h.runLoop();
  CHECK(h.pool().returned.empty());
  CHECK(upstream->aborted);
}

TEST_CASE("a client that goes away mid-upload closes the upstream connection",
          "[proxy_session][phases][fail]") {
  SessionHarness h;
  FakeExchange& client = h.start("PATCH", "/v2/foo/blobs/uploads/1", {}, "abcdef");
  auto upstream = h.pool().connect();
  client.body.feed("abc");
  client.clientGone(Error(http::ConnectionError::PeerClosed, "client closed"));
  CHECK(upstream->aborted);
  CHECK(upstream->body == "abc");
  CHECK_FALSE(upstream->request_finished);
  h.runLoop();
  CHECK(upstream->destroyed);
  CHECK(h.pool().returned.empty());
}

TEST_CASE("each body pauses its source while the other side's output is above its watermark",
          "[proxy_session][phases][backpressure]") {
  SessionHarness h;
  FakeExchange& client = h.start("PUT", "/v2/foo/blobs/uploads/1", {}, "abcdef");
  auto upstream = h.pool().connect();
  upstream->blocked = true;  // the upstream socket is not keeping up
  client.body.feed("abc");
  CHECK(client.body.paused);
  CHECK(h.session().requestPhase() == ProxySession::RequestPhase::Paused);
  upstream->drained();
  CHECK_FALSE(client.body.paused);
  CHECK(h.session().requestPhase() == ProxySession::RequestPhase::Streaming);
  client.body.feed("def");
  client.body.end();
  CHECK(upstream->body == "abcdef");

  upstream->respond(201, {{"Content-Length", "4"}});
  client.blocked = true;  // the client is not reading
  upstream->response.feed("do");
  CHECK(upstream->response.paused);
  CHECK(h.session().responsePhase() == ProxySession::ResponsePhase::Paused);
  client.blocked = false;
  h.session().onWriteDrained();  // the engine: output fell below the low watermark
  CHECK_FALSE(upstream->response.paused);
  CHECK(h.session().responsePhase() == ProxySession::ResponsePhase::Streaming);
  upstream->response.feed("ne");
  upstream->response.end();
  CHECK(client.response_body == "done");
  CHECK(client.finished);
}
