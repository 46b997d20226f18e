// Garbage collection (registry/gc.*) on stores built with the real ManifestStore/BlobStore,
// against MemoryDriver and FilesystemDriver: what is marked, what is swept (blobs, stale
// `_layers` links, removed manifests' revision and tag-index links), --dry-run, and
// --delete-untagged with index children, referrers and schema1; the online grace rules, with
// the race they exist for made deterministic: a manifest PUT held by a gating driver between its
// reference check and its first write while a collection marks and sweeps.
//
// To see that race test fail without the grace rules, run it with PORTICO_TEST_GC_NO_GRACE=1:
// the collection then runs as offline (no cutoff, no settle, no re-mark, no final link check)
// and deletes a layer the held manifest references.

#include "backend/registry/gc.h"

#include <stdlib.h>

#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <mutex>
#include <thread>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "backend/registry/blob_store.h"
#include "backend/registry/manifest_store.h"
#include "backend/registry/tag_store.h"
#include "backend/storage/filesystem_driver.h"
#include "backend/storage/layout.h"
#include "backend/storage/memory_driver.h"

using namespace portico;
using namespace portico::registry;
using crypto::Digest;
using nlohmann::json;
namespace layout = storage::layout;

namespace {

// A decorator that holds the first call on a path containing `needle` (set with holdOn) until
// release(): the test then knows exactly which step of a store operation is in flight.
class GatingDriver : public storage::StorageDriver {
 public:
  explicit GatingDriver(std::unique_ptr<storage::StorageDriver> inner) : inner_(std::move(inner)) {}

  void holdOn(std::string needle) {
    std::lock_guard lock(mutex_);
    needle_ = std::move(needle);
  }
  // Waits until a call is held.
  void waitUntilHeld() {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [this] { return state_ == State::Held; });
  }
  void release() {
    std::lock_guard lock(mutex_);
    state_ = State::Released;
    changed_.notify_all();
  }

  std::string_view name() const override { return inner_->name(); }
  Result<std::string> getContent(std::string_view path) override {
    gate(path);
    return inner_->getContent(path);
  }
  Result<void> putContent(std::string_view path, std::string_view data) override {
    gate(path);
    return inner_->putContent(path, data);
  }
  Result<std::unique_ptr<storage::FileReader>> reader(std::string_view path,
                                                      uint64_t offset) override {
    gate(path);
    return inner_->reader(path, offset);
  }
  Result<std::unique_ptr<storage::FileWriter>> writer(std::string_view path, bool append) override {
    gate(path);
    return inner_->writer(path, append);
  }
  Result<storage::FileInfo> stat(std::string_view path) override {
    gate(path);
    return inner_->stat(path);
  }
  Result<std::vector<std::string>> list(std::string_view path) override {
    gate(path);
    return inner_->list(path);
  }
  Result<std::vector<storage::DirEntry>> listEntries(std::string_view path) override {
    gate(path);
    return inner_->listEntries(path);
  }
  Result<void> move(std::string_view src, std::string_view dst) override {
    gate(src);
    return inner_->move(src, dst);
  }
  Result<void> remove(std::string_view path) override {
    gate(path);
    return inner_->remove(path);
  }
  Result<void> walk(std::string_view path, const storage::WalkCallback& callback) override {
    gate(path);
    return inner_->walk(path, callback);
  }

 private:
  enum class State { Armed, Held, Released };
  void gate(std::string_view path) {
    std::unique_lock lock(mutex_);
    if (state_ == State::Released || needle_.empty() ||
        path.find(needle_) == std::string_view::npos) {
      return;
    }
    state_ = State::Held;
    changed_.notify_all();
    changed_.wait(lock, [this] { return state_ == State::Released; });
  }

  std::unique_ptr<storage::StorageDriver> inner_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::string needle_;
  State state_ = State::Armed;
};

struct TestDriver {
  explicit TestDriver(bool on_disk, bool gated = false) {
    if (on_disk) {
      std::string templ = (std::filesystem::temp_directory_path() / "portico-gc-XXXXXX").string();
      REQUIRE(mkdtemp(templ.data()) != nullptr);
      dir = templ;
      driver = std::make_unique<storage::FilesystemDriver>(dir);
    } else {
      driver = std::make_unique<storage::MemoryDriver>();
    }
    if (gated) {
      auto wrapped = std::make_unique<GatingDriver>(std::move(driver));
      gate = wrapped.get();
      driver = std::move(wrapped);
    }
  }
  ~TestDriver() {
    if (!dir.empty()) std::filesystem::remove_all(dir);
  }
  std::string dir;
  std::unique_ptr<storage::StorageDriver> driver;
  GatingDriver* gate = nullptr;  // when gated
};

