#pragma once
// Repository listing (GET /v2/_catalog) and the `n`/`last` pagination shared with the tags
// list (distribution's registry/storage/catalog.go and handlers/{catalog,tags}.go; OCI
// distribution-spec "Listing Tags").
//
// A repository is a directory under repositories/ that holds `_layers`, exactly as
// distribution 2.8's catalog decides (handleRepository); the walk never descends into
// `_`-prefixed directories, and nested names ("a/b/c") are found below plain directories.
// Names come out in the order of distribution's walk (byte order within a directory, depth
// first): component-wise ('/' before every other character), except that a nested name
// sorting before `_layers` ("a/0b") precedes its parent. `last` compares component-wise.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "backend/storage/storage_driver.h"
#include "common/result.h"

namespace portico::registry {

// Default page size when a request has no `n` (distribution's catalog.maxentries default).
inline constexpr size_t kDefaultPageSize = 100;

// One page of a sorted listing.
struct Page {
  std::vector<std::string> entries;
  // Set when more entries follow: the `last` of the next page (the API's Link header).
  std::optional<std::string> next_last;
};

// Parses the `n` query parameter: absent/empty → nullopt (no limit given); a decimal integer
// 0..max → its value; anything else (negative, not a number, above `max`) →
// PaginationNumberInvalid.
[[nodiscard]] Result<std::optional<size_t>> parsePaginationNumber(std::string_view text,
                                                                  size_t max);

// Where a page lies in `sorted`: positions [begin, end); `more` when entries follow it.
struct PageRange {
  size_t begin = 0;
  size_t end = 0;
  bool more = false;
};

// The page of `sorted` (byte-wise sorted) after `last`, at most `n`, as positions: lets a
// caller render a page of a shared list without copying it. Same rules as paginate().
PageRange pageRange(const std::vector<std::string>& sorted, std::optional<size_t> n,
                    std::string_view last);

// The entries of `sorted` (byte-wise sorted, as tags are) strictly after `last` (empty last:
// from the start), at most `n` of them (nullopt: all). n = 0 gives an empty page.
Page paginate(const std::vector<std::string>& sorted, std::optional<size_t> n,
              std::string_view last);

// distribution's lessPath: component-wise comparison of repository names.
bool lessRepositoryName(std::string_view a, std::string_view b);

class Catalog {
 public:
  explicit Catalog(storage::StorageDriver& driver) : driver_(driver) {}

  // Up to `n` repository names after `last` (component-wise), in distribution's walk order,
  // and next_last exactly when distribution 2.8 sends a Link (see catalog.cc). An absent
  // repositories/ directory is an empty catalog.
  [[nodiscard]] Result<Page> list(std::optional<size_t> n, std::string_view last);

 private:
  struct WalkState {
    std::vector<std::string> found;  // can exceed limit, as in distribution
    std::optional<size_t> limit;
    std::string_view last;
    bool full = false;  // the walk stopped on a full page: a next page is announced
  };
  // Collects the repositories at and below `dir` (logical path) whose name is `name`.
  Result<void> walk(const std::string& dir, const std::string& name, WalkState& state);

  storage::StorageDriver& driver_;
};

}  // namespace portico::registry
