// One writer per upload (ARCHITECTURE.md, Storage, "Crash safety"): a PATCH or PUT on an upload
// whose body another request is still writing is refused, a commit never moves a file another
// request can still write, and no blob ever sits under a digest its bytes do not have — within
// one registry, across two registry processes on one storage root, and through portico-proxy.
// Each race is made deterministic by holding the first request's body open on a raw socket.

#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <optional>
#include <stdexcept>
#include <string>

#include "tests/integration/proxy_harness.h"
#include "tests/integration/registry_harness.h"

using namespace portico::testing;

namespace {

std::string blobDataPath(const std::string& root, const std::string& digest) {
  std::string hex = digest.substr(7);
  return root + "/docker/registry/v2/blobs/sha256/" + hex.substr(0, 2) + "/" + hex + "/data";
}

// Starts an upload and returns its path (/v2/<repo>/blobs/uploads/<uuid>).
std::string startUpload(HttpClient& client, const std::string& repo) {
  auto r = client.request("POST", "/v2/" + repo + "/blobs/uploads/");
  if (r.status != 202) throw std::runtime_error("start upload: " + std::to_string(r.status));
  return locationPath(r);
}

// Sends a request head announcing `length` body bytes and the first part of the body, and
// leaves the rest for later: the request is in flight on the server.
void sendHeld(HttpClient& client, const std::string& method, const std::string& target,
              size_t length, const std::string& first_part) {
  client.sendRaw(method + " " + target + " HTTP/1.1\r\nHost: registry\r\n" +
                 "Content-Type: application/octet-stream\r\nContent-Length: " +
                 std::to_string(length) + "\r\n\r\n" + first_part);
}

// Waits until the upload's status reports `size` bytes: the held request's first part is in
// the upload's file (the event the race needs), not merely sent.
void waitForUploadSize(HttpClient& client, const std::string& path, uint64_t size) {
  const std::string want = "0-" + std::to_string(size - 1);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  for (;;) {
    auto r = client.get(path);
    if (r.status == 204 && r.headers.get("Range") == want) return;
    if (std::chrono::steady_clock::now() > deadline) {
      throw std::runtime_error("upload never reached " + want + " (status " +
                               std::to_string(r.status) + ", Range " + r.headers.get("Range") +
                               ")");
    }
  }
}

// A request on an upload that another request is writing is refused as the spec allows.
bool refusedAsBusy(const Response& r) {
  return (r.status == 416 && errorCode(r) == "RANGE_INVALID") ||
         (r.status == 404 && errorCode(r) == "BLOB_UPLOAD_INVALID");
}

// The exact race of the security issue, against `writer` (holds the PATCH) and `committer`
// (sends the PUT), which may be one registry, two on one root, or a proxy in front.
void checkCommitDuringPatchIsRefused(HttpClient& writer, HttpClient& committer,
                                     HttpClient& other_repo) {
  const std::string half(1000, 'A');
  const std::string whole(2000, 'A');
  const std::string path = startUpload(committer, "victim/app");

  sendHeld(writer, "PATCH", path, 2000, half);
  waitForUploadSize(committer, path, 1000);

  auto put = committer.request("PUT", path + "?digest=" + sha256Digest(half), {}, "");
  INFO(put.status << " " << put.body);
  CHECK(refusedAsBusy(put));  // the upload has a writer: no commit of a moving file

  writer.sendRaw(whole.substr(1000));
  auto patch = writer.readResponse("PATCH");
  CHECK(patch.status == 202);  // the PATCH that was refused nothing completes normally
  CHECK(patch.headers.get("Range") == "0-1999");

  // Nothing was stored under the digest of the first half.
  CHECK(committer.get("/v2/victim/app/blobs/" + sha256Digest(half)).status == 404);

  // The upload is intact and commits under the digest of what it holds.
  auto commit = committer.request("PUT", path + "?digest=" + sha256Digest(whole), {}, "");
  CHECK(commit.status == 201);
  auto got = committer.get("/v2/victim/app/blobs/" + sha256Digest(whole));
  CHECK(got.status == 200);
  CHECK(got.bodyDigest() == sha256Digest(whole));

  // An honest push of the first half from another repository serves the right bytes.
  CHECK(pushBlob(other_repo, "honest/app", half) == sha256Digest(half));
  auto honest = other_repo.get("/v2/honest/app/blobs/" + sha256Digest(half));
  CHECK(honest.status == 200);
  CHECK(honest.body == half);
}

}  // namespace

TEST_CASE("a PUT ?digest= while a PATCH still sends its body is refused and stores nothing",
          "[registry][upload][race]") {
  RegistryServer registry;
  HttpClient writer(registry.process().endpoint());
  HttpClient committer(registry.process().endpoint());
  HttpClient other(registry.process().endpoint());
  checkCommitDuringPatchIsRefused(writer, committer, other);
}