json descriptorOf(std::string_view media_type, std::string_view content) {
  return json{
      {"mediaType", media_type}, {"digest", Digest::of(content).str()}, {"size", content.size()}};
}

std::string ociImage(std::string_view config, const std::vector<std::string>& layers,
                     std::optional<std::string> subject = std::nullopt) {
  json doc{{"schemaVersion", 2},
           {"mediaType", "application/vnd.oci.image.manifest.v1+json"},
           {"config", descriptorOf("application/vnd.oci.image.config.v1+json", config)},
           {"layers", json::array()}};
  for (const auto& layer : layers) {
    doc["layers"].push_back(descriptorOf("application/vnd.oci.image.layer.v1.tar+gzip", layer));
  }
  if (subject)
    doc["subject"] = descriptorOf("application/vnd.oci.image.manifest.v1+json", *subject);
  return doc.dump();
}

std::string dockerImage(std::string_view config, const std::vector<std::string>& layers) {
  json doc{{"schemaVersion", 2},
           {"mediaType", "application/vnd.docker.distribution.manifest.v2+json"},
           {"config", descriptorOf("application/vnd.docker.container.image.v1+json", config)},
           {"layers", json::array()}};
  for (const auto& layer : layers) {
    doc["layers"].push_back(
        descriptorOf("application/vnd.docker.image.rootfs.diff.tar.gzip", layer));
  }
  return doc.dump();
}

std::string ociIndex(const std::vector<std::string>& children) {
  json doc{{"schemaVersion", 2},
           {"mediaType", "application/vnd.oci.image.index.v1+json"},
           {"manifests", json::array()}};
  for (const auto& child : children) {
    doc["manifests"].push_back(descriptorOf("application/vnd.oci.image.manifest.v1+json", child));
  }
  return doc.dump();
}

std::string schema1(std::string_view layer) {
  return "{\n   \"schemaVersion\": 1,\n   \"name\": \"app\",\n   \"tag\": \"old\",\n"
         "   \"architecture\": \"amd64\",\n   \"fsLayers\": [\n      {\n         \"blobSum\": \"" +
         Digest::of(layer).str() +
         "\"\n      }\n   ],\n   \"history\": [\n      {\n         \"v1Compatibility\": \"{}\"\n"
         "      }\n   ]\n}";
}

struct Store {
  explicit Store(bool on_disk, bool gated = false)
      : test_driver(on_disk, gated),
        driver(*test_driver.driver),
        tags(driver),
        manifests(driver, tags),
        blobs(driver, BlobStore::LinkSet::Layers) {}

  void blob(std::string_view repo, std::string_view content) {
    REQUIRE(blobs.put(*Repository::parse(repo), content));
  }
  // Pushes the image's blobs and the manifest (by tag when `tag` is not empty, else by digest).
  Digest push(std::string_view repo, std::string_view body, std::string_view tag = "",
              std::string_view media_type = "") {
    const auto name = *Repository::parse(repo);
    Digest digest = Digest::of(body);
    auto reference = *Reference::parse(tag.empty() ? digest.str() : std::string(tag));
    auto put = manifests.put(name, reference, media_type, body);
    INFO((put ? std::string()
              : std::string(put.error().message()) + " " + std::string(put.error().detail())));
    REQUIRE(put);
    return digest;
  }
  bool hasBlob(std::string_view content) {
    return static_cast<bool>(driver.stat(layout::blobData(Digest::of(content))));
  }
  bool hasBlobDigest(const Digest& digest) {
    return static_cast<bool>(driver.stat(layout::blobData(digest)));
  }
  bool hasLayerLink(std::string_view repo, std::string_view content) {
    return static_cast<bool>(driver.stat(layout::layerLink(repo, Digest::of(content))));
  }
  bool hasRevision(std::string_view repo, const Digest& digest) {
    return static_cast<bool>(driver.stat(layout::manifestRevisionLink(repo, digest)));
  }

