// Blob reads and deletes over HTTP: HEAD/GET with the spec's headers, single Range → 206,
// unsatisfiable → 416, DELETE 202 when storage.delete.enabled, else 405 UNSUPPORTED.

#include <catch2/catch.hpp>
#include <filesystem>
#include <vector>

#include "tests/integration/registry_harness.h"

using namespace portico::testing;

TEST_CASE("HEAD and GET of a blob carry its digest, length and Accept-Ranges", "[registry][blob]") {
  RegistryServer registry;
  auto client = registry.client();
  std::string content = GeneratedBody::bytes(300'000, 5);
  std::string digest = pushBlob(client, "lib/x", content);
  auto head = client.request("HEAD", "/v2/lib/x/blobs/" + digest);
  CHECK(head.status == 200);
  CHECK(head.headers.get("Content-Length") == "300000");
  CHECK(head.headers.get("Docker-Content-Digest") == digest);
  CHECK(head.headers.get("Accept-Ranges") == "bytes");
  CHECK(head.body.empty());
  auto get = client.get("/v2/lib/x/blobs/" + digest);
  CHECK(get.status == 200);
  CHECK(sha256Digest(get.body) == sha256Digest(content));
  auto unknown = client.get("/v2/lib/x/blobs/" + sha256Digest("nope"));
  CHECK(unknown.status == 404);
  CHECK(errorCode(unknown) == "BLOB_UNKNOWN");
  CHECK(unknown.headers.get("Docker-Distribution-Api-Version") == "registry/2.0");
  auto other_repo = client.get("/v2/other/blobs/" + digest);
  CHECK(other_repo.status == 404);
}

TEST_CASE("a single byte range is 206 with Content-Range; past the end is 416",
          "[registry][blob]") {
  RegistryServer registry;
  auto client = registry.client();
  std::string content = GeneratedBody::bytes(10'000, 9);
  std::string digest = pushBlob(client, "r", content);
  auto part = client.get("/v2/r/blobs/" + digest, {{"Range", "bytes=100-199"}});
  CHECK(part.status == 206);
  CHECK(part.headers.get("Content-Range") == "bytes 100-199/10000");
  CHECK(sha256Digest(part.body) == sha256Digest(content.substr(100, 100)));
  auto tail = client.get("/v2/r/blobs/" + digest, {{"Range", "bytes=9990-"}});
  CHECK(tail.status == 206);
  CHECK(sha256Digest(tail.body) == sha256Digest(content.substr(9990)));
  auto suffix = client.get("/v2/r/blobs/" + digest, {{"Range", "bytes=-10"}});
  CHECK(sha256Digest(suffix.body) == sha256Digest(content.substr(9990)));
  auto beyond = client.get("/v2/r/blobs/" + digest, {{"Range", "bytes=10000-"}});
  CHECK(beyond.status == 416);
  CHECK(beyond.headers.get("Content-Range") == "bytes */10000");
  auto multi = client.get("/v2/r/blobs/" + digest, {{"Range", "bytes=0-1,5-6"}});
  CHECK(multi.status == 200);
  CHECK(multi.body.size() == content.size());
}

TEST_CASE("DELETE of a blob is 202 when deletes are enabled", "[registry][blob][delete]") {
  RegistryServer registry({.delete_enabled = true});
  auto client = registry.client();
  std::string digest = pushBlob(client, "r", "delete me");
  CHECK(client.request("DELETE", "/v2/r/blobs/" + digest).status == 202);
  CHECK(client.request("HEAD", "/v2/r/blobs/" + digest).status == 404);
  auto again = client.request("DELETE", "/v2/r/blobs/" + digest);
  CHECK(again.status == 404);
  CHECK(errorCode(again) == "BLOB_UNKNOWN");
}

TEST_CASE("DELETE is 405 UNSUPPORTED when deletes are disabled", "[registry][blob][delete]") {
  RegistryServer registry({.delete_enabled = false});
  auto client = registry.client();
  std::string digest = pushBlob(client, "r", "keep me");
  auto r = client.request("DELETE", "/v2/r/blobs/" + digest);
  CHECK(r.status == 405);
  CHECK(errorCode(r) == "UNSUPPORTED");
  CHECK(client.request("HEAD", "/v2/r/blobs/" + digest).status == 200);
  auto manifest = client.request("DELETE", "/v2/r/manifests/latest");
  CHECK(manifest.status == 405);
}

TEST_CASE("a range unit in any case is a byte range (RFC 9110 14.1)", "[registry][blob]") {
  RegistryServer registry;
  auto client = registry.client();
  std::string digest = pushBlob(client, "r", "0123456789");
  for (const char* range : {"Bytes=0-1", "BYTES=0-1", "bYtEs=0-1"}) {
    auto part = client.get("/v2/r/blobs/" + digest, {{"Range", range}});
    CHECK(part.status == 206);
    CHECK(part.body == "01");
  }
}

TEST_CASE("error details name the digest or the name, never a storage path", "[registry][blob]") {
  RegistryServer registry;
  auto client = registry.client();
  const std::string missing = sha256Digest("never pushed");
  std::string digest = pushBlob(client, "r", "pushed");
  std::vector<Response> responses = {
      client.get("/v2/r/blobs/" + missing),
      client.get("/v2/other/blobs/" + digest),
      client.request("DELETE", "/v2/r/blobs/" + missing),
      client.get("/v2/r/manifests/" + missing),
      client.get("/v2/r/manifests/nosuchtag"),
      client.get("/v2/nosuchrepo/tags/list"),
      client.get("/v2/r/blobs/uploads/0b6fa4f5-6c5a-4c4b-9bde-4a7ea3d1d2f1"),
      client.request("PUT",
                     "/v2/r/blobs/uploads/0b6fa4f5-6c5a-4c4b-9bde-4a7ea3d1d2f1?digest=" + missing),
  };
  // A link file without its blob data: the data lookup fails too.
  std::filesystem::remove_all(registry.root() + "/docker/registry/v2/blobs");
  responses.push_back(client.get("/v2/r/blobs/" + digest));
  for (const auto& r : responses) {
    INFO(r.status << " " << r.body);
    CHECK(r.status >= 400);
    CHECK(r.body.find("/docker/registry") == std::string::npos);
    CHECK(r.body.find("_layers") == std::string::npos);
    CHECK(r.body.find("_manifests") == std::string::npos);
    CHECK(r.body.find("_uploads") == std::string::npos);
  }
}
