// One conformance suite for every StorageDriver (distribution's testsuites.go): each
// TEMPLATE_TEST_CASE runs against FilesystemDriver (a temp dir) and MemoryDriver.

#include "backend/storage/storage_driver.h"

#include <event2/buffer.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "backend/storage/nowait.h"
#include "tests/unit/backend/storage/driver_fixtures.h"

using portico::storage::FileInfo;
using portico::storage::StorageDriver;
using portico::storage::StorageErrc;
using portico::storage::WalkControl;
using portico::storage::testing::FilesystemFixture;
using portico::storage::testing::MemoryFixture;

namespace {

std::string readAll(portico::storage::FileReader& reader) {
  std::string out;
  char buffer[7];  // small on purpose: many reads
  for (;;) {
    auto n = reader.read(buffer, sizeof(buffer));
    REQUIRE(n);
    if (*n == 0) return out;
    out.append(buffer, *n);
  }
}

std::vector<std::string> walkPaths(StorageDriver& driver, const std::string& root,
                                   const std::string& skip = "", const std::string& stop = "") {
  std::vector<std::string> seen;
  auto walked = driver.walk(root, [&](const FileInfo& info) {
    seen.push_back(info.path + (info.is_dir ? "/" : ""));
    if (info.path == skip) return WalkControl::SkipDir;
    if (info.path == stop) return WalkControl::Stop;
    return WalkControl::Continue;
  });
  REQUIRE(walked);
  return seen;
}

}  // namespace

#define DRIVERS FilesystemFixture, MemoryFixture

TEMPLATE_TEST_CASE("putContent stores bytes that getContent returns, creating parents", "[storage]",
                   DRIVERS) {
  TestType f;
  const std::string binary("a\0b\xff\n", 5);
  REQUIRE(f.driver.putContent("/docker/registry/v2/x/y/file", binary));
  auto content = f.driver.getContent("/docker/registry/v2/x/y/file");
  REQUIRE(content);
  CHECK(*content == binary);
  auto dir = f.driver.stat("/docker/registry/v2/x/y");
  REQUIRE(dir);
  CHECK(dir->is_dir);
}

TEMPLATE_TEST_CASE("putContent replaces the whole previous content", "[storage]", DRIVERS) {
  TestType f;
  REQUIRE(f.driver.putContent("/a/link", "a much longer first content"));
  REQUIRE(f.driver.putContent("/a/link", "short"));
  CHECK(*f.driver.getContent("/a/link") == "short");
  REQUIRE(f.driver.putContent("/a/empty", ""));
  CHECK(f.driver.getContent("/a/empty")->empty());
}

TEMPLATE_TEST_CASE("missing paths are NotFound for every read operation", "[storage]", DRIVERS) {
  TestType f;
  CHECK(f.driver.getContent("/nope").error().is(StorageErrc::NotFound));
  CHECK(f.driver.reader("/nope", 0).error().is(StorageErrc::NotFound));
  CHECK(f.driver.stat("/nope").error().is(StorageErrc::NotFound));
  CHECK(f.driver.list("/nope").error().is(StorageErrc::NotFound));
  CHECK(f.driver.move("/nope", "/other").error().is(StorageErrc::NotFound));
  CHECK(f.driver.remove("/nope").error().is(StorageErrc::NotFound));
  CHECK(f.driver.walk("/nope", [](const FileInfo&) { return WalkControl::Continue; })
            .error()
            .is(StorageErrc::NotFound));
  REQUIRE(f.driver.putContent("/file", "x"));
  // A file used as a directory is not there either.
  CHECK(f.driver.getContent("/file/below").error().is(StorageErrc::NotFound));
}