  GcReport collect(GcOptions options) {
    options.emit = [this](std::string_view line) { output.emplace_back(line); };
    auto report = collectGarbage(driver, options);
    INFO((report ? std::string() : std::string(report.error().message())));
    REQUIRE(report);
    return *report;
  }
  bool printed(std::string_view line) const {
    return std::find(output.begin(), output.end(), line) != output.end();
  }

  TestDriver test_driver;
  storage::StorageDriver& driver;
  TagStore tags;
  ManifestStore manifests;
  BlobStore blobs;
  std::vector<std::string> output;
};

}  // namespace

TEST_CASE("blobs no manifest references are swept with their _layers links; referenced ones stay",
          "[gc]") {
  Store s(GENERATE(false, true));
  s.blob("app", "config");
  s.blob("app", "layer-a");
  s.blob("app", "orphan");  // pushed, never referenced
  const Digest image = s.push("app", ociImage("config", {"layer-a"}), "v1");

  GcReport report = s.collect({});
  CHECK(report.blobs_eligible == 1);
  CHECK(report.blobs_deleted == 1);
  CHECK(report.bytes_freed == 6);
  CHECK(report.layer_links_deleted == 1);
  CHECK(report.marked == 3);  // manifest, config, layer
  CHECK_FALSE(s.hasBlob("orphan"));
  CHECK_FALSE(s.hasLayerLink("app", "orphan"));  // distribution 2.8 leaves this link behind
  CHECK(s.hasBlob("config"));
  CHECK(s.hasBlob("layer-a"));
  CHECK(s.hasBlobDigest(image));
  CHECK(s.hasLayerLink("app", "layer-a"));
  CHECK(s.manifests.get(*Repository::parse("app"), *Reference::parse("v1")));

  // distribution's output lines.
  CHECK(s.printed("app"));
  CHECK(s.printed("app: marking manifest " + image.str() + " "));
  CHECK(s.printed("app: marking blob " + Digest::of("layer-a").str()));
  CHECK(s.printed("3 blobs marked, 1 blobs and 0 manifests eligible for deletion"));
  CHECK(s.printed("blob eligible for deletion: " + Digest::of("orphan").str()));
  CHECK(s.printed("app: layer link eligible for deletion: " + Digest::of("orphan").str()));
}

TEST_CASE("--dry-run lists what it would delete and deletes nothing", "[gc]") {
  Store s(GENERATE(false, true));
  s.blob("app", "orphan");
  s.blob("app", "config");
  s.push("app", dockerImage("config", {}), "v1");
  GcOptions options;
  options.dry_run = true;
  options.delete_untagged = true;
  GcReport report = s.collect(options);
  CHECK(report.blobs_eligible == 1);
  CHECK(report.blobs_deleted == 0);
  CHECK(report.eligible_blobs == std::vector<Digest>{Digest::of("orphan")});
  CHECK(s.hasBlob("orphan"));
  CHECK(s.hasLayerLink("app", "orphan"));
}

TEST_CASE("a deleted manifest's blobs are collected unless another repository's manifest uses them",
          "[gc]") {
  Store s(GENERATE(false, true));
  for (const char* repo : {"a", "b"}) {
    s.blob(repo, "config");
    s.blob(repo, "shared");
  }
  s.blob("a", "only-a");
  const Digest gone = s.push("a", dockerImage("config", {"shared", "only-a"}), "v1");
  s.push("b", dockerImage("config", {"shared"}), "v1");
  REQUIRE(s.manifests.remove(*Repository::parse("a"), gone));

  GcReport report = s.collect({});
  CHECK_FALSE(s.hasBlobDigest(gone));  // the manifest's own blob
  CHECK_FALSE(s.hasBlob("only-a"));
  CHECK(s.hasBlob("shared"));
  CHECK(s.hasBlob("config"));
  // a's links to blobs that only b's manifest keeps alive stay (distribution 3 does the same):
  // a global blob is swept, a link only when its blob is.
  CHECK(s.hasLayerLink("a", "shared"));
  CHECK_FALSE(s.hasLayerLink("a", "only-a"));
  CHECK(report.blobs_deleted == 2);
}

