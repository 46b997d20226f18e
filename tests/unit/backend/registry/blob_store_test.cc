// BlobStore over both drivers: global blob data plus per-repository links, as distribution's
// linkedBlobStore.

#include "backend/registry/blob_store.h"

#include <catch2/catch.hpp>
#include <string>

#include "backend/storage/layout.h"
#include "tests/unit/backend/storage/driver_fixtures.h"

namespace layout = portico::storage::layout;
using portico::crypto::Digest;
using portico::registry::BlobStore;
using portico::registry::ErrorCode;
using portico::registry::Repository;
using portico::storage::testing::FilesystemFixture;
using portico::storage::testing::MemoryFixture;

namespace {

Repository repo(const char* name) {
  return *Repository::parse(name);
}

std::string readAll(portico::storage::FileReader& reader) {
  std::string out;
  char buffer[4096];
  for (;;) {
    auto n = reader.read(buffer, sizeof(buffer));
    REQUIRE(n);
    if (*n == 0) return out;
    out.append(buffer, *n);
  }
}

}  // namespace

TEMPLATE_TEST_CASE("put stores content under its digest and links it into the repository",
                   "[blob_store]", FilesystemFixture, MemoryFixture) {
  TestType f;
  BlobStore blobs(f.driver);
  auto desc = blobs.put(repo("lib/a"), "hello");
  REQUIRE(desc);
  CHECK(desc->digest == Digest::of("hello"));
  CHECK(desc->size == 5);
  CHECK(desc->media_type == "application/octet-stream");
  CHECK(*f.driver.getContent(layout::blobData(desc->digest)) == "hello");
  CHECK(*f.driver.getContent(layout::layerLink("lib/a", desc->digest)) == desc->digest.str());
  auto stat = blobs.stat(repo("lib/a"), desc->digest);
  REQUIRE(stat);
  CHECK(stat->size == 5);
  CHECK(*blobs.get(repo("lib/a"), desc->digest) == "hello");
  CHECK(blobs.existsGlobally(desc->digest));
}

TEMPLATE_TEST_CASE("put replaces other bytes stored under its digest", "[blob_store]",
                   FilesystemFixture, MemoryFixture) {
  TestType f;
  BlobStore blobs(f.driver);
  const Digest digest = Digest::of("{\"manifest\":1}");
  REQUIRE(f.driver.putContent(layout::blobData(digest), std::string("{\"manifest\":1}\0junk", 20)));
  REQUIRE(blobs.put(repo("lib/a"), "{\"manifest\":1}"));
  CHECK(*f.driver.getContent(layout::blobData(digest)) == "{\"manifest\":1}");
}

TEMPLATE_TEST_CASE("a blob is unknown to a repository without a link", "[blob_store]",
                   FilesystemFixture, MemoryFixture) {
  TestType f;
  BlobStore blobs(f.driver);
  auto desc = blobs.put(repo("lib/a"), "hello");
  REQUIRE(desc);
  CHECK(blobs.stat(repo("lib/b"), desc->digest).error().is(ErrorCode::BlobUnknown));
  CHECK(blobs.open(repo("lib/b"), desc->digest).error().is(ErrorCode::BlobUnknown));
  CHECK(blobs.get(repo("lib/b"), desc->digest).error().is(ErrorCode::BlobUnknown));
  const Digest other = Digest::of("other");
  CHECK(blobs.stat(repo("lib/a"), other).error().is(ErrorCode::BlobUnknown));
  CHECK_FALSE(blobs.existsGlobally(other));
}

TEMPLATE_TEST_CASE("a link whose blob data is missing is BLOB_UNKNOWN", "[blob_store]",
                   FilesystemFixture, MemoryFixture) {
  TestType f;
  BlobStore blobs(f.driver);
  const Digest digest = Digest::of("gone");
  REQUIRE(f.driver.putContent(layout::layerLink("lib/a", digest), digest.str()));
  CHECK(blobs.stat(repo("lib/a"), digest).error().is(ErrorCode::BlobUnknown));
  CHECK(blobs.link(repo("lib/b"), digest).error().is(ErrorCode::BlobUnknown));
}

TEMPLATE_TEST_CASE("open streams the blob from an offset; past the end is RANGE_INVALID",
                   "[blob_store]", FilesystemFixture, MemoryFixture) {
  TestType f;
  BlobStore blobs(f.driver);
  auto desc = blobs.put(repo("lib/a"), "0123456789");
  REQUIRE(desc);
  auto reader = blobs.open(repo("lib/a"), desc->digest, 7);
  REQUIRE(reader);
  CHECK((*reader)->size() == 10);
  CHECK(readAll(**reader) == "789");
  CHECK(blobs.open(repo("lib/a"), desc->digest, 11).error().is(ErrorCode::RangeInvalid));
}

TEMPLATE_TEST_CASE("mount links a blob the source repository can see", "[blob_store]",
                   FilesystemFixture, MemoryFixture) {
  TestType f;
  BlobStore blobs(f.driver);
  auto desc = blobs.put(repo("src"), "layer");
  REQUIRE(desc);
  auto mounted = blobs.mount(repo("src"), repo("dst/x"), desc->digest);
  REQUIRE(mounted);
  CHECK(mounted->size == 5);
  CHECK(blobs.stat(repo("dst/x"), desc->digest));
  // Not mountable from a repository that cannot see it, even though the data exists.
  auto denied = blobs.mount(repo("elsewhere"), repo("dst/y"), desc->digest);
  REQUIRE_FALSE(denied);
  CHECK(denied.error().is(ErrorCode::BlobUnknown));
  CHECK(blobs.stat(repo("dst/y"), desc->digest).error().is(ErrorCode::BlobUnknown));
}