TEMPLATE_TEST_CASE("hostile paths are rejected as InvalidPath by every operation", "[storage]",
                   DRIVERS) {
  TestType f;
  const std::string path = GENERATE(as<std::string>{}, "", "relative", "/..", "/../escape",
                                    "/a/../../escape", "/a/..", "/a//b", "//a", "/a/", "/a/./b",
                                    "/.", std::string("/a\0b", 4), std::string("/\0", 2));
  INFO("path: " << path);
  CHECK(f.driver.putContent(path, "x").error().is(StorageErrc::InvalidPath));
  CHECK(f.driver.getContent(path).error().is(StorageErrc::InvalidPath));
  CHECK(f.driver.reader(path, 0).error().is(StorageErrc::InvalidPath));
  CHECK(f.driver.writer(path, true).error().is(StorageErrc::InvalidPath));
  CHECK(f.driver.stat(path).error().is(StorageErrc::InvalidPath));
  CHECK(f.driver.list(path).error().is(StorageErrc::InvalidPath));
  CHECK(f.driver.move(path, "/ok").error().is(StorageErrc::InvalidPath));
  CHECK(f.driver.move("/ok", path).error().is(StorageErrc::InvalidPath));
  CHECK(f.driver.remove(path).error().is(StorageErrc::InvalidPath));
  // Nothing was created anywhere.
  auto root = f.driver.list("/");
  if (root) CHECK(root->empty());
}

TEST_CASE("the filesystem driver never writes outside its root for hostile paths",
          "[storage][filesystem]") {
  FilesystemFixture f;
  for (const std::string path : {"/../escape", "/a/../../escape", "/../root2/x"}) {
    CHECK_FALSE(f.driver.putContent(path, "x"));
    CHECK_FALSE(f.driver.writer(path, false));
  }
  std::vector<std::string> entries;
  for (const auto& entry : std::filesystem::directory_iterator(f.scratch.path())) {
    entries.push_back(entry.path().filename().string());
  }
  CHECK(entries.size() <= 1);  // at most the root itself
  CHECK_FALSE(std::filesystem::exists(f.scratch.path() + "/escape"));
}

TEMPLATE_TEST_CASE("the root may be stated, listed and walked but not written", "[storage]",
                   DRIVERS) {
  TestType f;
  REQUIRE(f.driver.putContent("/a/b", "x"));
  auto root = f.driver.stat("/");
  REQUIRE(root);
  CHECK(root->is_dir);
  CHECK(*f.driver.list("/") == std::vector<std::string>{"/a"});
  CHECK(walkPaths(f.driver, "/") == std::vector<std::string>{"/a/", "/a/b"});
  CHECK(f.driver.putContent("/", "x").error().is(StorageErrc::InvalidPath));
  CHECK(f.driver.remove("/").error().is(StorageErrc::InvalidPath));
}

TEMPLATE_TEST_CASE("a writer appends across sessions and reports the file size", "[storage]",
                   DRIVERS) {
  TestType f;
  const std::string path = "/uploads/id/data";
  {
    auto writer = f.driver.writer(path, false);
    REQUIRE(writer);
    CHECK((*writer)->size() == 0);
    REQUIRE((*writer)->write("hello ", 6));
    CHECK((*writer)->size() == 6);
    REQUIRE((*writer)->close());
  }
  CHECK(f.driver.stat(path)->size == 6);
  {
    auto writer = f.driver.writer(path, true);
    REQUIRE(writer);
    CHECK((*writer)->size() == 6);
    REQUIRE((*writer)->write("world", 5));
    REQUIRE((*writer)->commit());
    CHECK_FALSE((*writer)->write("!", 1));  // committed writers take no more bytes
  }
  CHECK(*f.driver.getContent(path) == "hello world");
  {
    // Destruction without close keeps the bytes, like close().
    auto writer = f.driver.writer(path, true);
    REQUIRE((*writer)->write("!", 1));
  }
  CHECK(*f.driver.getContent(path) == "hello world!");
}

TEMPLATE_TEST_CASE("a writer opened without append truncates", "[storage]", DRIVERS) {
  TestType f;
  REQUIRE(f.driver.putContent("/f", "old content"));
  auto writer = f.driver.writer("/f", false);
  REQUIRE(writer);
  CHECK((*writer)->size() == 0);
  REQUIRE((*writer)->write("new", 3));
  REQUIRE((*writer)->close());
  CHECK(*f.driver.getContent("/f") == "new");
}

