// TagStore's listing cache: never a stale list, whoever changes the tags directory, and bounded.

#include "backend/registry/tag_store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "backend/storage/layout.h"
#include "tests/unit/backend/storage/driver_fixtures.h"

using namespace portico;
using namespace portico::registry;
namespace layout = storage::layout;
using crypto::Digest;
using TagList = TagStore::TagList;

namespace {

// Sets `dir`'s mtime to `mtime` (and its atime).
void setMtime(const std::string& dir, timespec mtime) {
  timespec times[2] = {mtime, mtime};
  REQUIRE(::utimensat(AT_FDCWD, dir.c_str(), times, 0) == 0);
}

// Makes the last change of `dir` look a minute old, so that its listing may be cached.
void settle(const std::string& dir) {
  timespec old{};
  REQUIRE(::clock_gettime(CLOCK_REALTIME, &old) == 0);
  old.tv_sec -= 60;
  setMtime(dir, old);
}

struct Fixture {
  storage::testing::FilesystemFixture fs;
  TagStore tags{fs.driver};
  // A second process on the same storage (another portico-registry, or distribution).
  TagStore other{fs.restarted()};
  Repository repo = *Repository::parse("app");
  Digest digest = Digest::of("manifest");

  std::string tagsDir() const { return fs.root + layout::tagsDir(repo.str()); }
  void tag(TagStore& store, const char* name) {
    REQUIRE(store.tag(repo, *Tag::parse(name), digest));
  }
  TagList list() {
    auto listed = tags.sortedTags(repo);
    REQUIRE(listed);
    return **listed;
  }
};

}  // namespace

TEST_CASE("a settled tags directory is cached and a tag added by another process is listed",
          "[tag_store]") {
  Fixture f;
  f.tag(f.tags, "b");
  f.tag(f.tags, "a");
  settle(f.tagsDir());
  CHECK(f.list() == TagList{"a", "b"});
  CHECK(f.tags.cachedBytes() > 0);  // served from the cache from now on
  CHECK(f.list() == TagList{"a", "b"});

  f.tag(f.other, "c");
  CHECK(f.list() == TagList{"a", "b", "c"});
  settle(f.tagsDir());
  CHECK(f.list() == TagList{"a", "b", "c"});
  REQUIRE(f.other.untag(f.repo, *Tag::parse("a")));
  CHECK(f.list() == TagList{"b", "c"});
}

TEST_CASE("a tag added without changing the directory's mtime is still listed", "[tag_store]") {
  // Two changes in one clock tick leave the same mtime: ctime and the link count tell.
  Fixture f;
  f.tag(f.tags, "a");
  settle(f.tagsDir());
  struct stat st {};
  REQUIRE(::stat(f.tagsDir().c_str(), &st) == 0);
  CHECK(f.list() == TagList{"a"});
  REQUIRE(f.tags.cachedBytes() > 0);
  f.tag(f.other, "b");
  setMtime(f.tagsDir(), st.st_mtim);
  CHECK(f.list() == TagList{"a", "b"});
}

TEST_CASE("a freshly changed tags directory is read, not cached", "[tag_store]") {
  Fixture f;
  f.tag(f.tags, "a");
  CHECK(f.list() == TagList{"a"});
  CHECK(f.tags.cachedBytes() == 0);
  f.tag(f.tags, "b");
  CHECK(f.list() == TagList{"a", "b"});
}

TEST_CASE("the tag listing cache stays within its byte bound", "[tag_store]") {
  storage::testing::FilesystemFixture fs;
  constexpr size_t kBound = 4096;
  TagStore tags(fs.driver, kBound);
  const Digest digest = Digest::of("manifest");
  for (int r = 0; r < 8; ++r) {
    const auto repo = *Repository::parse("repo" + std::to_string(r));
    for (int t = 0; t < 20; ++t) {
      REQUIRE(tags.tag(repo, *Tag::parse("tag-" + std::to_string(100 + t)), digest));
    }
    settle(fs.root + layout::tagsDir(repo.str()));
  }
  for (int round = 0; round < 2; ++round) {
    for (int r = 0; r < 8; ++r) {
      auto listed = tags.sortedTags(*Repository::parse("repo" + std::to_string(r)));
      REQUIRE(listed);
      CHECK((*listed)->size() == 20);
      CHECK(tags.cachedBytes() <= kBound);
    }
  }
  CHECK(tags.cachedBytes() > 0);

  TagStore uncached(fs.driver, 0);
  REQUIRE(uncached.sortedTags(*Repository::parse("repo0")));
  CHECK(uncached.cachedBytes() == 0);
}

TEST_CASE("tags of a repository without tags directory are NAME_UNKNOWN, cache or not",
          "[tag_store]") {
  Fixture f;
  auto listed = f.tags.sortedTags(f.repo);
  REQUIRE_FALSE(listed);
  CHECK(listed.error().is(ErrorCode::NameUnknown));
  f.tag(f.tags, "a");
  settle(f.tagsDir());
  CHECK(f.list() == TagList{"a"});
  REQUIRE(f.fs.driver.remove(layout::tagsDir(f.repo.str())));
  listed = f.tags.sortedTags(f.repo);
  REQUIRE_FALSE(listed);
  CHECK(listed.error().is(ErrorCode::NameUnknown));
}
