#include "backend/auth/jwt.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/sha.h>
#include <openssl/x509_vfy.h>

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "backend/auth/auth_error.h"

namespace portico::auth {
namespace {

using json = nlohmann::json;

Error invalid(std::string detail) {
  return Error{AuthErrc::InvalidToken, "invalid token", std::move(detail)};
}
Error badFile(const std::string& path, std::string detail) {
  return Error{AuthErrc::InvalidFile, "cannot use " + path, std::move(detail)};
}

struct PkeyCtxFree {
  void operator()(EVP_PKEY_CTX* c) const { EVP_PKEY_CTX_free(c); }
};
struct MdCtxFree {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};
struct BnFree {
  void operator()(BIGNUM* b) const { BN_free(b); }
};
using Bn = std::unique_ptr<BIGNUM, BnFree>;

PublicKey own(EVP_PKEY* key) {
  return PublicKey(key, EvpPkeyDeleter{});
}

int base64Value(char c, bool url) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == (url ? '-' : '+')) return 62;
  if (c == (url ? '_' : '/')) return 63;
  return -1;
}

// Base64 (standard or url alphabet); `=` padding optional at the end only.
std::optional<std::string> decodeBase64(std::string_view in, bool url) {
  while (!in.empty() && in.back() == '=') in.remove_suffix(1);
  if (in.size() % 4 == 1) return std::nullopt;
  std::string out;
  out.reserve(in.size() * 3 / 4);
  uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    int v = base64Value(c, url);
    if (v < 0) return std::nullopt;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  if (bits > 0 && (acc & ((1u << bits) - 1)) != 0) return std::nullopt;  // non-canonical
  return out;
}

std::string sha256(std::string_view data) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest);
  return std::string(reinterpret_cast<const char*>(digest), sizeof digest);
}

std::string bnBytes(const BIGNUM* n, int width = 0) {
  int size = std::max(BN_num_bytes(n), width);
  std::string out(static_cast<size_t>(size), '\0');
  BN_bn2binpad(n, reinterpret_cast<unsigned char*>(out.data()), size);
  return out;
}

Bn bnParam(EVP_PKEY* key, const char* name) {
  BIGNUM* n = nullptr;
  if (EVP_PKEY_get_bn_param(key, name, &n) != 1) return nullptr;
  return Bn(n);
}

std::string groupName(EVP_PKEY* key) {
  char name[64] = {0};
  size_t len = 0;
  if (EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, name, sizeof name, &len) !=
      1) {
    return {};
  }
  return std::string(name, len);
}

// JWK curve name <-> OpenSSL group name and coordinate size.
struct Curve {
  const char* jwk;
  const char* group;
  int bytes;
  const char* alg;  // the ES* algorithm that uses it
};
constexpr Curve kCurves[] = {{"P-256", "prime256v1", 32, "ES256"},
                             {"P-384", "secp384r1", 48, "ES384"},
                             {"P-521", "secp521r1", 66, "ES512"}};

const Curve* curveByGroup(const std::string& group) {
  for (const auto& c : kCurves) {
    if (group == c.group) return &c;
  }
  return nullptr;
}

// The canonical JWK members of RFC 7638 §3.2, or empty for an unsupported key.
std::string canonicalJwk(EVP_PKEY* key) {
  switch (EVP_PKEY_get_base_id(key)) {
    case EVP_PKEY_RSA: {
      Bn n = bnParam(key, OSSL_PKEY_PARAM_RSA_N);
      Bn e = bnParam(key, OSSL_PKEY_PARAM_RSA_E);
      if (!n || !e) return {};
      return R"({"e":")" + encodeBase64Url(bnBytes(e.get())) + R"(","kty":"RSA","n":")" +
             encodeBase64Url(bnBytes(n.get())) + R"("})";
    }
    case EVP_PKEY_EC: {
      const Curve* curve = curveByGroup(groupName(key));
      Bn x = bnParam(key, OSSL_PKEY_PARAM_EC_PUB_X);
      Bn y = bnParam(key, OSSL_PKEY_PARAM_EC_PUB_Y);
      if (!curve || !x || !y) return {};
      return std::string(R"({"crv":")") + curve->jwk + R"(","kty":"EC","x":")" +
             encodeBase64Url(bnBytes(x.get(), curve->bytes)) + R"(","y":")" +
             encodeBase64Url(bnBytes(y.get(), curve->bytes)) + R"("})";
    }
    case EVP_PKEY_ED25519:
    case EVP_PKEY_ED448: {
      size_t len = 0;
      if (EVP_PKEY_get_raw_public_key(key, nullptr, &len) != 1) return {};
      std::string raw(len, '\0');
      EVP_PKEY_get_raw_public_key(key, reinterpret_cast<unsigned char*>(raw.data()), &len);
      const char* crv = EVP_PKEY_get_base_id(key) == EVP_PKEY_ED25519 ? "Ed25519" : "Ed448";
      return std::string(R"({"crv":")") + crv + R"(","kty":"OKP","x":")" + encodeBase64Url(raw) +
             R"("})";
    }
    default:
      return {};
  }
}

