#pragma once
// ReferrerIndex: the OCI 1.1 referrers of a subject manifest (distribution-spec "Listing
// Referrers"). Distribution 2.8 has no referrers API and no referrers layout, so nothing new
// is written to disk: list() scans the repository's _manifests/revisions links and reads each
// manifest's `subject`. What it learns per manifest digest is cached in memory (content is
// immutable per digest, so the cache never goes stale; a deleted revision simply stops being
// listed because its link is gone). Manifests pushed by distribution on the same storage are
// found the same way.
//
// The cache is an LRU of at most `cache_entries` manifests (the least recently used one is
// dropped first), so memory stays bounded however many manifests the storage holds; a dropped
// manifest is simply read again.
//
// Thread-safe (one mutex around the cache).

#include <cstddef>
#include <list>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "backend/registry/manifests/descriptor.h"
#include "backend/registry/reference.h"
#include "backend/storage/storage_driver.h"
#include "common/crypto/digest.h"
#include "common/result.h"

namespace portico::registry {

// Default bound of the cache: manifests whose subject (or lack of one) is remembered.
inline constexpr size_t kDefaultReferrerCacheEntries = 16384;

class ReferrerIndex {
 public:
  explicit ReferrerIndex(storage::StorageDriver& driver,
                         size_t cache_entries = kDefaultReferrerCacheEntries)
      : driver_(driver), cache_capacity_(cache_entries) {}

  // Descriptors (mediaType, digest, size, artifactType, annotations) of the manifests in
  // `repo` whose subject is `subject`, sorted by digest; only those whose artifactType equals
  // `artifact_type` when given. Unknown subject or repository → empty list, not an error.
  [[nodiscard]] Result<std::vector<manifests::Descriptor>> list(
      const Repository& repo, const crypto::Digest& subject,
      std::optional<std::string_view> artifact_type = std::nullopt);

  // The referrers response body: an OCI image index holding `descriptors`.
  static std::string renderIndex(const std::vector<manifests::Descriptor>& descriptors);

  // Manifests in the cache now (for tests and metrics).
  size_t cachedEntries();
  // Forgets every cached manifest (after garbage collection deleted some).
  void clearCache();

 private:
  struct Entry {
    std::optional<crypto::Digest> subject;
    manifests::Descriptor descriptor;
  };
  Result<Entry> load(const crypto::Digest& digest);

  using Lru = std::list<std::pair<crypto::Digest, Entry>>;  // most recently used first

  storage::StorageDriver& driver_;
  const size_t cache_capacity_;
  std::mutex mutex_;  // guards the two below
  Lru lru_;
  std::map<crypto::Digest, Lru::iterator> cache_;
};

}  // namespace portico::registry
