// Fuzz target: bearer tokens (backend/auth/jwt.h): JwtVerifier::verify (size limits, the three
// base64url parts, the header's JSON, alg, crit, the key lookup by x5c chain, embedded jwk,
// kid, thumbprint or libtrust id, the signature check, then the claims: iss, aud, exp, nbf,
// access[]), publicKeyFromJwk, and base64url.
//
// The keys are test keys in jwt_keys/ (tests/fuzz/README.md): a CA (the rootcertbundle) with
// an Ed25519 leaf for x5c, and Ed25519 "ed", P-256 "ec" and RSA "rsa" keys in the JWKS. The
// fuzzer cannot forge signatures, so besides tokens verbatim the target signs what it is given:
// that way the claims (after the signature check) are reached too.
//
// Input: a mode byte, 8 bytes of `now` (int64, little-endian), then
//   mode % 8 == 0   the token verbatim
//   mode % 8 == 1-4 header JSON `\0` claims JSON: base64url-encoded and signed by the target
//                   with the key ed (EdDSA), ec (ES256, r||s), rsa (RS256), leaf (EdDSA)
//   mode % 8 == 5   a JWK for publicKeyFromJwk
//   mode % 8 == 6,7 text for base64url: decode(encode(x)) == x; encode(decode(x)) == x
// Properties: base64url round-trips; a verified token's exp/nbf agree with `now`.

#include <openssl/ecdsa.h>
#include <openssl/pem.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "backend/auth/jwt.h"
#include "tests/fuzz/fuzz.h"

#ifndef PORTICO_FUZZ_JWT_KEYS
#error "PORTICO_FUZZ_JWT_KEYS: the directory of the test keys (tests/fuzz/meson.build)"
#endif

namespace {

using portico::auth::PublicKey;

std::string keyPath(const char* name) {
  return std::string(PORTICO_FUZZ_JWT_KEYS) + "/" + name;
}

PublicKey privateKey(const char* name) {
  FILE* f = std::fopen(keyPath(name).c_str(), "r");
  if (!f) std::abort();
  EVP_PKEY* key = PEM_read_PrivateKey(f, nullptr, nullptr, nullptr);
  std::fclose(f);
  if (!key) std::abort();
  return PublicKey(key, portico::auth::EvpPkeyDeleter{});
}

struct Keys {
  PublicKey ed = privateKey("ed.pem");
  PublicKey ec = privateKey("ec.pem");
  PublicKey rsa = privateKey("rsa.pem");
  PublicKey leaf = privateKey("leaf.pem");
  std::unique_ptr<portico::auth::JwtVerifier> verifier;
  Keys() {
    portico::auth::JwtSettings settings;
    settings.issuer = "fuzz-issuer";
    settings.service = "fuzz-registry";
    settings.rootcertbundle = keyPath("ca.crt");
    settings.jwks = keyPath("jwks.json");
    auto v = portico::auth::JwtVerifier::open(settings);
    if (!v) std::abort();
    verifier = std::move(*v);
  }
};

const Keys& keys() {
  static const Keys k;
  return k;
}

// The JWS signature of `input` with `key`: EdDSA, ES256 (r||s) or RS256 by the key's type.
std::string sign(EVP_PKEY* key, std::string_view input) {
  const int type = EVP_PKEY_get_base_id(key);
  const EVP_MD* md = type == EVP_PKEY_ED25519 ? nullptr : EVP_sha256();
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  size_t len = 0;
  std::string sig;
  if (EVP_DigestSignInit(ctx, nullptr, md, nullptr, key) == 1 &&
      EVP_DigestSign(ctx, nullptr, &len, reinterpret_cast<const unsigned char*>(input.data()),
                     input.size()) == 1) {
    sig.resize(len);
    if (EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(sig.data()), &len,
                       reinterpret_cast<const unsigned char*>(input.data()), input.size()) != 1) {
      std::abort();
    }
    sig.resize(len);
  }
  EVP_MD_CTX_free(ctx);
  if (type != EVP_PKEY_EC) return sig;
  const auto* p = reinterpret_cast<const unsigned char*>(sig.data());
  ECDSA_SIG* ecdsa = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(sig.size()));
  if (!ecdsa) std::abort();
  std::string raw(64, '\0');
  BN_bn2binpad(ECDSA_SIG_get0_r(ecdsa), reinterpret_cast<unsigned char*>(raw.data()), 32);
  BN_bn2binpad(ECDSA_SIG_get0_s(ecdsa), reinterpret_cast<unsigned char*>(raw.data()) + 32, 32);
  ECDSA_SIG_free(ecdsa);
  return raw;
}

void verify(std::string_view token, int64_t now) {
  auto claims = keys().verifier->verify(token, now);
  if (!claims) return;
  // Saturating: the property must not overflow where the verifier must not either.
  auto plus = [](int64_t a, int64_t b) {
    int64_t r = 0;
    return __builtin_add_overflow(a, b, &r) ? (b > 0 ? INT64_MAX : INT64_MIN) : r;
  };
  if (now > plus(claims->expires, portico::auth::kTokenLeewaySeconds)) __builtin_trap();
  if (claims->not_before != 0 &&
      now < plus(claims->not_before, -portico::auth::kTokenLeewaySeconds)) {
    __builtin_trap();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  portico::fuzz::Input input(data, size);
  const uint8_t mode = input.byte() % 8;
  const auto now = static_cast<int64_t>(input.number(8));
  const Keys& k = keys();
  using portico::auth::decodeBase64Url;
  using portico::auth::encodeBase64Url;
  switch (mode) {
    case 0:
      verify(input.rest(), now);
      break;
    case 1:
    case 2:
    case 3:
    case 4: {
      std::string_view header = input.field();
      std::string_view claims = input.rest();
      std::string signing = encodeBase64Url(header) + "." + encodeBase64Url(claims);
      EVP_PKEY* key = mode == 1   ? k.ed.get()
                      : mode == 2 ? k.ec.get()
                      : mode == 3 ? k.rsa.get()
                                  : k.leaf.get();
      verify(signing + "." + encodeBase64Url(sign(key, signing)), now);
      break;
    }
    case 5:
      (void)portico::auth::publicKeyFromJwk(input.rest());
      break;
    default: {
      std::string_view text = input.rest();
      auto decoded = decodeBase64Url(encodeBase64Url(text));
      if (!decoded || *decoded != text) __builtin_trap();
      if (auto bytes = decodeBase64Url(text); bytes && encodeBase64Url(*bytes) != text) {
        __builtin_trap();  // two encodings of the same bytes: decode must be canonical
      }
      break;
    }
  }
  return 0;
}
