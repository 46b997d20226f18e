#include "backend/registry/descriptor_cache.h"

#include <utility>

#include "common/net/worker.h"

namespace portico::registry {

DescriptorCache::DescriptorCache(size_t capacity, CacheCounters counters)
    : capacity_(capacity > 0 ? capacity : 1), counters_(counters) {}

DescriptorCache::Key DescriptorCache::key(const Repository& repo, const crypto::Digest& digest) {
  Key k;
  k.reserve(repo.str().size() + 1 + digest.str().size());
  k += repo.str();
  k += '@';
  k += digest.str();
  return k;
}

void DescriptorCache::count(std::atomic<uint64_t>* counter) {
  if (counter != nullptr) counter->fetch_add(1, std::memory_order_relaxed);
}

std::optional<Descriptor> DescriptorCache::get(const Repository& repo,
                                               const crypto::Digest& digest) {
  count(counters_.requests);
  Key k = key(repo, digest);
  std::lock_guard lock(mutex_);
  auto it = index_.find(k);
  if (it == index_.end()) {
    count(counters_.misses);
    return std::nullopt;
  }
  lru_.splice(lru_.begin(), lru_, it->second);
  count(counters_.hits);
  return it->second->descriptor;
}

void DescriptorCache::put(const Repository& repo, const Descriptor& descriptor, uint64_t epoch) {
  Key k = key(repo, descriptor.digest);
  std::lock_guard lock(mutex_);
  // Compared under the lock: forget() and clear() advance the epoch under it too.
  if (epoch != epoch_.load(std::memory_order_relaxed)) return;
  if (auto it = index_.find(k); it != index_.end()) {
    it->second->descriptor = descriptor;
    lru_.splice(lru_.begin(), lru_, it->second);
    return;
  }
  lru_.push_front(Entry{k, descriptor});
  index_.emplace(std::move(k), lru_.begin());
  if (lru_.size() > capacity_) {
    index_.erase(lru_.back().key);
    lru_.pop_back();
  }
}

void DescriptorCache::forget(const Repository& repo, const crypto::Digest& digest) {
  Key k = key(repo, digest);
  std::lock_guard lock(mutex_);
  epoch_.fetch_add(1, std::memory_order_release);
  if (auto it = index_.find(k); it != index_.end()) {
    lru_.erase(it->second);
    index_.erase(it);
  }
}

void DescriptorCache::clear() {
  std::lock_guard lock(mutex_);
  epoch_.fetch_add(1, std::memory_order_release);
  index_.clear();
  lru_.clear();
}

size_t DescriptorCache::size() {
  std::lock_guard lock(mutex_);
  return index_.size();
}

namespace {

class CachingBlobService : public ForwardingBlobService {
 public:
  CachingBlobService(BlobService& inner, DescriptorCache& cache, const Repository& name)
      : ForwardingBlobService(inner), cache_(cache), name_(name) {}

  void stat(const Context& ctx, const crypto::Digest& digest, Done<Descriptor> done) override {
    // Without a worker (tools, tests) there is no loop to answer on later: ask the store.
    if (ctx == nullptr || ctx->worker == nullptr) return inner_.stat(ctx, digest, std::move(done));
    if (auto hit = cache_.get(name_, digest)) {
      ctx->worker->post(
          [done = std::move(done), hit = std::move(*hit)]() mutable { done(std::move(hit)); });
      return;
    }
    inner_.stat(ctx, digest, remember<Descriptor>(std::move(done)));
  }
  void open(const Context& ctx, const crypto::Digest& digest, uint64_t offset,
            Done<BlobContent> done) override {
    inner_.open(ctx, digest, offset, remember<BlobContent>(std::move(done)));
  }
  void mount(const Context& ctx, const Repository& from, const crypto::Digest& digest,
             Done<Descriptor> done) override {
    inner_.mount(ctx, from, digest, remember<Descriptor>(std::move(done)));
  }
  void remove(const Context& ctx, const crypto::Digest& digest, Done<void> done) override {
    // Forgotten before (no hit while the delete runs) and after (a lookup that read the link
    // before the delete cannot put it back: its epoch is stale).
    cache_.forget(name_, digest);
    inner_.remove(
        ctx, digest,
        [&cache = cache_, name = name_, digest, done = std::move(done)](Result<void> result) {
          cache.forget(name, digest);
          done(std::move(result));
        });
  }

 private:
  static const Descriptor& descriptorOf(const Descriptor& d) { return d; }
  static const Descriptor& descriptorOf(const BlobContent& c) { return c.descriptor; }

  // Wraps `done` so that a successful answer is remembered (if nothing was invalidated since
  // the call started). The cache and the name are captured by value/reference that outlive
  // the request: the cache is the server's, the name is copied.
  template <typename T>
  Done<T> remember(Done<T> done) {
    return [&cache = cache_, name = name_, epoch = cache_.epoch(),
            done = std::move(done)](Result<T> result) mutable {
      if (result) cache.put(name, descriptorOf(*result), epoch);
      done(std::move(result));
    };
  }

  DescriptorCache& cache_;
  Repository name_;
};

class CachingRepository : public ForwardingRepositoryService {
 public:
  CachingRepository(std::unique_ptr<RepositoryService> inner, DescriptorCache& cache)
      : ForwardingRepositoryService(std::move(inner)),
        blobs_(inner_->blobs(), cache, inner_->name()) {}
  BlobService& blobs() override { return blobs_; }

 private:
  CachingBlobService blobs_;
};

}  // namespace

std::unique_ptr<RepositoryService> CachingNamespace::repository(const Repository& name) {
  return std::make_unique<CachingRepository>(inner_.repository(name), cache_);
}

}  // namespace portico::registry