TEMPLATE_TEST_CASE("truncate cuts a writer's file back and it appends from there", "[storage]",
                   DRIVERS) {
  TestType f;
  for (bool append : {false, true}) {
    INFO("append " << append);
    REQUIRE(f.driver.putContent("/t", "kept"));
    auto writer = f.driver.writer("/t", append);
    REQUIRE(writer);
    const uint64_t start = (*writer)->size();
    REQUIRE((*writer)->write(" a failed chunk", 15));
    REQUIRE((*writer)->truncate(start));
    CHECK((*writer)->size() == start);
    REQUIRE((*writer)->write(" then", 5));
    REQUIRE((*writer)->close());
    CHECK(*f.driver.getContent("/t") == (append ? "kept then" : " then"));
  }
}

TEMPLATE_TEST_CASE("lockExclusive admits one writer of a file until it closes", "[storage]",
                   DRIVERS) {
  TestType f;
  auto first = f.driver.writer("/up/data", true);
  auto second = f.driver.writer("/up/data", true);
  REQUIRE(first);
  REQUIRE(second);
  REQUIRE((*first)->lockExclusive());
  auto busy = (*second)->lockExclusive();
  REQUIRE_FALSE(busy);
  CHECK(busy.error().is(StorageErrc::Busy));
  REQUIRE((*first)->close());
  CHECK((*second)->lockExclusive());
}

TEMPLATE_TEST_CASE("a writer whose file was moved away cannot take the lock", "[storage]",
                   DRIVERS) {
  TestType f;
  auto late = f.driver.writer("/up/data", true);  // opened before the move
  REQUIRE(late);
  auto holder = f.driver.writer("/up/data", true);
  REQUIRE(holder);
  REQUIRE((*holder)->lockExclusive());
  REQUIRE((*holder)->write("abc", 3));
  REQUIRE((*holder)->sync());
  REQUIRE(f.driver.move("/up/data", "/blobs/data"));
  CHECK((*holder)->checkPath().error().is(StorageErrc::NotFound));
  REQUIRE((*holder)->close());
  // The lock is free now, but the path no longer names the late writer's file.
  auto locked = (*late)->lockExclusive();
  REQUIRE_FALSE(locked);
  CHECK(locked.error().is(StorageErrc::NotFound));
  CHECK(*f.driver.getContent("/blobs/data") == "abc");
}

TEMPLATE_TEST_CASE("a file's stamp changes with every write", "[storage]", DRIVERS) {
  TestType f;
  auto writer = f.driver.writer("/s", true);
  REQUIRE(writer);
  auto empty = (*writer)->stamp();
  REQUIRE(empty);
  CHECK(empty->size == 0);
  REQUIRE((*writer)->write("abc", 3));
  auto after = (*writer)->stamp();
  REQUIRE(after);
  CHECK(after->size == 3);
  CHECK(*after != *empty);
  CHECK(*(*writer)->stamp() == *after);
}

TEMPLATE_TEST_CASE("a cancelled writer removes its file", "[storage]", DRIVERS) {
  TestType f;
  auto writer = f.driver.writer("/dir/f", false);
  REQUIRE(writer);
  REQUIRE((*writer)->write("abc", 3));
  REQUIRE((*writer)->cancel());
  CHECK(f.driver.stat("/dir/f").error().is(StorageErrc::NotFound));
  CHECK_FALSE((*writer)->write("d", 1));
}