const EVP_MD* digestFor(std::string_view bits) {
  if (bits == "256") return EVP_sha256();
  if (bits == "384") return EVP_sha384();
  if (bits == "512") return EVP_sha512();
  return nullptr;
}

constexpr const char* kAlgorithms[] = {"RS256", "RS384", "RS512", "PS256", "PS384",
                                       "PS512", "ES256", "ES384", "ES512", "EdDSA"};

bool supported(std::string_view alg) {
  for (const char* a : kAlgorithms) {
    if (alg == a) return true;
  }
  return false;
}

// Verifies `signature` over `input` with `key` for `alg` (key type and curve must fit).
Result<void> verifySignature(const std::string& alg, EVP_PKEY* key, std::string_view input,
                             std::string signature) {
  const int type = EVP_PKEY_get_base_id(key);
  const EVP_MD* md = nullptr;
  int padding = 0;
  if (alg == "EdDSA") {
    if (type != EVP_PKEY_ED25519 && type != EVP_PKEY_ED448) {
      return invalid("EdDSA needs an Ed25519 or Ed448 key");
    }
  } else {
    md = digestFor(std::string_view(alg).substr(2));
    if (alg[0] == 'R' || alg[0] == 'P') {
      if (type != EVP_PKEY_RSA) return invalid(alg + " needs an RSA key");
      padding = alg[0] == 'R' ? RSA_PKCS1_PADDING : RSA_PKCS1_PSS_PADDING;
    } else {
      const Curve* curve = type == EVP_PKEY_EC ? curveByGroup(groupName(key)) : nullptr;
      if (!curve || alg != curve->alg) return invalid(alg + " needs a key on its curve");
      // JWS ECDSA signatures are r||s (RFC 7518 §3.4); OpenSSL wants DER.
      if (signature.size() != 2 * static_cast<size_t>(curve->bytes)) {
        return invalid("ECDSA signature of the wrong size");
      }
      const auto* raw = reinterpret_cast<const unsigned char*>(signature.data());
      ECDSA_SIG* sig = ECDSA_SIG_new();
      BIGNUM* r = BN_bin2bn(raw, curve->bytes, nullptr);
      BIGNUM* s = BN_bin2bn(raw + curve->bytes, curve->bytes, nullptr);
      if (!sig || !r || !s || ECDSA_SIG_set0(sig, r, s) != 1) {
        BN_free(r);
        BN_free(s);
        ECDSA_SIG_free(sig);
        return Error{AuthErrc::Internal, "ECDSA_SIG_set0 failed"};
      }
      unsigned char* der = nullptr;
      int len = i2d_ECDSA_SIG(sig, &der);
      ECDSA_SIG_free(sig);
      if (len <= 0) return Error{AuthErrc::Internal, "i2d_ECDSA_SIG failed"};
      signature.assign(reinterpret_cast<char*>(der), static_cast<size_t>(len));
      OPENSSL_free(der);
    }
  }
  std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(EVP_MD_CTX_new());
  EVP_PKEY_CTX* pctx = nullptr;
  if (!ctx || EVP_DigestVerifyInit(ctx.get(), &pctx, md, nullptr, key) != 1) {
    return Error{AuthErrc::Internal, "EVP_DigestVerifyInit failed"};
  }
  if (padding != 0 && EVP_PKEY_CTX_set_rsa_padding(pctx, padding) != 1) {
    return Error{AuthErrc::Internal, "EVP_PKEY_CTX_set_rsa_padding failed"};
  }
  if (padding == RSA_PKCS1_PSS_PADDING &&
      (EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) != 1 ||
       EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, md) != 1)) {
    return Error{AuthErrc::Internal, "PSS parameters failed"};
  }
  int ok = EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()),
                            signature.size(), reinterpret_cast<const unsigned char*>(input.data()),
                            input.size());
  if (ok != 1) return invalid("bad signature");
  return {};
}

