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

Page paginate(const std::vector<std::string>& sorted, std::optional<size_t> n,
              std::string_view last) {
  Page page;
  auto it = last.empty() ? sorted.begin()
                         : std::upper_bound(sorted.begin(), sorted.end(), last,
                                            [](std::string_view a, const std::string& b) {
                                              return a < std::string_view(b);
                                            });
  const size_t remaining = static_cast<size_t>(sorted.end() - it);
  const size_t take = n ? std::min(*n, remaining) : remaining;
  page.entries.assign(it, it + static_cast<std::ptrdiff_t>(take));
  if (take < remaining && take > 0) page.next_last = page.entries.back();
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

Result<Page> Catalog::list(std::optional<size_t> n, std::string_view last) {
  Page page;
  if (n && *n == 0) return page;
  const std::string root = layout::repositoriesRoot();
  bool more = false;
  auto walked = driver_.walk(root, [&](const storage::FileInfo& info) {
    if (!info.is_dir) return storage::WalkControl::Continue;
    const std::string_view base = storage::baseName(info.path);
    if (base.empty() || base.front() != '_') return storage::WalkControl::Continue;
    if (base == "_layers") {
      // info.path = <root>/<name>/_layers
      std::string_view name(info.path);
      name.remove_prefix(root.size() + 1);
      name.remove_suffix(base.size() + 1);
      if (last.empty() || lessRepositoryName(last, name)) {
        if (n && page.entries.size() == *n) {
          more = true;
          return storage::WalkControl::Stop;
        }
        page.entries.emplace_back(name);
      }
    }
    return storage::WalkControl::SkipDir;
  });
  if (!walked && !walked.error().is(storage::StorageErrc::NotFound)) {
    return fromStorageError(walked.error(), ErrorCode::NameUnknown, "catalog");
  }
  if (more) page.next_last = page.entries.back();
  return page;
}

}  // namespace portico::registry
