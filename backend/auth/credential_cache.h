#pragma once
// CredentialCache: the user/password pairs verified recently, so that a client's 12 requests
// of a `docker pull` cost one bcrypt, not 12 (distribution pays one per request). Bounded
// (`capacity` users), each entry valid for `ttl`, all dropped by clear() (the htpasswd file
// changed). The password itself is never stored: an entry keeps HMAC-SHA256 of it under a
// secret drawn from OpenSSL's generator when the process starts, compared in constant time.
// Thread-safe (workers read, storage threads insert).
//
// What this does not do: remember failures (a wrong password is verified each time, on a
// storage thread).

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace portico::auth {

class CredentialCache {
 public:
  using Clock = std::chrono::steady_clock;

  CredentialCache(size_t capacity, std::chrono::seconds ttl);

  // True when `user` with `password` was inserted less than ttl before `now` and since the
  // last clear().
  bool contains(std::string_view user, std::string_view password, Clock::time_point now);
  // Remembers a verified pair, unless the cache was cleared after `generation` was read
  // (the verification used a file that has been replaced since).
  void insert(std::string_view user, std::string_view password, uint64_t generation,
              Clock::time_point now);
  // Forgets everything (the file changed).
  void clear();
  // Read before a verification, passed to insert().
  uint64_t generation();
  size_t size();

 private:
  using Mac = std::array<unsigned char, 32>;
  struct Entry {
    Mac mac;
    Clock::time_point expires;
  };
  Mac mac(std::string_view user, std::string_view password) const;

  const size_t capacity_;
  const std::chrono::seconds ttl_;
  std::array<unsigned char, 32> secret_{};
  std::mutex mutex_;
  std::unordered_map<std::string, Entry> entries_;
  uint64_t generation_ = 0;
};

}  // namespace portico::auth
