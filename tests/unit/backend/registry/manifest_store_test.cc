// ManifestStore and TagStore on distribution's layout, against MemoryDriver and
// FilesystemDriver (temp dir): references must exist, digests must match, tags follow
// distribution's semantics.

#include "backend/registry/manifest_store.h"

#include <stdlib.h>

#include <filesystem>
#include <memory>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "backend/registry/blob_store.h"
#include "backend/registry/error_code.h"
#include "backend/storage/filesystem_driver.h"
#include "backend/storage/layout.h"
#include "backend/storage/memory_driver.h"

using namespace portico;
using namespace portico::registry;
using crypto::Digest;
using nlohmann::json;
namespace layout = storage::layout;

namespace {

// A driver for the test: in memory, or on disk under a fresh temp directory (removed after).
struct TestDriver {
  explicit TestDriver(bool on_disk) {
    if (on_disk) {
      std::string templ = (std::filesystem::temp_directory_path() / "portico-ms-XXXXXX").string();
      REQUIRE(mkdtemp(templ.data()) != nullptr);
      dir = templ;
      driver = std::make_unique<storage::FilesystemDriver>(dir);
    } else {
      driver = std::make_unique<storage::MemoryDriver>();
    }
  }
  ~TestDriver() {
    if (!dir.empty()) std::filesystem::remove_all(dir);
  }
  std::string dir;
  std::unique_ptr<storage::StorageDriver> driver;
};

Repository repoNamed(std::string_view name) {
  return *Repository::parse(name);
}
Reference refOf(std::string_view text) {
  return *Reference::parse(text);
}

json descriptorOf(std::string_view media_type, std::string_view content) {
  return json{
      {"mediaType", media_type}, {"digest", Digest::of(content).str()}, {"size", content.size()}};
}

std::string imageManifest(std::string_view config, std::string_view layer) {
  return json{
      {"schemaVersion", 2},
      {"mediaType", "application/vnd.oci.image.manifest.v1+json"},
      {"config", descriptorOf("application/vnd.oci.image.config.v1+json", config)},
      {"layers", json::array({descriptorOf("application/vnd.oci.image.layer.v1.tar+gzip", layer)})}}
      .dump();
}

struct Fixture {
  explicit Fixture(bool on_disk)
      : test_driver(on_disk),
        driver(*test_driver.driver),
        tags(driver),
        store(driver, tags),
        blobs(driver, BlobStore::LinkSet::Layers) {}

  // Pushes the blobs that imageManifest(config, layer) references into `repo` and returns
  // that manifest.
  std::string pushImageBlobs(const Repository& repo, std::string_view config,
                             std::string_view layer) {
    REQUIRE(blobs.put(repo, config));
    REQUIRE(blobs.put(repo, layer));
    return imageManifest(config, layer);
  }

  TestDriver test_driver;
  storage::StorageDriver& driver;
  TagStore tags;
  ManifestStore store;
  BlobStore blobs;
};

constexpr std::string_view kOci = "application/vnd.oci.image.manifest.v1+json";

}  // namespace

TEST_CASE("a manifest put by tag is stored as a blob, a revision link and tag links",
          "[manifest_store]") {
  Fixture f(GENERATE(false, true));
  const auto repo = repoNamed("library/app");
  const std::string body = f.pushImageBlobs(repo, "config", "layer");
  const Digest digest = Digest::of(body);

  auto put = f.store.put(repo, refOf("v1"), kOci, body);
  REQUIRE(put);
  CHECK(put->digest == digest);
  CHECK_FALSE(put->subject);

  // Distribution's files, byte for byte.
  CHECK(*f.driver.getContent(layout::blobData(digest)) == body);
  CHECK(*f.driver.getContent(layout::manifestRevisionLink(repo.str(), digest)) == digest.str());
  CHECK(*f.driver.getContent(layout::tagCurrentLink(repo.str(), "v1")) == digest.str());
  CHECK(*f.driver.getContent(layout::tagIndexEntryLink(repo.str(), "v1", digest)) == digest.str());

  for (const auto& reference : {std::string("v1"), digest.str()}) {
    auto got = f.store.get(repo, refOf(reference));
    REQUIRE(got);
    CHECK(got->bytes == body);
    CHECK(got->digest == digest);
    CHECK(got->media_type == kOci);
    auto info = f.store.stat(repo, refOf(reference));
    REQUIRE(info);
    CHECK(info->size == body.size());
  }
}