TEMPLATE_TEST_CASE("writing an evbuffer appends and drains all of it", "[storage]", DRIVERS) {
  TestType f;
  std::unique_ptr<evbuffer, void (*)(evbuffer*)> buffer(evbuffer_new(), evbuffer_free);
  std::string expected;
  for (int i = 0; i < 64; ++i) {
    const std::string chunk(4096 + i, static_cast<char>('a' + i % 26));
    evbuffer_add(buffer.get(), chunk.data(), chunk.size());  // many chains
    expected += chunk;
  }
  auto writer = f.driver.writer("/big", false);
  REQUIRE(writer);
  REQUIRE((*writer)->write(*buffer));
  CHECK(evbuffer_get_length(buffer.get()) == 0);
  CHECK((*writer)->size() == expected.size());
  REQUIRE((*writer)->commit());
  auto reader = f.driver.reader("/big", 0);
  REQUIRE(reader);
  CHECK(readAll(**reader) == expected);
}

TEMPLATE_TEST_CASE("a reader starts at its offset; past the end is InvalidOffset", "[storage]",
                   DRIVERS) {
  TestType f;
  REQUIRE(f.driver.putContent("/blob", "0123456789"));
  auto reader = f.driver.reader("/blob", 4);
  REQUIRE(reader);
  CHECK((*reader)->size() == 10);
  CHECK((*reader)->position() == 4);
  CHECK(readAll(**reader) == "456789");
  CHECK((*reader)->position() == 10);
  auto at_end = f.driver.reader("/blob", 10);
  REQUIRE(at_end);
  CHECK(readAll(**at_end).empty());
  CHECK(f.driver.reader("/blob", 11).error().is(StorageErrc::InvalidOffset));
}

TEMPLATE_TEST_CASE("releaseFd hands over a descriptor positioned at the reader's position",
                   "[storage]", DRIVERS) {
  TestType f;
  REQUIRE(f.driver.putContent("/blob", "0123456789"));
  auto reader = f.driver.reader("/blob", 3);
  REQUIRE(reader);
  char two[2];
  REQUIRE(*(*reader)->read(two, 2) == 2);
  const int fd = (*reader)->releaseFd();
  REQUIRE(fd >= 0);
  char rest[16];
  const ssize_t n = ::read(fd, rest, sizeof(rest));
  ::close(fd);
  REQUIRE(n == 5);
  CHECK(std::string(rest, 5) == "56789");
  CHECK((*reader)->releaseFd() == -1);
}

TEMPLATE_TEST_CASE("stat reports size, kind and modification time", "[storage]", DRIVERS) {
  TestType f;
  const auto before = std::chrono::system_clock::now() - std::chrono::seconds(5);
  REQUIRE(f.driver.putContent("/d/file", "12345"));
  auto file = f.driver.stat("/d/file");
  REQUIRE(file);
  CHECK(file->path == "/d/file");
  CHECK(file->size == 5);
  CHECK_FALSE(file->is_dir);
  CHECK(file->mod_time >= before);
  auto dir = f.driver.stat("/d");
  REQUIRE(dir);
  CHECK(dir->is_dir);
}

TEMPLATE_TEST_CASE("list returns the sorted full paths of direct children", "[storage]", DRIVERS) {
  TestType f;
  REQUIRE(f.driver.putContent("/r/b/deep/file", "x"));
  REQUIRE(f.driver.putContent("/r/a", "x"));
  REQUIRE(f.driver.putContent("/r/c", "x"));
  REQUIRE(f.driver.putContent("/r2", "x"));  // a sibling sharing the prefix is not a child
  auto children = f.driver.list("/r");
  REQUIRE(children);
  CHECK(*children == std::vector<std::string>{"/r/a", "/r/b", "/r/c"});
}

TEMPLATE_TEST_CASE("move renames, replaces the target and creates its parents", "[storage]",
                   DRIVERS) {
  TestType f;
  REQUIRE(f.driver.putContent("/up/data", "payload"));
  REQUIRE(f.driver.putContent("/blobs/old", "replaced"));
  REQUIRE(f.driver.move("/up/data", "/blobs/sha256/ab/abcd/data"));
  CHECK(f.driver.stat("/up/data").error().is(StorageErrc::NotFound));
  CHECK(*f.driver.getContent("/blobs/sha256/ab/abcd/data") == "payload");
  REQUIRE(f.driver.move("/blobs/sha256/ab/abcd/data", "/blobs/old"));
  CHECK(*f.driver.getContent("/blobs/old") == "payload");
}