TEST_CASE("a PATCH while another PATCH of the same upload is in flight is refused",
          "[registry][upload][race]") {
  RegistryServer registry;
  HttpClient first(registry.process().endpoint());
  HttpClient second(registry.process().endpoint());
  const std::string path = startUpload(second, "race/patch");
  sendHeld(first, "PATCH", path, 2000, std::string(1000, 'A'));
  waitForUploadSize(second, path, 1000);

  auto interleaved = second.request("PATCH", path, {}, std::string(10, 'B'));
  INFO(interleaved.status << " " << interleaved.body);
  CHECK(refusedAsBusy(interleaved));  // its bytes must not land in the middle of the first's

  first.sendRaw(std::string(1000, 'A'));
  auto patch = first.readResponse("PATCH");
  CHECK(patch.status == 202);
  CHECK(patch.headers.get("Range") == "0-1999");
  auto commit =
      second.request("PUT", path + "?digest=" + sha256Digest(std::string(2000, 'A')), {}, "");
  CHECK(commit.status == 201);
}

TEST_CASE("a DELETE while a PATCH is in flight cancels the upload and the PATCH learns it",
          "[registry][upload][race]") {
  RegistryServer registry;
  HttpClient writer(registry.process().endpoint());
  HttpClient other(registry.process().endpoint());
  const std::string path = startUpload(other, "race/delete");
  sendHeld(writer, "PATCH", path, 2000, std::string(1000, 'A'));
  waitForUploadSize(other, path, 1000);

  CHECK(other.request("DELETE", path).status == 204);
  writer.sendRaw(std::string(1000, 'A'));
  auto patch = writer.readResponse("PATCH");
  INFO(patch.body);
  CHECK(patch.status == 404);  // not 202: the upload it wrote to is gone
  CHECK(errorCode(patch) == "BLOB_UPLOAD_UNKNOWN");

  const std::string digest = sha256Digest(std::string(2000, 'A'));
  auto commit = other.request("PUT", path + "?digest=" + digest, {}, "");
  CHECK(commit.status == 404);
  CHECK_FALSE(std::filesystem::exists(blobDataPath(registry.root(), digest)));
}

TEST_CASE("a PUT while another PUT's final chunk is in flight is refused",
          "[registry][upload][race]") {
  RegistryServer registry;
  HttpClient first(registry.process().endpoint());
  HttpClient second(registry.process().endpoint());
  const std::string whole(2000, 'A');
  const std::string path = startUpload(second, "race/put");
  sendHeld(first, "PUT", path + "?digest=" + sha256Digest(whole), 2000, whole.substr(0, 1000));
  waitForUploadSize(second, path, 1000);

  auto early =
      second.request("PUT", path + "?digest=" + sha256Digest(whole.substr(0, 1000)), {}, "");
  INFO(early.status << " " << early.body);
  CHECK(refusedAsBusy(early));

  first.sendRaw(whole.substr(1000));
  auto put = first.readResponse("PUT");
  CHECK(put.status == 201);
  CHECK(put.headers.get("Docker-Content-Digest") == sha256Digest(whole));
  CHECK(sha256Digest(readFile(blobDataPath(registry.root(), sha256Digest(whole)))) ==
        sha256Digest(whole));
  CHECK_FALSE(
      std::filesystem::exists(blobDataPath(registry.root(), sha256Digest(whole.substr(0, 1000)))));
}

TEST_CASE("two registry processes on one storage root keep one writer per upload",
          "[registry][upload][race]") {
  RegistryServer a;
  RegistrySetup setup;
  setup.shared_root = a.root();
  RegistryServer b(setup);
  HttpClient writer(a.process().endpoint());
  HttpClient committer(b.process().endpoint());
  HttpClient other(b.process().endpoint());
  checkCommitDuringPatchIsRefused(writer, committer, other);

  // And a PATCH on one process while the other holds the upload is refused too.
  const std::string path = startUpload(committer, "race/two");
  sendHeld(writer, "PATCH", path, 20, std::string(10, 'x'));
  waitForUploadSize(committer, path, 10);
  auto interleaved = committer.request("PATCH", path, {}, "yy");
  INFO(interleaved.status << " " << interleaved.body);
  CHECK(refusedAsBusy(interleaved));
  writer.sendRaw(std::string(10, 'x'));
  CHECK(writer.readResponse("PATCH").status == 202);
}

TEST_CASE("through portico-proxy, a PUT during a PATCH is refused and stores nothing",
          "[registry][upload][race][proxy]") {
  RegistryServer registry;
  RunningProxy proxy;
  ProxySetup setup;
  setup.v2 = {registry.hostPort()};
  startProxy(proxy, setup);
  HttpClient writer(proxy->endpoint());
  HttpClient committer(proxy->endpoint());
  HttpClient other(proxy->endpoint());
  checkCommitDuringPatchIsRefused(writer, committer, other);
}

TEST_CASE("a re-push replaces a blob whose bytes are not its digest's",
          "[registry][upload][race]") {
  RegistryServer registry;
  auto client = registry.client();
  const std::string good(1000, 'A');
  const std::string digest = sha256Digest(good);
  // What the old race left behind: other bytes under the digest.
  const std::string path = blobDataPath(registry.root(), digest);
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  { std::ofstream(path) << std::string(2000, 'A'); }

  CHECK(pushBlob(client, "heal/app", good) == digest);
  auto got = client.get("/v2/heal/app/blobs/" + digest);
  CHECK(got.status == 200);
  CHECK(got.body == good);
}