TEST_CASE("a manifest put by a sha512 digest is stored and linked under that digest",
          "[manifest_store]") {
  Fixture f(GENERATE(false, true));
  const auto repo = repoNamed("app");
  const std::string body = f.pushImageBlobs(repo, "config", "layer");
  const Digest digest = Digest::of(body, portico::crypto::DigestAlgorithm::Sha512);

  auto put = f.store.put(repo, refOf(digest.str()), kOci, body);
  REQUIRE(put);
  CHECK(put->digest == digest);
  CHECK(*f.driver.getContent(layout::blobData(digest)) == body);
  CHECK(*f.driver.getContent(layout::manifestRevisionLink(repo.str(), digest)) == digest.str());
  CHECK(f.store.exists(repo, digest));
  CHECK_FALSE(f.store.exists(repo, Digest::of(body)));
  CHECK(f.store.get(repo, refOf(digest.str()))->bytes == body);
}

TEST_CASE("a revision whose blob data is gone is MANIFEST_UNKNOWN with the digest as detail",
          "[manifest_store]") {
  Fixture f(GENERATE(false, true));
  const auto repo = repoNamed("app");
  const std::string body = f.pushImageBlobs(repo, "config", "layer");
  auto put = f.store.put(repo, refOf("v1"), kOci, body);
  REQUIRE(put);
  REQUIRE(f.driver.remove(layout::blobDir(put->digest)));  // collected by a GC
  CHECK_FALSE(f.store.exists(repo, put->digest));
  for (const auto& reference : {std::string("v1"), put->digest.str()}) {
    auto got = f.store.get(repo, refOf(reference));
    REQUIRE_FALSE(got);
    CHECK(got.error().is(ErrorCode::ManifestUnknown));
    CHECK(got.error().detail() == put->digest.str());
  }
  auto removed = f.store.remove(repo, put->digest);
  REQUIRE_FALSE(removed);
  CHECK(removed.error().is(ErrorCode::ManifestUnknown));
  CHECK(removed.error().detail() == put->digest.str());
}

TEST_CASE("a manifest whose blob is not in the repository is MANIFEST_BLOB_UNKNOWN",
          "[manifest_store]") {
  Fixture f(false);
  const auto repo = repoNamed("app");
  const auto other = repoNamed("other");
  // The layer exists, but only in another repository: links are per repository.
  REQUIRE(f.blobs.put(repo, "config"));
  REQUIRE(f.blobs.put(other, "layer"));
  auto put = f.store.put(repo, refOf("latest"), kOci, imageManifest("config", "layer"));
  REQUIRE_FALSE(put);
  CHECK(put.error().is(ErrorCode::ManifestBlobUnknown));
  CHECK(put.error().detail() == Digest::of("layer").str());
  // Nothing was stored or tagged.
  CHECK_FALSE(f.store.get(repo, refOf("latest")));
  CHECK_FALSE(f.store.exists(repo, Digest::of(imageManifest("config", "layer"))));
}

TEST_CASE("a foreign layer with urls need not be in the registry", "[manifest_store]") {
  Fixture f(false);
  const auto repo = repoNamed("windows");
  REQUIRE(f.blobs.put(repo, "config"));
  json foreign = descriptorOf("application/vnd.docker.image.rootfs.foreign.diff.tar.gzip", "x");
  foreign["urls"] = {"https://example.com/layer"};
  const std::string body = json{
      {"schemaVersion", 2},
      {"mediaType", "application/vnd.docker.distribution.manifest.v2+json"},
      {"config", descriptorOf("application/vnd.docker.container.image.v1+json", "config")},
      {"layers",
       json::array({foreign})}}.dump();
  auto put = f.store.put(repo, refOf("ltsc"),
                         "application/vnd.docker.distribution.manifest.v2+json", body);
  REQUIRE(put);
}

TEST_CASE("a put by digest must match the content's digest (DIGEST_INVALID)", "[manifest_store]") {
  Fixture f(false);
  const auto repo = repoNamed("app");
  const std::string body = f.pushImageBlobs(repo, "config", "layer");
  auto wrong = f.store.put(repo, refOf(Digest::of("something else").str()), kOci, body);
  REQUIRE_FALSE(wrong);
  CHECK(wrong.error().is(ErrorCode::DigestInvalid));

  auto right = f.store.put(repo, refOf(Digest::of(body).str()), kOci, body);
  REQUIRE(right);
  // A put by digest creates no tag.
  auto tags = f.tags.list(repo);
  CHECK((!tags || tags->empty()));
}

TEST_CASE("an invalid manifest is MANIFEST_INVALID and stores nothing", "[manifest_store]") {
  Fixture f(false);
  const auto repo = repoNamed("app");
  auto put = f.store.put(repo, refOf("x"), kOci, "{\"schemaVersion\":2}");
  REQUIRE_FALSE(put);
  CHECK(put.error().is(ErrorCode::ManifestInvalid));
  CHECK_FALSE(f.driver.stat(layout::manifestsDir(repo.str())));
}

