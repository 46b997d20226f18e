// verify (registry/verify.*) on stores built with the real ManifestStore/BlobStore, against
// MemoryDriver and FilesystemDriver: a clean store has no finding; a flipped byte in a blob, a
// dangling `_layers` link and a truncated manifest planted by the test are each found; with
// repair exactly those (and the links the removal leaves dangling) are removed.

#include "backend/registry/verify.h"

#include <stdlib.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <filesystem>
#include <memory>
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

json descriptorOf(std::string_view media_type, std::string_view content) {
  return json{
      {"mediaType", media_type}, {"digest", Digest::of(content).str()}, {"size", content.size()}};
}

std::string image(std::string_view config, const std::vector<std::string>& layers) {
  json doc{{"schemaVersion", 2},
           {"mediaType", "application/vnd.oci.image.manifest.v1+json"},
           {"config", descriptorOf("application/vnd.oci.image.config.v1+json", config)},
           {"layers", json::array()}};
  for (const auto& layer : layers) {
    doc["layers"].push_back(descriptorOf("application/vnd.oci.image.layer.v1.tar+gzip", layer));
  }
  return doc.dump();
}

std::string index(const std::vector<std::string>& children) {
  json doc{{"schemaVersion", 2},
           {"mediaType", "application/vnd.oci.image.index.v1+json"},
           {"manifests", json::array()}};
  for (const auto& child : children) {
    doc["manifests"].push_back(descriptorOf("application/vnd.oci.image.manifest.v1+json", child));
  }
  return doc.dump();
}

struct Store {
  explicit Store(bool on_disk) : dir(on_disk ? scratchDir() : ""), owned(open(dir)) {}
  static std::string scratchDir() {
    std::string templ = (std::filesystem::temp_directory_path() / "portico-verify-XXXXXX").string();
    REQUIRE(mkdtemp(templ.data()) != nullptr);
    return templ;
  }
  static std::unique_ptr<storage::StorageDriver> open(const std::string& dir) {
    if (dir.empty()) return std::make_unique<storage::MemoryDriver>();
    return std::make_unique<storage::FilesystemDriver>(dir);
  }
  ~Store() {
    if (!dir.empty()) std::filesystem::remove_all(dir);
  }

  void blob(std::string_view repo, std::string_view content) {
    REQUIRE(blobs.put(*Repository::parse(repo), content));
  }
  Digest push(std::string_view repo, std::string_view body, std::string_view tag) {
    auto put = manifests.put(*Repository::parse(repo), *Reference::parse(tag), "", body);
    INFO((put ? std::string() : std::string(put.error().message())));
    REQUIRE(put);
    return Digest::of(body);
  }
  // Overwrites a blob's data in place (bit rot, a half-copied migration).
  void plant(const Digest& digest, std::string_view content) {
    REQUIRE(driver.putContent(layout::blobData(digest), content));
  }
  bool exists(const std::string& path) { return static_cast<bool>(driver.stat(path)); }

  VerifyReport verify(bool repair) {
    output.clear();
    VerifyOptions options;
    options.repair = repair;
    options.threads = 3;
    options.emit = [this](std::string_view line) { output.emplace_back(line); };
    auto report = verifyStore(driver, options);
    INFO((report ? std::string() : std::string(report.error().message())));
    REQUIRE(report);
    return *report;
  }
  // Every line but the summary.
  std::vector<std::string> findings() const {
    return std::vector<std::string>(output.begin(), output.end() - 1);
  }

  std::string dir;
  std::unique_ptr<storage::StorageDriver> owned;
  storage::StorageDriver& driver = *owned;
  TagStore tags{driver};
  ManifestStore manifests{driver, tags};
  BlobStore blobs{driver, BlobStore::LinkSet::Layers};
  std::vector<std::string> output;
};

// A store with two images, one of them behind an index, in two repositories.
void populate(Store& s) {
  for (const auto* content : {"config-a", "layer-1", "layer-2"}) s.blob("app", content);
  for (const auto* content : {"config-b", "layer-1", "layer-3"}) s.blob("tools/cli", content);
  const std::string a = image("config-a", {"layer-1", "layer-2"});
  s.push("app", a, Digest::of(a).str());
  s.push("app", index({a}), "latest");
  s.push("tools/cli", image("config-b", {"layer-1", "layer-3"}), "v1");
}

}  // namespace

TEST_CASE("verify finds nothing wrong in a clean store and says what it checked", "[verify]") {
  Store s(GENERATE(false, true));
  populate(s);
  VerifyReport report = s.verify(false);
  INFO(json(s.output).dump(1));
  CHECK(report.problems == 0);
  CHECK(report.blobs == 8);  // 5 distinct blobs + 3 manifests
  CHECK(report.repositories == 2);
  CHECK(report.manifests == 3);
  CHECK(report.tags == 2);
  CHECK(report.links == 9);  // 3 + 3 layer links, 2 + 1 revisions
  REQUIRE(s.output.size() == 1);
  CHECK(s.output.back().starts_with("verified 8 blobs ("));
  CHECK(s.output.back().ends_with(" 0 problems"));
}

