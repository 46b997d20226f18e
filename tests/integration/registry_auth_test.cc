// auth.htpasswd and auth.policy through the real portico-registry: the challenge on every
// route, credentials, a pull-only user, anonymous pulls, hostile input (64 KiB header,
// malformed base64, bcrypt cost 31 in the file) and the file created when missing.

#include <catch2/catch.hpp>
#include <regex>
#include <string>

#include "tests/integration/registry_harness.h"

using namespace portico::testing;

namespace {

// bcrypt cost 4 (fast) hashes of "alice-pw" and "reader-pw".
const std::string kAlice = "alice:$2b$04$VN0yb1g5MGB8j3kZQsNyJO0NMyyeikrykQwZpUkIRu2G0K0u0NRU2\n";
const std::string kReader = "reader:$2b$04$XPQhrklyVGvMsGPejnKSq.dYLPUbYvdq2DeVtg01i022ul0b9vtje\n";

std::string base64(std::string_view in) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  for (size_t i = 0; i < in.size(); i += 3) {
    uint32_t n = static_cast<uint8_t>(in[i]) << 16;
    if (i + 1 < in.size()) n |= static_cast<uint8_t>(in[i + 1]) << 8;
    if (i + 2 < in.size()) n |= static_cast<uint8_t>(in[i + 2]);
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += i + 1 < in.size() ? kAlphabet[(n >> 6) & 63] : '=';
    out += i + 2 < in.size() ? kAlphabet[n & 63] : '=';
  }
  return out;
}

Headers basic(const std::string& user, const std::string& password) {
  return {{"Authorization", "Basic " + base64(user + ":" + password)}};
}

RegistrySetup withHtpasswd(const TempDir& dir, const std::string& users,
                           const std::string& policy = "") {
  RegistrySetup setup;
  std::string path = users.empty() ? dir.path() + "/auth/htpasswd" : dir.write("htpasswd", users);
  setup.extra =
      "auth:\n  htpasswd:\n    realm: Portico Registry\n    path: " + path + "\n" + policy;
  return setup;
}

void checkChallenge(const Response& r, const std::string& what) {
  INFO(what);
  CHECK(r.status == 401);
  if (!r.body.empty() || what.rfind("HEAD", 0) != 0) CHECK(errorCode(r) == "UNAUTHORIZED");
  CHECK(r.headers.get("WWW-Authenticate") == "Basic realm=\"Portico Registry\"");
  CHECK(r.headers.get("Docker-Distribution-Api-Version") == "registry/2.0");
}

}  // namespace

TEST_CASE("htpasswd: every route without credentials is 401 with the Basic challenge", "[auth]") {
  TempDir dir;
  RegistryServer registry(withHtpasswd(dir, kAlice));
  auto client = registry.client();
  const std::string digest = sha256Digest("x");
  checkChallenge(client.get("/v2/"), "GET /v2/");
  checkChallenge(client.get("/v2/_catalog"), "GET /v2/_catalog");
  checkChallenge(client.get("/v2/lib/app/tags/list"), "tags");
  checkChallenge(client.request("HEAD", "/v2/lib/app/manifests/latest"), "HEAD manifest");
  checkChallenge(client.get("/v2/lib/app/blobs/" + digest), "GET blob");
  checkChallenge(client.request("POST", "/v2/lib/app/blobs/uploads/"), "POST upload");
  checkChallenge(client.request("DELETE", "/v2/lib/app/manifests/" + digest), "DELETE");
}

TEST_CASE("htpasswd: the right password pushes and pulls; a wrong one is 401", "[auth]") {
  TempDir dir;
  RegistryServer registry(withHtpasswd(dir, kAlice + kReader));
  auto client = registry.client();
  CHECK(client.get("/v2/", basic("alice", "alice-pw")).status == 200);
  const std::string content = "layer bytes";
  const std::string digest = sha256Digest(content);
  Headers push = basic("alice", "alice-pw");
  push.add("Content-Type", "application/octet-stream");
  auto put = client.request("POST", "/v2/lib/app/blobs/uploads/?digest=" + digest, push, content);
  CHECK(put.status == 201);
  auto pulled = client.get("/v2/lib/app/blobs/" + digest, basic("alice", "alice-pw"));
  CHECK(pulled.status == 200);
  CHECK(pulled.body == content);
  // Without a policy, every authenticated user may do everything (distribution).
  CHECK(
      client.request("HEAD", "/v2/lib/app/blobs/" + digest, basic("reader", "reader-pw")).status ==
      200);
  checkChallenge(client.get("/v2/lib/app/blobs/" + digest, basic("alice", "wrong")), "wrong pw");
  checkChallenge(client.get("/v2/", basic("nobody", "alice-pw")), "unknown user");
  checkChallenge(client.get("/v2/", {{"Authorization", "Bearer abc"}}), "other scheme");
}

