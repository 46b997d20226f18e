// requiredAccess: distribution's access records per route and method (handlers/app.go).

#include "backend/api/access.h"

#include <catch2/catch.hpp>

#include <variant>

using portico::api::Access;
using portico::api::requiredAccess;
using portico::api::Route;
using portico::api::RouteTable;
using portico::http::RequestHead;

namespace {

std::vector<Access> accessFor(const std::string& method, const std::string& target) {
  RequestHead head;
  head.method = method;
  head.target = target;
  size_t q = target.find('?');
  head.path = target.substr(0, q);
  if (q != std::string::npos) head.query = target.substr(q + 1);
  RouteTable routes;
  auto match = routes.match(head.method, head.path);
  REQUIRE(std::holds_alternative<Route>(match));
  return requiredAccess(std::get<Route>(match), head);
}

}  // namespace

TEST_CASE("reads need pull, writes pull and push, deletes delete", "[access]") {
  CHECK(accessFor("GET", "/v2/a/b/manifests/latest") ==
        std::vector<Access>{{"repository", "a/b", "pull"}});
  CHECK(accessFor("HEAD", "/v2/a/blobs/sha256:" + std::string(64, 'a')) ==
        std::vector<Access>{{"repository", "a", "pull"}});
  CHECK(accessFor("PUT", "/v2/a/manifests/1.0") ==
        std::vector<Access>{{"repository", "a", "pull"}, {"repository", "a", "push"}});
  CHECK(accessFor("PATCH", "/v2/a/blobs/uploads/0b5a8e2c-ff7f-4f58-9c4c-0a3e3f3c1d2e") ==
        std::vector<Access>{{"repository", "a", "pull"}, {"repository", "a", "push"}});
  CHECK(accessFor("DELETE", "/v2/a/manifests/sha256:" + std::string(64, 'b')) ==
        std::vector<Access>{{"repository", "a", "delete"}});
  CHECK(accessFor("GET", "/v2/a/tags/list") == std::vector<Access>{{"repository", "a", "pull"}});
}

TEST_CASE("a cross-repository mount also needs pull on the source", "[access]") {
  auto access =
      accessFor("POST", "/v2/team/app/blobs/uploads/?mount=sha256:" + std::string(64, 'c') +
                            "&from=library/base");
  CHECK(access == std::vector<Access>{{"repository", "team/app", "pull"},
                                      {"repository", "team/app", "push"},
                                      {"repository", "library/base", "pull"}});
  // An invalid source name asks for nothing more (the mount falls back to an upload).
  CHECK(accessFor("POST", "/v2/a/blobs/uploads/?from=..%2Fetc").size() == 2);
}

TEST_CASE("the catalog needs registry:catalog:*, the base route nothing", "[access]") {
  CHECK(accessFor("GET", "/v2/_catalog") == std::vector<Access>{{"registry", "catalog", "*"}});
  CHECK(accessFor("GET", "/v2/").empty());
}
