// Tags list and catalog over HTTP: sorted, `n`/`last` pagination, `Link: <...>; rel="next"`.

#include <catch2/catch.hpp>

#include "tests/integration/registry_harness.h"

using namespace portico::testing;
using nlohmann::json;

TEST_CASE("tags/list is sorted and paginates with n, last and Link", "[registry][listing]") {
  RegistryServer registry;
  auto client = registry.client();
  std::string bytes = imageManifest(client, "lib/app", {"l"}).dump();
  for (const char* tag : {"v3", "latest", "v1", "v2", "beta"}) {
    REQUIRE(putManifest(client, "lib/app", tag, bytes, "application/vnd.oci.image.manifest.v1+json")
                .status == 201);
  }
  auto all = client.get("/v2/lib/app/tags/list");
  CHECK(all.status == 200);
  CHECK(json::parse(all.body) ==
        json{{"name", "lib/app"}, {"tags", {"beta", "latest", "v1", "v2", "v3"}}});
  CHECK_FALSE(all.headers.has("Link"));

  auto page1 = client.get("/v2/lib/app/tags/list?n=2");
  CHECK(json::parse(page1.body)["tags"] == json{"beta", "latest"});
  CHECK(page1.headers.get("Link") == "</v2/lib/app/tags/list?n=2&last=latest>; rel=\"next\"");
  auto page2 = client.get("/v2/lib/app/tags/list?n=2&last=latest");
  CHECK(json::parse(page2.body)["tags"] == json{"v1", "v2"});
  auto page3 = client.get("/v2/lib/app/tags/list?n=2&last=v2");
  CHECK(json::parse(page3.body)["tags"] == json{"v3"});
  CHECK_FALSE(page3.headers.has("Link"));

  auto unknown = client.get("/v2/nothing/here/tags/list");
  CHECK(unknown.status == 404);
  CHECK(errorCode(unknown) == "NAME_UNKNOWN");
  auto bad_n = client.get("/v2/lib/app/tags/list?n=abc");
  CHECK(bad_n.status == 400);
  CHECK(errorCode(bad_n) == "PAGINATION_NUMBER_INVALID");
}

TEST_CASE("_catalog lists repositories in order with pagination", "[registry][listing]") {
  RegistryServer registry;
  auto client = registry.client();
  CHECK(json::parse(client.get("/v2/_catalog").body) == json{{"repositories", json::array()}});
  for (const char* repo : {"zeta", "alpha/one", "alpha/two", "beta"}) pushBlob(client, repo, "x");
  auto all = client.get("/v2/_catalog");
  CHECK(json::parse(all.body)["repositories"] == json{"alpha/one", "alpha/two", "beta", "zeta"});
  auto page = client.get("/v2/_catalog?n=3");
  CHECK(json::parse(page.body)["repositories"] == json{"alpha/one", "alpha/two", "beta"});
  CHECK(page.headers.get("Link") == "</v2/_catalog?n=3&last=beta>; rel=\"next\"");
  auto next = client.get("/v2/_catalog?n=3&last=beta");
  CHECK(json::parse(next.body)["repositories"] == json{"zeta"});
  CHECK_FALSE(next.headers.has("Link"));
}
