#include "backend/auth/credential_cache.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <stdexcept>

namespace portico::auth {

CredentialCache::CredentialCache(size_t capacity, std::chrono::seconds ttl)
    : capacity_(capacity), ttl_(ttl) {
  if (RAND_bytes(secret_.data(), static_cast<int>(secret_.size())) != 1) {
    throw std::runtime_error("credential cache: RAND_bytes failed");
  }
}

CredentialCache::Mac CredentialCache::mac(std::string_view user, std::string_view password) const {
  // user NUL password: ("a", "b:c") and ("a:b", "c") differ.
  std::string message;
  message.reserve(user.size() + 1 + password.size());
  message.append(user).push_back('\0');
  message.append(password);
  Mac out{};
  unsigned int length = 0;
  HMAC(EVP_sha256(), secret_.data(), static_cast<int>(secret_.size()),
       reinterpret_cast<const unsigned char*>(message.data()), message.size(), out.data(), &length);
  OPENSSL_cleanse(message.data(), message.size());
  return out;
}

bool CredentialCache::contains(std::string_view user, std::string_view password,
                               Clock::time_point now) {
  Mac candidate = mac(user, password);
  std::lock_guard lock(mutex_);
  auto it = entries_.find(std::string(user));
  if (it == entries_.end()) return false;
  if (it->second.expires <= now) {
    entries_.erase(it);
    return false;
  }
  return CRYPTO_memcmp(candidate.data(), it->second.mac.data(), candidate.size()) == 0;
}

void CredentialCache::insert(std::string_view user, std::string_view password, uint64_t generation,
                             Clock::time_point now) {
  if (capacity_ == 0) return;
  Mac value = mac(user, password);
  std::lock_guard lock(mutex_);
  if (generation != generation_) return;
  std::string key(user);
  if (entries_.size() >= capacity_ && entries_.count(key) == 0) {
    // Full: drop what has expired, else the entry that expires first.
    for (auto it = entries_.begin(); it != entries_.end();) {
      it = it->second.expires <= now ? entries_.erase(it) : std::next(it);
    }
    if (entries_.size() >= capacity_) {
      auto oldest = entries_.begin();
      for (auto it = entries_.begin(); it != entries_.end(); ++it) {
        if (it->second.expires < oldest->second.expires) oldest = it;
      }
      entries_.erase(oldest);
    }
  }
  entries_.insert_or_assign(std::move(key), Entry{value, now + ttl_});
}

void CredentialCache::clear() {
  std::lock_guard lock(mutex_);
  entries_.clear();
  ++generation_;
}

uint64_t CredentialCache::generation() {
  std::lock_guard lock(mutex_);
  return generation_;
}

size_t CredentialCache::size() {
  std::lock_guard lock(mutex_);
  return entries_.size();
}

}  // namespace portico::auth
