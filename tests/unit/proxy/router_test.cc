#include "proxy/router.h"

#include <catch2/catch.hpp>
#include <optional>
#include <string>

using portico::http::RequestHead;
using portico::proxy::Regex;
using portico::proxy::RouteAction;
using portico::proxy::Router;
using portico::proxy::RouteRule;

namespace {

RequestHead request(std::string method, const std::string& path, std::optional<std::string> ua = {},
                    std::optional<std::string> host = {}) {
  RequestHead r;
  r.method = std::move(method);
  r.path = path;
  r.target = path;
  if (ua) r.headers.add("User-Agent", *ua);
  if (host) r.headers.add("Host", *host);
  return r;
}

RouteRule forwardRule(std::string name, std::string upstream) {
  RouteRule rule;
  rule.action.route = std::move(name);
  rule.action.kind = RouteAction::Kind::Forward;
  rule.action.upstream = std::move(upstream);
  return rule;
}

}  // namespace

TEST_CASE("default routes: legacy docker on /v2/ gets a bare 404", "[router]") {
  const Router router(Router::defaultRules());
  const RouteAction* a = router.match(
      request("GET", "/v2/", "docker/1.5.0 go/go1.4.1 git-commit/a8a31ef kernel/3.13.0 os/linux"));
  REQUIRE(a != nullptr);
  CHECK(a->route == "legacy-docker-v2");
  CHECK(a->kind == RouteAction::Kind::Respond);
  CHECK(a->respond.status == 404);
  CHECK(a->respond.headers.empty());
  CHECK(a->respond.body.empty());
}

TEST_CASE("default routes: the legacy Go client ping on /v2/ gets a bare 404", "[router]") {
  const Router router(Router::defaultRules());
  const RouteAction* a = router.match(request("GET", "/v2/", "Go 1.1 package http"));
  REQUIRE(a != nullptr);
  CHECK(a->route == "legacy-go-ping");
  CHECK(a->kind == RouteAction::Kind::Respond);
  CHECK(a->respond.status == 404);
}

TEST_CASE("default routes: /v2/ from a current client forwards to v2", "[router]") {
  const Router router(Router::defaultRules());
  for (const char* path : {"/v2/", "/v2/library/alpine/manifests/3.20", "/v2/_catalog"}) {
    const RouteAction* a = router.match(request("GET", path, "docker/27.3.1 go/go1.22.7"));
    REQUIRE(a != nullptr);
    CHECK(a->kind == RouteAction::Kind::Forward);
    CHECK(a->upstream == "v2");
  }
  const RouteAction* none = router.match(request("HEAD", "/v2/", std::nullopt));
  REQUIRE(none != nullptr);
  CHECK(none->upstream == "v2");
}

TEST_CASE("default routes: everything else forwards to v1, legacy clients included", "[router]") {
  const Router router(Router::defaultRules());
  for (const char* path : {"/v1/_ping", "/_ping", "/", "/v2", "/v1/repositories/x/images"}) {
    INFO(path);
    const RouteAction* a = router.match(request("GET", path, "docker/1.4.1 go/go1.3.3"));
    REQUIRE(a != nullptr);
    CHECK(a->kind == RouteAction::Kind::Forward);
    CHECK(a->upstream == "v1");
    CHECK(a->route == "v1");
  }
}

TEST_CASE("the first matching rule wins", "[router]") {
  RouteRule a = forwardRule("a", "one");
  a.match.path_prefix = "/v2/";
  RouteRule b = forwardRule("b", "two");
  b.match.path_prefix = "/v2/special/";
  RouteRule c = forwardRule("c", "three");
  const Router router({a, b, c});
  CHECK(router.match(request("GET", "/v2/special/x"))->route == "a");
  CHECK(router.match(request("GET", "/other"))->route == "c");
}

TEST_CASE("no matching rule gives nullptr", "[router]") {
  RouteRule a = forwardRule("a", "one");
  a.match.path_prefix = "/v2/";
  const Router router({a});
  CHECK(router.match(request("GET", "/v1/_ping")) == nullptr);
  CHECK(Router().match(request("GET", "/")) == nullptr);
}

TEST_CASE("methods match exactly and case-sensitively", "[router]") {
  RouteRule writes = forwardRule("writes", "primary");
  writes.match.methods = {"PUT", "POST", "PATCH", "DELETE"};
  const Router router({writes, forwardRule("reads", "replica")});
  CHECK(router.match(request("PUT", "/v2/x/manifests/latest"))->route == "writes");
  CHECK(router.match(request("GET", "/v2/x/manifests/latest"))->route == "reads");
  CHECK(router.match(request("put", "/v2/x/manifests/latest"))->route == "reads");
}

TEST_CASE("hosts match without the port, case-insensitively, with *. wildcards", "[router]") {
  RouteRule exact = forwardRule("exact", "a");
  exact.match.hosts = {"registry.example.com"};
  RouteRule wildcard = forwardRule("wildcard", "b");
  wildcard.match.hosts = {"*.mirror.example.com"};
  const Router router({exact, wildcard});
  CHECK(router.match(request("GET", "/", {}, "Registry.Example.COM:5000"))->route == "exact");
  CHECK(router.match(request("GET", "/", {}, "eu.mirror.example.com"))->route == "wildcard");
  CHECK(router.match(request("GET", "/", {}, "mirror.example.com")) == nullptr);
  CHECK(router.match(request("GET", "/", {}, "other.example.com")) == nullptr);
  CHECK(router.match(request("GET", "/")) == nullptr);
}

TEST_CASE("path_regex searches the request path", "[router]") {
  RouteRule blobs = forwardRule("blobs", "cdn");
  blobs.match.path_regex = Regex::compile("^/v2/.+/blobs/sha256:[0-9a-f]{64}$").value();
  const Router router({blobs, forwardRule("rest", "v2")});
  CHECK(router.match(request("GET", "/v2/library/alpine/blobs/sha256:" + std::string(64, 'a')))
            ->route == "blobs");
  CHECK(router.match(request("GET", "/v2/library/alpine/blobs/uploads/"))->route == "rest");
}

TEST_CASE("every condition of a rule must hold", "[router]") {
  RouteRule rule = forwardRule("both", "x");
  rule.match.path_prefix = "/v2/";
  rule.match.methods = {"GET"};
  const Router router({rule});
  CHECK(router.match(request("GET", "/v2/")) != nullptr);
  CHECK(router.match(request("POST", "/v2/")) == nullptr);
  CHECK(router.match(request("GET", "/v1/")) == nullptr);
}