TEST_CASE("--delete-untagged removes untagged manifests with their revision and tag-index links",
          "[gc]") {
  Store s(GENERATE(false, true));
  s.blob("app", "config");
  s.blob("app", "old-layer");
  s.blob("app", "new-layer");
  const Digest old_image = s.push("app", ociImage("config", {"old-layer"}), "latest");
  const Digest new_image = s.push("app", ociImage("config", {"new-layer"}), "latest");

  SECTION("without the flag every revision is kept") {
    GcReport report = s.collect({});
    CHECK(report.blobs_eligible == 0);
    CHECK(s.hasRevision("app", old_image));
  }
  SECTION("with it the untagged revision goes") {
    GcOptions options;
    options.delete_untagged = true;
    GcReport report = s.collect(options);
    CHECK(report.manifests_eligible == 1);
    CHECK(report.manifests_deleted == 1);
    CHECK(s.printed("manifest eligible for deletion: " + old_image.str()));
    CHECK_FALSE(s.hasRevision("app", old_image));
    CHECK_FALSE(s.driver.stat(layout::tagIndexEntryLink("app", "latest", old_image)));
    CHECK(s.driver.stat(layout::tagIndexEntryLink("app", "latest", new_image)));
    CHECK_FALSE(s.hasBlobDigest(old_image));
    CHECK_FALSE(s.hasBlob("old-layer"));
    CHECK_FALSE(s.hasLayerLink("app", "old-layer"));
    CHECK(s.hasBlob("new-layer"));
    CHECK(s.hasBlob("config"));
    CHECK(s.manifests.get(*Repository::parse("app"), *Reference::parse("latest")));
  }
}

TEST_CASE("--delete-untagged keeps the untagged children of a tagged index (distribution #3178)",
          "[gc]") {
  Store s(GENERATE(false, true));
  s.blob("multi", "config-amd64");
  s.blob("multi", "layer-amd64");
  s.blob("multi", "config-arm64");
  s.blob("multi", "layer-arm64");
  const std::string amd64 = ociImage("config-amd64", {"layer-amd64"});
  const std::string arm64 = ociImage("config-arm64", {"layer-arm64"});
  const Digest amd64_digest = s.push("multi", amd64);  // children pushed by digest: untagged
  const Digest arm64_digest = s.push("multi", arm64);
  const Digest index = s.push("multi", ociIndex({amd64, arm64}), "v1");

  GcOptions options;
  options.delete_untagged = true;
  GcReport report = s.collect(options);
  CHECK(report.manifests_eligible == 0);
  CHECK(report.blobs_eligible == 0);
  for (const auto& digest : {amd64_digest, arm64_digest, index}) {
    CHECK(s.hasRevision("multi", digest));
    CHECK(s.hasBlobDigest(digest));
  }
  for (const char* content : {"config-amd64", "layer-amd64", "config-arm64", "layer-arm64"}) {
    CHECK(s.hasBlob(content));
  }

  SECTION("once the index's tag is gone, the index and its children go too") {
    REQUIRE(s.tags.untag(*Repository::parse("multi"), *Tag::parse("v1")));
    s.output.clear();
    report = s.collect(options);
    CHECK(report.manifests_deleted == 3);
    CHECK(report.blobs_deleted == 7);
    CHECK_FALSE(s.hasBlob("layer-arm64"));
  }
}

TEST_CASE("--delete-untagged keeps referrers of a live manifest (OCI 1.1 subject)", "[gc]") {
  Store s(GENERATE(false, true));
  s.blob("app", "config");
  s.blob("app", "layer");
  s.blob("app", "sig-config");
  s.blob("app", "signature");
  const std::string image = ociImage("config", {"layer"});
  const Digest image_digest = s.push("app", image, "v1");
  const std::string referrer = ociImage("sig-config", {"signature"}, image);
  const Digest referrer_digest = s.push("app", referrer);
  // A referrer of a referrer is kept too.
  s.blob("app", "attestation");
  const Digest nested = s.push("app", ociImage("sig-config", {"attestation"}, referrer));

  GcOptions options;
  options.delete_untagged = true;
  GcReport report = s.collect(options);
  CHECK(report.manifests_eligible == 0);
  CHECK(report.blobs_eligible == 0);
  CHECK(s.hasRevision("app", referrer_digest));
  CHECK(s.hasRevision("app", nested));
  CHECK(s.hasBlob("signature"));
  CHECK(s.hasBlob("attestation"));

  SECTION("a referrer whose subject was deleted goes") {
    REQUIRE(s.manifests.remove(*Repository::parse("app"), image_digest));
    report = s.collect(options);
    CHECK(report.manifests_deleted == 2);
    CHECK_FALSE(s.hasBlob("signature"));
    CHECK_FALSE(s.hasBlob("attestation"));
    CHECK_FALSE(s.hasRevision("app", nested));
  }
}

