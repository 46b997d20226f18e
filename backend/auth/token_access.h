#pragma once
// TokenAccess: auth.token, distribution's bearer-token access controller
// (registry/auth/token/accesscontroller.go), 2.8 and 3.x keys.
//
//   Authorization: Bearer <jwt>?  ── none ──► 401, challenge without error
//        │
//        ▼ TokenCache hit (SHA-256 of the token)? ── no ──► JwtVerifier (jwt.h) ── fails ──►
//        │                                                 401, error="invalid_token"
//        ▼
//   every required access in the token's access[] (`*` matches any action)?
//        ── no ──► 401, error="insufficient_scope"      ── yes ──► allowed as `sub`
//
// The challenge is distribution's:
//   WWW-Authenticate: Bearer realm="<realm>",service="<service>",scope="repository:a:pull,push"
// with the scopes in the order the route's access records come (resources by first appearance,
// actions in order), space-joined; the error parameter as above; the 401 body is UNAUTHORIZED
// with the access records as detail. With autoredirect (distribution 3) the realm is
// `https://<Host of the request><autoredirectpath>` (default path /auth/token).
//
// Verification runs on the calling worker's loop: one signature check costs tens of
// microseconds (openssl speed: RSA-2048 18 µs, P-256 62 µs, Ed25519 114 µs), comparable to a
// hop to the storage executor and back, and the token cache makes it once per token (a pull of
// ten layers verifies once). An x5c chain adds a chain verification (one more signature check
// per certificate), still less than a TLS handshake.
// Inputs are bounded (jwt.h: kMaxTokenSize, kMaxHeaderSize, at most 8 x5c certificates).

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "backend/api/access.h"
#include "backend/auth/jwt.h"
#include "common/result.h"

namespace portico::auth {

struct TokenSettings {
  std::string realm;
  std::string service;
  JwtSettings jwt;  // issuer, service (copied from above), rootcertbundle, jwks, algorithms
  bool autoredirect = false;
  std::string autoredirect_path = "/auth/token";
  size_t cache_capacity = 4096;
};

// Verified tokens by the SHA-256 of the token, until their exp (+ leeway); bounded.
class TokenCache {
 public:
  explicit TokenCache(size_t capacity) : capacity_(capacity) {}
  std::shared_ptr<const TokenClaims> find(const std::string& key, int64_t now);
  void insert(const std::string& key, std::shared_ptr<const TokenClaims> claims, int64_t now);
  size_t size() const;

 private:
  mutable std::mutex mutex_;
  size_t capacity_;
  std::unordered_map<std::string, std::shared_ptr<const TokenClaims>> entries_;
};

// The scope parameter of a challenge for `access` ("repository:a:pull,push registry:catalog:*").
std::string scopeParameter(const std::vector<api::Access>& access);

class TokenAccess : public api::AccessController {
 public:
  // Reads the trusted keys. Blocking: at startup.
  static Result<std::unique_ptr<TokenAccess>> open(TokenSettings settings);

  // api::AccessController; decides synchronously (see above).
  void authorize(const http::RequestHead& head, const std::vector<api::Access>& access,
                 net::Worker* worker, std::function<void(api::AccessDecision)> done) override;

  // The decision at unix time `now` (tests).
  api::AccessDecision decide(const http::RequestHead& head, const std::vector<api::Access>& access,
                             int64_t now);
  TokenCache& cache() { return cache_; }

 private:
  TokenAccess(TokenSettings settings, std::unique_ptr<JwtVerifier> verifier);
  api::AccessDecision challenge(const http::RequestHead& head,
                                const std::vector<api::Access>& access, const char* error,
                                std::string message) const;

  TokenSettings settings_;
  std::unique_ptr<JwtVerifier> verifier_;
  TokenCache cache_;
};

}  // namespace portico::auth