TEMPLATE_TEST_CASE("remove deletes a file, or a directory with everything below", "[storage]",
                   DRIVERS) {
  TestType f;
  REQUIRE(f.driver.putContent("/repo/_uploads/1/data", "x"));
  REQUIRE(f.driver.putContent("/repo/_uploads/1/startedat", "x"));
  REQUIRE(f.driver.putContent("/repo/_uploads/2/data", "x"));
  REQUIRE(f.driver.putContent("/repo/_uploads10", "keep"));
  REQUIRE(f.driver.remove("/repo/_uploads/2/data"));
  CHECK(f.driver.stat("/repo/_uploads/2/data").error().is(StorageErrc::NotFound));
  CHECK(f.driver.stat("/repo/_uploads/2")->is_dir);
  REQUIRE(f.driver.remove("/repo/_uploads"));
  CHECK(f.driver.stat("/repo/_uploads").error().is(StorageErrc::NotFound));
  CHECK(f.driver.stat("/repo/_uploads/1/data").error().is(StorageErrc::NotFound));
  CHECK(*f.driver.getContent("/repo/_uploads10") == "keep");
  CHECK(*f.driver.list("/repo") == std::vector<std::string>{"/repo/_uploads10"});
}

TEMPLATE_TEST_CASE("walk visits depth first in sorted order and honours SkipDir and Stop",
                   "[storage]", DRIVERS) {
  TestType f;
  for (const char* path : {"/w/b/2", "/w/a/1", "/w/a/0", "/w/c", "/w/b/x/3"}) {
    REQUIRE(f.driver.putContent(path, "x"));
  }
  CHECK(walkPaths(f.driver, "/w") == std::vector<std::string>{"/w/a/", "/w/a/0", "/w/a/1", "/w/b/",
                                                              "/w/b/2", "/w/b/x/", "/w/b/x/3",
                                                              "/w/c"});
  CHECK(walkPaths(f.driver, "/w", "/w/a") ==
        std::vector<std::string>{"/w/a/", "/w/b/", "/w/b/2", "/w/b/x/", "/w/b/x/3", "/w/c"});
  CHECK(walkPaths(f.driver, "/w", "", "/w/b/2") ==
        std::vector<std::string>{"/w/a/", "/w/a/0", "/w/a/1", "/w/b/", "/w/b/2"});
}

TEMPLATE_TEST_CASE("getContent refuses files larger than kMaxContentSize", "[storage]", DRIVERS) {
  TestType f;
  auto writer = f.driver.writer("/huge", false);
  REQUIRE(writer);
  const std::string chunk(1 << 20, 'z');
  for (uint64_t written = 0; written <= portico::storage::kMaxContentSize;
       written += chunk.size()) {
    REQUIRE((*writer)->write(chunk.data(), chunk.size()));
  }
  REQUIRE((*writer)->close());
  auto content = f.driver.getContent("/huge");
  REQUIRE_FALSE(content);
  CHECK(content.error().is(StorageErrc::Io));
}

TEST_CASE("filesystem putContent leaves no temporary file and list hides them",
          "[storage][filesystem]") {
  FilesystemFixture f;
  for (int i = 0; i < 20; ++i) REQUIRE(f.driver.putContent("/t/link", std::to_string(i)));
  CHECK(*f.driver.list("/t") == std::vector<std::string>{"/t/link"});
  // A stray temporary from a crashed process is invisible to list and walk.
  std::filesystem::create_directories(f.root + "/t");
  {
    std::FILE* stray = std::fopen((f.root + "/t/.portico-tmp-link-dead").c_str(), "w");
    REQUIRE(stray != nullptr);
    std::fclose(stray);
  }
  CHECK(*f.driver.list("/t") == std::vector<std::string>{"/t/link"});
  CHECK(walkPaths(f.driver, "/t") == std::vector<std::string>{"/t/link"});
  std::filesystem::remove(f.root + "/t/.portico-tmp-link-dead");
}