// A NumericDate (exp, nbf), clamped to ±kMaxDate (about 31 million years) so that adding the
// leeway can never overflow, whatever the token says (an unsigned 2^64-1 is far future, not -1).
constexpr int64_t kMaxDate = 1'000'000'000'000'000;
std::optional<int64_t> numericDate(const json& value) {
  if (value.is_number_unsigned()) return std::min(value.get<uint64_t>(), uint64_t{kMaxDate});
  if (value.is_number_integer()) return std::clamp(value.get<int64_t>(), -kMaxDate, kMaxDate);
  if (value.is_number_float()) {
    double d = value.get<double>();
    if (!(d >= -1e15 && d <= 1e15)) return std::nullopt;  // also NaN
    return static_cast<int64_t>(d);
  }
  return std::nullopt;
}

// The member `name` when it is a string, else empty. Never json::value(): it throws
// type_error when the member has another type, and verify() runs on untrusted input.
std::string stringMember(const json& object, const char* name) {
  auto it = object.find(name);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string{};
}

std::optional<std::shared_ptr<X509>> certFromDer(std::string_view der) {
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  X509* cert = d2i_X509(nullptr, &p, static_cast<long>(der.size()));
  if (!cert) return std::nullopt;
  return std::shared_ptr<X509>(cert, X509_free);
}

std::optional<std::string> readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

std::optional<std::string> decodeBase64Url(std::string_view in) {
  if (!in.empty() && in.back() == '=') return std::nullopt;  // JWS: no padding
  return decodeBase64(in, true);
}

std::string encodeBase64Url(std::string_view in) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  uint32_t acc = 0;
  int bits = 0;
  for (unsigned char c : in) {
    acc = (acc << 8) | c;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out.push_back(kAlphabet[(acc >> bits) & 0x3f]);
    }
  }
  if (bits > 0) out.push_back(kAlphabet[(acc << (6 - bits)) & 0x3f]);
  return out;
}

std::string jwkThumbprint(EVP_PKEY* key) {
  std::string canonical = canonicalJwk(key);
  if (canonical.empty()) return {};
  return encodeBase64Url(sha256(canonical));
}

std::string libtrustKeyId(EVP_PKEY* key) {
  unsigned char* der = nullptr;
  int len = i2d_PUBKEY(key, &der);
  if (len <= 0) return {};
  std::string digest = sha256(std::string_view(reinterpret_cast<char*>(der), len)).substr(0, 30);
  OPENSSL_free(der);
  static constexpr char kBase32[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  std::string b32;
  uint32_t acc = 0;
  int bits = 0;
  for (unsigned char c : digest) {
    acc = (acc << 8) | c;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      b32.push_back(kBase32[(acc >> bits) & 0x1f]);
    }
  }
  // 240 bits: exactly 48 characters, no padding. Groups of four joined by ':'.
  std::string out;
  for (size_t i = 0; i < b32.size(); i += 4) {
    if (i) out.push_back(':');
    out += b32.substr(i, 4);
  }
  return out;
}

