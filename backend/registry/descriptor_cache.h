#pragma once
// The blob descriptor cache: storage.cache.blobdescriptor: inmemory, as in distribution
// (registry/storage/cache/memory, used by its cachedBlobStatter). A blob HEAD, and the
// descriptor part of a blob GET, answer from memory on the worker instead of a round trip
// to a storage thread and two file reads (the link, then the data's size).
//
//   CachingNamespace ─ repository(name) ─► CachingRepository ─ blobs() ─► CachingBlobService
//        │ (ForwardingNamespace)                                   │ stat: hit → answered on the
//        worker ▼                                                         ▼ miss/mount/open →
//        inner, then remembered
//   inner Namespace (LocalNamespace)                           inner BlobService
//
// What is cached: "blob D is linked in repository R, and is N bytes" — the answer of a
// successful BlobService::stat, mount or open. Absence is never cached, so a push is seen at
// once. The size of a digest never changes (content addressing); what can change is the link:
//   - a blob DELETE through this process (CachingBlobService::remove) forgets it;
//   - garbage collection in this process (GcRunner) clears everything after a run that deleted;
//   - an invalidation while a lookup is in flight wins: the lookup's answer is not remembered
//     (an epoch counter, so a stat that read the link before a delete cannot put it back).
// Not seen: deletes by another process on the same storage (a second replica, `verify
// --repair`, distribution). distribution's in-memory cache has the same limit; run one
// replica or none with this cache when other processes delete (docs/configuration.md).
//
// Bounded: at most `capacity` entries (storage.cache.blobdescriptorsize, distribution's default
// 10000), least recently used out first. Thread-safe (one mutex; each operation is a hash
// lookup).

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "backend/registry/services.h"

namespace portico::registry {

// Where the cache counts its lookups (registry_storage_cache_total{type}); may be null.
struct CacheCounters {
  std::atomic<uint64_t>* requests = nullptr;
  std::atomic<uint64_t>* hits = nullptr;
  std::atomic<uint64_t>* misses = nullptr;
};

class DescriptorCache {
 public:
  static constexpr size_t kDefaultCapacity = 10'000;

  explicit DescriptorCache(size_t capacity = kDefaultCapacity, CacheCounters counters = {});

  // The epoch to pass to put() for an answer read from storage after this call.
  uint64_t epoch() const { return epoch_.load(std::memory_order_acquire); }
  std::optional<Descriptor> get(const Repository& repo, const crypto::Digest& digest);
  // Remembers a descriptor read at `epoch`; ignored if anything was invalidated since.
  void put(const Repository& repo, const Descriptor& descriptor, uint64_t epoch);
  void forget(const Repository& repo, const crypto::Digest& digest);
  void clear();
  size_t size();

 private:
  using Key = std::string;  // repository, '@', digest
  struct Entry {
    Key key;
    Descriptor descriptor;
  };
  static Key key(const Repository& repo, const crypto::Digest& digest);
  static void count(std::atomic<uint64_t>* counter);

  size_t capacity_;
  CacheCounters counters_;
  std::atomic<uint64_t> epoch_{0};
  std::mutex mutex_;
  std::list<Entry> lru_;  // most recently used first
  std::unordered_map<Key, std::list<Entry>::iterator> index_;
};

// The Namespace decorator that puts a DescriptorCache in front of every repository's blobs.
class CachingNamespace : public ForwardingNamespace {
 public:
  // Both outlive the namespace.
  CachingNamespace(Namespace& inner, DescriptorCache& cache)
      : ForwardingNamespace(inner), cache_(cache) {}
  std::unique_ptr<RepositoryService> repository(const Repository& name) override;

 private:
  DescriptorCache& cache_;
};

}  // namespace portico::registry
