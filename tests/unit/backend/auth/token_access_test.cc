#include "backend/auth/token_access.h"

#include <catch2/catch.hpp>
#include <ctime>
#include <nlohmann/json.hpp>
#include <string>

#include "backend/registry/error_code.h"
#include "tests/fixtures/test_certificates.h"
#include "tests/fixtures/token_issuer.h"

using portico::api::Access;
using portico::api::AccessDecision;
using portico::auth::TokenAccess;
using portico::auth::TokenSettings;
namespace t = portico::testing;

namespace {

const std::vector<Access> kPull{{"repository", "lib/app", "pull"}};
const std::vector<Access> kPush{{"repository", "lib/app", "pull"},
                                {"repository", "lib/app", "push"}};

std::unique_ptr<TokenAccess> access(bool autoredirect = false) {
  TokenSettings s;
  s.realm = "https://auth.example/token";
  s.service = "test-registry";
  s.jwt.issuer = "test-issuer";
  s.jwt.rootcertbundle = t::TestCertificates::shared().caCert();
  s.autoredirect = autoredirect;
  auto a = TokenAccess::open(s);
  REQUIRE(a);
  return std::move(*a);
}

portico::http::RequestHead request(const std::string& authorization = {}) {
  portico::http::RequestHead head;
  head.method = "GET";
  head.path = head.target = "/v2/lib/app/manifests/latest";
  head.headers.add("Host", "registry.example:5000");
  if (!authorization.empty()) head.headers.add("Authorization", authorization);
  return head;
}

std::string challengeOf(const AccessDecision& d) {
  REQUIRE_FALSE(d.allowed);
  CHECK(d.error.is(portico::registry::ErrorCode::Unauthorized));
  REQUIRE(d.headers.size() == 1);
  CHECK(d.headers[0].first == "WWW-Authenticate");
  return d.headers[0].second;
}

}  // namespace

TEST_CASE("no token: a Bearer challenge with realm, service and scope", "[token]") {
  auto a = access();
  auto now = std::time(nullptr);
  auto d = a->decide(request(), kPush, now);
  CHECK(challengeOf(d) == R"(Bearer realm="https://auth.example/token",service="test-registry",)"
                          R"(scope="repository:lib/app:pull,push")");
  CHECK(d.error.detail() == "repository:lib/app:pull repository:lib/app:push");
  // Basic credentials are no token.
  CHECK(challengeOf(a->decide(request("Basic dTpw"), kPull, now)).find("error=") ==
        std::string::npos);
  // /v2/ needs no access: no scope, still challenged.
  CHECK(challengeOf(a->decide(request(), {}, now)) ==
        R"(Bearer realm="https://auth.example/token",service="test-registry")");
}

TEST_CASE("scopes are space-joined in a fixed order", "[token]") {
  CHECK(portico::auth::scopeParameter({{"repository", "b", "pull"},
                                       {"repository", "b", "push"},
                                       {"repository", "a", "pull"},
                                       {"repository", "b", "pull"}}) ==
        "repository:b:pull,push repository:a:pull");
  CHECK(portico::auth::scopeParameter({{"registry", "catalog", "*"}}) == "registry:catalog:*");
}

TEST_CASE("a valid token with the scope is allowed, as its subject; cached", "[token]") {
  t::TokenIssuer issuer("test-issuer", "test-registry");
  issuer.grant("lib/app", {"pull", "push"});
  auto a = access();
  auto now = std::time(nullptr);
  std::string token = issuer.issue("repository:lib/app:pull,push");
  auto d = a->decide(request("Bearer " + token), kPush, now);
  CHECK(d.allowed);
  CHECK(d.user == "test-user");
  CHECK(a->cache().size() == 1);
  CHECK(a->decide(request("bearer " + token), kPull, now).allowed);
  CHECK(a->cache().size() == 1);
  // Cached, the token still expires.
  CHECK(challengeOf(a->decide(request("Bearer " + token), kPull, now + 300 + 61))
            .ends_with(R"(,error="invalid_token")"));
}

TEST_CASE("`*` in the token matches any action", "[token]") {
  t::TokenIssuer issuer("test-issuer", "test-registry");
  issuer.grant("lib/app", {"*"});
  auto a = access();
  std::string token = issuer.issue("repository:lib/app:*");
  CHECK(a->decide(request("Bearer " + token), kPush, std::time(nullptr)).allowed);
}

TEST_CASE("insufficient scope and invalid tokens carry distribution's error", "[token]") {
  t::TokenIssuer issuer("test-issuer", "test-registry");
  issuer.grant("lib/app", {"pull"});
  auto a = access();
  auto now = std::time(nullptr);
  std::string pull_only = issuer.issue("repository:lib/app:pull,push");
  CHECK(a->decide(request("Bearer " + pull_only), kPull, now).allowed);
  CHECK(challengeOf(a->decide(request("Bearer " + pull_only), kPush, now)) ==
        R"(Bearer realm="https://auth.example/token",service="test-registry",)"
        R"(scope="repository:lib/app:pull,push",error="insufficient_scope")");
  // Another repository.
  CHECK(
      challengeOf(a->decide(request("Bearer " + pull_only), {{"repository", "other", "pull"}}, now))
          .ends_with(R"(error="insufficient_scope")"));
  // Wrong issuer / audience / garbage: invalid_token.
  t::TokenIssuer stranger("someone", "test-registry");
  stranger.grant("*", {"*"});
  CHECK(challengeOf(
            a->decide(request("Bearer " + stranger.issue("repository:lib/app:pull")), kPull, now))
            .ends_with(R"(error="invalid_token")"));
  CHECK(challengeOf(a->decide(request("Bearer not.a.jwt"), kPull, now))
            .ends_with(R"(error="invalid_token")"));
  CHECK(challengeOf(a->decide(request("Bearer " + std::string(1 << 20, 'A')), kPull, now))
            .ends_with(R"(error="invalid_token")"));
  CHECK(a->cache().size() == 1);  // only the valid token
}

TEST_CASE("autoredirect: the realm is this host's autoredirectpath", "[token]") {
  auto a = access(true);
  CHECK(challengeOf(a->decide(request(), kPull, std::time(nullptr)))
            .starts_with(R"(Bearer realm="https://registry.example:5000/auth/token",)"));
}

TEST_CASE("the token cache is bounded", "[token]") {
  portico::auth::TokenCache cache(2);
  auto claims = std::make_shared<const portico::auth::TokenClaims>(
      portico::auth::TokenClaims{"u", 1000, 0, {}});
  cache.insert("a", claims, 0);
  cache.insert("b", claims, 0);
  cache.insert("c", claims, 0);
  CHECK(cache.size() == 2);
  CHECK(cache.find("c", 0));
  CHECK_FALSE(cache.find("c", 1000 + 61));  // expired entries go
  CHECK(cache.size() == 1);
}