TEST_CASE("htpasswd: hostile Authorization values are refused and the server keeps serving",
          "[auth]") {
  TempDir dir;
  RegistryServer registry(withHtpasswd(dir, kAlice));
  for (const std::string& value :
       {std::string("Basic !!!!"), std::string("Basic YWxpY2U6YWxpY2UtcHc"),  // no padding
        std::string("Basic ") + base64("alice") /* no colon */, std::string("Basic")}) {
    auto client = registry.client();
    checkChallenge(client.get("/v2/", {{"Authorization", value}}), value);
  }
  {
    // 64 KiB: over the registry's header limit (431) or refused as credentials (401).
    auto client = registry.client();
    auto r = client.get("/v2/", {{"Authorization", "Basic " + std::string(64 * 1024, 'A')}});
    CHECK((r.status == 401 || r.status == 431));
  }
  auto client = registry.client();
  CHECK(client.get("/v2/", basic("alice", "alice-pw")).status == 200);
}

TEST_CASE("htpasswd: bcrypt cost 31 in the file is refused at load and never stalls", "[auth]") {
  TempDir dir;
  // The salt and hash of a cost-4 entry with the cost changed to 31: verifying it would take
  // days of CPU.
  std::string hostile = "evil:$2b$31$" + kAlice.substr(std::string("alice:$2b$04$").size());
  RegistryServer registry(withHtpasswd(dir, hostile + kAlice));
  CHECK(registry.process().output().find(
            "user \"evil\" can never log in: bcrypt cost 31 is above the accepted 14") !=
        std::string::npos);
  auto client = registry.client();
  checkChallenge(client.get("/v2/", basic("evil", "alice-pw")), "cost 31");
  CHECK(client.get("/v2/", basic("alice", "alice-pw")).status == 200);
}

TEST_CASE("htpasswd: a missing file is created with user docker; the logged password works",
          "[auth]") {
  TempDir dir;
  RegistryServer registry(withHtpasswd(dir, ""));
  std::smatch m;
  std::string output = registry.process().output();
  REQUIRE(std::regex_search(output, m,
                            std::regex("warning .*user \"docker\" and password \"([^\"]+)\"")));
  CHECK(output.find(" warning ") != std::string::npos);
  auto client = registry.client();
  CHECK(client.get("/v2/", basic("docker", m[1].str())).status == 200);
  checkChallenge(client.get("/v2/", basic("docker", "guess")), "wrong password");
}

TEST_CASE("policy: a pull-only user's push is 403 DENIED; anonymous pulls; catalog by rule",
          "[auth]") {
  TempDir dir;
  RegistryServer registry(
      withHtpasswd(dir, kAlice + kReader,
                   "  policy:\n    anonymous: [pull]\n    groups: {admins: [alice]}\n    rules:\n"
                   "      - {repositories: ['**'], users: [reader], actions: [pull]}\n"
                   "      - {repositories: ['**'], groups: [admins], actions: ['*']}\n"
                   "      - {catalog: true, groups: [admins]}\n"));
  auto client = registry.client();
  const std::string content = "policy layer";
  Headers push = basic("alice", "alice-pw");
  push.add("Content-Type", "application/octet-stream");
  const std::string digest = sha256Digest(content);
  REQUIRE(client.request("POST", "/v2/team/app/blobs/uploads/?digest=" + digest, push, content)
              .status == 201);

  auto denied = client.request("POST", "/v2/team/app/blobs/uploads/", basic("reader", "reader-pw"));
  CHECK(denied.status == 403);
  CHECK(errorCode(denied) == "DENIED");
  CHECK(denied.headers.get("Docker-Distribution-Api-Version") == "registry/2.0");
  CHECK_FALSE(denied.headers.has("WWW-Authenticate"));
  CHECK(client.get("/v2/team/app/blobs/" + digest, basic("reader", "reader-pw")).status == 200);
  CHECK(client.get("/v2/_catalog", basic("reader", "reader-pw")).status == 403);
  CHECK(client.get("/v2/_catalog", basic("alice", "alice-pw")).status == 200);
  // Anonymous: pulls, but no push and no /v2/ without the challenge.
  CHECK(client.get("/v2/team/app/blobs/" + digest).status == 200);
  checkChallenge(client.request("POST", "/v2/team/app/blobs/uploads/"), "anonymous push");
  checkChallenge(client.get("/v2/"), "anonymous /v2/");
}

TEST_CASE("check-config validates auth.policy with file:line:key", "[auth]") {
  TempDir dir;
  std::string config = dir.write(
      "registry.yml",
      "version: 0.1\nstorage:\n  inmemory:\nauth:\n  htpasswd: {realm: r, path: /tmp/x}\n"
      "  policy:\n    rules:\n      - {repositories: ['**'], groups: [ci], actions: [pull]}\n");
  auto [status, output] = runCommand(registryBinary() + " check-config " + config);
  CHECK(status == 1);
  CHECK(output.find("registry.yml:8: auth.policy.rules[0].groups[0]: unknown group \"ci\"") !=
        std::string::npos);
}
