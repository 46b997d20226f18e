// Layout paths against the path specs documented in distribution's registry/storage/paths.go
// (the specification of the shared on-disk format), and the link/startedat file formats.

#include "backend/storage/layout.h"

#include <catch2/catch.hpp>
#include <chrono>
#include <string>

namespace layout = portico::storage::layout;
using portico::crypto::Digest;
using portico::crypto::DigestAlgorithm;

namespace {

const std::string kHex = "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824";
const std::string kRepos = "/docker/registry/v2/repositories";

Digest sha256() {
  return *Digest::parse("sha256:" + kHex);
}

}  // namespace

TEST_CASE("blob paths are blobs/<algorithm>/<first two hex>/<hex>/data", "[layout]") {
  CHECK(layout::root() == "/docker/registry/v2");
  CHECK(layout::blobsRoot() == "/docker/registry/v2/blobs");
  CHECK(layout::blobDir(sha256()) == "/docker/registry/v2/blobs/sha256/2c/" + kHex);
  CHECK(layout::blobData(sha256()) == "/docker/registry/v2/blobs/sha256/2c/" + kHex + "/data");
  const std::string hex512(128, 'f');
  CHECK(layout::blobData(*Digest::parse("sha512:" + hex512)) ==
        "/docker/registry/v2/blobs/sha512/ff/" + hex512 + "/data");
}

TEST_CASE("layer links are repositories/<name>/_layers/<algorithm>/<hex>/link", "[layout]") {
  CHECK(layout::repositoriesRoot() == kRepos);
  CHECK(layout::repositoryDir("library/ubuntu") == kRepos + "/library/ubuntu");
  CHECK(layout::layersDir("library/ubuntu") == kRepos + "/library/ubuntu/_layers");
  CHECK(layout::layerLink("library/ubuntu", sha256()) ==
        kRepos + "/library/ubuntu/_layers/sha256/" + kHex + "/link");
}

TEST_CASE("manifest revisions and tags follow distribution's _manifests tree", "[layout]") {
  const std::string m = kRepos + "/a/b/c/_manifests";
  CHECK(layout::manifestsDir("a/b/c") == m);
  CHECK(layout::manifestRevisionsDir("a/b/c") == m + "/revisions");
  CHECK(layout::manifestRevisionDir("a/b/c", sha256()) == m + "/revisions/sha256/" + kHex);
  CHECK(layout::manifestRevisionLink("a/b/c", sha256()) ==
        m + "/revisions/sha256/" + kHex + "/link");
  CHECK(layout::tagsDir("a/b/c") == m + "/tags");
  CHECK(layout::tagDir("a/b/c", "v1.0") == m + "/tags/v1.0");
  CHECK(layout::tagCurrentLink("a/b/c", "v1.0") == m + "/tags/v1.0/current/link");
  CHECK(layout::tagIndexDir("a/b/c", "v1.0") == m + "/tags/v1.0/index");
  CHECK(layout::tagIndexEntryLink("a/b/c", "v1.0", sha256()) ==
        m + "/tags/v1.0/index/sha256/" + kHex + "/link");
}

TEST_CASE("schema1 signatures are linked under the revision's signatures directory", "[layout]") {
  // distribution 2.2's manifestSignaturesPathSpec and manifestSignatureLinkPathSpec.
  const std::string hex512(128, 'e');
  const Digest signature = *Digest::parse("sha512:" + hex512);
  const std::string r = kRepos + "/a/b/_manifests/revisions/sha256/" + kHex;
  CHECK(layout::manifestSignaturesDir("a/b", sha256()) == r + "/signatures");
  CHECK(layout::manifestSignatureLink("a/b", sha256(), signature) ==
        r + "/signatures/sha512/" + hex512 + "/link");
}

TEST_CASE("a link directory's last two components give its digest", "[layout]") {
  CHECK(layout::digestFromLinkDir(kRepos + "/a/_manifests/revisions/sha256/" + kHex) == sha256());
  CHECK(layout::digestFromLinkDir(layout::manifestRevisionDir("a", sha256())) == sha256());
  const std::string signatures = layout::manifestSignaturesDir("a", sha256());
  CHECK(layout::digestFromLinkDir(signatures + "/sha256/" + kHex) == sha256());
  const std::string bad = GENERATE(as<std::string>{}, "", "/", "sha256", "/sha256", "/" + kHex,
                                   "/x/sha256/abc", "/x/md5/" + kHex, "/x/SHA256/" + kHex,
                                   "/x/sha256/" + kHex + "/link", "/x/sha256/" + kHex + "0");
  CAPTURE(bad);
  CHECK_FALSE(layout::digestFromLinkDir(bad).has_value());
}

