// Catalog walk (distribution's catalog.go) and n/last pagination for tags and catalog.

#include "backend/registry/catalog.h"

#include <catch2/catch.hpp>

#include "backend/registry/error_code.h"
#include "backend/storage/layout.h"
#include "backend/storage/memory_driver.h"
#include "tests/unit/backend/storage/driver_fixtures.h"

using namespace portico;
using namespace portico::registry;
namespace layout = storage::layout;

namespace {

void makeRepository(storage::StorageDriver& driver, std::string_view name) {
  REQUIRE(driver.putContent(layout::layersDir(name) + "/sha256/00/link", "x"));
}

// A driver that counts directory reads, to see what a catalog page touches.
class CountingDriver final : public storage::StorageDriver {
 public:
  explicit CountingDriver(storage::StorageDriver& inner) : inner_(inner) {}
  size_t reads = 0;

  std::string_view name() const override { return inner_.name(); }
  Result<std::string> getContent(std::string_view path) override { return inner_.getContent(path); }
  Result<void> putContent(std::string_view path, std::string_view data) override {
    return inner_.putContent(path, data);
  }
  Result<std::unique_ptr<storage::FileReader>> reader(std::string_view path,
                                                      uint64_t offset) override {
    return inner_.reader(path, offset);
  }
  Result<std::unique_ptr<storage::FileWriter>> writer(std::string_view path, bool append) override {
    return inner_.writer(path, append);
  }
  Result<storage::FileInfo> stat(std::string_view path) override { return inner_.stat(path); }
  Result<std::vector<std::string>> list(std::string_view path) override {
    ++reads;
    return inner_.list(path);
  }
  Result<std::vector<storage::DirEntry>> listEntries(std::string_view path) override {
    ++reads;
    return inner_.listEntries(path);
  }
  Result<void> move(std::string_view src, std::string_view dst) override {
    return inner_.move(src, dst);
  }
  Result<void> remove(std::string_view path) override { return inner_.remove(path); }
  Result<void> walk(std::string_view path, const storage::WalkCallback& callback) override {
    ++reads;
    return inner_.walk(path, callback);
  }

 private:
  storage::StorageDriver& inner_;
};

// distribution 2.8's Repositories() and GetCatalog transcribed over StorageDriver::walk (every
// entry visited, nothing skipped): the reference the pruned Catalog must equal, including
// when a next page is announced (checked when a non-`_` entry is visited with a full page).
Page distributionPage(storage::StorageDriver& driver, std::optional<size_t> n,
                      const std::string& last) {
  const std::string root = layout::repositoriesRoot();
  std::vector<std::string> found;
  bool finished = false;
  auto walked = driver.walk(root, [&](const storage::FileInfo& info) {
    std::string_view relative(info.path);
    relative.remove_prefix(root.size() + 1);
    const std::string_view base = storage::baseName(info.path);
    if (base == "_layers") {
      relative.remove_suffix(base.size() + 1);
      if (last.empty() || lessRepositoryName(last, relative)) found.emplace_back(relative);
      return storage::WalkControl::SkipDir;
    }
    if (base.front() == '_') return storage::WalkControl::SkipDir;
    if (n && found.size() == *n) {
      finished = true;
      return storage::WalkControl::Stop;
    }
    return storage::WalkControl::Continue;
  });
  REQUIRE(walked);
  Page page;
  if (n && found.size() > *n) found.resize(*n);
  page.entries = found;
  if (finished) page.next_last = found.back();
  return page;
}

}  // namespace

TEST_CASE("the catalog finds nested repositories in distribution's order", "[catalog]") {
  storage::MemoryDriver driver;
  makeRepository(driver, "b");
  makeRepository(driver, "a");
  makeRepository(driver, "a/b");
  makeRepository(driver, "a/b/c");
  makeRepository(driver, "a-b");
  // Directories that are not repositories: no _layers, or only uploads/manifests.
  REQUIRE(driver.putContent(layout::repositoryDir("empty/parent") + "/file", "x"));
  REQUIRE(driver.putContent(layout::uploadStartedAt("uploading", "id"), "x"));
  // A _-prefixed directory is never descended into.
  REQUIRE(driver.putContent(layout::tagsDir("a") + "/x/_layers/link", "x"));

  Catalog catalog(driver);
  auto all = catalog.list(std::nullopt, "");
  REQUIRE(all);
  // '/' sorts before '-': "a/b" comes before "a-b" (distribution's lessPath).
  CHECK(all->entries == std::vector<std::string>{"a", "a/b", "a/b/c", "a-b", "b"});
  CHECK_FALSE(all->next_last);
}

TEST_CASE("catalog pagination with n and last", "[catalog]") {
  storage::MemoryDriver driver;
  for (auto name : {"a", "a/b", "a-b", "b", "c"}) makeRepository(driver, name);
  Catalog catalog(driver);

  auto first = catalog.list(2, "");
  REQUIRE(first);
  CHECK(first->entries == std::vector<std::string>{"a", "a/b"});
  REQUIRE(first->next_last);
  CHECK(*first->next_last == "a/b");

  auto second = catalog.list(2, *first->next_last);
  REQUIRE(second);
  CHECK(second->entries == std::vector<std::string>{"a-b", "b"});
  REQUIRE(second->next_last);

  auto third = catalog.list(2, *second->next_last);
  REQUIRE(third);
  CHECK(third->entries == std::vector<std::string>{"c"});
  CHECK_FALSE(third->next_last);

  // Exactly n left: no next page announced.
  auto exact = catalog.list(2, "a-b");
  REQUIRE(exact);
  CHECK(exact->entries == std::vector<std::string>{"b", "c"});
  CHECK_FALSE(exact->next_last);

  auto zero = catalog.list(0, "");
  REQUIRE(zero);
  CHECK(zero->entries.empty());
  CHECK_FALSE(zero->next_last);
}