TEMPLATE_TEST_CASE("remove unlinks the blob from one repository and keeps the data", "[blob_store]",
                   FilesystemFixture, MemoryFixture) {
  TestType f;
  BlobStore blobs(f.driver);
  auto desc = blobs.put(repo("a"), "shared");
  REQUIRE(desc);
  REQUIRE(blobs.link(repo("b"), desc->digest));
  REQUIRE(blobs.remove(repo("a"), desc->digest));
  CHECK(blobs.stat(repo("a"), desc->digest).error().is(ErrorCode::BlobUnknown));
  CHECK(blobs.stat(repo("b"), desc->digest));
  CHECK(blobs.existsGlobally(desc->digest));
  CHECK(blobs.remove(repo("a"), desc->digest).error().is(ErrorCode::BlobUnknown));
}

TEMPLATE_TEST_CASE("the manifest revisions link set links under _manifests/revisions",
                   "[blob_store]", FilesystemFixture, MemoryFixture) {
  TestType f;
  BlobStore manifests(f.driver, BlobStore::LinkSet::ManifestRevisions);
  BlobStore layers(f.driver);
  auto desc = manifests.put(repo("lib/a"), "{\"schemaVersion\":2}");
  REQUIRE(desc);
  CHECK(*f.driver.getContent(layout::manifestRevisionLink("lib/a", desc->digest)) ==
        desc->digest.str());
  CHECK(f.driver.stat(layout::layerLink("lib/a", desc->digest))
            .error()
            .is(portico::storage::StorageErrc::NotFound));
  CHECK(layers.stat(repo("lib/a"), desc->digest).error().is(ErrorCode::BlobUnknown));
  CHECK(manifests.stat(repo("lib/b"), desc->digest).error().is(ErrorCode::ManifestUnknown));
}

TEMPLATE_TEST_CASE("put with sha512 stores and links under the sha512 digest", "[blob_store]",
                   FilesystemFixture, MemoryFixture) {
  TestType f;
  BlobStore manifests(f.driver, BlobStore::LinkSet::ManifestRevisions);
  auto desc = manifests.put(repo("lib/a"), "{}", portico::crypto::DigestAlgorithm::Sha512);
  REQUIRE(desc);
  CHECK(desc->digest == Digest::of("{}", portico::crypto::DigestAlgorithm::Sha512));
  CHECK(*f.driver.getContent(layout::blobData(desc->digest)) == "{}");
  CHECK(*f.driver.getContent(layout::manifestRevisionLink("lib/a", desc->digest)) ==
        desc->digest.str());
  CHECK(*manifests.get(repo("lib/a"), desc->digest) == "{}");
}

TEMPLATE_TEST_CASE("putGlobal stores the data without a link; getGlobal reads it", "[blob_store]",
                   FilesystemFixture, MemoryFixture) {
  TestType f;
  BlobStore manifests(f.driver, BlobStore::LinkSet::ManifestRevisions);
  auto desc = manifests.putGlobal("signed copy");
  REQUIRE(desc);
  CHECK(desc->digest == Digest::of("signed copy"));
  CHECK(*manifests.getGlobal(desc->digest) == "signed copy");
  CHECK(manifests.stat(repo("lib/a"), desc->digest).error().is(ErrorCode::ManifestUnknown));
  CHECK_FALSE(f.driver.stat(layout::repositoriesRoot()));
  CHECK(manifests.getGlobal(Digest::of("absent")).error().is(ErrorCode::ManifestUnknown));
}

TEMPLATE_TEST_CASE("put replaces a file of another size under the digest (a torn write)",
                   "[blob_store]", FilesystemFixture, MemoryFixture) {
  TestType f;
  BlobStore blobs(f.driver);
  const Digest digest = Digest::of("the content");
  REQUIRE(f.driver.putContent(layout::blobData(digest), "the cont"));  // a torn write
  REQUIRE(blobs.put(repo("a"), "the content"));
  CHECK(*blobs.get(repo("a"), digest) == "the content");
  REQUIRE(blobs.putGlobal("the content"));
  CHECK(*blobs.getGlobal(digest) == "the content");
}

TEST_CASE("storage errors translate to registry codes at the boundary", "[blob_store]") {
  using portico::Error;
  using portico::registry::fromStorageError;
  using portico::storage::StorageErrc;
  CHECK(fromStorageError(Error{StorageErrc::NotFound, "x"}, ErrorCode::ManifestUnknown, "m")
            .is(ErrorCode::ManifestUnknown));
  CHECK(fromStorageError(Error{StorageErrc::NoSpace, "x"}, ErrorCode::BlobUnknown, "b")
            .is(ErrorCode::Unavailable));
  CHECK(fromStorageError(Error{StorageErrc::Io, "x"}, ErrorCode::BlobUnknown, "b")
            .is(ErrorCode::Internal));
}
