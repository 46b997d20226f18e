// OCI 1.1 referrers over HTTP: an image index of the manifests whose subject is the digest,
// artifactType filtering with OCI-Filters-Applied, an empty index for unknown subjects.

#include <catch2/catch.hpp>

#include "tests/integration/registry_harness.h"

using namespace portico::testing;
using nlohmann::json;

TEST_CASE("referrers list artifacts by subject, filtered by artifactType",
          "[registry][referrers]") {
  RegistryServer registry;
  auto client = registry.client();
  std::string base = imageManifest(client, "app", {"base layer"}).dump();
  REQUIRE(
      putManifest(client, "app", "v1", base, "application/vnd.oci.image.manifest.v1+json").status ==
      201);
  std::string subject = sha256Digest(base);

  auto empty = client.get("/v2/app/referrers/" + subject);
  CHECK(empty.status == 200);
  CHECK(empty.headers.get("Content-Type") == "application/vnd.oci.image.index.v1+json");
  CHECK(json::parse(empty.body)["manifests"].empty());
  auto unknown = client.get("/v2/app/referrers/" + sha256Digest("no such subject"));
  CHECK(unknown.status == 200);
  CHECK(json::parse(unknown.body)["manifests"].empty());

  pushBlob(client, "app", "{}");
  std::vector<std::string> digests;
  for (const char* type : {"application/vnd.example.sbom", "application/vnd.example.sig"}) {
    pushBlob(client, "app", std::string("payload of ") + type);
    json artifact = {
        {"schemaVersion", 2},
        {"mediaType", "application/vnd.oci.image.manifest.v1+json"},
        {"artifactType", type},
        {"config", descriptor("application/vnd.oci.empty.v1+json", "{}")},
        {"layers", {descriptor("application/octet-stream", std::string("payload of ") + type)}},
        {"subject", descriptor("application/vnd.oci.image.manifest.v1+json", base)},
        {"annotations", {{"org.example.kind", type}}}};
    std::string bytes = artifact.dump();
    auto put = putManifest(client, "app", sha256Digest(bytes), bytes,
                           "application/vnd.oci.image.manifest.v1+json");
    REQUIRE(put.status == 201);
    CHECK(put.headers.get("OCI-Subject") == subject);
    digests.push_back(sha256Digest(bytes));
  }

  auto all = client.get("/v2/app/referrers/" + subject);
  auto index = json::parse(all.body);
  CHECK(index["schemaVersion"] == 2);
  CHECK(index["mediaType"] == "application/vnd.oci.image.index.v1+json");
  REQUIRE(index["manifests"].size() == 2);
  for (const auto& entry : index["manifests"]) {
    CHECK(std::find(digests.begin(), digests.end(), entry["digest"]) != digests.end());
    CHECK(entry["annotations"]["org.example.kind"] == entry["artifactType"]);
  }
  CHECK_FALSE(all.headers.has("OCI-Filters-Applied"));

  auto filtered =
      client.get("/v2/app/referrers/" + subject + "?artifactType=application/vnd.example.sig");
  CHECK(filtered.headers.get("OCI-Filters-Applied") == "artifactType");
  auto only = json::parse(filtered.body)["manifests"];
  REQUIRE(only.size() == 1);
  CHECK(only[0]["artifactType"] == "application/vnd.example.sig");
}
