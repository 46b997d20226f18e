// auth.token through the real portico-registry with a real bearer-token round trip: the 401
// challenge names the fixture issuer's realm, the client fetches a token there for the scope
// the challenge asked for, and retries with it (what docker, podman and skopeo do).

#include <catch2/catch.hpp>
#include <map>
#include <regex>
#include <string>

#include "tests/fixtures/test_certificates.h"
#include "tests/fixtures/token_issuer.h"
#include "tests/integration/proxy_harness.h"
#include "tests/integration/registry_harness.h"

using namespace portico::testing;

namespace {

RegistrySetup withToken(const TokenIssuer& issuer, const std::string& more = "") {
  RegistrySetup setup;
  setup.extra = "auth:\n  token:\n    realm: " + issuer.realm() +
                "\n    service: portico-test\n    issuer: portico-test-issuer\n"
                "    rootcertbundle: " +
                TestCertificates::shared().caCert() + "\n" + more;
  return setup;
}

// The parameters of a `Bearer k="v",...` challenge.
std::map<std::string, std::string> challengeParams(const std::string& value) {
  std::map<std::string, std::string> out;
  REQUIRE(value.rfind("Bearer ", 0) == 0);
  static const std::regex param(R"re(([a-z]+)="([^"]*)")re");
  for (std::sregex_iterator it(value.begin(), value.end(), param), end; it != end; ++it) {
    out[(*it)[1]] = (*it)[2];
  }
  return out;
}

std::string urlEncode(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X", c);
      out += buf;
    }
  }
  return out;
}

// Follows a challenge: GET realm?service=&scope= on the issuer (https: trusting the test CA);
// returns the token.
std::string fetchToken(const Response& challenge) {
  auto params = challengeParams(challenge.headers.get("WWW-Authenticate"));
  static const std::regex url(R"((https?)://([^:/]+):(\d+)(/.*))");
  std::smatch m;
  REQUIRE(std::regex_match(params["realm"], m, url));
  Endpoint endpoint{"realm", m[1].str(), m[2].str(), static_cast<uint16_t>(std::stoi(m[3].str()))};
  std::optional<TlsClientOptions> tls;
  if (m[1].str() == "https") tls = trustingTestCa();
  HttpClient issuer(endpoint, tls);
  auto r = issuer.get(m[4].str() + "?service=" + urlEncode(params["service"]) +
                      "&scope=" + urlEncode(params["scope"]));
  REQUIRE(r.status == 200);
  auto body = nlohmann::json::parse(r.body);
  return body.at("token").get<std::string>();
}

Headers bearer(const std::string& token, Headers headers = {}) {
  headers.add("Authorization", "Bearer " + token);
  return headers;
}

}  // namespace

TEST_CASE("token: 401 challenge, token from the realm, retry pushes and pulls", "[token]") {
  TokenIssuer issuer("portico-test-issuer", "portico-test");
  issuer.grant("lib/app", {"pull", "push"});
  RegistryServer registry(withToken(issuer));
  auto client = registry.client();

  auto ping = client.get("/v2/");
  CHECK(ping.status == 401);
  CHECK(ping.headers.get("WWW-Authenticate") ==
        "Bearer realm=\"" + issuer.realm() + "\",service=\"portico-test\"");

  const std::string content = "token layer";
  const std::string digest = sha256Digest(content);
  const std::string upload = "/v2/lib/app/blobs/uploads/?digest=" + digest;
  Headers octets{{"Content-Type", "application/octet-stream"}};
  auto challenged = client.request("POST", upload, octets, content);
  REQUIRE(challenged.status == 401);
  CHECK(errorCode(challenged) == "UNAUTHORIZED");
  CHECK(challengeParams(challenged.headers.get("WWW-Authenticate"))["scope"] ==
        "repository:lib/app:pull,push");
  std::string token = fetchToken(challenged);
  CHECK(issuer.requests() == 1);

  CHECK(client.request("POST", upload, bearer(token, octets), content).status == 201);
  auto pulled = client.get("/v2/lib/app/blobs/" + digest, bearer(token));
  CHECK(pulled.status == 200);
  CHECK(pulled.body == content);
  CHECK(client.get("/v2/", bearer(token)).status == 200);
  // A manifest, pushed and pulled with the same token.
  nlohmann::json manifest = {{"schemaVersion", 2},
                             {"mediaType", "application/vnd.oci.image.manifest.v1+json"},
                             {"config",
                              {{"mediaType", "application/vnd.oci.image.config.v1+json"},
                               {"digest", digest},
                               {"size", content.size()}}},
                             {"layers", nlohmann::json::array()}};
  auto put = client.request(
      "PUT", "/v2/lib/app/manifests/v1",
      bearer(token, {{"Content-Type", "application/vnd.oci.image.manifest.v1+json"}}),
      manifest.dump());
  CHECK(put.status == 201);
  CHECK(client.get("/v2/lib/app/manifests/v1", bearer(token)).status == 200);
  // The garbage of a token is invalid_token.
  auto bad = client.get("/v2/lib/app/manifests/v1", bearer(token + "x"));
  CHECK(bad.status == 401);
  CHECK(challengeParams(bad.headers.get("WWW-Authenticate"))["error"] == "invalid_token");
}