TEST_CASE("an index needs its child manifests in the same repository", "[manifest_store]") {
  Fixture f(GENERATE(false, true));
  const auto repo = repoNamed("multi");
  const std::string child = f.pushImageBlobs(repo, "config", "layer");
  const std::string index = json{{"schemaVersion", 2},
                                 {"mediaType", "application/vnd.oci.image.index.v1+json"},
                                 {"manifests", json::array({descriptorOf(kOci, child)})}}
                                .dump();

  auto early = f.store.put(repo, refOf("latest"), "application/vnd.oci.image.index.v1+json", index);
  REQUIRE_FALSE(early);
  CHECK(early.error().is(ErrorCode::ManifestBlobUnknown));
  CHECK(early.error().detail() == Digest::of(child).str());

  REQUIRE(f.store.put(repo, refOf(Digest::of(child).str()), kOci, child));
  auto put = f.store.put(repo, refOf("latest"), "application/vnd.oci.image.index.v1+json", index);
  REQUIRE(put);
  auto got = f.store.get(repo, refOf("latest"));
  REQUIRE(got);
  CHECK(got->media_type == "application/vnd.oci.image.index.v1+json");
}

TEST_CASE("an OCI manifest stored without mediaType is served as OCI manifest",
          "[manifest_store]") {
  Fixture f(false);
  const auto repo = repoNamed("app");
  json doc = json::parse(f.pushImageBlobs(repo, "config", "layer"));
  doc.erase("mediaType");
  REQUIRE(f.store.put(repo, refOf("bare"), kOci, doc.dump()));
  auto got = f.store.get(repo, refOf("bare"));
  REQUIRE(got);
  CHECK(got->media_type == kOci);
}

TEST_CASE("tags: retag, resolve, sorted list, untag keeps the manifest", "[tag_store]") {
  Fixture f(GENERATE(false, true));
  const auto repo = repoNamed("app");
  const std::string one = f.pushImageBlobs(repo, "config", "layer");
  const std::string two = f.pushImageBlobs(repo, "config2", "layer2");
  REQUIRE(f.store.put(repo, refOf("b"), kOci, one));
  REQUIRE(f.store.put(repo, refOf("a"), kOci, one));
  REQUIRE(f.store.put(repo, refOf("C"), kOci, two));

  CHECK(*f.tags.list(repo) == std::vector<std::string>{"C", "a", "b"});
  CHECK(*f.tags.resolve(repo, *Tag::parse("C")) == Digest::of(two));

  // Retagging moves current and adds an index entry; the old entry stays (distribution).
  REQUIRE(f.store.put(repo, refOf("b"), kOci, two));
  CHECK(*f.tags.resolve(repo, *Tag::parse("b")) == Digest::of(two));
  CHECK(f.driver.stat(layout::tagIndexEntryLink(repo.str(), "b", Digest::of(one))));

  REQUIRE(f.tags.untag(repo, *Tag::parse("b")));
  CHECK(*f.tags.list(repo) == std::vector<std::string>{"C", "a"});
  auto gone = f.store.get(repo, refOf("b"));
  REQUIRE_FALSE(gone);
  CHECK(gone.error().is(ErrorCode::ManifestUnknown));
  CHECK(f.store.get(repo, refOf(Digest::of(two).str())));

  auto again = f.tags.untag(repo, *Tag::parse("b"));
  REQUIRE_FALSE(again);
  CHECK(again.error().is(ErrorCode::ManifestUnknown));
}

TEST_CASE("listing the tags of an unknown repository is NAME_UNKNOWN", "[tag_store]") {
  Fixture f(false);
  auto tags = f.tags.list(repoNamed("nope"));
  REQUIRE_FALSE(tags);
  CHECK(tags.error().is(ErrorCode::NameUnknown));
}

TEST_CASE("deleting a manifest removes its revision and every tag pointing at it",
          "[manifest_store]") {
  Fixture f(GENERATE(false, true));
  const auto repo = repoNamed("app");
  const std::string one = f.pushImageBlobs(repo, "config", "layer");
  const std::string two = f.pushImageBlobs(repo, "config2", "layer2");
  REQUIRE(f.store.put(repo, refOf("v1"), kOci, one));
  REQUIRE(f.store.put(repo, refOf("latest"), kOci, one));
  REQUIRE(f.store.put(repo, refOf("v2"), kOci, two));

  REQUIRE(f.store.remove(repo, Digest::of(one)));
  CHECK(*f.tags.list(repo) == std::vector<std::string>{"v2"});
  auto by_digest = f.store.get(repo, refOf(Digest::of(one).str()));
  REQUIRE_FALSE(by_digest);
  CHECK(by_digest.error().is(ErrorCode::ManifestUnknown));
  CHECK_FALSE(f.driver.stat(layout::manifestRevisionLink(repo.str(), Digest::of(one))));
  // The blob data stays for the garbage collector, as in distribution.
  CHECK(f.driver.stat(layout::blobData(Digest::of(one))));

  auto twice = f.store.remove(repo, Digest::of(one));
  REQUIRE_FALSE(twice);
  CHECK(twice.error().is(ErrorCode::ManifestUnknown));
}

