// AdminHandler's endpoints through FakeExchange (tests/unit/proxy/fake_peers.h): no sockets.

#include "proxy/admin_server.h"

#include <event2/event.h>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <memory>
#include <string>

#include "tests/unit/proxy/fake_peers.h"

using namespace portico;
using namespace portico::proxy;
using portico::proxy::testing::FakeExchange;

namespace {

struct AdminHarness {
  AdminHarness() : base(event_base_new()), handler(runtime) {
    UpstreamGroupOptions options;
    options.name = "v2";
    options.servers = {"127.0.0.1:5001", "127.0.0.1:5002"};
    auto snapshot = std::make_shared<ProxySnapshot>();
    snapshot->upstreams["v2"] = SnapshotUpstream{std::make_shared<UpstreamGroup>(options), {}};
    group = snapshot->upstreams["v2"].group.get();
    runtime.publish(snapshot);
  }
  ~AdminHarness() { event_base_free(base); }
  AdminHarness(const AdminHarness&) = delete;
  AdminHarness& operator=(const AdminHarness&) = delete;

  // Sends one request through the handler and returns the exchange it answered.
  std::unique_ptr<FakeExchange> request(const std::string& method, const std::string& target,
                                        http::HeaderMap headers = {}) {
    http::RequestHead head;
    head.method = method;
    head.target = target;
    auto q = target.find('?');
    head.path = target.substr(0, q);
    if (q != std::string::npos) head.query = target.substr(q + 1);
    head.headers = std::move(headers);
    auto exchange = std::make_unique<FakeExchange>(*base, std::move(head));
    handler.onRequest(*exchange);
    return exchange;
  }

  event_base* base;
  ProxyRuntime runtime;
  AdminHandler handler;
  UpstreamGroup* group = nullptr;
};

std::string header(const FakeExchange& exchange, std::string_view name) {
  auto value = exchange.response->headers.get(name);
  return value ? std::string(*value) : std::string();
}

}  // namespace

TEST_CASE("GET /health is 200 ok in plain text", "[admin_server]") {
  AdminHarness h;
  for (const char* path : {"/health", "/healthz"}) {
    INFO(path);
    auto exchange = h.request("GET", path);
    REQUIRE(exchange->response);
    CHECK(exchange->response->status == 200);
    CHECK(exchange->response_body == "ok\n");
    CHECK(header(*exchange, "Content-Type") == "text/plain; charset=utf-8");
    CHECK(exchange->finished);
  }
}

TEST_CASE("/health?verbose and Accept: application/json give each server's state as JSON",
          "[admin_server]") {
  AdminHarness h;
  h.group->server(1).beginRequest();
  h.group->server(1).recordProbe(false);  // default fall = 3: still healthy after one
  h.group->server(1).recordProbe(false);
  h.group->server(1).recordProbe(false);  // down
  http::HeaderMap accept;
  accept.add("Accept", "application/json");
  for (auto& exchange :
       {h.request("GET", "/health?verbose"), h.request("GET", "/health", accept)}) {
    REQUIRE(exchange->response);
    CHECK(exchange->response->status == 200);
    CHECK(header(*exchange, "Content-Type") == "application/json");
    auto body = nlohmann::json::parse(exchange->response_body);
    CHECK(body["status"] == "ok");
    auto servers = body["upstreams"]["v2"];
    REQUIRE(servers.size() == 2);
    CHECK(servers[0]["address"] == "127.0.0.1:5001");
    CHECK(servers[0]["up"] == true);
    CHECK(servers[0]["healthy"] == true);
    CHECK(servers[0]["active_requests"] == 0);
    CHECK(servers[1]["up"] == false);
    CHECK(servers[1]["healthy"] == false);
    CHECK(servers[1]["active_requests"] == 1);
  }
  h.group->server(1).endRequest();
}

TEST_CASE("GET /metrics is the Prometheus text of the proxy and its upstreams", "[admin_server]") {
  AdminHarness h;
  h.runtime.metrics.route("v2", "v2").record(200, std::chrono::microseconds(1500), 10, 20);
  auto exchange = h.request("GET", "/metrics");
  REQUIRE(exchange->response);
  CHECK(exchange->response->status == 200);
  CHECK(header(*exchange, "Content-Type") == "text/plain; version=0.0.4; charset=utf-8");
  const std::string& text = exchange->response_body;
  CHECK(text.find("portico_proxy_active_requests 0\n") != std::string::npos);
  CHECK(text.find("portico_proxy_requests_total{route=\"v2\",upstream=\"v2\",status_class=\"2xx\"} "
                  "1\n") != std::string::npos);
  CHECK(text.find("portico_proxy_upstream_up{upstream=\"v2\",server=\"127.0.0.1:5002\"} 1\n") !=
        std::string::npos);
  CHECK(text == AdminHandler::renderMetrics(h.runtime));
}

TEST_CASE("HEAD is answered like GET", "[admin_server]") {
  AdminHarness h;
  auto exchange = h.request("HEAD", "/health");
  REQUIRE(exchange->response);
  CHECK(exchange->response->status == 200);
}

TEST_CASE("other methods are 405 with Allow: GET, HEAD", "[admin_server]") {
  AdminHarness h;
  for (const char* method : {"POST", "PUT", "DELETE"}) {
    INFO(method);
    auto exchange = h.request(method, "/metrics");
    REQUIRE(exchange->response);
    CHECK(exchange->response->status == 405);
    CHECK(header(*exchange, "Allow") == "GET, HEAD");
  }
}

TEST_CASE("any other path is 404", "[admin_server]") {
  AdminHarness h;
  for (const char* path : {"/", "/v2/", "/metricsx", "/health/extra"}) {
    INFO(path);
    auto exchange = h.request("GET", path);
    REQUIRE(exchange->response);
    CHECK(exchange->response->status == 404);
    CHECK(exchange->response_body.find("/health and /metrics") != std::string::npos);
  }
}
