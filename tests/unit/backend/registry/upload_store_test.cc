// UploadStore over both drivers: start → append → commit, Content-Range rules, digest and
// size verification, resume after a restart, cancel and purge.

#include "backend/registry/upload_store.h"

#include <event2/buffer.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <memory>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "backend/storage/layout.h"
#include "tests/unit/backend/storage/driver_fixtures.h"

namespace layout = portico::storage::layout;
using portico::crypto::Digest;
using portico::crypto::DigestAlgorithm;
using portico::registry::BlobStore;
using portico::registry::ErrorCode;
using portico::registry::Repository;
using portico::registry::UploadSession;
using portico::registry::UploadStore;
using portico::storage::StorageErrc;
using portico::storage::testing::FilesystemFixture;
using portico::storage::testing::MemoryFixture;

namespace {

Repository repo(const char* name) {
  return *Repository::parse(name);
}

// Appends one chunk through an UploadWriter, like a PATCH body.
void appendChunk(UploadStore& uploads, const UploadSession& session, const std::string& bytes) {
  auto writer = uploads.append(session);
  REQUIRE(writer);
  REQUIRE((*writer)->write(bytes));
  REQUIRE((*writer)->close());
}

std::string readBlob(BlobStore& blobs, const Repository& r, const Digest& digest) {
  auto reader = blobs.open(r, digest);
  REQUIRE(reader);
  std::string out;
  char buffer[4096];
  for (;;) {
    auto n = (*reader)->read(buffer, sizeof(buffer));
    REQUIRE(n);
    if (*n == 0) return out;
    out.append(buffer, *n);
  }
}

// A driver fixture (FilesystemFixture or MemoryFixture) with the blob and upload stores over
// its driver.
template <typename DriverFixture>
struct Stores : DriverFixture {
  BlobStore blobs{this->driver};
  UploadStore uploads{this->driver, blobs};

  // Starts an upload in `name` and appends `bytes` to it, as a POST then one PATCH would.
  UploadSession startWith(const char* name, const std::string& bytes) {
    auto session = uploads.start(repo(name));
    REQUIRE(session);
    appendChunk(uploads, *session, bytes);
    return *session;
  }
};

}  // namespace

#define DRIVERS FilesystemFixture, MemoryFixture