Result<PublicKey> publicKeyFromJwk(std::string_view text) {
  json jwk = json::parse(text, nullptr, false);
  if (!jwk.is_object()) return invalid("a JWK must be a JSON object");
  auto member = [&](const char* name) -> std::optional<std::string> {
    auto it = jwk.find(name);
    if (it == jwk.end() || !it->is_string()) return std::nullopt;
    return decodeBase64Url(it->get<std::string>());
  };
  std::string kty = stringMember(jwk, "kty");
  std::unique_ptr<OSSL_PARAM_BLD, decltype(&OSSL_PARAM_BLD_free)> bld(OSSL_PARAM_BLD_new(),
                                                                      OSSL_PARAM_BLD_free);
  const char* type = nullptr;
  Bn n, e;
  std::string point;
  if (kty == "RSA") {
    auto nb = member("n");
    auto eb = member("e");
    if (!nb || !eb || nb->empty() || eb->empty()) return invalid("RSA JWK without n or e");
    if (nb->size() > 2048) return invalid("RSA key too large");  // 16384 bits
    n.reset(BN_bin2bn(reinterpret_cast<const unsigned char*>(nb->data()),
                      static_cast<int>(nb->size()), nullptr));
    e.reset(BN_bin2bn(reinterpret_cast<const unsigned char*>(eb->data()),
                      static_cast<int>(eb->size()), nullptr));
    OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, n.get());
    OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, e.get());
    type = "RSA";
  } else if (kty == "EC") {
    std::string crv = stringMember(jwk, "crv");
    const Curve* curve = nullptr;
    for (const auto& c : kCurves) {
      if (crv == c.jwk) curve = &c;
    }
    auto x = member("x");
    auto y = member("y");
    if (!curve || !x || !y || x->size() != static_cast<size_t>(curve->bytes) ||
        y->size() != static_cast<size_t>(curve->bytes)) {
      return invalid("EC JWK needs crv P-256/P-384/P-521 and x, y of its size");
    }
    point = "\x04" + *x + *y;
    OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, curve->group, 0);
    OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(),
                                     point.size());
    type = "EC";
  } else if (kty == "OKP") {
    std::string crv = stringMember(jwk, "crv");
    auto x = member("x");
    int id = crv == "Ed25519" ? EVP_PKEY_ED25519 : crv == "Ed448" ? EVP_PKEY_ED448 : 0;
    if (!id || !x) return invalid("OKP JWK needs crv Ed25519 or Ed448 and x");
    EVP_PKEY* key = EVP_PKEY_new_raw_public_key(
        id, nullptr, reinterpret_cast<const unsigned char*>(x->data()), x->size());
    if (!key) return invalid("bad OKP key");
    return own(key);
  } else {
    return invalid("unsupported JWK kty \"" + kty + "\"");
  }
  std::unique_ptr<OSSL_PARAM, decltype(&OSSL_PARAM_free)> params(OSSL_PARAM_BLD_to_param(bld.get()),
                                                                 OSSL_PARAM_free);
  std::unique_ptr<EVP_PKEY_CTX, PkeyCtxFree> ctx(
      EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
  EVP_PKEY* key = nullptr;
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &key, EVP_PKEY_PUBLIC_KEY, params.get()) != 1) {
    return invalid("bad " + kty + " key");
  }
  return own(key);
}

JwtVerifier::JwtVerifier(JwtSettings settings) : settings_(std::move(settings)) {}

Result<std::unique_ptr<JwtVerifier>> JwtVerifier::open(JwtSettings settings) {
  if (settings.rootcertbundle.empty() && settings.jwks.empty()) {
    return Error{AuthErrc::InvalidFile, "auth.token needs rootcertbundle or jwks"};
  }
  std::unique_ptr<JwtVerifier> v(new JwtVerifier(std::move(settings)));
  for (const auto& alg : v->settings_.algorithms) {
    if (!supported(alg)) {
      return Error{AuthErrc::InvalidFile, "unsupported signing algorithm " + alg,
                   "supported: RS256 RS384 RS512 PS256 PS384 PS512 ES256 ES384 ES512 EdDSA"};
    }
    v->algorithms_.insert(alg);
  }
  if (v->algorithms_.empty()) v->algorithms_.insert(std::begin(kAlgorithms), std::end(kAlgorithms));
  auto trust = [&](const PublicKey& key) {
    if (auto t = jwkThumbprint(key.get()); !t.empty()) v->keys_.emplace(t, key);
    if (auto id = libtrustKeyId(key.get()); !id.empty()) v->keys_.emplace(id, key);
  };
  if (const auto& path = v->settings_.rootcertbundle; !path.empty()) {
    auto text = readFile(path);
    if (!text) return badFile(path, "cannot read the file");
    std::unique_ptr<BIO, decltype(&BIO_free)> bio(
        BIO_new_mem_buf(text->data(), static_cast<int>(text->size())), BIO_free);
    while (X509* cert = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) {
      v->roots_.emplace_back(cert, X509_free);
      EVP_PKEY* key = X509_get_pubkey(cert);
      if (key) trust(own(key));
    }
    if (v->roots_.empty()) return badFile(path, "no PEM certificate in the bundle");
  }
  if (const auto& path = v->settings_.jwks; !path.empty()) {
    auto text = readFile(path);
    if (!text) return badFile(path, "cannot read the file");
    json set = json::parse(*text, nullptr, false);
    if (!set.is_object() || !set.contains("keys") || !set["keys"].is_array()) {
      return badFile(path, "not a JWK Set ({\"keys\": [...]})");
    }
    for (const auto& jwk : set["keys"]) {
      auto key = publicKeyFromJwk(jwk.dump());
      if (!key) return badFile(path, key.error().detail());
      if (jwk.contains("kid") && jwk["kid"].is_string()) {
        v->keys_.emplace(jwk["kid"].get<std::string>(), *key);
      }
      trust(*key);
    }
  }
  return v;
}

