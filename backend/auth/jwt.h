#pragma once
// JWT verification for auth.token (distribution's registry/auth/token: token.go, util.go),
// with OpenSSL only.
//
// A token is `base64url(header).base64url(claims).base64url(signature)`. verify() checks, in
// this order, and fails with a reason on the first problem:
//   size        at most kMaxTokenSize bytes and a header of at most kMaxHeaderSize (a 1 MiB
//               token is refused before anything is decoded)
//   header      `alg` one of RS256/384/512, PS256/384/512, ES256/384/512, EdDSA and allowed by
//               signingalgorithms (`none` and HS* are always refused: a shared secret makes no
//               sense with public keys); no `crit`
//   key         as distribution: `x5c` (a chain verified against rootcertbundle: the leaf signs);
//               else `jwk` (trusted when its kid or RFC 7638 thumbprint names a trusted key,
//               or its own x5c chains to rootcertbundle); else `kid`, looked up as a JWKS key
//               id, an RFC 7638 thumbprint or a libtrust fingerprint (distribution 2.8's key
//               ids, dropped by 3.0: both are accepted so tokens from either issuer verify)
//   signature   with the key, the algorithm matching the key type (and curve for ES*; raw
//               r||s converted to DER for OpenSSL)
//   claims      iss equals issuer; aud (a string or an array) contains service; exp required;
//               exp + leeway not past, nbf - leeway not future (leeway 60 s, distribution's);
//               access[] entries {type, name, actions[]} (absent: no access)
// Trusted keys: every certificate's key in rootcertbundle (by thumbprint and libtrust id) and
// every key in the jwks file (by kid, thumbprint and libtrust id).

#include <openssl/evp.h>
#include <openssl/x509.h>

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "backend/api/access.h"
#include "common/result.h"

namespace portico::auth {

inline constexpr size_t kMaxTokenSize = size_t{64} * 1024;
inline constexpr size_t kMaxHeaderSize = size_t{32} * 1024;  // encoded; x5c chains live here
inline constexpr int64_t kTokenLeewaySeconds = 60;

struct TokenClaims {
  std::string subject;
  int64_t expires = 0;              // exp
  int64_t not_before = 0;           // nbf; 0 when absent
  std::vector<api::Access> access;  // one record per action ("*" kept as is)
};

struct JwtSettings {
  std::string issuer;
  std::string service;                  // the accepted audience
  std::string rootcertbundle;           // PEM certificates; may be empty when jwks is set
  std::string jwks;                     // a JWK Set file; may be empty when rootcertbundle is set
  std::vector<std::string> algorithms;  // signingalgorithms; empty: every supported one
};

struct EvpPkeyDeleter {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
using PublicKey = std::shared_ptr<EVP_PKEY>;

// The RFC 7638 thumbprint (base64url SHA-256 of the canonical JWK) of an RSA, EC or OKP key.
std::string jwkThumbprint(EVP_PKEY* key);
// docker/libtrust's key id: SHA-256 of the DER SubjectPublicKeyInfo, 240 bits, base32 in
// twelve groups of four joined by ':'.
std::string libtrustKeyId(EVP_PKEY* key);
// A JWK (RSA n/e, EC P-256/384/521 x/y, OKP Ed25519/Ed448 x) as an OpenSSL key.
Result<PublicKey> publicKeyFromJwk(std::string_view json);

// base64url without padding (RFC 7515 §2); strict. Nullopt on a bad character or length.
std::optional<std::string> decodeBase64Url(std::string_view in);
std::string encodeBase64Url(std::string_view in);

class JwtVerifier {
 public:
  // Reads rootcertbundle and jwks. Blocking: at startup. Fails on unreadable files, a bundle
  // without certificates, a bad JWK, an unknown algorithm, or neither file given.
  static Result<std::unique_ptr<JwtVerifier>> open(JwtSettings settings);

  // Verifies `token` at unix time `now`. The error's detail says why (for logs).
  Result<TokenClaims> verify(std::string_view token, int64_t now) const;

  size_t trustedKeyIds() const { return keys_.size(); }

 private:
  explicit JwtVerifier(JwtSettings settings);
  Result<PublicKey> keyFor(const void* header) const;    // nlohmann::json*
  Result<PublicKey> verifyChain(const void* x5c) const;  // nlohmann::json* (array)

  JwtSettings settings_;
  std::set<std::string> algorithms_;
  std::map<std::string, PublicKey> keys_;  // kid / thumbprint / libtrust id -> key
  std::vector<std::shared_ptr<X509>> roots_;
};

}  // namespace portico::auth