TEMPLATE_TEST_CASE("start creates _uploads/<uuid>/startedat and an empty data file",
                   "[upload_store]", DRIVERS) {
  Stores<TestType> f;
  const auto before = std::chrono::system_clock::now() - std::chrono::seconds(1);
  auto session = f.uploads.start(repo("lib/a"));
  REQUIRE(session);
  CHECK(std::regex_match(
      session->id,
      std::regex("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")));
  CHECK(session->offset == 0);
  auto started = f.driver.getContent(layout::uploadStartedAt("lib/a", session->id));
  REQUIRE(started);
  CHECK(std::regex_match(*started, std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)")));
  CHECK(*layout::parseStartedAt(*started) >= before);
  CHECK(f.driver.stat(layout::uploadData("lib/a", session->id))->size == 0);
  auto second = f.uploads.start(repo("lib/a"));
  REQUIRE(second);
  CHECK(second->id != session->id);
}

TEMPLATE_TEST_CASE("chunks appended then committed become a blob linked in the repository",
                   "[upload_store]", DRIVERS) {
  Stores<TestType> f;
  const UploadSession session = f.startWith("lib/a", "hello ");
  auto resumed = f.uploads.resume(repo("lib/a"), session.id);
  REQUIRE(resumed);
  CHECK(resumed->offset == 6);
  {
    auto writer = f.uploads.append(*resumed, 6);  // Content-Range: 6-10
    REQUIRE(writer);
    std::unique_ptr<evbuffer, void (*)(evbuffer*)> body(evbuffer_new(), evbuffer_free);
    evbuffer_add(body.get(), "world", 5);
    REQUIRE((*writer)->write(*body));
    CHECK(evbuffer_get_length(body.get()) == 0);
    CHECK((*writer)->offset() == 11);
    REQUIRE((*writer)->close());
  }
  const Digest digest = Digest::of("hello world");
  auto desc = f.uploads.commit(repo("lib/a"), session.id, digest, 11);
  REQUIRE(desc);
  CHECK(desc->digest == digest);
  CHECK(desc->size == 11);
  CHECK(f.blobs.stat(repo("lib/a"), digest)->size == 11);
  CHECK(readBlob(f.blobs, repo("lib/a"), digest) == "hello world");
  CHECK(*f.driver.getContent(layout::layerLink("lib/a", digest)) == digest.str());
  // The upload directory is gone; the upload is unknown from now on.
  CHECK(f.driver.stat(layout::uploadDir("lib/a", session.id)).error().is(StorageErrc::NotFound));
  CHECK(f.uploads.resume(repo("lib/a"), session.id).error().is(ErrorCode::BlobUploadUnknown));
  CHECK(f.uploads.append(session).error().is(ErrorCode::BlobUploadUnknown));
}

TEMPLATE_TEST_CASE("a chunk that does not start at the current size is RANGE_INVALID",
                   "[upload_store]", DRIVERS) {
  Stores<TestType> f;
  const UploadSession session = f.startWith("a", "12345");
  const uint64_t start = GENERATE(0, 4, 6, 100);
  auto writer = f.uploads.append(session, start);
  REQUIRE_FALSE(writer);
  CHECK(writer.error().is(ErrorCode::RangeInvalid));
  CHECK(f.driver.stat(layout::uploadData("a", session.id))->size == 5);
}

TEMPLATE_TEST_CASE("a wrong digest is DIGEST_INVALID and stores nothing under either digest",
                   "[upload_store]", DRIVERS) {
  Stores<TestType> f;
  const UploadSession session = f.startWith("a", "actual bytes");
  const Digest claimed = Digest::of("claimed bytes");
  auto result = f.uploads.commit(repo("a"), session.id, claimed);
  REQUIRE_FALSE(result);
  CHECK(result.error().is(ErrorCode::DigestInvalid));
  for (const Digest& d : {claimed, Digest::of("actual bytes")}) {
    CHECK_FALSE(f.blobs.existsGlobally(d));
    CHECK(f.driver.stat(layout::layerLink("a", d)).error().is(StorageErrc::NotFound));
  }
  CHECK(f.driver.stat(layout::uploadDir("a", session.id)).error().is(StorageErrc::NotFound));
}

TEMPLATE_TEST_CASE("a size that does not match is SIZE_INVALID and stores nothing",
                   "[upload_store]", DRIVERS) {
  Stores<TestType> f;
  const UploadSession session = f.startWith("a", "abc");
  const Digest digest = Digest::of("abc");
  auto result = f.uploads.commit(repo("a"), session.id, digest, 4);
  REQUIRE_FALSE(result);
  CHECK(result.error().is(ErrorCode::SizeInvalid));
  CHECK_FALSE(f.blobs.existsGlobally(digest));
}

TEMPLATE_TEST_CASE("an upload resumes after a restart and commits with a re-hash", "[upload_store]",
                   DRIVERS) {
  TestType f;
  std::string id;
  {
    BlobStore blobs(f.driver);
    UploadStore uploads(f.driver, blobs);
    auto session = uploads.start(repo("lib/a"));
    REQUIRE(session);
    id = session->id;
    appendChunk(uploads, *session, "first half, ");
  }
  // A new process: no in-memory hash state, possibly a new driver over the same root.
  auto& driver = f.restarted();
  BlobStore blobs(driver);
  UploadStore uploads(driver, blobs);
  auto resumed = uploads.resume(repo("lib/a"), id);
  REQUIRE(resumed);
  CHECK(resumed->offset == 12);
  auto writer = uploads.append(*resumed, 12);
  REQUIRE(writer);
  REQUIRE((*writer)->write(std::string("second half")));
  REQUIRE((*writer)->close());
  const Digest digest = Digest::of("first half, second half");
  auto desc = uploads.commit(repo("lib/a"), id, digest);
  REQUIRE(desc);
  CHECK(desc->size == 23);
  CHECK(readBlob(blobs, repo("lib/a"), digest) == "first half, second half");
}

TEMPLATE_TEST_CASE("an upload interrupted mid-chunk keeps its bytes and still verifies",
                   "[upload_store]", DRIVERS) {
  Stores<TestType> f;
  auto session = f.uploads.start(repo("a"));
  REQUIRE(session);
  {
    auto writer = f.uploads.append(*session);
    REQUIRE(writer);
    REQUIRE((*writer)->write(std::string("partial")));
    // The client goes away: the writer is destroyed without close().
  }
  CHECK(f.uploads.resume(repo("a"), session->id)->offset == 7);
  appendChunk(f.uploads, *f.uploads.resume(repo("a"), session->id), " rest");
  CHECK(f.uploads.commit(repo("a"), session->id, Digest::of("partial rest")));
}

TEMPLATE_TEST_CASE("a sha512 digest is verified by re-hashing", "[upload_store]", DRIVERS) {
  Stores<TestType> f;
  const UploadSession session = f.startWith("a", "bytes");
  const Digest digest = Digest::of("bytes", DigestAlgorithm::Sha512);
  auto desc = f.uploads.commit(repo("a"), session.id, digest);
  REQUIRE(desc);
  CHECK(*f.driver.getContent(layout::blobData(digest)) == "bytes");
  CHECK(f.blobs.stat(repo("a"), digest)->size == 5);
}

TEMPLATE_TEST_CASE("an empty upload commits as the empty blob", "[upload_store]", DRIVERS) {
  Stores<TestType> f;
  auto session = f.uploads.start(repo("a"));
  REQUIRE(session);
  const Digest empty = Digest::of("");
  auto desc = f.uploads.commit(repo("a"), session->id, empty, 0);
  REQUIRE(desc);
  CHECK(f.blobs.stat(repo("a"), empty)->size == 0);
}

TEMPLATE_TEST_CASE("committing a blob that already exists replaces it with the verified bytes",
                   "[upload_store]", DRIVERS) {
  Stores<TestType> f;
  const Digest digest = Digest::of("same layer");
  auto first = f.uploads.start(repo("one"));
  auto second = f.uploads.start(repo("two"));
  REQUIRE(first);
  REQUIRE(second);
  appendChunk(f.uploads, *first, "same layer");
  appendChunk(f.uploads, *second, "same layer");
  REQUIRE(f.uploads.commit(repo("one"), first->id, digest));
  const auto before = f.driver.stat(layout::blobData(digest));
  REQUIRE(before);
  REQUIRE(f.uploads.commit(repo("two"), second->id, digest));
  CHECK(f.blobs.stat(repo("two"), digest)->size == 10);
  CHECK(f.driver.stat(layout::uploadDir("two", second->id)).error().is(StorageErrc::NotFound));
  CHECK(readBlob(f.blobs, repo("one"), digest) == "same layer");
}

TEMPLATE_TEST_CASE("cancel removes the upload; it is unknown afterwards", "[upload_store]",
                   DRIVERS) {
  Stores<TestType> f;
  const UploadSession session = f.startWith("a", "data");
  REQUIRE(f.uploads.cancel(repo("a"), session.id));
  CHECK(f.driver.stat(layout::uploadDir("a", session.id)).error().is(StorageErrc::NotFound));
  CHECK(f.uploads.resume(repo("a"), session.id).error().is(ErrorCode::BlobUploadUnknown));
  CHECK(f.uploads.cancel(repo("a"), session.id).error().is(ErrorCode::BlobUploadUnknown));
  CHECK(f.uploads.commit(repo("a"), session.id, Digest::of("data"))
            .error()
            .is(ErrorCode::BlobUploadUnknown));
}

TEMPLATE_TEST_CASE("unknown and hostile upload ids are BLOB_UPLOAD_UNKNOWN", "[upload_store]",
                   DRIVERS) {
  Stores<TestType> f;
  REQUIRE(f.driver.putContent("/docker/registry/v2/repositories/a/secret", "x"));
  const std::string id = GENERATE(as<std::string>{}, "00000000-0000-4000-8000-000000000000", "..",
                                  "../..", "a/b", ".", "", std::string("a\0b", 3));
  INFO(id);
  CHECK(f.uploads.resume(repo("a"), id).error().is(ErrorCode::BlobUploadUnknown));
  CHECK(f.uploads.cancel(repo("a"), id).error().is(ErrorCode::BlobUploadUnknown));
  CHECK(f.uploads.commit(repo("a"), id, Digest::of("x")).error().is(ErrorCode::BlobUploadUnknown));
  CHECK(f.driver.getContent("/docker/registry/v2/repositories/a/secret"));
}

TEMPLATE_TEST_CASE("purge removes uploads started before the cut-off and keeps newer ones",
                   "[upload_store]", DRIVERS) {
  Stores<TestType> f;
  auto fresh = f.uploads.start(repo("lib/a"));
  auto stale = f.uploads.start(repo("lib/a"));
  auto other = f.uploads.start(repo("b/c/d"));
  REQUIRE(fresh);
  REQUIRE(stale);
  REQUIRE(other);
  appendChunk(f.uploads, *stale, "old bytes");
  const auto old_time = std::chrono::system_clock::now() - std::chrono::hours(24 * 8);
  REQUIRE(f.driver.putContent(layout::uploadStartedAt("lib/a", stale->id),
                              layout::formatStartedAt(old_time)));
  REQUIRE(f.driver.putContent(layout::uploadStartedAt("b/c/d", other->id),
                              layout::formatStartedAt(old_time)));
  // A committed blob and its links are never touched.
  REQUIRE(f.blobs.put(repo("lib/a"), "keep me"));

  auto purged = f.uploads.purge(std::chrono::system_clock::now() - std::chrono::hours(24 * 7));
  REQUIRE(purged);
  CHECK(*purged == 2);
  CHECK(f.uploads.resume(repo("lib/a"), fresh->id));
  CHECK(f.uploads.resume(repo("lib/a"), stale->id).error().is(ErrorCode::BlobUploadUnknown));
  CHECK(f.uploads.resume(repo("b/c/d"), other->id).error().is(ErrorCode::BlobUploadUnknown));
  CHECK(f.blobs.stat(repo("lib/a"), Digest::of("keep me")));
}

TEST_CASE("purge on an empty storage removes nothing", "[upload_store]") {
  Stores<MemoryFixture> f;
  auto purged = f.uploads.purge(std::chrono::system_clock::now());
  REQUIRE(purged);
  CHECK(*purged == 0);
}

TEMPLATE_TEST_CASE("sixteen concurrent uploads of one blob all commit to one correct blob",
                   "[upload_store]", DRIVERS) {
  Stores<TestType> f;
  const std::string layer(size_t{256} * 1024, 'L');
  const Digest digest = Digest::of(layer);
  std::vector<char> committed(16, 0);  // not vector<bool>: threads write distinct elements
  std::vector<std::thread> pushers;
  for (size_t i = 0; i < committed.size(); ++i) {
    pushers.emplace_back([&, i] {
      const Repository r = *Repository::parse("r" + std::to_string(i % 4));
      auto session = f.uploads.start(r);
      if (!session) return;
      auto writer = f.uploads.append(*session);
      if (!writer || !(*writer)->write(layer) || !(*writer)->close()) return;
      committed[i] = f.uploads.commit(r, session->id, digest, layer.size()).has_value();
    });
  }
  for (auto& pusher : pushers) pusher.join();
  for (size_t i = 0; i < committed.size(); ++i) {
    INFO("pusher " << i);
    CHECK(committed[i]);
  }
  for (const char* name : {"r0", "r1", "r2", "r3"}) {
    CHECK(readBlob(f.blobs, repo(name), digest) == layer);
    auto leftovers = f.driver.list(layout::uploadsDir(name));
    REQUIRE(leftovers);
    CHECK(leftovers->empty());
  }
}

TEMPLATE_TEST_CASE(
    "an upload has one writer: a second chunk or a commit meanwhile is RANGE_INVALID",
    "[upload_store][race]", DRIVERS) {
  Stores<TestType> f;
  const UploadSession session = f.startWith("a", "first ");
  auto writer = f.uploads.append(session);
  REQUIRE(writer);
  REQUIRE((*writer)->write(std::string("second")));

  auto second = f.uploads.append(session);
  REQUIRE_FALSE(second);
  CHECK(second.error().is(ErrorCode::RangeInvalid));
  auto early = f.uploads.commit(repo("a"), session.id, Digest::of("first "));
  REQUIRE_FALSE(early);
  CHECK(early.error().is(ErrorCode::RangeInvalid));
  CHECK_FALSE(f.blobs.existsGlobally(Digest::of("first ")));

  REQUIRE((*writer)->close());
  appendChunk(f.uploads, session, " third");  // the lock went with the close
  CHECK(f.uploads.commit(repo("a"), session.id, Digest::of("first second third")));
}

TEMPLATE_TEST_CASE("a commit handed the final chunk's writer keeps the lock until it is done",
                   "[upload_store][race]", DRIVERS) {
  Stores<TestType> f;
  const UploadSession session = f.startWith("a", "head ");
  auto writer = f.uploads.append(session);
  REQUIRE(writer);
  REQUIRE((*writer)->write(std::string("tail")));
  auto desc =
      f.uploads.commit(repo("a"), session.id, Digest::of("head tail"), std::nullopt, writer->get());
  REQUIRE(desc);
  CHECK(readBlob(f.blobs, repo("a"), Digest::of("head tail")) == "head tail");
}

TEMPLATE_TEST_CASE("a chunk written while its upload is cancelled ends BLOB_UPLOAD_UNKNOWN",
                   "[upload_store][race]", DRIVERS) {
  Stores<TestType> f;
  const UploadSession session = f.startWith("a", "abc");
  auto writer = f.uploads.append(session);
  REQUIRE(writer);
  REQUIRE(f.uploads.cancel(repo("a"), session.id));
  (void)(*writer)->write(std::string("def"));
  auto closed = (*writer)->close();
  REQUIRE_FALSE(closed);
  CHECK(closed.error().is(ErrorCode::BlobUploadUnknown));
  CHECK(f.uploads.commit(repo("a"), session.id, Digest::of("abcdef"))
            .error()
            .is(ErrorCode::BlobUploadUnknown));
  CHECK_FALSE(f.blobs.existsGlobally(Digest::of("abcdef")));
}

TEMPLATE_TEST_CASE("a chunk appended by another process is re-hashed, not trusted",
                   "[upload_store][race]", DRIVERS) {
  Stores<TestType> f;
  const UploadSession session = f.startWith("a", "ours ");
  // Another registry process on the same storage appends a chunk.
  BlobStore other_blobs(f.driver);
  UploadStore other(f.driver, other_blobs);
  appendChunk(other, *other.resume(repo("a"), session.id), "theirs");
  auto wrong = f.uploads.commit(repo("a"), session.id, Digest::of("ours "));
  REQUIRE_FALSE(wrong);
  CHECK(wrong.error().is(ErrorCode::DigestInvalid));
  CHECK_FALSE(f.blobs.existsGlobally(Digest::of("ours ")));
}

TEMPLATE_TEST_CASE("a commit heals a blob whose stored bytes are not its digest's",
                   "[upload_store][race]", DRIVERS) {
  Stores<TestType> f;
  const Digest digest = Digest::of("the right bytes");
  REQUIRE(f.driver.putContent(layout::blobData(digest), "the right bytes and more"));
  const UploadSession session = f.startWith("a", "the right bytes");
  REQUIRE(f.uploads.commit(repo("a"), session.id, digest));
  CHECK(readBlob(f.blobs, repo("a"), digest) == "the right bytes");
}