TEST_CASE("filesystem paths map to <root><path> as distribution's driver does",
          "[storage][filesystem]") {
  FilesystemFixture f;
  REQUIRE(f.driver.putContent("/docker/registry/v2/repositories/a/_layers/x/link", "sha"));
  std::FILE* file =
      std::fopen((f.root + "/docker/registry/v2/repositories/a/_layers/x/link").c_str(), "r");
  REQUIRE(file != nullptr);
  char buffer[8] = {};
  CHECK(std::fread(buffer, 1, sizeof(buffer), file) == 3);
  std::fclose(file);
  CHECK(std::string(buffer) == "sha");
}

TEMPLATE_TEST_CASE("listEntries gives each child's name and type, sorted by name", "[storage]",
                   DRIVERS) {
  TestType f;
  REQUIRE(f.driver.putContent("/d/b/file", "x"));
  REQUIRE(f.driver.putContent("/d/a", "x"));
  REQUIRE(f.driver.putContent("/d/_c/file", "x"));
  REQUIRE(f.driver.putContent("/d/C", "x"));
  auto entries = f.driver.listEntries("/d");
  REQUIRE(entries);
  std::vector<std::string> seen;
  for (const auto& entry : *entries) seen.push_back(entry.name + (entry.is_dir ? "/" : ""));
  CHECK(seen == std::vector<std::string>{"C", "_c/", "a", "b/"});
  CHECK(f.driver.listEntries("/nope").error().is(StorageErrc::NotFound));
  CHECK(f.driver.listEntries("/d/../x").error().is(StorageErrc::InvalidPath));
}

TEST_CASE("filesystem listEntries follows symbolic links and skips dangling ones", "[storage]") {
  FilesystemFixture f;
  REQUIRE(f.driver.putContent("/d/real/file", "x"));
  REQUIRE(f.driver.putContent("/d/plain", "x"));
  REQUIRE(::symlink("real", (f.root + "/d/to-dir").c_str()) == 0);
  REQUIRE(::symlink("plain", (f.root + "/d/to-file").c_str()) == 0);
  REQUIRE(::symlink("missing", (f.root + "/d/dangling").c_str()) == 0);
  auto entries = f.driver.listEntries("/d");
  REQUIRE(entries);
  std::vector<std::string> seen;
  for (const auto& entry : *entries) seen.push_back(entry.name + (entry.is_dir ? "/" : ""));
  CHECK(seen == std::vector<std::string>{"plain", "real/", "to-dir/", "to-file"});
}

namespace {

// Sets the directory's mtime `seconds_ago` into the past (as if its last change were old).
void ageDirectory(const std::string& dir, int seconds_ago) {
  timespec times[2];
  REQUIRE(::clock_gettime(CLOCK_REALTIME, &times[0]) == 0);
  times[0].tv_sec -= seconds_ago;
  times[1] = times[0];
  REQUIRE(::utimensat(AT_FDCWD, dir.c_str(), times, 0) == 0);
}

// Sets the directory's mtime to exactly `mtime`.
void setMtime(const std::string& dir, const timespec& mtime) {
  timespec times[2] = {mtime, mtime};
  REQUIRE(::utimensat(AT_FDCWD, dir.c_str(), times, 0) == 0);
}

}  // namespace

