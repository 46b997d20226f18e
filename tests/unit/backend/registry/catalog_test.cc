// Catalog walk (distribution's catalog.go) and n/last pagination for tags and catalog.

#include "backend/registry/catalog.h"

#include <catch2/catch.hpp>

#include "backend/registry/error_code.h"
#include "backend/storage/layout.h"
#include "backend/storage/memory_driver.h"

using namespace portico;
using namespace portico::registry;
namespace layout = storage::layout;

namespace {

void makeRepository(storage::StorageDriver& driver, std::string_view name) {
  REQUIRE(driver.putContent(layout::layersDir(name) + "/sha256/00/link", "x"));
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
