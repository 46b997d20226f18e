#include "backend/registry/tag_store.h"

#include <algorithm>
#include <optional>

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

Result<TagStore::TagList> TagStore::list(const Repository& repo) {
  auto tags = sortedTags(repo);
  if (!tags) return tags.error();
  return TagList(**tags);
}

Result<std::shared_ptr<const TagStore::TagList>> TagStore::sortedTags(const Repository& repo) {
  const std::string dir = layout::tagsDir(repo.str());
  // The version first, then the read: a change after the stat shows in the next version.
  std::optional<storage::ListingVersion> version;
  if (cache_capacity_ > 0) {
    if (auto v = driver_.listingVersion(dir); v && *v) {
      version = **v;
      if (auto hit = cached(repo.str(), *version)) return hit;
    }
  }
  auto entries = driver_.listEntries(dir);
  if (!entries) return fromStorageError(entries.error(), ErrorCode::NameUnknown, repo.str());
  auto tags = std::make_shared<TagList>();
  tags->reserve(entries->size());
  // listEntries() is sorted by name, byte-wise: the order of distribution's sort.Strings.
  for (auto& entry : *entries) tags->push_back(std::move(entry.name));
  std::shared_ptr<const TagList> shared = std::move(tags);
  if (version) remember(repo.str(), *version, shared);
  return shared;
}

std::shared_ptr<const TagStore::TagList> TagStore::cached(const std::string& repository,
                                                          const storage::ListingVersion& version) {
  std::lock_guard lock(mutex_);
  auto it = by_repository_.find(repository);
  if (it == by_repository_.end() || !(it->second->version == version)) return nullptr;
  lru_.splice(lru_.begin(), lru_, it->second);
  return it->second->tags;
}

void TagStore::remember(const std::string& repository, const storage::ListingVersion& version,
                        std::shared_ptr<const TagList> tags) {
  constexpr size_t kOverheadPerName = sizeof(std::string);
  size_t bytes = repository.size() + sizeof(CacheEntry);
  for (const auto& tag : *tags) bytes += tag.size() + kOverheadPerName;
  std::lock_guard lock(mutex_);
  if (auto it = by_repository_.find(repository); it != by_repository_.end()) {
    cache_bytes_ -= it->second->bytes;
    lru_.erase(it->second);
    by_repository_.erase(it);
  }
  if (bytes > cache_capacity_) return;
  while (cache_bytes_ + bytes > cache_capacity_ && !lru_.empty()) {
    cache_bytes_ -= lru_.back().bytes;
    by_repository_.erase(lru_.back().repository);
    lru_.pop_back();
  }
  lru_.push_front(CacheEntry{repository, version, std::move(tags), bytes});
  by_repository_[repository] = lru_.begin();
  cache_bytes_ += bytes;
}

void TagStore::clearCache() {
  std::lock_guard lock(mutex_);
  by_repository_.clear();
  lru_.clear();
  cache_bytes_ = 0;
}

size_t TagStore::cachedBytes() {
  std::lock_guard lock(mutex_);
  return cache_bytes_;
}

Result<std::vector<std::string>> TagStore::lookup(const Repository& repo,
                                                  const crypto::Digest& digest) {
  std::vector<std::string> found;
  auto all = sortedTags(repo);
  if (!all) {
    if (all.error().is(ErrorCode::NameUnknown)) return found;
    return all.error();
  }
  for (const auto& name : **all) {
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