TEST_CASE("schema1 manifests mark their fsLayers", "[gc]") {
  Store s(GENERATE(false, true));
  s.blob("app", "layer-s1");
  s.blob("app", "orphan");
  const std::string body = schema1("layer-s1");
  const Digest digest =
      s.push("app", body, "old", "application/vnd.docker.distribution.manifest.v1+json");
  GcReport report = s.collect({});
  CHECK(report.blobs_deleted == 1);
  CHECK(s.hasBlob("layer-s1"));
  CHECK(s.hasBlobDigest(digest));
  CHECK_FALSE(s.hasBlob("orphan"));
}

TEST_CASE("a stored manifest that does not parse stops the run before anything is deleted",
          "[gc]") {
  Store s(GENERATE(false, true));
  s.blob("app", "config");
  s.blob("app", "orphan");
  const Digest digest = s.push("app", dockerImage("config", {}), "v1");
  REQUIRE(s.driver.putContent(layout::blobData(digest), "{\"schemaVersion\": 2, \"medi"));
  auto report = collectGarbage(s.driver, {});
  CHECK_FALSE(report);
  CHECK(s.hasBlob("orphan"));  // nothing swept: the truncated manifest may have referenced it
}

TEST_CASE("online: nothing younger than the grace cutoff is deleted", "[gc][online]") {
  Store s(GENERATE(false, true));
  s.blob("app", "orphan");
  GcOptions options;
  options.grace =
      GcGrace{std::chrono::system_clock::now() - std::chrono::hours(1), [] { return true; }};
  GcReport report = s.collect(options);
  CHECK(report.blobs_eligible == 0);
  CHECK(s.hasBlob("orphan"));
  CHECK(s.hasLayerLink("app", "orphan"));

  options.grace->keep_newer_than = std::chrono::system_clock::now() + std::chrono::hours(1);
  report = s.collect(options);
  CHECK(report.blobs_deleted == 1);
  CHECK_FALSE(s.hasBlob("orphan"));
  CHECK_FALSE(s.hasLayerLink("app", "orphan"));
}

TEST_CASE("online: a manifest pushed during the settle period rescues its blobs and links",
          "[gc][online]") {
  Store s(GENERATE(false, true));
  s.blob("app", "config");
  s.blob("app", "reused");
  // The manifest that referenced them was deleted: both are unreferenced and old.
  const Digest gone = s.push("app", dockerImage("config", {"reused"}), "v1");
  REQUIRE(s.manifests.remove(*Repository::parse("app"), gone));

  int settles = 0;
  GcOptions options;
  options.grace =
      GcGrace{std::chrono::system_clock::now() + std::chrono::hours(1), [&] {
                if (++settles == 1) {
                  // A push that passed its reference check before the links were
                  // removed writes its revision link now (simulated by writing the
                  // links it checked and the manifest, as a concurrent PUT would).
                  REQUIRE(s.driver.putContent(layout::layerLink("app", Digest::of("config")),
                                              Digest::of("config").str()));
                  REQUIRE(s.driver.putContent(layout::layerLink("app", Digest::of("reused")),
                                              Digest::of("reused").str()));
                  s.push("app", dockerImage("config", {"reused"}), "v2");
                }
                return true;
              }};
  GcReport report = s.collect(options);
  CHECK(report.rescued >= 2);
  CHECK(s.hasBlob("reused"));
  CHECK(s.hasBlob("config"));
  CHECK(s.hasLayerLink("app", "reused"));
  CHECK(s.manifests.get(*Repository::parse("app"), *Reference::parse("v2")));
}