Result<PublicKey> JwtVerifier::verifyChain(const void* chain) const {
  const json& x5c = *static_cast<const json*>(chain);
  if (!x5c.is_array() || x5c.empty() || x5c.size() > 8) return invalid("bad x5c");
  if (roots_.empty()) return invalid("x5c given but no rootcertbundle configured");
  std::vector<std::shared_ptr<X509>> certs;
  for (const auto& item : x5c) {
    if (!item.is_string()) return invalid("bad x5c entry");
    auto der = decodeBase64(item.get<std::string>(), false);
    if (!der) return invalid("bad x5c base64");
    auto cert = certFromDer(*der);
    if (!cert) return invalid("bad x5c certificate");
    certs.push_back(*cert);
  }
  std::unique_ptr<X509_STORE, decltype(&X509_STORE_free)> store(X509_STORE_new(), X509_STORE_free);
  for (const auto& root : roots_) X509_STORE_add_cert(store.get(), root.get());
  auto free_stack = [](STACK_OF(X509) * s) { sk_X509_free(s); };
  std::unique_ptr<STACK_OF(X509), decltype(free_stack)> untrusted(sk_X509_new_null(), free_stack);
  for (size_t i = 1; i < certs.size(); ++i) sk_X509_push(untrusted.get(), certs[i].get());
  std::unique_ptr<X509_STORE_CTX, decltype(&X509_STORE_CTX_free)> ctx(X509_STORE_CTX_new(),
                                                                      X509_STORE_CTX_free);
  if (!store || !untrusted || !ctx ||
      X509_STORE_CTX_init(ctx.get(), store.get(), certs[0].get(), untrusted.get()) != 1) {
    return Error{AuthErrc::Internal, "X509_STORE_CTX_init failed"};
  }
  if (X509_verify_cert(ctx.get()) != 1) {
    return invalid(std::string("untrusted x5c chain: ") +
                   X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx.get())));
  }
  EVP_PKEY* key = X509_get_pubkey(certs[0].get());
  if (!key) return invalid("x5c leaf without a usable key");
  return own(key);
}

Result<PublicKey> JwtVerifier::keyFor(const void* h) const {
  const json& header = *static_cast<const json*>(h);
  auto lookup = [&](const std::string& id) -> std::optional<PublicKey> {
    auto it = keys_.find(id);
    if (it == keys_.end()) return std::nullopt;
    return it->second;
  };
  if (auto it = header.find("x5c"); it != header.end()) return verifyChain(&*it);
  if (auto it = header.find("jwk"); it != header.end()) {
    if (!it->is_object()) return invalid("bad jwk header");
    if (auto chain = it->find("x5c"); chain != it->end()) return verifyChain(&*chain);
    auto embedded = publicKeyFromJwk(it->dump());
    if (!embedded) return embedded.error();
    if (auto kid = it->find("kid"); kid != it->end() && kid->is_string()) {
      if (auto key = lookup(kid->get<std::string>())) {
        if (EVP_PKEY_eq(key->get(), embedded->get()) != 1) {
          return invalid("jwk header does not match the trusted key of its kid");
        }
        return *key;
      }
    }
    if (auto key = lookup(jwkThumbprint(embedded->get()))) return *key;
    return invalid("untrusted jwk header without a certificate chain");
  }
  if (auto it = header.find("kid"); it != header.end()) {
    if (!it->is_string()) return invalid("bad kid");
    if (auto key = lookup(it->get<std::string>())) return *key;
    return invalid("token signed by an untrusted key with id \"" + it->get<std::string>() + "\"");
  }
  return invalid("no x5c, jwk or kid in the header: cannot tell the signing key");
}

