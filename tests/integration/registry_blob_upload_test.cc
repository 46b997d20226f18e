// Blob uploads over HTTP against the real portico-registry: monolithic, chunked (with and
// without Content-Range), out-of-order chunks, digest mismatches, resume after a restart
// and after kill -9, concurrent pushes of one blob, a large streamed body.

#include <catch2/catch.hpp>
#include <csignal>
#include <thread>

#include "tests/integration/registry_harness.h"

using namespace portico::testing;

namespace {

// distribution's blob data path for a digest.
std::string blobDataPath(const std::string& root, const std::string& digest) {
  std::string hex = digest.substr(7);
  return root + "/docker/registry/v2/blobs/sha256/" + hex.substr(0, 2) + "/" + hex + "/data";
}

}  // namespace

TEST_CASE("a monolithic POST ?digest= stores the blob on distribution's layout",
          "[registry][upload]") {
  RegistryServer registry;
  auto client = registry.client();
  std::string content = GeneratedBody::bytes(100'000, 7);
  std::string digest = sha256Digest(content);
  auto r = client.request("POST", "/v2/lib/app/blobs/uploads/?digest=" + digest,
                          {{"Content-Type", "application/octet-stream"}}, content);
  CHECK(r.status == 201);
  CHECK(r.headers.get("Docker-Content-Digest") == digest);
  CHECK(locationPath(r) == "/v2/lib/app/blobs/" + digest);
  CHECK(sha256Digest(readFile(blobDataPath(registry.root(), digest))) == sha256Digest(content));
  CHECK(std::filesystem::exists(registry.root() +
                                "/docker/registry/v2/repositories/lib/app/_layers/sha256/" +
                                digest.substr(7) + "/link"));
}

TEST_CASE("POST then PATCH chunks then PUT ?digest= with a final chunk gives 201",
          "[registry][upload]") {
  RegistryServer registry;
  auto client = registry.client();
  auto start = client.request("POST", "/v2/chunked/blobs/uploads/");
  REQUIRE(start.status == 202);
  CHECK(start.headers.get("Range") == "0-0");
  std::string uuid = start.headers.get("Docker-Upload-UUID");
  CHECK_FALSE(uuid.empty());
  std::string path = locationPath(start);
  CHECK(path == "/v2/chunked/blobs/uploads/" + uuid);

  auto first = client.request(
      "PATCH", path, {{"Content-Range", "0-9"}, {"Content-Type", "application/octet-stream"}},
      "0123456789");
  CHECK(first.status == 202);
  CHECK(first.headers.get("Range") == "0-9");
  CHECK(first.headers.get("Docker-Upload-UUID") == uuid);
  auto second = client.request("PATCH", locationPath(first), {}, "abcdef");  // no Content-Range
  CHECK(second.status == 202);
  CHECK(second.headers.get("Range") == "0-15");

  auto status = client.get(path);
  CHECK(status.status == 204);
  CHECK(status.headers.get("Range") == "0-15");

  std::string digest = sha256Digest("0123456789abcdefXYZ");
  auto done = client.request("PUT", path + "?digest=" + digest, {}, "XYZ");
  CHECK(done.status == 201);
  CHECK(done.headers.get("Docker-Content-Digest") == digest);
  CHECK(locationPath(done) == "/v2/chunked/blobs/" + digest);
  CHECK(client.get("/v2/chunked/blobs/" + digest).body == "0123456789abcdefXYZ");
  CHECK(client.get(path).status == 404);
}

TEST_CASE("PUT ?digest= without a final chunk commits what was PATCHed", "[registry][upload]") {
  RegistryServer registry;
  auto client = registry.client();
  auto start = client.request("POST", "/v2/r/blobs/uploads/");
  auto patched = client.request("PATCH", locationPath(start), {}, "payload");
  REQUIRE(patched.status == 202);
  std::string digest = sha256Digest("payload");
  auto done = client.request("PUT", locationPath(patched) + "?digest=" + digest);
  CHECK(done.status == 201);
  CHECK(client.get("/v2/r/blobs/" + digest).body == "payload");
}

TEST_CASE("a PATCH whose Content-Range does not start at the current size is 416 RANGE_INVALID",
          "[registry][upload]") {
  RegistryServer registry;
  auto client = registry.client();
  std::string path = locationPath(client.request("POST", "/v2/r/blobs/uploads/"));
  REQUIRE(client.request("PATCH", path, {{"Content-Range", "0-4"}}, "hello").status == 202);
  auto gap = client.request("PATCH", path, {{"Content-Range", "10-14"}}, "world");
  CHECK(gap.status == 416);
  CHECK(errorCode(gap) == "RANGE_INVALID");
  auto overlap = client.request("PATCH", path, {{"Content-Range", "2-6"}}, "world");
  CHECK(overlap.status == 416);
  CHECK(client.get(path).headers.get("Range") == "0-4");
}

TEST_CASE("a digest that does not match the bytes is 400 DIGEST_INVALID and nothing is stored",
          "[registry][upload]") {
  RegistryServer registry;
  auto client = registry.client();
  std::string claimed = sha256Digest("what the client claims");
  std::string actual = sha256Digest("what the client sent");
  auto r =
      client.request("POST", "/v2/r/blobs/uploads/?digest=" + claimed, {}, "what the client sent");
  CHECK(r.status == 400);
  CHECK(errorCode(r) == "DIGEST_INVALID");
  CHECK_FALSE(std::filesystem::exists(blobDataPath(registry.root(), claimed)));
  CHECK_FALSE(std::filesystem::exists(blobDataPath(registry.root(), actual)));
  CHECK(client.request("HEAD", "/v2/r/blobs/" + claimed).status == 404);
  CHECK(client.request("HEAD", "/v2/r/blobs/" + actual).status == 404);

  std::string path = locationPath(client.request("POST", "/v2/r/blobs/uploads/"));
  client.request("PATCH", path, {}, "chunk");
  auto put = client.request("PUT", path + "?digest=" + claimed);
  CHECK(put.status == 400);
  CHECK(errorCode(put) == "DIGEST_INVALID");
  CHECK_FALSE(std::filesystem::exists(blobDataPath(registry.root(), sha256Digest("chunk"))));
  // The failed commit removed that upload; a malformed digest on a live one is 400 too.
  CHECK(client.get(path).status == 404);
  std::string fresh = locationPath(client.request("POST", "/v2/r/blobs/uploads/"));
  auto malformed = client.request("PUT", fresh + "?digest=sha256:nothex");
  CHECK(malformed.status == 400);
  CHECK(errorCode(malformed) == "DIGEST_INVALID");
}

TEST_CASE("an upload resumes after the registry restarts", "[registry][upload]") {
  RegistryServer registry;
  std::string path;
  {
    auto client = registry.client();
    path = locationPath(client.request("POST", "/v2/resume/blobs/uploads/"));
    REQUIRE(client.request("PATCH", path, {}, "first half|").status == 202);
  }
  registry.restart();
  auto client = registry.client();
  auto status = client.get(path);
  REQUIRE(status.status == 204);
  CHECK(status.headers.get("Range") == "0-10");
  auto more = client.request("PATCH", path, {{"Content-Range", "11-21"}}, "second half");
  CHECK(more.status == 202);
  std::string digest = sha256Digest("first half|second half");
  CHECK(client.request("PUT", path + "?digest=" + digest).status == 201);
  CHECK(client.get("/v2/resume/blobs/" + digest).body == "first half|second half");
}

TEST_CASE("kill -9 in the middle of a chunk, restart, resume at the reported offset",
          "[registry][upload]") {
  RegistryServer registry;
  std::string content = GeneratedBody::bytes(3 * 1024 * 1024, 11);
  std::string path;
  {
    auto client = registry.client();
    path = locationPath(client.request("POST", "/v2/crash/blobs/uploads/"));
    // Announce the whole body, send only the first MiB, then kill the server.
    client.sendRaw("PATCH " + path + " HTTP/1.1\r\nHost: x\r\nContent-Length: " +
                   std::to_string(content.size()) + "\r\n\r\n" + content.substr(0, 1 << 20));
    // Wait until the registry has written the bytes (the data file stops growing is not an
    // event; the upload's status is): poll status on a second connection.
    auto probe = registry.client();
    for (int i = 0; i < 2000; ++i) {
      auto s = probe.get(path);
      if (s.headers.get("Range") == "0-" + std::to_string((1 << 20) - 1)) break;
    }
    registry.process().signal(SIGKILL);
    registry.process().waitForExit(std::chrono::seconds(10));
  }
  registry.restart();
  auto client = registry.client();
  auto status = client.get(path);
  REQUIRE(status.status == 204);
  std::string range = status.headers.get("Range");
  uint64_t offset = std::stoull(range.substr(range.find('-') + 1)) + 1;
  CHECK(offset <= content.size());
  auto rest = client.request(
      "PATCH", path,
      {{"Content-Range", std::to_string(offset) + "-" + std::to_string(content.size() - 1)}},
      content.substr(offset));
  CHECK(rest.status == 202);
  std::string digest = sha256Digest(content);
  auto done = client.request("PUT", path + "?digest=" + digest);
  CHECK(done.status == 201);
  CHECK(client.get("/v2/crash/blobs/" + digest).bodyDigest() == digest);
}

TEST_CASE("16 concurrent pushes of the same blob all succeed and store one correct blob",
          "[registry][upload]") {
  RegistryServer registry;
  std::string content = GeneratedBody::bytes(512 * 1024, 3);
  std::string digest = sha256Digest(content);
  std::vector<int> statuses(16, 0);
  std::vector<std::thread> threads;
  for (size_t i = 0; i < statuses.size(); ++i) {
    threads.emplace_back([&, i] {
      try {
        HttpClient client(registry.process().endpoint());
        auto path = locationPath(client.request("POST", "/v2/same/blobs/uploads/"));
        client.request("PATCH", path, {}, content.substr(0, 1000));
        statuses[i] =
            client.request("PUT", path + "?digest=" + digest, {}, content.substr(1000)).status;
      } catch (const std::exception&) {
        statuses[i] = -1;
      }
    });
  }
  for (auto& t : threads) t.join();
  for (int status : statuses) CHECK(status == 201);
  CHECK(sha256Digest(readFile(blobDataPath(registry.root(), digest))) == sha256Digest(content));
  auto client = registry.client();
  CHECK(client.get("/v2/same/blobs/" + digest).bodyDigest() == digest);
}

TEST_CASE("a 64 MiB chunked PATCH streams to disk and commits", "[registry][upload]") {
  RegistryServer registry;
  auto client = registry.client();
  std::string path = locationPath(client.request("POST", "/v2/big/blobs/uploads/"));
  const uint64_t size = 64ull * 1024 * 1024;
  auto patched = client.requestWithGeneratedBody("PATCH", path, {}, size, /*chunked=*/true);
  REQUIRE(patched.status == 202);
  CHECK(patched.headers.get("Range") == "0-" + std::to_string(size - 1));
  std::string digest = "sha256:" + GeneratedBody::sha256Hex(size);
  CHECK(client.request("PUT", locationPath(patched) + "?digest=" + digest).status == 201);
  auto get = client.requestDiscardingBody("GET", "/v2/big/blobs/" + digest);
  CHECK(get.body_size == size);
  CHECK(get.bodyDigest() == digest);
}

TEST_CASE("cross-repository mount gives 201, or 202 and a new upload when not mountable",
          "[registry][upload]") {
  RegistryServer registry;
  auto client = registry.client();
  std::string digest = pushBlob(client, "from/repo", "mount me");
  auto mounted =
      client.request("POST", "/v2/to/repo/blobs/uploads/?mount=" + digest + "&from=from/repo");
  CHECK(mounted.status == 201);
  CHECK(mounted.headers.get("Docker-Content-Digest") == digest);
  CHECK(client.get("/v2/to/repo/blobs/" + digest).body == "mount me");
  auto fallback = client.request(
      "POST", "/v2/to/repo/blobs/uploads/?mount=" + sha256Digest("absent") + "&from=from/repo");
  CHECK(fallback.status == 202);
  CHECK_FALSE(fallback.headers.get("Docker-Upload-UUID").empty());
}

TEST_CASE("DELETE cancels an upload; unknown uploads are 404 BLOB_UPLOAD_UNKNOWN",
          "[registry][upload]") {
  RegistryServer registry;
  auto client = registry.client();
  std::string path = locationPath(client.request("POST", "/v2/r/blobs/uploads/"));
  CHECK(client.request("DELETE", path).status == 204);
  auto gone = client.get(path);
  CHECK(gone.status == 404);
  CHECK(errorCode(gone) == "BLOB_UPLOAD_UNKNOWN");
  CHECK(errorCode(client.request("PATCH", "/v2/r/blobs/uploads/nope", {}, "x")) ==
        "BLOB_UPLOAD_UNKNOWN");
}

TEST_CASE("Location headers follow X-Forwarded-Proto and X-Forwarded-Host", "[registry][upload]") {
  RegistryServer registry;
  auto client = registry.client();
  auto r =
      client.request("POST", "/v2/r/blobs/uploads/",
                     {{"X-Forwarded-Proto", "https"}, {"X-Forwarded-Host", "reg.example:5000"}});
  CHECK(r.headers.get("Location").starts_with("https://reg.example:5000/v2/r/blobs/uploads/"));
  RegistryServer relative({.extra = "  relativeurls: true\n"});
  auto relative_client = relative.client();
  CHECK(relative_client.request("POST", "/v2/r/blobs/uploads/")
            .headers.get("Location")
            .starts_with("/v2/r/blobs/uploads/"));
}

TEST_CASE(
    "a full volume: 503 UNAVAILABLE, no blob under a digest, what was stored stays intact, "
    "and the space comes back",
    "[registry][upload][full]") {
  RegistrySetup setup;
  setup.tmpfs_bytes = 4 << 20;
  RegistryServer registry(setup);
  auto client = registry.client();
  // An image stored before the volume fills.
  std::string layer(200 << 10, 'l');
  auto manifest = imageManifest(client, "full/app", {layer});
  std::string manifest_bytes = manifest.dump();
  REQUIRE(putManifest(client, "full/app", "v1", manifest_bytes,
                      "application/vnd.oci.image.manifest.v1+json")
              .status == 201);

  // A monolithic push larger than the volume: 503, nothing under its digest, and its partial
  // bytes are gone (nobody could resume it): a 3 MiB push fits afterwards.
  std::string too_big(6 << 20, 'b');
  auto full = client.request("POST", "/v2/full/app/blobs/uploads/?digest=" + sha256Digest(too_big),
                             {}, too_big);
  CHECK(full.status == 503);
  CHECK(errorCode(full) == "UNAVAILABLE");
  CHECK(client.request("HEAD", "/v2/full/app/blobs/" + sha256Digest(too_big)).status == 404);
  std::string fits(3 << 20, 'f');
  CHECK(client.request("POST", "/v2/full/app/blobs/uploads/?digest=" + sha256Digest(fits), {}, fits)
            .status == 201);

  // A chunk that does not fit fails as a whole: the upload stays at its Range and completes.
  std::string path = locationPath(client.request("POST", "/v2/full/app/blobs/uploads/"));
  std::string first(300 << 10, '1');
  CHECK(client.request("PATCH", path, {}, first).headers.get("Range") == "0-307199");
  auto failed_chunk = client.request("PATCH", path, {}, std::string(2 << 20, '2'));
  CHECK(failed_chunk.status == 503);
  CHECK(errorCode(failed_chunk) == "UNAVAILABLE");
  CHECK(client.get(path).headers.get("Range") == "0-307199");
  std::string last(100 << 10, '3');
  auto committed = client.request("PUT", path + "?digest=" + sha256Digest(first + last), {}, last);
  CHECK(committed.status == 201);
  CHECK(client.get("/v2/full/app/blobs/" + sha256Digest(first + last)).body == first + last);

  // Fill the volume to the last page with an upload, then PUT a manifest: 503, and the tag
  // still names the manifest it had.
  std::string filler_path = locationPath(client.request("POST", "/v2/full/app/blobs/uploads/"));
  for (uint64_t free = registry.volumeFreeBytes(); free > 0; free = registry.volumeFreeBytes()) {
    if (client.request("PATCH", filler_path, {}, std::string(free, 'z')).status == 202) break;
    // A chunk that did not fit was cut off again; a page less then.
    REQUIRE(client.request("PATCH", filler_path, {}, std::string(free - 4096, 'z')).status == 202);
  }
  manifest["annotations"] = {{"changed", "yes"}};
  auto refused = putManifest(client, "full/app", "v1", manifest.dump(),
                             "application/vnd.oci.image.manifest.v1+json");
  CHECK(refused.status == 503);
  CHECK(errorCode(refused) == "UNAVAILABLE");
  auto still = client.get("/v2/full/app/manifests/v1",
                          {{"Accept", "application/vnd.oci.image.manifest.v1+json"}});
  CHECK(still.status == 200);
  CHECK(still.body == manifest_bytes);
  CHECK(client.get("/v2/full/app/blobs/" + sha256Digest(layer)).body == layer);

  // Cancelling the upload gives the space back; the same PUT then succeeds.
  CHECK(client.request("DELETE", filler_path).status == 204);
  CHECK(putManifest(client, "full/app", "v1", manifest.dump(),
                    "application/vnd.oci.image.manifest.v1+json")
            .status == 201);
}
