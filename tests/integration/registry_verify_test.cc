// `portico-registry verify [--repair] CONFIG` against a store the real registry wrote: exit 0
// and one summary line on a clean store; a flipped byte in a layer, a dangling `_layers` link
// and a truncated manifest planted on disk are each reported (exit 1); --repair removes those
// and says so, and leaves every intact image pulling back byte for byte.

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

#include "tests/integration/registry_harness.h"

using namespace portico::testing;

namespace {

std::string hexOf(const std::string& content) {
  return sha256Digest(content).substr(7);
}

std::string blobData(const std::string& root, const std::string& content) {
  const std::string hex = hexOf(content);
  return root + "/docker/registry/v2/blobs/sha256/" + hex.substr(0, 2) + "/" + hex + "/data";
}

void overwrite(const std::string& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
  REQUIRE(out.good());
}

size_t countLines(const std::string& text, const std::string& needle) {
  size_t count = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1))
    ++count;
  return count;
}

}  // namespace

TEST_CASE("verify: a clean store exits 0; planted damage is reported and --repair removes only it",
          "[verify]") {
  RegistryServer registry;
  const std::string kOci = "application/vnd.oci.image.manifest.v1+json";
  const std::string good_layer = "good layer " + std::string(3000, 'g');
  const std::string rotten_layer = "rotten layer " + std::string(3000, 'r');
  std::string good_manifest, cut_manifest;
  {
    auto client = registry.client();
    good_manifest = imageManifest(client, "lib/good", {good_layer}).dump();
    REQUIRE(putManifest(client, "lib/good", "v1", good_manifest, kOci).status == 201);
    auto rotten = imageManifest(client, "lib/rotten", {rotten_layer}, false, "{\"r\":1}").dump();
    REQUIRE(putManifest(client, "lib/rotten", "v1", rotten, kOci).status == 201);
    cut_manifest = imageManifest(client, "lib/cut", {"cut layer"}, false, "{\"c\":1}").dump();
    REQUIRE(putManifest(client, "lib/cut", sha256Digest(cut_manifest), cut_manifest, kOci).status ==
            201);
    pushBlob(client, "lib/good", "lost blob");
  }
  registry.process().stop();
  const std::string root = registry.root();
  const std::string config = registry.dir().file("config.yml");
  const std::string verify = registryBinary() + " verify " + config;

  auto [clean_status, clean] = runCommand(verify);
  INFO(clean);
  CHECK(clean_status == 0);
  CHECK(countLines(clean, "\n") == 1);
  CHECK(clean.find(": 0 problems\n") != std::string::npos);

  std::string rotten_bytes = rotten_layer;
  rotten_bytes[100] ^= 0x20;
  overwrite(blobData(root, rotten_layer), rotten_bytes);
  std::filesystem::remove_all(std::filesystem::path(blobData(root, "lost blob")).parent_path());
  overwrite(blobData(root, cut_manifest), cut_manifest.substr(0, cut_manifest.size() - 20));

  auto [found_status, found] = runCommand(verify);
  INFO(found);
  CHECK(found_status == 1);
  CHECK(found.find("blob " + sha256Digest(rotten_layer) + ": content does not match") !=
        std::string::npos);
  CHECK(found.find("blob " + sha256Digest(cut_manifest) + ": content does not match") !=
        std::string::npos);
  CHECK(found.find("lib/good: layer link " + sha256Digest("lost blob") + ": no blob data\n") !=
        std::string::npos);
  CHECK(found.find("lib/cut: manifest " + sha256Digest(cut_manifest) + ": does not parse") !=
        std::string::npos);
  CHECK(found.find(": 4 problems\n") != std::string::npos);
  CHECK(countLines(found, "removed ") == 0);
  CHECK(std::filesystem::exists(blobData(root, rotten_layer)));

  auto [repair_status, repaired] = runCommand(registryBinary() + " verify --repair " + config);
  INFO(repaired);
  CHECK(repair_status == 1);  // problems were found (and repaired)
  CHECK(repaired.find("removed blob " + sha256Digest(rotten_layer) + "\n") != std::string::npos);
  CHECK(repaired.find("removed blob " + sha256Digest(cut_manifest) + "\n") != std::string::npos);
  CHECK(repaired.find("removed lib/good: layer link " + sha256Digest("lost blob") + "\n") !=
        std::string::npos);
  CHECK(repaired.find("removed lib/rotten: layer link " + sha256Digest(rotten_layer) + "\n") !=
        std::string::npos);
  CHECK(repaired.find("removed lib/cut: manifest revision " + sha256Digest(cut_manifest) + "\n") !=
        std::string::npos);
  CHECK(countLines(repaired, "removed ") == 5);
  CHECK(repaired.find(", 5 removed\n") != std::string::npos);

  // What remains is reported (lib/rotten:v1 lost a layer: push it again), nothing more removed.
  auto [after_status, after] = runCommand(registryBinary() + " verify --repair " + config);
  INFO(after);
  CHECK(after_status == 1);
  CHECK(after.find(": 1 problems, 0 removed\n") != std::string::npos);
  CHECK(after.find("lib/rotten: manifest ") != std::string::npos);

  // The intact image pulls back byte for byte.
  registry.start();
  auto client = registry.client();
  auto manifest = client.get("/v2/lib/good/manifests/v1", {{"Accept", kOci}});
  CHECK(manifest.status == 200);
  CHECK(manifest.body == good_manifest);
  auto layer = client.get("/v2/lib/good/blobs/" + sha256Digest(good_layer));
  CHECK(layer.status == 200);
  CHECK(layer.body == good_layer);
}

TEST_CASE("verify: usage errors exit 2", "[verify]") {
  CHECK(runCommand(registryBinary() + " verify").first == 2);
  CHECK(runCommand(registryBinary() + " verify --fix x.yml").first == 2);
  auto [status, help] = runCommand(registryBinary() + " --help");
  CHECK(status == 0);
  CHECK(help.find("verify [--repair] CONFIG") != std::string::npos);
}
