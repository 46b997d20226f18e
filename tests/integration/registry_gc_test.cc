// Online garbage collection (storage.maintenance.gc) against concurrent pushes: the real
// registry collects every second with a one-second delay while two clients push new images
// that reuse old, unreferenced layers (HEAD, upload only what is missing, PUT the manifest,
// retry a push whose manifest PUT is refused) and delete every other image. Afterwards every
// kept image pulls back byte for byte, and once the pushes stop nothing unreferenced remains
// (portico's and distribution's garbage-collect --dry-run both find nothing to delete).

#include <atomic>
#include <catch2/catch.hpp>
#include <mutex>
#include <regex>
#include <thread>

#include "tests/integration/registry_harness.h"

using namespace portico::testing;
using nlohmann::json;

namespace {

struct Pushed {
  std::string tag;
  std::string manifest;
  std::vector<std::string> blobs;
};

const char* kDockerManifest = "application/vnd.docker.distribution.manifest.v2+json";

std::string manifestOf(const std::vector<std::string>& blobs) {
  json layers = json::array();
  for (size_t i = 1; i < blobs.size(); ++i) {
    layers.push_back(descriptor("application/vnd.docker.image.rootfs.diff.tar.gzip", blobs[i]));
  }
  return json{{"schemaVersion", 2},
              {"mediaType", kDockerManifest},
              {"config", descriptor("application/vnd.docker.container.image.v1+json", blobs[0])},
              {"layers", layers}}
      .dump();
}

// docker's push: HEAD each blob, upload the missing ones, PUT the manifest. A manifest refused
// with MANIFEST_BLOB_UNKNOWN (a blob collected between the HEAD and the PUT) is pushed again.
// Returns false if it never succeeded.
bool push(HttpClient& client, const std::string& repo, const std::string& tag,
          const std::vector<std::string>& blobs) {
  const std::string manifest = manifestOf(blobs);
  for (int attempt = 0; attempt < 20; ++attempt) {
    for (const auto& blob : blobs) {
      auto head = client.request("HEAD", "/v2/" + repo + "/blobs/" + sha256Digest(blob));
      if (head.status != 200) pushBlob(client, repo, blob);
    }
    auto put = putManifest(client, repo, tag, manifest, kDockerManifest);
    if (put.status == 201) return true;
    if (errorCode(put) != "MANIFEST_BLOB_UNKNOWN") {
      throw std::runtime_error("PUT manifest: " + std::to_string(put.status) + put.body);
    }
  }
  return false;
}

// Waits until the registry logged `count` more completed collections after `from`; returns
// the output offset after the last one.
size_t waitForCollections(ServerProcess& process, int count, size_t from) {
  const std::string line = "garbage collection: marked";
  for (int i = 0; i < count; ++i) {
    REQUIRE(process.waitForOutput(line, std::chrono::seconds(120), from));
    from = process.output().find(line, from) + line.size();
  }
  return from;
}

}  // namespace

TEST_CASE("online gc never breaks an image pushed while it runs, and leaves nothing behind",
          "[gc][online][slow]") {
  RegistrySetup setup;
  setup.access_log = false;
  setup.env = {{"REGISTRY_STORAGE_MAINTENANCE_GC_ENABLED", "true"},
               {"REGISTRY_STORAGE_MAINTENANCE_GC_INTERVAL", "1s"},
               {"REGISTRY_STORAGE_MAINTENANCE_GC_DELAY", "1s"},
               // As registry:2's shipped config: the blob HEADs below go through the descriptor
               // cache, which the collection must invalidate before a candidate can be lost.
               {"REGISTRY_STORAGE_CACHE_BLOBDESCRIPTOR", "inmemory"}};
  RegistryServer registry(setup);
  const std::string repo = "gc/app";

  // Old layers: pushed, referenced by an image that is then deleted.
  std::vector<std::string> pool;
  {
    auto client = registry.client();
    for (int i = 0; i < 6; ++i)
      pool.push_back("old layer " + std::to_string(i) + std::string(4000, 'o'));
    std::vector<std::string> seed = {"{\"seed\":true}"};
    seed.insert(seed.end(), pool.begin(), pool.end());
    REQUIRE(push(client, repo, "seed", seed));
    auto del =
        client.request("DELETE", "/v2/" + repo + "/manifests/" + sha256Digest(manifestOf(seed)));
    REQUIRE(del.status == 202);
  }

  std::atomic<bool> stop{false};
  std::mutex mutex;
  std::vector<Pushed> kept;
  std::atomic<int> failed_pushes{0};
  auto pusher = [&](int id) {
    auto client = registry.client();
    for (int i = 0; !stop && i < 100000; ++i) {
      Pushed image;
      image.tag = "p" + std::to_string(id) + "-" + std::to_string(i);
      image.blobs = {"{\"pusher\":" + std::to_string(id) + ",\"n\":" + std::to_string(i) + "}",
                     pool[static_cast<size_t>(i + id) % pool.size()],
                     "new layer " + image.tag + std::string(2000, 'n')};
      if (!push(client, repo, image.tag, image.blobs)) {
        ++failed_pushes;
        continue;
      }
      image.manifest = manifestOf(image.blobs);
      if (i % 2 == 1) {
        // Every other image is deleted again: its layers become unreferenced, to be reused.
        client.request("DELETE", "/v2/" + repo + "/manifests/" + sha256Digest(image.manifest));
        continue;
      }
      std::lock_guard lock(mutex);
      kept.push_back(std::move(image));
    }
  };
  std::thread first(pusher, 0), second(pusher, 1);
  size_t offset = 0;
  try {
    offset = waitForCollections(registry.process(), 8, 0);
  } catch (...) {
    stop = true;
    first.join();
    second.join();
    throw;
  }
  stop = true;
  first.join();
  second.join();
  INFO(registry.process().output().substr(0, 4000));
  CHECK(failed_pushes == 0);
  REQUIRE(kept.size() > 10);
  // Collections did delete while the pushes ran (else this test shows nothing).
  std::smatch deleted;
  const std::string log = registry.process().output();
  CHECK(std::regex_search(log, deleted, std::regex("deleted [1-9][0-9]* blobs")));

  auto client = registry.client();
  size_t broken = 0;
  for (const auto& image : kept) {
    auto manifest =
        client.get("/v2/" + repo + "/manifests/" + image.tag, {{"Accept", kDockerManifest}});
    bool ok = manifest.status == 200 && manifest.body == image.manifest;
    for (const auto& blob : image.blobs) {
      auto r = client.get("/v2/" + repo + "/blobs/" + sha256Digest(blob));
      ok = ok && r.status == 200 && r.body == blob;
    }
    if (!ok) {
      ++broken;
      UNSCOPED_INFO("broken: " << image.tag);
    }
  }
  CHECK(broken == 0);
  INFO(kept.size() << " images kept");

  // Pushes stopped: two more collections (each starts at least an interval > delay after the
  // previous) leave nothing unreferenced.
  waitForCollections(registry.process(), 3, offset);
  registry.process().stop();
  const std::string config = registry.dir().file("config.yml");
  auto [status, output] = runCommand(registryBinary() + " garbage-collect --dry-run " + config);
  INFO(output);
  CHECK(status == 0);
  CHECK(output.find(" 0 blobs and 0 manifests eligible for deletion") != std::string::npos);
  if (runCommand("test -x /usr/bin/docker-registry").first == 0) {
    auto [their_status, their_output] =
        runCommand("/usr/bin/docker-registry garbage-collect --dry-run " + config);
    INFO(their_output);
    CHECK(their_output.find(" 0 blobs and 0 manifests eligible for deletion") != std::string::npos);
  }
}