TEST_CASE("filesystem listingVersion: none while fresh, and any added or removed entry changes it",
          "[storage]") {
  FilesystemFixture f;
  REQUIRE(f.driver.putContent("/tags/a/link", "x"));
  // Just changed: its timestamp cannot tell a change in the same tick apart.
  auto fresh = f.driver.listingVersion("/tags");
  REQUIRE(fresh);
  CHECK_FALSE(*fresh);

  const std::string dir = f.root + "/tags";
  ageDirectory(dir, 60);
  auto settled = f.driver.listingVersion("/tags");
  REQUIRE(settled);
  REQUIRE(*settled);
  CHECK(**f.driver.listingVersion("/tags") == **settled);
  CHECK(**f.restarted().listingVersion("/tags") == **settled);

  // A change that keeps the old mtime (same clock tick) still changes the version.
  struct stat st {};
  REQUIRE(::stat(dir.c_str(), &st) == 0);
  REQUIRE(f.driver.putContent("/tags/b/link", "x"));
  setMtime(dir, st.st_mtim);
  auto added = f.driver.listingVersion("/tags");
  REQUIRE(added);
  REQUIRE(*added);
  CHECK_FALSE(**added == **settled);

  REQUIRE(f.driver.remove("/tags/b"));
  ageDirectory(dir, 60);
  auto removed = f.driver.listingVersion("/tags");
  REQUIRE(removed);
  REQUIRE(*removed);
  CHECK_FALSE(**removed == **added);

  CHECK(f.driver.listingVersion("/nope").error().is(StorageErrc::NotFound));
  CHECK(f.driver.listingVersion("/tags/a/link").error().is(StorageErrc::Io));
}

TEST_CASE("the memory driver has no listing versions (never cached)", "[storage]") {
  MemoryFixture f;
  REQUIRE(f.driver.putContent("/tags/a/link", "x"));
  auto version = f.driver.listingVersion("/tags");
  REQUIRE(version);
  CHECK_FALSE(*version);
}

TEMPLATE_TEST_CASE("drivers that hold the bytes themselves answer redirectURL with Unsupported",
                   "[storage]", DRIVERS) {
  TestType fixture;
  StorageDriver& driver = fixture.driver;
  REQUIRE(driver.putContent("/a/data", "x"));
  auto url = driver.redirectURL("/a/data", {.method = "GET", .expiry = std::nullopt});
  REQUIRE_FALSE(url);
  CHECK(url.error().is(StorageErrc::Unsupported));
  CHECK(url.error().detail() == "/a/data");
  CHECK(driver.redirectURL("/a/../b", {}).error().is(StorageErrc::InvalidPath));
}

// --- Calls in a NoWaitScope (storage/nowait.h) -------------------------------------------------

namespace {

using portico::Error;
using portico::Result;
using portico::storage::FilesystemDriver;
using portico::storage::NoWaitScope;
using portico::storage::WouldBlock;
using portico::storage::testing::ScratchDir;

// Runs `call` in a NoWaitScope: true if it answered, false if it threw WouldBlock.
template <typename Call>
bool answersWithoutWaiting(Call&& call) {
  NoWaitScope scope;
  try {
    call();
    return true;
  } catch (const WouldBlock&) {
    return false;
  }
}

}  // namespace

TEST_CASE("filesystem reads in a NoWaitScope answer from the kernel's caches, as outside it",
          "[storage][nowait]") {
  ScratchDir dir;
  FilesystemDriver driver(dir.path());
  REQUIRE(driver.supportsNoWait());  // Linux ≥ 5.12 on ext4/tmpfs, as CI runs
  REQUIRE(driver.putContent("/a/link", "sha256:abc"));
  // Written just now: the path is in the lookup cache and the bytes in the page cache.
  Result<std::string> content = Error(StorageErrc::Io, "not called");
  CHECK(answersWithoutWaiting([&] { content = driver.getContent("/a/link"); }));
  REQUIRE(content);
  CHECK(*content == "sha256:abc");
  Result<portico::storage::FileInfo> info = Error(StorageErrc::Io, "not called");
  CHECK(answersWithoutWaiting([&] { info = driver.stat("/a/link"); }));
  REQUIRE(info);
  CHECK(info->size == 10);
  Result<std::unique_ptr<portico::storage::FileReader>> opened = Error(StorageErrc::Io, "");
  CHECK(answersWithoutWaiting([&] { opened = driver.reader("/a/link", 7); }));
  REQUIRE(opened);
  const auto& reader = *opened;
  CHECK(reader->position() == 7);
  CHECK(reader->size() == 10);
  // Streaming reads are a storage thread's job.
  char byte = 0;
  CHECK_FALSE(answersWithoutWaiting([&] { (void)reader->read(&byte, 1); }));
}

