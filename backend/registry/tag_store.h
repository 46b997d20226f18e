#pragma once
// TagStore: tag → manifest digest for one repository, on distribution's layout
// (registry/storage/tagstore.go):
//   _manifests/tags/<tag>/current/link                 the digest the tag points to now
//   _manifests/tags/<tag>/index/<alg>/<hex>/link       every digest it has pointed to
// Tags are not checked against the revisions here; ManifestStore does that.
//
// Listing cache: list() keeps the sorted tags of recently listed repositories, each under the
// tags directory's StorageDriver::listingVersion() (device, inode, mtime, ctime, link count),
// read with one stat BEFORE the directory is read, and checked with one stat on every list().
// Any tag added or removed afterwards, by this process or another one sharing the storage
// (distribution, a second portico-registry), changes that version, so a stale list is never
// served; a directory changed within the last two seconds has no version and is read
// uncached (a filesystem timestamp cannot yet tell a further change apart). Re-pointing a tag
// does not change the list and does not touch the tags directory. The cache is an LRU bounded
// by the bytes of the names it holds (cache_bytes); 0 disables it.
//
// Errors: ManifestUnknown (tag not found), NameUnknown (list of a repository that has no
// tags directory), Unavailable/Internal for storage failures.

#include <cstddef>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "backend/registry/reference.h"
#include "backend/storage/storage_driver.h"
#include "common/crypto/digest.h"
#include "common/result.h"

namespace portico::registry {

// Default bound of the listing cache: the bytes of the cached tag names (plus a fixed
// overhead per name).
inline constexpr size_t kDefaultTagCacheBytes = size_t{16} * 1024 * 1024;

class TagStore {
 public:
  using TagList = std::vector<std::string>;

  explicit TagStore(storage::StorageDriver& driver, size_t cache_bytes = kDefaultTagCacheBytes)
      : driver_(driver), cache_capacity_(cache_bytes) {}

  // Points `tag` at `digest`: writes the index entry, then current/link (each atomically).
  [[nodiscard]] Result<void> tag(const Repository& repo, const Tag& tag,
                                 const crypto::Digest& digest);
  // The digest `tag` points to (ManifestUnknown if the tag does not exist).
  [[nodiscard]] Result<crypto::Digest> resolve(const Repository& repo, const Tag& tag);
  // Removes the tag (its whole directory, as distribution's Untag); ManifestUnknown if absent.
  // The manifest stays (OCI 1.1 "Deleting tags").
  [[nodiscard]] Result<void> untag(const Repository& repo, const Tag& tag);
  // Every tag of the repository, sorted byte-wise (NameUnknown if the repository has no
  // _manifests/tags directory, as distribution's tagStore.All()). Shared and immutable: may
  // come from the listing cache.
  [[nodiscard]] Result<std::shared_ptr<const TagList>> sortedTags(const Repository& repo);
  // The same as a copy.
  [[nodiscard]] Result<TagList> list(const Repository& repo);
  // The tags whose current link is `digest`, sorted (empty when none or no tags at all).
  [[nodiscard]] Result<std::vector<std::string>> lookup(const Repository& repo,
                                                        const crypto::Digest& digest);

  // Bytes the listing cache holds now (for tests and metrics).
  size_t cachedBytes();
  // Forgets every cached listing (after garbage collection).
  void clearCache();

 private:
  struct CacheEntry {
    std::string repository;
    storage::ListingVersion version;
    std::shared_ptr<const TagList> tags;
    size_t bytes = 0;
  };
  using Lru = std::list<CacheEntry>;  // most recently used first

  std::shared_ptr<const TagList> cached(const std::string& repository,
                                        const storage::ListingVersion& version);
  void remember(const std::string& repository, const storage::ListingVersion& version,
                std::shared_ptr<const TagList> tags);

  storage::StorageDriver& driver_;
  const size_t cache_capacity_;
  std::mutex mutex_;  // guards the cache below
  Lru lru_;
  std::unordered_map<std::string, Lru::iterator> by_repository_;
  size_t cache_bytes_ = 0;
};

}  // namespace portico::registry
