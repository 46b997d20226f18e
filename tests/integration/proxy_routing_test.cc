// portico-proxy routing by User-Agent and path, end to end: the nginx rules of the classic
// deployment, with FakeUpstream servers as v2 and v1 that record what reaches them.

#include <catch2/catch.hpp>

#include "tests/integration/proxy_harness.h"

using namespace portico::testing;
using namespace std::chrono_literals;

namespace {

constexpr const char* kDocker15 =
    "docker/1.5.0 go/go1.4.1 git-commit/a8a31ef kernel/3.13.0 os/linux arch/amd64";
constexpr const char* kDocker160 =
    "docker/1.6.0 go/go1.4.2 git-commit/4749651 kernel/3.13.0 os/linux arch/amd64";
constexpr const char* kDocker27 =
    "docker/27.3.1 go/go1.22.7 git-commit/41ca978 kernel/6.8.0 os/linux arch/amd64 "
    "UpstreamClient(Docker-Client/27.3.1 \\(linux\\))";

}  // namespace

TEST_CASE("docker 1.5 on /v2/ gets a bare 404 without the API version header", "[proxy][routing]") {
  FakeUpstream v2;
  RunningProxy proxy;
  startProxy(proxy, {.v2 = {v2.address()}});
  HttpClient client(proxy->endpoint());
  auto response = client.get("/v2/", {{"User-Agent", kDocker15}});
  CHECK(response.status == 404);
  CHECK_FALSE(response.headers.has("Docker-Distribution-Api-Version"));
  CHECK(v2.requestCount() == 0);
}

TEST_CASE("the legacy Go client's /v2/ ping gets the bare 404", "[proxy][routing]") {
  FakeUpstream v2;
  RunningProxy proxy;
  startProxy(proxy, {.v2 = {v2.address()}});
  HttpClient client(proxy->endpoint());
  auto response = client.get("/v2/", {{"User-Agent", "Go 1.1 package http"}});
  CHECK(response.status == 404);
  CHECK_FALSE(response.headers.has("Docker-Distribution-Api-Version"));
  CHECK(v2.requestCount() == 0);
}

TEST_CASE("docker 1.6.0, docker 27, curl and Go-http-client on /v2/ are forwarded to v2",
          "[proxy][routing]") {
  FakeUpstream v2;
  RunningProxy proxy;
  startProxy(proxy, {.v2 = {v2.address()}});
  HttpClient client(proxy->endpoint());
  for (const char* ua : {kDocker160, kDocker27, "curl/8.5.0", "Go-http-client/1.1"}) {
    INFO(ua);
    auto response = client.get("/v2/library/alpine/tags/list", {{"User-Agent", ua}});
    CHECK(response.status == 200);
  }
  auto received = v2.requests();
  REQUIRE(received.size() == 4);
  CHECK(received[0].headers.get("User-Agent") == kDocker160);
  CHECK(received[1].target == "/v2/library/alpine/tags/list");
}

TEST_CASE("non-/v2/ paths go to the v1 upstream when one is configured", "[proxy][routing]") {
  FakeUpstream v2;
  FakeUpstream v1;
  RunningProxy proxy;
  startProxy(proxy, {.v2 = {v2.address()}, .v1 = {v1.address()}});
  HttpClient client(proxy->endpoint());
  CHECK(client.get("/v1/_ping", {{"User-Agent", kDocker15}}).status == 200);
  CHECK(client.get("/_ping").status == 200);
  CHECK(client.get("/v2/", {{"User-Agent", kDocker15}}).status == 404);
  auto received = v1.requests();
  REQUIRE(received.size() == 2);
  CHECK(received[0].target == "/v1/_ping");
  CHECK(received[1].target == "/_ping");
  CHECK(v2.requestCount() == 0);
}

TEST_CASE("without a v1 upstream /v1/ paths get a 404 saying no legacy registry is configured",
          "[proxy][routing]") {
  FakeUpstream v2;
  RunningProxy proxy;
  startProxy(proxy, {.v2 = {v2.address()}});
  HttpClient client(proxy->endpoint());
  auto response = client.get("/v1/_ping", {{"User-Agent", kDocker15}});
  CHECK(response.status == 404);
  CHECK(response.body.find("no legacy v1 registry is configured") != std::string::npos);
  CHECK_FALSE(response.headers.has("Docker-Distribution-Api-Version"));
  CHECK(v2.requestCount() == 0);
}

TEST_CASE("a path no route matches is a 404 with the API version header on /v2",
          "[proxy][routing]") {
  FakeUpstream v2;
  RunningProxy proxy;
  ProxySetup setup{.v2 = {v2.address()}};
  setup.extra = "routes:\n  - name: only-v2\n    match: {path_prefix: /v2/}\n    forward: v2\n";
  startProxy(proxy, setup);
  HttpClient client(proxy->endpoint());
  auto unrouted = client.get("/v2");
  CHECK(unrouted.status == 404);
  CHECK(unrouted.headers.get("Docker-Distribution-Api-Version") == "registry/2.0");
  CHECK(unrouted.body.find("NOT_FOUND") != std::string::npos);
  auto elsewhere = client.get("/other");
  CHECK(elsewhere.status == 404);
  CHECK_FALSE(elsewhere.headers.has("Docker-Distribution-Api-Version"));
  CHECK(v2.requestCount() == 0);
}