TEST_CASE("a filesystem path not in the lookup cache would block; once looked up it answers",
          "[storage][nowait]") {
  ScratchDir dir;
  FilesystemDriver driver(dir.path());
  REQUIRE(driver.putContent("/a/present", "x"));
  // A name never looked up has no (negative) entry in the kernel's cache: finding out that it
  // does not exist means reading the directory, which may wait for the disk.
  CHECK_FALSE(answersWithoutWaiting([&] { (void)driver.getContent("/a/never-seen"); }));
  CHECK_FALSE(answersWithoutWaiting([&] { (void)driver.stat("/a/never-seen-either"); }));
  // Looked up once (outside a scope): the kernel remembers the absence, and the answer comes
  // without waiting, the same answer as outside a scope.
  auto outside = driver.getContent("/a/never-seen");
  REQUIRE_FALSE(outside);
  CHECK(outside.error().is(StorageErrc::NotFound));
  Result<std::string> inside = std::string("not called");
  CHECK(answersWithoutWaiting([&] { inside = driver.getContent("/a/never-seen"); }));
  REQUIRE_FALSE(inside);
  CHECK(inside.error().is(StorageErrc::NotFound));
}

TEST_CASE("filesystem bytes not in the page cache would block", "[storage][nowait]") {
  ScratchDir dir;
  FilesystemDriver driver(dir.path());
  const std::string bytes(1 << 20, 'm');
  REQUIRE(driver.putContent("/blob", bytes));  // fsynced: its pages are clean, so droppable
  const std::string full = dir.path() + "/blob";
  const int fd = ::open(full.c_str(), O_RDONLY | O_CLOEXEC);
  REQUIRE(fd >= 0);
  REQUIRE(::posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED) == 0);
  ::close(fd);
  CHECK_FALSE(answersWithoutWaiting([&] { (void)driver.getContent("/blob"); }));
  // Read once the ordinary way: cached again, answered in a scope.
  REQUIRE(driver.getContent("/blob"));
  Result<std::string> content = Error(StorageErrc::Io, "not called");
  CHECK(answersWithoutWaiting([&] { content = driver.getContent("/blob"); }));
  REQUIRE(content);
  CHECK(*content == bytes);
}

TEST_CASE("filesystem writes, listings and walks never run in a NoWaitScope", "[storage][nowait]") {
  ScratchDir dir;
  FilesystemDriver driver(dir.path());
  REQUIRE(driver.putContent("/d/f", "x"));
  REQUIRE(driver.list("/d"));  // everything cached: they still refuse
  CHECK_FALSE(answersWithoutWaiting([&] { (void)driver.putContent("/d/g", "y"); }));
  CHECK_FALSE(answersWithoutWaiting([&] { (void)driver.writer("/d/f", true); }));
  CHECK_FALSE(answersWithoutWaiting([&] { (void)driver.list("/d"); }));
  CHECK_FALSE(answersWithoutWaiting([&] { (void)driver.listEntries("/d"); }));
  CHECK_FALSE(answersWithoutWaiting([&] { (void)driver.move("/d/f", "/d/h"); }));
  CHECK_FALSE(answersWithoutWaiting([&] { (void)driver.remove("/d/f"); }));
  CHECK_FALSE(answersWithoutWaiting([&] {
    (void)driver.walk("/", [](const auto&) { return portico::storage::WalkControl::Continue; });
  }));
  // Nothing happened: no new file, nothing moved or removed.
  CHECK(*driver.getContent("/d/f") == "x");
  CHECK_FALSE(driver.stat("/d/g"));
  CHECK_FALSE(driver.stat("/d/h"));
  // Outside a scope the driver is unaffected.
  CHECK(driver.putContent("/d/g", "y"));
}

TEST_CASE("the memory driver does not offer NoWaitScope calls", "[storage][nowait]") {
  portico::storage::MemoryDriver driver;
  CHECK_FALSE(driver.supportsNoWait());
}