TEST_CASE(
    "online: a manifest PUT held between its reference check and its write while a "
    "collection marks and sweeps keeps every blob it references",
    "[gc][online][race]") {
  Store s(GENERATE(false, true), true);
  const auto app = *Repository::parse("app");
  // Old layers, unreferenced: the image that used them was deleted.
  s.blob("app", "config");
  s.blob("app", "reused");
  s.blob("app", "other");
  const Digest old_image = s.push("app", dockerImage("config", {"reused", "other"}), "v1");
  REQUIRE(s.manifests.remove(app, old_image));

  // A new image reusing two of them. Its PUT finds them linked (the check passes), then is
  // held at its first write, where a slow client or storage would be.
  const std::string body = dockerImage("config", {"reused"});
  const Digest digest = Digest::of(body);
  s.test_driver.gate->holdOn(std::string(digest.hex()));
  Result<PutManifestResult> put = Error(ErrorCode::Internal, "not run");
  std::thread pusher([&] { put = s.manifests.put(app, *Reference::parse("v2"), "", body); });
  s.test_driver.gate->waitUntilHeld();

  const bool without_grace = std::getenv("PORTICO_TEST_GC_NO_GRACE") != nullptr;
  GcOptions options;
  int settles = 0;
  if (!without_grace) {
    // Everything above is older than the cutoff: the grace period itself protects nothing
    // here; the order of the sweep and the settle do. The held PUT finishes within the first
    // settle period, as the settle period assumes of a PUT in flight.
    options.grace = GcGrace{std::chrono::system_clock::now() + std::chrono::hours(1), [&] {
                              if (++settles == 1) {
                                s.test_driver.gate->release();
                                pusher.join();
                              }
                              return true;
                            }};
  }
  GcReport report = s.collect(options);
  if (without_grace) {
    s.test_driver.gate->release();
    pusher.join();
  }
  INFO((put ? std::string() : std::string(put.error().message())));
  REQUIRE(put);
  // The collection did sweep (else this shows nothing): the deleted image's manifest and the
  // layer no manifest uses went.
  CHECK(report.blobs_deleted == 2);
  CHECK_FALSE(s.hasBlob("other"));
  CHECK_FALSE(s.hasBlobDigest(old_image));
  // The new image is whole: its manifest byte for byte, its blobs' data and links.
  auto got = s.manifests.get(app, *Reference::parse("v2"));
  REQUIRE(got);
  CHECK(got->bytes == body);
  for (const auto* blob : {"config", "reused"}) {
    INFO(blob);
    CHECK(s.hasBlob(blob));
    CHECK(s.hasLayerLink("app", blob));
    auto data = s.driver.getContent(layout::blobData(Digest::of(blob)));
    CHECK((data && *data == blob));
  }
}

TEST_CASE("online: an upload committed while the data is set aside keeps the blob",
          "[gc][online]") {
  Store s(GENERATE(false, true));
  s.blob("app", "layer");
  REQUIRE(s.blobs.remove(*Repository::parse("app"), Digest::of("layer")));
  int settles = 0;
  GcOptions options;
  options.grace =
      GcGrace{std::chrono::system_clock::now() + std::chrono::hours(1), [&] {
                // Second settle: the data is set aside. A commit that found it
                // just before writes only its link.
                if (++settles == 2) {
                  REQUIRE(s.driver.putContent(layout::layerLink("other", Digest::of("layer")),
                                              Digest::of("layer").str()));
                }
                return true;
              }};
  GcReport report = s.collect(options);
  CHECK(settles == 2);
  CHECK(report.blobs_deleted == 0);
  CHECK(report.rescued == 1);
  CHECK(s.hasBlob("layer"));
  CHECK(*s.driver.getContent(layout::blobData(Digest::of("layer"))) == "layer");
}

TEST_CASE("online: an abandoned run puts back every link and blob it set aside", "[gc][online]") {
  Store s(GENERATE(false, true));
  s.blob("app", "orphan");
  int settles = 0;
  GcOptions options;
  options.grace = GcGrace{std::chrono::system_clock::now() + std::chrono::hours(1),
                          [&] { return ++settles < 2; }};
  GcReport report = s.collect(options);
  CHECK(report.blobs_deleted == 0);
  CHECK(s.hasBlob("orphan"));
  CHECK(s.hasLayerLink("app", "orphan"));
}

TEST_CASE("one collection at a time per store", "[gc]") {
  TestDriver driver(GENERATE(false, true));
  auto first = GcLock::tryAcquire(*driver.driver);
  REQUIRE(first);
  REQUIRE(*first);
  auto second = GcLock::tryAcquire(*driver.driver);
  REQUIRE(second);
  CHECK_FALSE(*second);
  first->reset();
  auto third = GcLock::tryAcquire(*driver.driver);
  REQUIRE(third);
  CHECK(*third);
}
