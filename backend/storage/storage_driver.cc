#include "backend/storage/storage_driver.h"

#include <string>

namespace portico::storage {

Result<void> validatePath(std::string_view path, bool allow_root) {
  auto invalid = [&](const char* why) {
    return Error{StorageErrc::InvalidPath, std::string("invalid storage path: ") + why,
                 std::string(path)};
  };
  if (path.empty() || path.front() != '/') return invalid("not absolute");
  if (path == "/") {
    if (allow_root) return ok();
    return invalid("the root is not a file");
  }
  if (path.find('\0') != std::string_view::npos) return invalid("NUL byte");
  if (path.back() == '/') return invalid("trailing slash");
  size_t start = 1;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    const std::string_view component = path.substr(start, end - start);
    if (component.empty()) return invalid("empty component");
    if (component == "." || component == "..") return invalid("dot component");
    start = end + 1;
  }
  return ok();
}

Result<std::vector<DirEntry>> StorageDriver::listEntries(std::string_view path) {
  auto children = list(path);
  if (!children) return children.error();
  std::vector<DirEntry> entries;
  entries.reserve(children->size());
  for (const std::string& child : *children) {
    auto info = stat(child);
    if (!info) {
      if (info.error().is(StorageErrc::NotFound)) continue;  // removed meanwhile
      return info.error();
    }
    entries.push_back(DirEntry{std::string(baseName(child)), info->is_dir});
  }
  return entries;
}

Result<std::optional<ListingVersion>> StorageDriver::listingVersion(std::string_view path) {
  if (auto valid = validatePath(path, true); !valid) return valid.error();
  return std::optional<ListingVersion>{};
}

Result<std::string> StorageDriver::redirectURL(std::string_view path,
                                               const RedirectOptions& /*options*/) {
  if (auto valid = validatePath(path); !valid) return valid.error();
  return Error{StorageErrc::Unsupported,
               "the " + std::string(name()) + " storage driver does not redirect",
               std::string(path)};
}

std::string_view parentPath(std::string_view path) {
  const size_t slash = path.rfind('/');
  if (slash == 0 || slash == std::string_view::npos) return "/";
  return path.substr(0, slash);
}

std::string_view baseName(std::string_view path) {
  const size_t slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

}  // namespace portico::storage
