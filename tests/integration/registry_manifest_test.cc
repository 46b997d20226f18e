// Manifests over HTTP: every supported media type round-trips byte for byte with its
// Content-Type; references to missing blobs or children are MANIFEST_BLOB_UNKNOWN (400);
// OCI-Subject; delete by tag and by digest; the 4 MiB limit.

#include <catch2/catch.hpp>

#include "tests/integration/registry_harness.h"

using namespace portico::testing;
using nlohmann::json;

namespace {

void checkRoundTrip(HttpClient& client, const std::string& repo, const std::string& tag,
                    const std::string& bytes, const std::string& media_type) {
  auto put = putManifest(client, repo, tag, bytes, media_type);
  REQUIRE(put.status == 201);
  std::string digest = sha256Digest(bytes);
  CHECK(put.headers.get("Docker-Content-Digest") == digest);
  CHECK(locationPath(put) == "/v2/" + repo + "/manifests/" + digest);
  for (const std::string& reference : {tag, digest}) {
    auto get = client.get("/v2/" + repo + "/manifests/" + reference, {{"Accept", media_type}});
    CHECK(get.status == 200);
    CHECK(sha256Digest(get.body) == sha256Digest(bytes));
    CHECK(get.headers.get("Content-Type") == media_type);
    CHECK(get.headers.get("Docker-Content-Digest") == digest);
    auto head = client.request("HEAD", "/v2/" + repo + "/manifests/" + reference);
    CHECK(head.status == 200);
    CHECK(head.headers.get("Content-Length") == std::to_string(bytes.size()));
    CHECK(head.headers.get("Docker-Content-Digest") == digest);
  }
}

}  // namespace

TEST_CASE("OCI and Docker image manifests, lists and indexes round-trip", "[registry][manifest]") {
  RegistryServer registry;
  auto client = registry.client();
  std::string oci = imageManifest(client, "app", {"layer a", "layer b"}).dump(2);
  checkRoundTrip(client, "app", "oci", oci, "application/vnd.oci.image.manifest.v1+json");
  std::string docker = imageManifest(client, "app", {"layer c"}, true).dump(3);
  checkRoundTrip(client, "app", "docker", docker,
                 "application/vnd.docker.distribution.manifest.v2+json");

  json index = {{"schemaVersion", 2},
                {"mediaType", "application/vnd.oci.image.index.v1+json"},
                {"manifests",
                 {{{"mediaType", "application/vnd.oci.image.manifest.v1+json"},
                   {"digest", sha256Digest(oci)},
                   {"size", oci.size()},
                   {"platform", {{"architecture", "amd64"}, {"os", "linux"}}}}}}};
  checkRoundTrip(client, "app", "index", index.dump(), "application/vnd.oci.image.index.v1+json");
  json list = {{"schemaVersion", 2},
               {"mediaType", "application/vnd.docker.distribution.manifest.list.v2+json"},
               {"manifests",
                {{{"mediaType", "application/vnd.docker.distribution.manifest.v2+json"},
                  {"digest", sha256Digest(docker)},
                  {"size", docker.size()},
                  {"platform", {{"architecture", "arm64"}, {"os", "linux"}}}}}}};
  checkRoundTrip(client, "app", "list", list.dump(),
                 "application/vnd.docker.distribution.manifest.list.v2+json");
}

TEST_CASE("an OCI artifact manifest with an empty config round-trips", "[registry][manifest]") {
  RegistryServer registry;
  auto client = registry.client();
  pushBlob(client, "art", "{}");
  pushBlob(client, "art", "artifact payload");
  json artifact = {{"schemaVersion", 2},
                   {"mediaType", "application/vnd.oci.image.manifest.v1+json"},
                   {"artifactType", "application/vnd.example.thing"},
                   {"config", descriptor("application/vnd.oci.empty.v1+json", "{}")},
                   {"layers", {descriptor("application/vnd.example.payload", "artifact payload")}}};
  checkRoundTrip(client, "art", "v1", artifact.dump(),
                 "application/vnd.oci.image.manifest.v1+json");
}

TEST_CASE("a manifest that references a missing blob is 400 MANIFEST_BLOB_UNKNOWN",
          "[registry][manifest]") {
  RegistryServer registry;
  auto client = registry.client();
  json manifest = imageManifest(client, "app", {"present"});
  manifest["layers"].push_back(
      descriptor("application/vnd.oci.image.layer.v1.tar+gzip", "never uploaded"));
  auto r = putManifest(client, "app", "broken", manifest.dump(),
                       "application/vnd.oci.image.manifest.v1+json");
  CHECK(r.status == 400);
  CHECK(errorCode(r) == "MANIFEST_BLOB_UNKNOWN");
  CHECK(client.get("/v2/app/manifests/broken").status == 404);

  json index = {
      {"schemaVersion", 2},
      {"mediaType", "application/vnd.oci.image.index.v1+json"},
      {"manifests", {descriptor("application/vnd.oci.image.manifest.v1+json", "no such child")}}};
  auto child =
      putManifest(client, "app", "idx", index.dump(), "application/vnd.oci.image.index.v1+json");
  CHECK(child.status == 400);
  CHECK((errorCode(child) == "MANIFEST_BLOB_UNKNOWN" || errorCode(child) == "MANIFEST_UNKNOWN"));
}

