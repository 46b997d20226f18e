#include "backend/registry/catalog.h"

#include <algorithm>
#include <charconv>

#include "backend/registry/blob_store.h"
#include "backend/registry/error_code.h"
#include "backend/storage/layout.h"

namespace portico::registry {

namespace layout = storage::layout;

Result<std::optional<size_t>> parsePaginationNumber(std::string_view text, size_t max) {
  if (text.empty()) return std::optional<size_t>{};
  size_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value > max) {
    return Error(ErrorCode::PaginationNumberInvalid, "invalid number of results requested",
                 std::string(text));
  }
  return std::optional<size_t>{value};
}

PageRange pageRange(const std::vector<std::string>& sorted, std::optional<size_t> n,
                    std::string_view last) {
  auto it = last.empty() ? sorted.begin()
                         : std::upper_bound(sorted.begin(), sorted.end(), last,
                                            [](std::string_view a, const std::string& b) {
                                              return a < std::string_view(b);
                                            });
  PageRange range;
  range.begin = static_cast<size_t>(it - sorted.begin());
  const size_t remaining = sorted.size() - range.begin;
  const size_t take = n ? std::min(*n, remaining) : remaining;
  range.end = range.begin + take;
  range.more = take < remaining && take > 0;
  return range;
}

Page paginate(const std::vector<std::string>& sorted, std::optional<size_t> n,
              std::string_view last) {
  const PageRange range = pageRange(sorted, n, last);
  Page page;
  page.entries.assign(sorted.begin() + static_cast<std::ptrdiff_t>(range.begin),
                      sorted.begin() + static_cast<std::ptrdiff_t>(range.end));
  if (range.more) page.next_last = page.entries.back();
  return page;
}

bool lessRepositoryName(std::string_view a, std::string_view b) {
  const size_t length = std::min(a.size(), b.size());
  for (size_t i = 0; i < length; ++i) {
    const unsigned char x = a[i] == '/' ? 0 : static_cast<unsigned char>(a[i]);
    const unsigned char y = b[i] == '/' ? 0 : static_cast<unsigned char>(b[i]);
    if (x != y) return x < y;
  }
  return a.size() < b.size();
}

namespace {

// True when every repository name in the subtree `prefix` ("a/b/", a directory's name and a
// slash) sorts at or before `last`: `prefix` is not a prefix of `last` and sorts before it,
// so they differ at a position inside `prefix` where `prefix` is smaller.
bool subtreeBefore(std::string_view prefix, std::string_view last) {
  return !last.starts_with(prefix) && lessRepositoryName(prefix, last);
}

}  // namespace

// distribution 2.8's walk (catalog.go Repositories + handleRepository over WalkFallback), quirks
// included, pruned. Entries in byte order, depth first. A `_layers` entry names a repository
// (collected if after `last`); any `_` entry is not descended into, and a `_` FILE ends the
// reading of its directory (ErrSkipDir on a file). distribution checks whether the page is
// full only when it visits an entry that is not `_`-prefixed: so a full page followed by such
// an entry announces a next page, the last repository of the walk does not, and repositories
// met back to back (a nested "a/0b" before "a") can overfill the page, which then is cut to n
// without a next page. The two shortcuts cannot change any of that: a subtree whose names
// all sort at or before `last` is skipped after its own visit (nothing in it would be
// collected, so no check inside it could differ from the one at its visit), so a page costs
// O(n) directory reads instead of everything up to `last`; and one listEntries() per
// directory (readdir's d_type) replaces distribution's stat per entry. A repository
// directory is still read, not just probed for `_layers`: a repository may hold nested
// ones ("a" and "a/b"), whose directories sit next to `_layers`.
Result<void> Catalog::walk(const std::string& dir, const std::string& name, WalkState& state) {
  auto entries = driver_.listEntries(dir);
  if (!entries) return entries.error();
  for (const storage::DirEntry& entry : *entries) {
    if (entry.name.front() == '_') {
      // `_layers` directly under repositories/ would name the empty repository: not one.
      if (entry.name == layout::kLayersDirName && !name.empty() &&
          (state.last.empty() || lessRepositoryName(state.last, name))) {
        state.found.push_back(name);
      }
      if (!entry.is_dir) return ok();
      continue;
    }
    if (state.limit && state.found.size() == *state.limit) {
      state.full = true;
      return ok();
    }
    if (!entry.is_dir) continue;
    std::string child = name.empty() ? entry.name : name + "/" + entry.name;
    if (!state.last.empty() && subtreeBefore(child + "/", state.last)) continue;
    auto walked = walk(layout::repositoryDir(child), child, state);
    if (!walked && !walked.error().is(storage::StorageErrc::NotFound)) return walked;  // else gone
    if (state.full) return ok();
  }
  return ok();
}

Result<Page> Catalog::list(std::optional<size_t> n, std::string_view last) {
  WalkState state{.found = {}, .limit = n, .last = last, .full = false};
  Page page;
  if (n && *n == 0) return page;
  auto walked = walk(layout::repositoriesRoot(), "", state);
  if (!walked && !walked.error().is(storage::StorageErrc::NotFound)) {
    return fromStorageError(walked.error(), ErrorCode::NameUnknown, "catalog");
  }
  if (n && state.found.size() > *n) state.found.resize(*n);
  page.entries = std::move(state.found);
  if (state.full) page.next_last = page.entries.back();
  return page;
}

}  // namespace portico::registry