TEST_CASE("an empty storage has an empty catalog", "[catalog]") {
  storage::MemoryDriver driver;
  auto page = Catalog(driver).list(std::nullopt, "");
  REQUIRE(page);
  CHECK(page->entries.empty());
}

TEST_CASE("paginate returns entries after last, at most n", "[pagination]") {
  const std::vector<std::string> tags{"1.0", "1.1", "2.0", "latest"};
  CHECK(paginate(tags, std::nullopt, "").entries == tags);
  auto page = paginate(tags, 2, "");
  CHECK(page.entries == std::vector<std::string>{"1.0", "1.1"});
  REQUIRE(page.next_last);
  CHECK(*page.next_last == "1.1");
  page = paginate(tags, 2, "1.1");
  CHECK(page.entries == std::vector<std::string>{"2.0", "latest"});
  CHECK_FALSE(page.next_last);
  // `last` need not be an existing entry.
  CHECK(paginate(tags, std::nullopt, "1.5").entries == std::vector<std::string>{"2.0", "latest"});
  CHECK(paginate(tags, std::nullopt, "zzz").entries.empty());
  CHECK(paginate(tags, 0, "").entries.empty());
  CHECK_FALSE(paginate(tags, 0, "").next_last);
}

TEST_CASE("n must be a non-negative integer up to the maximum (PAGINATION_NUMBER_INVALID)",
          "[pagination]") {
  CHECK_FALSE(*parsePaginationNumber("", 1000));
  CHECK(**parsePaginationNumber("0", 1000) == 0);
  CHECK(**parsePaginationNumber("1000", 1000) == 1000);
  for (auto bad : {"-1", "abc", "10x", "1001", "1.5", " 5", "99999999999999999999999"}) {
    auto parsed = parsePaginationNumber(bad, 1000);
    INFO(bad);
    REQUIRE_FALSE(parsed);
    CHECK(parsed.error().is(ErrorCode::PaginationNumberInvalid));
  }
}

TEST_CASE("lessRepositoryName compares component-wise", "[catalog]") {
  CHECK(lessRepositoryName("a/b", "a-b"));
  CHECK_FALSE(lessRepositoryName("a-b", "a/b"));
  CHECK(lessRepositoryName("a", "a/b"));
  CHECK(lessRepositoryName("", "a"));
  CHECK_FALSE(lessRepositoryName("a", "a"));
}

TEMPLATE_TEST_CASE("a catalog page equals distribution's unpruned walk, for every last and n",
                   "[catalog]", storage::testing::FilesystemFixture,
                   storage::testing::MemoryFixture) {
  TestType f;
  // Nested repositories, names that sort around '/' and '_', a name that sorts before its
  // parent's _layers ("a/0b": distribution's walk emits it before "a").
  const std::vector<std::string> names{"a",     "a/0b",  "a/b",   "a/b/c", "a-b", "a.b",
                                       "a0",    "b",     "b/a/c", "c/x",   "c/y", "c0/z",
                                       "d/e/f", "d/e-f", "d/ef",  "z"};
  for (const auto& name : names) makeRepository(f.driver, name);
  REQUIRE(f.driver.putContent(layout::repositoryDir("nothere/deep") + "/file", "x"));
  Catalog catalog(f.driver);
  auto whole = catalog.list(std::nullopt, "");
  REQUIRE(whole);
  CHECK(whole->entries == std::vector<std::string>{"a/0b", "a", "a/b", "a/b/c", "a-b", "a.b", "a0",
                                                   "b", "b/a/c", "c/x", "c/y", "c0/z", "d/e/f",
                                                   "d/e-f", "d/ef", "z"});
  std::vector<std::string> lasts = names;
  for (auto extra : {"0", "a/", "a/b/", "a/c", "b/a", "c", "c/", "d", "d/e", "zz", "~"}) {
    lasts.emplace_back(extra);
  }
  for (const auto& last : lasts) {
    for (std::optional<size_t> n :
         {std::optional<size_t>{}, std::optional<size_t>{1}, std::optional<size_t>{2},
          std::optional<size_t>{5}, std::optional<size_t>{15}, std::optional<size_t>{16},
          std::optional<size_t>{17}}) {
      INFO("last " << last << " n " << (n ? std::to_string(*n) : "none"));
      auto page = catalog.list(n, last);
      REQUIRE(page);
      const Page want = distributionPage(f.driver, n, last);
      CHECK(page->entries == want.entries);
      CHECK(page->next_last == want.next_last);
    }
  }
}

TEST_CASE("a catalog page after last reads only the directories it needs", "[catalog]") {
  storage::MemoryDriver memory;
  for (int i = 0; i < 100; ++i) {
    char name[32];
    std::snprintf(name, sizeof name, "group/repo-%03d", i);
    makeRepository(memory, name);
  }
  CountingDriver driver(memory);
  Catalog catalog(driver);
  auto page = catalog.list(10, "group/repo-079");
  REQUIRE(page);
  REQUIRE(page->entries.size() == 10);
  CHECK(page->entries.front() == "group/repo-080");
  CHECK(page->entries.back() == "group/repo-089");
  // repositories/, group/, `last` itself (a nested repository could follow it), and the 11
  // repositories from 080 to 090 (the 11th shows that more follow): not the 79 before it.
  CHECK(driver.reads <= 14);
}
