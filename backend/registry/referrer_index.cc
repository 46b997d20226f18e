#include "backend/registry/referrer_index.h"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "backend/registry/blob_store.h"
#include "backend/registry/manifests/manifest.h"
#include "backend/storage/layout.h"

namespace portico::registry {

namespace layout = storage::layout;

Result<ReferrerIndex::Entry> ReferrerIndex::load(const crypto::Digest& digest) {
  {
    std::lock_guard lock(mutex_);
    if (auto it = cache_.find(digest); it != cache_.end()) {
      lru_.splice(lru_.begin(), lru_, it->second);
      return it->second->second;
    }
  }
  auto bytes = driver_.getContent(layout::blobData(digest));
  if (!bytes) return fromStorageError(bytes.error(), ErrorCode::ManifestUnknown, digest.str());

  Entry entry;
  entry.descriptor.digest = digest;
  entry.descriptor.size = static_cast<int64_t>(bytes->size());
  const std::string media_type = manifests::storedMediaType(*bytes);
  entry.descriptor.media_type = media_type;
  // Only OCI manifests and indexes carry a subject; anything else is cached as "no subject".
  if (media_type == manifests::kOciManifest || media_type == manifests::kOciIndex) {
    auto parsed = manifests::parse(media_type, *bytes, digest.algorithm());
    if (parsed && parsed->subject) {
      entry.subject = parsed->subject->digest;
      entry.descriptor.artifact_type = parsed->artifact_type;
      entry.descriptor.annotations = parsed->annotations;
    }
  }
  if (cache_capacity_ == 0) return entry;
  std::lock_guard lock(mutex_);
  if (cache_.count(digest) != 0) return entry;  // another worker loaded it meanwhile
  while (cache_.size() >= cache_capacity_) {
    cache_.erase(lru_.back().first);
    lru_.pop_back();
  }
  lru_.emplace_front(digest, entry);
  cache_.emplace(digest, lru_.begin());
  return entry;
}

void ReferrerIndex::clearCache() {
  std::lock_guard lock(mutex_);
  cache_.clear();
  lru_.clear();
}

size_t ReferrerIndex::cachedEntries() {
  std::lock_guard lock(mutex_);
  return cache_.size();
}

Result<std::vector<manifests::Descriptor>> ReferrerIndex::list(
    const Repository& repo, const crypto::Digest& subject,
    std::optional<std::string_view> artifact_type) {
  std::vector<manifests::Descriptor> out;
  auto algorithms = driver_.list(layout::manifestRevisionsDir(repo.str()));
  if (!algorithms) {
    if (algorithms.error().is(storage::StorageErrc::NotFound)) return out;
    return fromStorageError(algorithms.error(), ErrorCode::ManifestUnknown, repo.str());
  }
  for (const auto& algorithm_dir : *algorithms) {
    auto revisions = driver_.list(algorithm_dir);
    if (!revisions) continue;  // a stray file, or removed meanwhile
    for (const auto& revision_dir : *revisions) {
      auto revision = layout::digestFromLinkDir(revision_dir);
      if (!revision) continue;  // not named like a revision: not one
      auto link = driver_.getContent(layout::manifestRevisionLink(repo.str(), *revision));
      if (!link) continue;  // deleted revision: distribution removes only the link
      auto digest = layout::parseLinkContent(*link);
      if (!digest) continue;
      auto entry = load(*digest);
      if (!entry) {
        if (entry.error().is(ErrorCode::ManifestUnknown)) continue;  // data gone (GC)
        return entry.error();
      }
      if (!entry->subject || *entry->subject != subject) continue;
      if (artifact_type && entry->descriptor.artifact_type != *artifact_type) continue;
      out.push_back(entry->descriptor);
    }
  }
  std::sort(out.begin(), out.end(),
            [](const auto& a, const auto& b) { return a.digest < b.digest; });
  return out;
}

std::string ReferrerIndex::renderIndex(const std::vector<manifests::Descriptor>& descriptors) {
  nlohmann::json index = nlohmann::json::object();
  index["schemaVersion"] = 2;
  index["mediaType"] = manifests::kOciIndex;
  index["manifests"] = nlohmann::json::array();
  for (const auto& descriptor : descriptors) {
    index["manifests"].push_back(manifests::toJson(descriptor));
  }
  return index.dump();
}

}  // namespace portico::registry