TEST_CASE("upload paths are _uploads/<id>/{data,startedat,hashstates/<alg>/<offset>}", "[layout]") {
  const std::string id = "a9f22438-3370-4e3a-b3d4-f00cf1eab125";
  const std::string u = kRepos + "/lib/a/_uploads";
  CHECK(layout::uploadsDir("lib/a") == u);
  CHECK(layout::uploadDir("lib/a", id) == u + "/" + id);
  CHECK(layout::uploadData("lib/a", id) == u + "/" + id + "/data");
  CHECK(layout::uploadStartedAt("lib/a", id) == u + "/" + id + "/startedat");
  CHECK(layout::uploadHashState("lib/a", id, DigestAlgorithm::Sha256, 0) ==
        u + "/" + id + "/hashstates/sha256/0");
  CHECK(layout::uploadHashState("lib/a", id, DigestAlgorithm::Sha256, 5242880) ==
        u + "/" + id + "/hashstates/sha256/5242880");
}

TEST_CASE("a link file holds the bare digest without a trailing newline", "[layout]") {
  CHECK(layout::linkContent(sha256()) == "sha256:" + kHex);
  auto parsed = layout::parseLinkContent("sha256:" + kHex);
  REQUIRE(parsed);
  CHECK(*parsed == sha256());
  CHECK_FALSE(layout::parseLinkContent("sha256:" + kHex + "\n"));
  CHECK_FALSE(layout::parseLinkContent(""));
}

TEST_CASE("startedat is RFC 3339 UTC with whole seconds, as Go's time.RFC3339", "[layout]") {
  using namespace std::chrono;
  // 2026-11-27T03:31:10Z = 1795750270 s since the epoch.
  const system_clock::time_point t = system_clock::time_point(seconds(1795750270));
  CHECK(layout::formatStartedAt(t) == "2026-11-27T03:31:10Z");
  CHECK(layout::formatStartedAt(t + milliseconds(999)) == "2026-11-27T03:31:10Z");
  CHECK(layout::parseStartedAt("2026-11-27T03:31:10Z") == t);
  CHECK(layout::parseStartedAt("2026-11-27T03:31:10.5Z") == t + milliseconds(500));
  CHECK(layout::parseStartedAt("2026-11-27T04:31:10+01:00") == t);
  CHECK(layout::parseStartedAt("2026-11-27T02:01:10-01:30") == t);
  CHECK(layout::parseStartedAt(layout::formatStartedAt(t)) == t);
}

TEST_CASE("malformed startedat content does not parse", "[layout]") {
  const char* text =
      GENERATE("", "garbage", "2026-11-27", "2026-11-27T03:31:10", "2026-11-27 03:31:10Z",
               "2026-13-27T03:31:10Z", "2026-11-27T03:31:10Zjunk", "2026-11-27T03:31:10.Z",
               "2026-11-27T03:31:10+0100");
  INFO(text);
  CHECK_FALSE(layout::parseStartedAt(text).has_value());
}

TEST_CASE("only _layers, _manifests and _uploads are repository data directories", "[layout]") {
  CHECK(layout::isRepositoryDataDir("_layers"));
  CHECK(layout::isRepositoryDataDir("_manifests"));
  CHECK(layout::isRepositoryDataDir("_uploads"));
  CHECK_FALSE(layout::isRepositoryDataDir("layers"));
  CHECK_FALSE(layout::isRepositoryDataDir("_deleted"));
  CHECK(layout::layersDir("a") == kRepos + "/a/" + std::string(layout::kLayersDirName));
  CHECK(layout::manifestsDir("a") == kRepos + "/a/" + std::string(layout::kManifestsDirName));
  CHECK(layout::uploadsDir("a") == kRepos + "/a/" + std::string(layout::kUploadsDirName));
}
