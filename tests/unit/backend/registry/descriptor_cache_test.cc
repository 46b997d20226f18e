// DescriptorCache (LRU, invalidation epochs, counters) and CachingNamespace over the real
// LocalNamespace on the in-memory driver, a real worker and storage threads.

#include "backend/registry/descriptor_cache.h"

#include <catch2/catch.hpp>

#include <atomic>
#include <future>
#include <memory>
#include <string>

#include "backend/registry/local_services.h"
#include "backend/storage/executor.h"
#include "backend/storage/layout.h"
#include "backend/storage/memory_driver.h"
#include "common/net/worker.h"

namespace layout = portico::storage::layout;
using portico::Result;
using portico::crypto::Digest;
using portico::net::Worker;
using portico::registry::CacheCounters;
using portico::registry::CachingNamespace;
using portico::registry::Context;
using portico::registry::Descriptor;
using portico::registry::DescriptorCache;
using portico::registry::ErrorCode;
using portico::registry::LocalNamespace;
using portico::registry::Repository;
using portico::registry::RequestContext;

namespace {

Repository repo(const char* name) {
  return *Repository::parse(name);
}

Descriptor descriptorOf(const std::string& content) {
  return Descriptor{Digest::of(content), content.size(), "application/octet-stream"};
}

// A worker, storage threads and the namespace under test, in teardown order (the executor
// drains before the namespace and the driver go; the worker joins first of all).
struct Services {
  portico::storage::MemoryDriver driver;
  std::atomic<uint64_t> requests{0}, hits{0}, misses{0};
  DescriptorCache cache{100, CacheCounters{&requests, &hits, &misses}};
  portico::storage::StorageExecutor executor{2};
  LocalNamespace local{driver, executor};
  CachingNamespace cached{local, cache};
  Worker worker{0};
  Context ctx;

  Services() {
    REQUIRE(worker.start());
    auto c = std::make_shared<RequestContext>();
    c->worker = &worker;
    ctx = c;
  }
  ~Services() {
    worker.requestStop();
    worker.join();
  }

  // Runs a stat through the cached namespace from the worker, as a request does.
  Result<Descriptor> stat(const Repository& name, const Digest& digest) {
    std::promise<Result<Descriptor>> answer;
    bool answered_inside = false;
    worker.post([&] {
      auto repository = cached.repository(name);
      auto returned = std::make_shared<bool>(false);  // the completion may outlive this lambda
      repository->blobs().stat(ctx, digest, [&, returned](Result<Descriptor> result) {
        answered_inside = !*returned;
        CHECK(worker.inThread());
        answer.set_value(std::move(result));
      });
      *returned = true;
    });
    auto result = answer.get_future().get();
    CHECK_FALSE(answered_inside);  // services.h: never inside the call itself
    return result;
  }

  Result<void> remove(const Repository& name, const Digest& digest) {
    std::promise<Result<void>> answer;
    worker.post([&] {
      auto repository = cached.repository(name);
      repository->blobs().remove(ctx, digest,
                                 [&](Result<void> result) { answer.set_value(std::move(result)); });
    });
    return answer.get_future().get();
  }
};

}  // namespace

TEST_CASE("the cache answers what was put and counts requests, hits and misses",
          "[descriptor_cache]") {
  std::atomic<uint64_t> requests{0}, hits{0}, misses{0};
  DescriptorCache cache(10, CacheCounters{&requests, &hits, &misses});
  auto d = descriptorOf("layer");
  CHECK_FALSE(cache.get(repo("a"), d.digest));
  cache.put(repo("a"), d, cache.epoch());
  auto hit = cache.get(repo("a"), d.digest);
  REQUIRE(hit);
  CHECK(hit->digest == d.digest);
  CHECK(hit->size == 5);
  CHECK_FALSE(cache.get(repo("b"), d.digest));  // linked in a, not in b
  CHECK(requests == 3);
  CHECK(hits == 1);
  CHECK(misses == 2);
}

TEST_CASE("the least recently used entry goes first when the cache is full", "[descriptor_cache]") {
  DescriptorCache cache(2);
  auto one = descriptorOf("1"), two = descriptorOf("2"), three = descriptorOf("3");
  cache.put(repo("a"), one, cache.epoch());
  cache.put(repo("a"), two, cache.epoch());
  REQUIRE(cache.get(repo("a"), one.digest));  // one is now the most recently used
  cache.put(repo("a"), three, cache.epoch());
  CHECK(cache.size() == 2);
  CHECK(cache.get(repo("a"), one.digest));
  CHECK_FALSE(cache.get(repo("a"), two.digest));
  CHECK(cache.get(repo("a"), three.digest));
}

TEST_CASE("an answer read before an invalidation is not remembered", "[descriptor_cache]") {
  DescriptorCache cache(10);
  auto d = descriptorOf("layer");
  SECTION("forget") {
    uint64_t before = cache.epoch();    // a stat starts and reads the link...
    cache.forget(repo("a"), d.digest);  // ...a delete runs meanwhile...
    cache.put(repo("a"), d, before);    // ...the stat's answer comes back
    CHECK_FALSE(cache.get(repo("a"), d.digest));
  }
  SECTION("clear") {
    uint64_t before = cache.epoch();
    cache.clear();
    cache.put(repo("a"), d, before);
    CHECK_FALSE(cache.get(repo("a"), d.digest));
  }
  cache.put(repo("a"), d, cache.epoch());  // a later read is remembered
  CHECK(cache.get(repo("a"), d.digest));
}

TEST_CASE("a cached stat answers on the worker without storage, and a delete forgets it",
          "[descriptor_cache]") {
  Services s;
  auto stored = s.local.stores().layers.put(repo("lib/app"), "layer bytes");
  REQUIRE(stored);
  auto first = s.stat(repo("lib/app"), stored->digest);
  REQUIRE(first);
  CHECK(first->size == 11);
  CHECK(s.misses == 1);

  // The link goes behind the cache's back: a second stat still answers from memory (what a
  // hit is), the same descriptor.
  REQUIRE(s.driver.remove(layout::layerLink("lib/app", stored->digest)));
  auto second = s.stat(repo("lib/app"), stored->digest);
  REQUIRE(second);
  CHECK(second->digest == stored->digest);
  CHECK(second->size == 11);
  CHECK(s.hits == 1);

  // Linked again and deleted through the service: the cache forgets, the store answers.
  REQUIRE(s.local.stores().layers.put(repo("lib/app"), "layer bytes"));
  REQUIRE(s.remove(repo("lib/app"), stored->digest));
  auto after = s.stat(repo("lib/app"), stored->digest);
  REQUIRE_FALSE(after);
  CHECK(after.error().is(ErrorCode::BlobUnknown));
  CHECK(s.hits == 1);
}

TEST_CASE("an unknown blob is never cached: a push is seen at once", "[descriptor_cache]") {
  Services s;
  auto digest = Digest::of("later");
  auto missing = s.stat(repo("lib/app"), digest);
  REQUIRE_FALSE(missing);
  REQUIRE(s.local.stores().layers.put(repo("lib/app"), "later"));
  auto found = s.stat(repo("lib/app"), digest);
  REQUIRE(found);
  CHECK(found->size == 5);
  CHECK(s.hits == 0);
}
