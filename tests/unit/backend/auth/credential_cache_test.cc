#include "backend/auth/credential_cache.h"

#include <catch2/catch.hpp>
#include <chrono>
#include <string>

using portico::auth::CredentialCache;
using namespace std::chrono_literals;

TEST_CASE("a verified pair is remembered until its TTL; another password is not",
          "[credential_cache]") {
  CredentialCache cache(16, 30s);
  auto now = CredentialCache::Clock::now();
  CHECK_FALSE(cache.contains("alice", "pw", now));
  cache.insert("alice", "pw", cache.generation(), now);
  CHECK(cache.contains("alice", "pw", now + 29s));
  CHECK_FALSE(cache.contains("alice", "pW", now));
  CHECK_FALSE(cache.contains("alic", "epw", now));
  CHECK_FALSE(cache.contains("bob", "pw", now));
  CHECK_FALSE(cache.contains("alice", "pw", now + 30s));
  CHECK(cache.size() == 0);  // the expired entry went on lookup
}

TEST_CASE("user and password are kept apart (a:b:c is not a:b + c)", "[credential_cache]") {
  CredentialCache cache(16, 30s);
  auto now = CredentialCache::Clock::now();
  cache.insert("a", "b:c", cache.generation(), now);
  CHECK_FALSE(cache.contains("a:b", "c", now));
}

TEST_CASE("clear() drops everything and refuses inserts verified against the old file",
          "[credential_cache]") {
  CredentialCache cache(16, 30s);
  auto now = CredentialCache::Clock::now();
  uint64_t before = cache.generation();
  cache.insert("alice", "pw", before, now);
  cache.clear();
  CHECK_FALSE(cache.contains("alice", "pw", now));
  cache.insert("bob", "pw", before, now);  // verified before the file changed
  CHECK_FALSE(cache.contains("bob", "pw", now));
  cache.insert("bob", "pw", cache.generation(), now);
  CHECK(cache.contains("bob", "pw", now));
}

TEST_CASE("the cache holds at most its capacity, dropping the oldest entry", "[credential_cache]") {
  CredentialCache cache(3, 30s);
  auto now = CredentialCache::Clock::now();
  for (int i = 0; i < 10; ++i) {
    cache.insert("user" + std::to_string(i), "pw", cache.generation(),
                 now + std::chrono::seconds(i));
  }
  CHECK(cache.size() == 3);
  CHECK(cache.contains("user9", "pw", now + 9s));
  CHECK_FALSE(cache.contains("user0", "pw", now + 9s));
}
