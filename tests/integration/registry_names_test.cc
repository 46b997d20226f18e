// Hostile repository names, tags, digests and upload ids over a raw socket: every one is
// refused with a JSON error, and nothing is created or read outside the storage root.

#include <catch2/catch.hpp>

#include "tests/integration/registry_harness.h"

using namespace portico::testing;

TEST_CASE("path traversal in names, digests and upload ids never touches files outside the root",
          "[registry][names]") {
  RegistryServer registry;
  // A sentinel tree next to the storage root that a traversal would reach.
  std::string outside = registry.dir().mkdir("outside");
  registry.dir().write("outside/secret", "top secret");
  auto before_outside = filesBelow(outside);
  auto before_dir = filesBelow(registry.dir().path());

  const std::vector<std::string> targets = {
      "/v2/../outside/tags/list",
      "/v2/%2e%2e/outside/tags/list",
      "/v2/%2E%2E%2Foutside/tags/list",
      "/v2/a/%2e%2e/%2e%2e/%2e%2e/outside/blobs/uploads/",
      "/v2/..%2f..%2foutside/manifests/latest",
      "/v2/a/manifests/..%2f..%2f..%2foutside%2fsecret",
      "/v2/a/blobs/sha256:..%2f..%2f..%2foutside",
      "/v2/a/blobs/uploads/..%2f..%2f..%2foutside",
      "/v2/a/blobs/uploads/%2e%2e",
      "/v2//etc/passwd/tags/list",
      "/v2/%2fetc%2fpasswd/tags/list",
      "/v2/a%00b/tags/list",
      "/v2/a/manifests/latest%00",
      "/v2/UPPER/tags/list",
  };
  auto client = registry.client();
  for (std::string method : {"GET", "PUT", "POST", "PATCH", "DELETE"}) {
    for (const auto& target : targets) {
      INFO(method << " " << target);
      auto r = client.request(method, target, {}, method == "GET" ? "" : "x");
      CHECK(r.status >= 400);
      CHECK(r.status < 500);
      CHECK(r.headers.get("Docker-Distribution-Api-Version") == "registry/2.0");
      CHECK(r.headers.get("Content-Type").starts_with("application/json"));
    }
  }
  auto named = client.get("/v2/%2e%2e/outside/tags/list");
  CHECK(named.status == 400);
  CHECK(errorCode(named) == "NAME_INVALID");
  CHECK(filesBelow(outside) == before_outside);
  auto after = filesBelow(registry.dir().path());
  for (const auto& file : after) {
    INFO(file);
    bool known = std::find(before_dir.begin(), before_dir.end(), file) != before_dir.end();
    CHECK((known || file.starts_with("root/")));
  }
  CHECK(readFile(outside + "/secret") == "top secret");
}

TEST_CASE("names with slashes, dots, dashes and underscores work", "[registry][names]") {
  RegistryServer registry;
  auto client = registry.client();
  for (std::string repo : {"a", "a/b/c/d", "my-org/my_app", "x.y/z__w", "0/1-2"}) {
    INFO(repo);
    std::string digest = pushBlob(client, repo, "content of " + repo);
    CHECK(client.get("/v2/" + repo + "/blobs/" + digest).body == "content of " + repo);
  }
  auto too_long = client.get("/v2/" + std::string(256, 'a') + "/tags/list");
  CHECK(too_long.status == 400);
  CHECK(errorCode(too_long) == "NAME_INVALID");
}