TEST_CASE("invalid manifests are 400 MANIFEST_INVALID; a wrong digest reference DIGEST_INVALID",
          "[registry][manifest]") {
  RegistryServer registry;
  auto client = registry.client();
  auto garbage =
      putManifest(client, "app", "x", "{not json", "application/vnd.oci.image.manifest.v1+json");
  CHECK(garbage.status == 400);
  CHECK(errorCode(garbage) == "MANIFEST_INVALID");
  std::string good = imageManifest(client, "app", {"l"}).dump();
  auto wrong = putManifest(client, "app", sha256Digest("other"), good,
                           "application/vnd.oci.image.manifest.v1+json");
  CHECK(wrong.status == 400);
  CHECK(errorCode(wrong) == "DIGEST_INVALID");
  auto bad_tag =
      putManifest(client, "app", "-bad", good, "application/vnd.oci.image.manifest.v1+json");
  CHECK(bad_tag.status == 400);
  CHECK(errorCode(bad_tag) == "TAG_INVALID");
  CHECK(errorCode(client.get("/v2/app/manifests/missing")) == "MANIFEST_UNKNOWN");
}

TEST_CASE("a manifest over 4 MiB is refused with SIZE_INVALID", "[registry][manifest]") {
  RegistryServer registry;
  auto client = registry.client();
  std::string huge(4 * 1024 * 1024 + 1, ' ');
  auto r = putManifest(client, "app", "huge", huge, "application/vnd.oci.image.manifest.v1+json");
  CHECK(r.status == 400);
  CHECK(errorCode(r) == "SIZE_INVALID");
}

TEST_CASE("a manifest with a subject answers OCI-Subject", "[registry][manifest]") {
  RegistryServer registry;
  auto client = registry.client();
  std::string base = imageManifest(client, "app", {"base"}).dump();
  REQUIRE(
      putManifest(client, "app", "v1", base, "application/vnd.oci.image.manifest.v1+json").status ==
      201);
  json sig = imageManifest(client, "app", {"signature"});
  sig["subject"] = descriptor("application/vnd.oci.image.manifest.v1+json", base);
  auto r = putManifest(client, "app", sha256Digest(sig.dump()), sig.dump(),
                       "application/vnd.oci.image.manifest.v1+json");
  CHECK(r.status == 201);
  CHECK(r.headers.get("OCI-Subject") == sha256Digest(base));
}

TEST_CASE("DELETE by tag removes only the tag; by digest the manifest", "[registry][manifest]") {
  RegistryServer registry({.delete_enabled = true});
  auto client = registry.client();
  std::string bytes = imageManifest(client, "app", {"l"}).dump();
  std::string digest = sha256Digest(bytes);
  putManifest(client, "app", "v1", bytes, "application/vnd.oci.image.manifest.v1+json");
  putManifest(client, "app", "v2", bytes, "application/vnd.oci.image.manifest.v1+json");
  CHECK(client.request("DELETE", "/v2/app/manifests/v1").status == 202);
  CHECK(client.get("/v2/app/manifests/v1").status == 404);
  CHECK(client.get("/v2/app/manifests/v2").status == 200);
  CHECK(client.get("/v2/app/manifests/" + digest).status == 200);
  CHECK(client.request("DELETE", "/v2/app/manifests/" + digest).status == 202);
  CHECK(client.get("/v2/app/manifests/" + digest).status == 404);
  CHECK(errorCode(client.request("DELETE", "/v2/app/manifests/" + digest)) == "MANIFEST_UNKNOWN");
}

TEST_CASE("a manifest with a NUL and trailing bytes, or a BOM, is 400 MANIFEST_INVALID",
          "[registry][manifest]") {
  RegistryServer registry;
  auto client = registry.client();
  const std::string oci = imageManifest(client, "app", {"layer"}).dump();
  const std::string type = "application/vnd.oci.image.manifest.v1+json";
  for (const std::string& body : {oci + std::string("\0trailing bytes", 15), "\xEF\xBB\xBF" + oci,
                                  std::string(100'000, '[') + std::string(100'000, ']')}) {
    auto r = putManifest(client, "app", "bad", body, type);
    CHECK(r.status == 400);
    CHECK(errorCode(r) == "MANIFEST_INVALID");
    CHECK(client.get("/v2/app/manifests/" + sha256Digest(body)).status == 404);
  }
  CHECK(client.get("/v2/app/manifests/bad").status == 404);  // nothing was tagged
  CHECK(putManifest(client, "app", "good", oci, type).status == 201);
}