TEST_CASE(
    "verify finds a flipped byte, a dangling link and a truncated manifest; --repair "
    "removes only those",
    "[verify]") {
  Store s(GENERATE(false, true));
  populate(s);
  // A flipped byte in a layer only app uses.
  std::string rotten = "layer-2";
  rotten[3] ^= 0x01;
  s.plant(Digest::of("layer-2"), rotten);
  // A dangling link: tools/cli links a blob whose data is gone.
  s.blob("tools/cli", "lost");
  REQUIRE(s.driver.remove(layout::blobDir(Digest::of("lost"))));
  // A truncated manifest: tools/cli:v1's bytes cut in half.
  const std::string cli = image("config-b", {"layer-1", "layer-3"});
  s.plant(Digest::of(cli), cli.substr(0, cli.size() / 2));

  const std::string layer2 = Digest::of("layer-2").str();
  const std::string lost = Digest::of("lost").str();
  const std::string manifest = Digest::of(cli).str();

  VerifyReport report = s.verify(false);
  INFO(json(s.output).dump(1));
  const std::vector<std::string> expected = {
      "blob " + layer2 + ": content does not match its digest (hashes to " +
          Digest::of(rotten).str() + ")",
      "blob " + manifest + ": content does not match its digest (hashes to " +
          Digest::of(cli.substr(0, cli.size() / 2)).str() + ")",
      "tools/cli: layer link " + lost + ": no blob data",
      "tools/cli: manifest " + manifest + ": does not parse: ",
  };
  std::vector<std::string> findings = s.findings();
  CHECK(report.problems == 4);
  REQUIRE(findings.size() == 4);
  // Blob findings come first, in digest order.
  std::vector<std::string> blob_lines(findings.begin(), findings.begin() + 2);
  std::vector<std::string> blob_expected(expected.begin(), expected.begin() + 2);
  std::sort(blob_expected.begin(), blob_expected.end());
  CHECK(blob_lines == blob_expected);
  CHECK(findings[2] == expected[2]);
  CHECK(findings[3].starts_with(expected[3]));
  CHECK(s.output.back().ends_with(": 4 problems"));
  // Without --repair nothing changed.
  CHECK(*s.driver.getContent(layout::blobData(Digest::of("layer-2"))) == rotten);
  CHECK(s.exists(layout::layerLink("tools/cli", Digest::of("lost"))));

  report = s.verify(true);
  INFO(json(s.output).dump(1));
  std::vector<std::string> removed;
  for (const auto& line : s.output) {
    if (line.starts_with("removed ")) removed.push_back(line);
  }
  std::sort(removed.begin(), removed.end());
  std::vector<std::string> removed_expected = {
      "removed app: layer link " + layer2,  // dangling once its rotten data went
      "removed blob " + layer2,
      "removed blob " + manifest,
      "removed tools/cli: layer link " + lost,
  };
  // The truncated manifest's revision link dangles too once its data is removed.
  removed_expected.push_back("removed tools/cli: manifest revision " + manifest);
  std::sort(removed_expected.begin(), removed_expected.end());
  CHECK(report.removed == removed_expected.size());
  CHECK(removed == removed_expected);
  // The broken things are gone; everything else is untouched.
  CHECK_FALSE(s.exists(layout::blobData(Digest::of("layer-2"))));
  CHECK_FALSE(s.exists(layout::blobData(Digest::of(cli))));
  CHECK_FALSE(s.exists(layout::layerLink("tools/cli", Digest::of("lost"))));
  for (const auto* content : {"config-a", "layer-1", "config-b", "layer-3"}) {
    CHECK(*s.driver.getContent(layout::blobData(Digest::of(content))) == content);
  }
  CHECK(s.exists(layout::layerLink("app", Digest::of("layer-1"))));
  CHECK(s.exists(layout::layerLink("tools/cli", Digest::of("layer-3"))));
  CHECK(s.manifests.get(*Repository::parse("app"), *Reference::parse("latest")));
  CHECK(s.exists(layout::tagCurrentLink("tools/cli", "v1")));  // tags are the user's

  // Afterwards: what repair must not decide about remains reported (app's image lost a layer;
  // the tag names a manifest that is gone), and nothing more is removed.
  report = s.verify(true);
  INFO(json(s.output).dump(1));
  CHECK(report.removed == 0);
  findings = s.findings();
  std::vector<std::string> remaining = {
      "app: manifest " + Digest::of(image("config-a", {"layer-1", "layer-2"})).str() +
          ": references blob " + layer2 + " that is not linked in the repository",
      "tools/cli: tag v1: points at " + manifest + ", which is not a revision",
  };
  CHECK(findings == remaining);
}

TEST_CASE("verify reports a tag without a revision and an index child that is not a revision",
          "[verify]") {
  Store s(GENERATE(false, true));
  populate(s);
  const std::string a = image("config-a", {"layer-1", "layer-2"});
  REQUIRE(s.driver.remove(layout::manifestRevisionDir("app", Digest::of(a))));
  REQUIRE(s.driver.putContent(layout::tagCurrentLink("app", "broken"), "not a digest"));
  VerifyReport report = s.verify(true);
  INFO(json(s.output).dump(1));
  CHECK(report.removed == 0);
  CHECK(s.findings() ==
        std::vector<std::string>{
            "app: manifest " + Digest::of(index({a})).str() + ": references manifest " +
                Digest::of(a).str() + " that is not a revision",
            "app: tag broken: current link is not a digest",
        });
}

TEST_CASE("verify hashes a blob larger than its read buffer to the end", "[verify]") {
  Store s(GENERATE(false, true));
  std::string big(2 * 1024 * 1024 + 12345, 'b');
  for (size_t i = 0; i < big.size(); i += 4099) big[i] = static_cast<char>('a' + i % 26);
  s.blob("app", big);
  CHECK(s.verify(false).problems == 0);
  std::string rotten = big;
  rotten.back() ^= 0x01;  // the last byte, in the third 1 MiB read
  s.plant(Digest::of(big), rotten);
  VerifyReport report = s.verify(false);
  CHECK(report.problems == 1);
  CHECK(report.bytes == big.size());
  CHECK(s.output.front() == "blob " + Digest::of(big).str() +
                                ": content does not match its digest (hashes to " +
                                Digest::of(rotten).str() + ")");
}