TEST_CASE("a manifest of another repository is unknown here", "[manifest_store]") {
  Fixture f(false);
  const auto repo = repoNamed("app");
  const std::string body = f.pushImageBlobs(repo, "config", "layer");
  REQUIRE(f.store.put(repo, refOf("v1"), kOci, body));
  auto elsewhere = f.store.get(repoNamed("other"), refOf(Digest::of(body).str()));
  REQUIRE_FALSE(elsewhere);
  CHECK(elsewhere.error().is(ErrorCode::ManifestUnknown));
}

TEST_CASE("signed schema1 is stored as its payload and served with its signatures",
          "[manifest_store][schema1]") {
  Fixture f(GENERATE(false, true));
  const auto repo = repoNamed("library/hello");
  REQUIRE(f.blobs.put(repo, "layer-a"));
  const std::string payload =
      "{\n   \"schemaVersion\": 1,\n   \"name\": \"library/hello\",\n"
      "   \"tag\": \"latest\",\n   \"fsLayers\": [\n      {\n"
      "         \"blobSum\": \"" +
      Digest::of("layer-a").str() +
      "\"\n      }\n   ],\n   \"history\": [\n      {\n"
      "         \"v1Compatibility\": \"{}\"\n      }\n   ]\n}";
  // formatLength: up to "]" of history; formatTail "\n}" is "Cn0" in base64url.
  const size_t format_length = payload.size() - 2;
  const std::string protected_header =
      json{{"formatLength", format_length}, {"formatTail", "Cn0"}}.dump();
  // base64url of the protected header, computed with the parser's counterpart below.
  std::string encoded;
  {
    static constexpr char kAlphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    uint32_t acc = 0;
    int bits = 0;
    for (unsigned char c : protected_header) {
      acc = (acc << 8) | c;
      bits += 8;
      while (bits >= 6) encoded.push_back(kAlphabet[(acc >> (bits -= 6)) & 0x3f]);
    }
    if (bits > 0) encoded.push_back(kAlphabet[(acc << (6 - bits)) & 0x3f]);
  }
  const std::string signed_body = payload.substr(0, format_length) +
                                  ",\n   \"signatures\": [\n      {\"header\": {\"alg\": "
                                  "\"ES256\"}, \"signature\": \"c2ln\", \"protected\": \"" +
                                  encoded + "\"}\n   ]\n}";

  auto put = f.store.put(repo, refOf("latest"),
                         "application/vnd.docker.distribution.manifest.v1+prettyjws", signed_body);
  REQUIRE(put);
  CHECK(put->digest == Digest::of(payload));
  // The revision blob is the payload: its content hashes to its digest, and distribution 2.8
  // (which stores the payload and re-signs it) reads it the same way.
  CHECK(*f.driver.getContent(layout::blobData(Digest::of(payload))) == payload);

  auto got = f.store.get(repo, refOf("latest"));
  REQUIRE(got);
  CHECK(got->digest == Digest::of(payload));
  CHECK(got->media_type == "application/vnd.docker.distribution.manifest.v1+prettyjws");
  CHECK(got->bytes == signed_body);

  // Pushing it by digest: the digest is the payload's.
  REQUIRE(f.store.put(repo, refOf(Digest::of(payload).str()),
                      "application/vnd.docker.distribution.manifest.v1+prettyjws", signed_body));

  SECTION("without the signed copy, the payload is served unsigned") {
    REQUIRE(f.driver.remove(layout::blobData(Digest::of(signed_body))));
    auto unsigned_copy = f.store.get(repo, refOf("latest"));
    REQUIRE(unsigned_copy);
    CHECK(unsigned_copy->media_type == "application/vnd.docker.distribution.manifest.v1+json");
    CHECK(unsigned_copy->bytes == payload);
  }
  SECTION("a missing fsLayer is MANIFEST_BLOB_UNKNOWN") {
    auto elsewhere =
        f.store.put(repoNamed("library/other"), refOf("latest"),
                    "application/vnd.docker.distribution.manifest.v1+prettyjws", signed_body);
    REQUIRE_FALSE(elsewhere);
    CHECK(elsewhere.error().is(ErrorCode::ManifestBlobUnknown));
  }
}
