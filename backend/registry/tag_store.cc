#include "backend/registry/tag_store.h"

#include <algorithm>

#include "backend/registry/blob_store.h"
#include "backend/storage/layout.h"

namespace portico::registry {

namespace layout = storage::layout;

Result<void> TagStore::tag(const Repository& repo, const Tag& tag, const crypto::Digest& digest) {
  const std::string content = layout::linkContent(digest);
  // Index entry first: a crash between the two writes leaves the old current link intact.
  if (auto r =
          driver_.putContent(layout::tagIndexEntryLink(repo.str(), tag.str(), digest), content);
      !r) {
    return fromStorageError(r.error(), ErrorCode::ManifestUnknown, tag.str());
  }
  if (auto r = driver_.putContent(layout::tagCurrentLink(repo.str(), tag.str()), content); !r) {
    return fromStorageError(r.error(), ErrorCode::ManifestUnknown, tag.str());
  }
  return ok();
}

Result<crypto::Digest> TagStore::resolve(const Repository& repo, const Tag& tag) {
  auto content = driver_.getContent(layout::tagCurrentLink(repo.str(), tag.str()));
  if (!content) {
    return fromStorageError(content.error(), ErrorCode::ManifestUnknown, tag.str());
  }
  auto digest = layout::parseLinkContent(*content);
  if (!digest) {
    return Error(ErrorCode::Internal, "corrupt tag link", tag.str());
  }
  return std::move(*digest);
}

Result<void> TagStore::untag(const Repository& repo, const Tag& tag) {
  if (auto r = driver_.remove(layout::tagDir(repo.str(), tag.str())); !r) {
    return fromStorageError(r.error(), ErrorCode::ManifestUnknown, tag.str());
  }
  return ok();
}

Result<std::vector<std::string>> TagStore::list(const Repository& repo) {
  auto children = driver_.list(layout::tagsDir(repo.str()));
  if (!children) return fromStorageError(children.error(), ErrorCode::NameUnknown, repo.str());
  std::vector<std::string> tags;
  tags.reserve(children->size());
  for (const auto& path : *children) tags.emplace_back(storage::baseName(path));
  std::sort(tags.begin(), tags.end());
  return tags;
}

Result<std::vector<std::string>> TagStore::lookup(const Repository& repo,
                                                  const crypto::Digest& digest) {
  std::vector<std::string> found;
  auto all = list(repo);
  if (!all) {
    if (all.error().is(ErrorCode::NameUnknown)) return found;
    return all.error();
  }
  for (const auto& name : *all) {
    auto tag = Tag::parse(name);
    if (!tag) continue;  // not a tag we could have written; leave it alone
    auto current = resolve(repo, *tag);
    if (!current) {
      // A tag directory without current/link (half-deleted): not pointing anywhere.
      if (current.error().is(ErrorCode::ManifestUnknown)) continue;
      return current.error();
    }
    if (*current == digest) found.push_back(name);
  }
  return found;
}

}  // namespace portico::registry