TEST_CASE("token: a pull-only token pushing is 401 insufficient_scope", "[token]") {
  TokenIssuer issuer("portico-test-issuer", "portico-test");
  issuer.grant("ro/app", {"pull"});
  RegistryServer registry(withToken(issuer));
  auto client = registry.client();
  const std::string content = "read only";
  const std::string upload = "/v2/ro/app/blobs/uploads/?digest=" + sha256Digest(content);
  Headers octets{{"Content-Type", "application/octet-stream"}};
  auto challenged = client.request("POST", upload, octets, content);
  REQUIRE(challenged.status == 401);
  std::string token = fetchToken(challenged);  // the issuer grants only pull
  auto denied = client.request("POST", upload, bearer(token, octets), content);
  CHECK(denied.status == 401);
  CHECK(errorCode(denied) == "UNAUTHORIZED");
  auto params = challengeParams(denied.headers.get("WWW-Authenticate"));
  CHECK(params["error"] == "insufficient_scope");
  CHECK(params["scope"] == "repository:ro/app:pull,push");
  // Pulling is within the scope (the blob does not exist: 404, not 401).
  CHECK(client.get("/v2/ro/app/blobs/" + sha256Digest(content), bearer(token)).status == 404);
}

TEST_CASE("token: check-config loads the keys as serve does", "[token]") {
  TempDir dir;
  std::string good =
      dir.write("good.yml",
                "version: 0.1\nstorage:\n  inmemory: {}\nauth:\n  token:\n    realm: r\n"
                "    service: s\n    issuer: i\n    rootcertbundle: " +
                    TestCertificates::shared().caCert() + "\n");
  auto [ok_status, ok_output] = runCommand(registryBinary() + " check-config " + good);
  CHECK(ok_status == 0);
  std::string bad = dir.write("bad.yml",
                              "version: 0.1\nstorage:\n  inmemory: {}\nauth:\n  token:\n"
                              "    realm: r\n    service: s\n    issuer: i\n"
                              "    rootcertbundle: " +
                                  dir.path() + "/missing.pem\n");
  auto [bad_status, bad_output] = runCommand(registryBinary() + " check-config " + bad);
  CHECK(bad_status != 0);
  CHECK(bad_output.find("auth.token") != std::string::npos);
  CHECK(bad_output.find("missing.pem") != std::string::npos);
}

TEST_CASE("token through the TLS proxy: the realm is the proxy's own /auth/token route",
          "[token][proxy]") {
  TokenIssuer issuer("portico-test-issuer", "portico-test");
  issuer.grant("lib/app", {"pull", "push"});
  // autoredirect: the realm is https://<Host the client sent><autoredirectpath>, i.e. the proxy.
  RegistryServer registry(withToken(issuer, "    autoredirect: true\n"));
  ProxySetup setup;
  setup.tls = true;
  setup.v2 = {registry.hostPort()};
  setup.upstreams_extra =
      "  token: {servers: [\"127.0.0.1:" + std::to_string(issuer.port()) + "\"]}\n";
  setup.extra =
      "routes:\n"
      "  - {name: token, match: {path_prefix: /auth/token}, forward: token}\n"
      "  - {name: v2, match: {path_prefix: /v2/}, forward: v2}\n";
  RunningProxy proxy;
  startProxy(proxy, setup);
  HttpClient client(proxy->endpoint(), trustingTestCa());

  const std::string content = "through the proxy";
  const std::string digest = sha256Digest(content);
  const std::string upload = "/v2/lib/app/blobs/uploads/?digest=" + digest;
  Headers octets{{"Content-Type", "application/octet-stream"}};
  auto challenged = client.request("POST", upload, octets, content);
  REQUIRE(challenged.status == 401);
  auto params = challengeParams(challenged.headers.get("WWW-Authenticate"));
  CHECK(params["realm"] == "https://" + proxy->endpoint().host + ":" +
                               std::to_string(proxy->endpoint().port) + "/auth/token");
  std::string token = fetchToken(challenged);  // over TLS, through the proxy's token route
  CHECK(issuer.requests() == 1);
  CHECK(client.request("POST", upload, bearer(token, octets), content).status == 201);
  auto pulled = client.get("/v2/lib/app/blobs/" + digest, bearer(token));
  CHECK(pulled.status == 200);
  CHECK(pulled.body == content);
}