Result<TokenClaims> JwtVerifier::verify(std::string_view token, int64_t now) const {
  if (token.size() > kMaxTokenSize) return invalid("token too large");
  size_t dot1 = token.find('.');
  if (dot1 == std::string_view::npos || dot1 > kMaxHeaderSize) {
    return invalid("malformed token (or a header over the limit)");
  }
  size_t dot2 = token.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos || token.find('.', dot2 + 1) != std::string_view::npos) {
    return invalid("malformed token: not three parts");
  }
  auto header_text = decodeBase64Url(token.substr(0, dot1));
  auto claims_text = decodeBase64Url(token.substr(dot1 + 1, dot2 - dot1 - 1));
  auto signature = decodeBase64Url(token.substr(dot2 + 1));
  if (!header_text || !claims_text || !signature) return invalid("malformed base64url");
  json header = json::parse(*header_text, nullptr, false);
  if (!header.is_object()) return invalid("header is not a JSON object");
  auto alg_it = header.find("alg");
  if (alg_it == header.end() || !alg_it->is_string()) return invalid("no alg");
  std::string alg = alg_it->get<std::string>();
  if (alg == "none" || alg.rfind("HS", 0) == 0) return invalid("algorithm " + alg + " refused");
  if (!supported(alg)) return invalid("unsupported algorithm " + alg);
  if (!algorithms_.contains(alg)) return invalid("algorithm " + alg + " not in signingalgorithms");
  if (header.contains("crit")) return invalid("crit header parameters not understood");
  auto key = keyFor(&header);
  if (!key) return key.error();
  if (auto ok = verifySignature(alg, key->get(), token.substr(0, dot2), std::move(*signature));
      !ok) {
    return ok.error();
  }

  json claims = json::parse(*claims_text, nullptr, false);
  if (!claims.is_object()) return invalid("claims are not a JSON object");
  auto iss = claims.find("iss");
  if (iss == claims.end() || !iss->is_string() || *iss != settings_.issuer) {
    return invalid("token from an untrusted issuer");
  }
  bool audience = false;
  if (auto aud = claims.find("aud"); aud != claims.end()) {
    if (aud->is_string()) audience = *aud == settings_.service;
    if (aud->is_array()) {
      for (const auto& a : *aud) audience = audience || (a.is_string() && a == settings_.service);
    }
  }
  if (!audience) return invalid("token intended for another audience");
  TokenClaims out;
  auto exp = claims.find("exp");
  std::optional<int64_t> expires = exp == claims.end() ? std::nullopt : numericDate(*exp);
  if (!expires) return invalid("no exp");
  if (now > *expires + kTokenLeewaySeconds) return invalid("token expired");
  out.expires = *expires;
  if (auto nbf = claims.find("nbf"); nbf != claims.end()) {
    auto not_before = numericDate(*nbf);
    if (!not_before) return invalid("bad nbf");
    if (now < *not_before - kTokenLeewaySeconds) return invalid("token not valid yet");
    out.not_before = *not_before;
  }
  if (auto sub = claims.find("sub"); sub != claims.end() && sub->is_string()) {
    out.subject = sub->get<std::string>();
  }
  if (auto access = claims.find("access"); access != claims.end() && !access->is_null()) {
    if (!access->is_array()) return invalid("access is not an array");
    for (const auto& entry : *access) {
      if (!entry.is_object()) return invalid("bad access entry");
      auto type = entry.find("type");
      auto name = entry.find("name");
      auto actions = entry.find("actions");
      if (type == entry.end() || !type->is_string() || name == entry.end() || !name->is_string()) {
        return invalid("access entry without type or name");
      }
      if (actions == entry.end() || actions->is_null()) continue;
      if (!actions->is_array()) return invalid("access actions is not an array");
      for (const auto& action : *actions) {
        if (!action.is_string()) return invalid("bad access action");
        out.access.push_back(api::Access{type->get<std::string>(), name->get<std::string>(),
                                         action.get<std::string>()});
      }
    }
  }
  return out;
}

}  // namespace portico::auth
