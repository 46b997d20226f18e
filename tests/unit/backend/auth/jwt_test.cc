#include "backend/auth/jwt.h"

#include <catch2/catch.hpp>
#include <ctime>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "backend/auth/auth_error.h"
#include "tests/fixtures/temp_dir.h"
#include "tests/fixtures/test_certificates.h"
#include "tests/fixtures/token_issuer.h"

using nlohmann::json;
using portico::auth::JwtSettings;
using portico::auth::JwtVerifier;
namespace t = portico::testing;

namespace {

constexpr int64_t kNow = 1'800'000'000;

// Keys shared by the cases: the test CA (rootcertbundle), and an RSA, an EC P-384 and an
// Ed25519 key in a JWKS file (kids "rsa", "ec384", "ed").
struct Keys {
  t::TempDir dir{"jwt-test"};
  t::PrivateKey ca = t::loadPrivateKey(t::TestCertificates::shared().caKey());
  t::PrivateKey server = t::loadPrivateKey(t::TestCertificates::shared().serverKey());
  t::PrivateKey rsa = t::generateRsaKey(2048);
  t::PrivateKey ec384 = t::generateEcKey("P-384");
  t::PrivateKey ed = t::generateEd25519Key();
  t::PrivateKey stranger = t::generateRsaKey(2048);
  std::string jwks;
  Keys() {
    jwks = dir.path() + "/jwks.json";
    json set = {{"keys",
                 {t::publicJwk(rsa.get(), "rsa"), t::publicJwk(ec384.get(), "ec384"),
                  t::publicJwk(ed.get(), "ed")}}};
    std::ofstream(jwks) << set.dump();
  }
  static const Keys& shared() {
    static const Keys keys;
    return keys;
  }
};

JwtSettings settings(std::vector<std::string> algorithms = {}) {
  JwtSettings s;
  s.issuer = "test-issuer";
  s.service = "test-registry";
  s.rootcertbundle = t::TestCertificates::shared().caCert();
  s.jwks = Keys::shared().jwks;
  s.algorithms = std::move(algorithms);
  return s;
}

std::unique_ptr<JwtVerifier> verifier(std::vector<std::string> algorithms = {}) {
  auto v = JwtVerifier::open(settings(std::move(algorithms)));
  REQUIRE(v);
  return std::move(*v);
}

json claims() {
  return {{"iss", "test-issuer"},
          {"sub", "alice"},
          {"aud", "test-registry"},
          {"exp", kNow + 300},
          {"nbf", kNow - 10},
          {"access", {{{"type", "repository"}, {"name", "lib/app"}, {"actions", {"pull"}}}}}};
}

json x5cHeader() {
  return {{"alg", "ES256"}, {"x5c", t::x5cOf(t::TestCertificates::shared().serverCert())}};
}

std::string validToken(json c = claims()) {
  return t::signJwt(x5cHeader(), c, Keys::shared().server.get());
}

std::string reason(const portico::Result<portico::auth::TokenClaims>& r) {
  REQUIRE_FALSE(r);
  CHECK(r.error().is(portico::auth::AuthErrc::InvalidToken));
  return r.error().detail();
}

}  // namespace

TEST_CASE("an x5c-signed token verifies and yields its claims", "[jwt]") {
  auto v = verifier();
  auto result = v->verify(validToken(), kNow);
  REQUIRE(result);
  CHECK(result->subject == "alice");
  CHECK(result->expires == kNow + 300);
  REQUIRE(result->access.size() == 1);
  CHECK(result->access[0] == portico::api::Access{"repository", "lib/app", "pull"});
  // An intermediate in the chain (leaf signed by the intermediate, intermediate by the CA).
  json chained = {{"alg", "ES256"}, {"x5c", t::x5cOf(t::TestCertificates::shared().chainedCert())}};
  auto chained_key = t::loadPrivateKey(t::TestCertificates::shared().chainedKey());
  CHECK(v->verify(t::signJwt(chained, claims(), chained_key.get()), kNow));
  // aud as an array, several actions.
  json c = claims();
  c["aud"] = {"other", "test-registry"};
  c["access"][0]["actions"] = {"pull", "push"};
  auto many = v->verify(validToken(c), kNow);
  REQUIRE(many);
  CHECK(many->access.size() == 2);
}

TEST_CASE("every algorithm family verifies with a JWKS key id", "[jwt]") {
  const auto& k = Keys::shared();
  auto v = verifier();
  for (const char* alg : {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512"}) {
    INFO(alg);
    CHECK(v->verify(t::signJwt({{"alg", alg}, {"kid", "rsa"}}, claims(), k.rsa.get()), kNow));
  }
  CHECK(v->verify(t::signJwt({{"alg", "ES384"}, {"kid", "ec384"}}, claims(), k.ec384.get()), kNow));
  CHECK(v->verify(t::signJwt({{"alg", "EdDSA"}, {"kid", "ed"}}, claims(), k.ed.get()), kNow));
}

TEST_CASE("kid as RFC 7638 thumbprint and as libtrust fingerprint (2.8 and 3.x issuers)", "[jwt]") {
  const auto& k = Keys::shared();
  auto v = verifier();
  // The CA's key from rootcertbundle, both ways.
  std::string thumbprint = portico::auth::jwkThumbprint(k.ca.get());
  std::string libtrust = portico::auth::libtrustKeyId(k.ca.get());
  CHECK(libtrust.size() == 59);  // 12 groups of 4, 11 colons
  CHECK(v->verify(t::signJwt({{"alg", "ES256"}, {"kid", thumbprint}}, claims(), k.ca.get()), kNow));
  CHECK(v->verify(t::signJwt({{"alg", "ES256"}, {"kid", libtrust}}, claims(), k.ca.get()), kNow));
  // A JWKS key by its fingerprints too.
  CHECK(v->verify(t::signJwt({{"alg", "RS256"}, {"kid", portico::auth::libtrustKeyId(k.rsa.get())}},
                             claims(), k.rsa.get()),
                  kNow));
  // RFC 7638 §3.1's example key has the thumbprint the RFC gives.
  json rfc = {{"kty", "RSA"},
              {"e", "AQAB"},
              {"n",
               "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6t"
               "Soc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-"
               "65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08q"
               "NLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8aw"
               "apJzKnqDKgw"}};
  auto key = portico::auth::publicKeyFromJwk(rfc.dump());
  REQUIRE(key);
  CHECK(portico::auth::jwkThumbprint(key->get()) == "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");
}

TEST_CASE("a jwk header is trusted only when it names a trusted key", "[jwt]") {
  const auto& k = Keys::shared();
  auto v = verifier();
  CHECK(v->verify(t::signJwt({{"alg", "RS256"}, {"jwk", t::publicJwk(k.rsa.get(), "rsa")}},
                             claims(), k.rsa.get()),
                  kNow));
  CHECK(v->verify(
      t::signJwt({{"alg", "RS256"}, {"jwk", t::publicJwk(k.rsa.get())}}, claims(), k.rsa.get()),
      kNow));  // by thumbprint
  CHECK(reason(v->verify(t::signJwt({{"alg", "RS256"}, {"jwk", t::publicJwk(k.stranger.get())}},
                                    claims(), k.stranger.get()),
                         kNow))
            .find("untrusted jwk") != std::string::npos);
  // A stranger's key claiming a trusted kid.
  CHECK(reason(
            v->verify(t::signJwt({{"alg", "RS256"}, {"jwk", t::publicJwk(k.stranger.get(), "rsa")}},
                                 claims(), k.stranger.get()),
                      kNow))
            .find("does not match") != std::string::npos);
}

// Found by fuzzing (tests/fuzz/corpus/jwt/crash-jwk-kty-number): json::value() threw
// type_error out of verify() for a jwk header whose kty or crv is not a string, before any
// signature check, so one unauthenticated request terminated the registry.
TEST_CASE("a jwk header with a non-string kty or crv is an invalid token, not an exception",
          "[jwt]") {
  const auto& k = Keys::shared();
  auto v = verifier();
  for (const json& jwk :
       {json{{"kty", 1}}, json{{"kty", {"EC"}}}, json{{"kty", "EC"}, {"crv", 256}},
        json{{"kty", "OKP"}, {"crv", nullptr}, {"x", "AA"}}}) {
    INFO(jwk.dump());
    std::string token = t::signJwt({{"alg", "EdDSA"}, {"jwk", jwk}}, claims(), k.ed.get());
    CHECK_NOTHROW(v->verify(token, kNow));
    CHECK_FALSE(v->verify(token, kNow));
  }
  CHECK_FALSE(portico::auth::publicKeyFromJwk(R"({"kty":1})"));
  CHECK_FALSE(portico::auth::publicKeyFromJwk(R"({"kty":"EC","crv":[]})"));
}

// Found by fuzzing (tests/fuzz/corpus/jwt/exp-int64-max): exp + leeway overflowed int64_t
// (undefined; with g++ it wrapped, so a token valid for ever was "expired").
TEST_CASE("exp and nbf at the limits of int64 and beyond do not overflow", "[jwt]") {
  auto v = verifier();
  json c = claims();
  c["exp"] = INT64_MAX;
  c["nbf"] = INT64_MIN;
  auto result = v->verify(validToken(c), kNow);
  REQUIRE(result);
  CHECK(result->expires > kNow);
  CHECK(result->not_before < 0);
  c["exp"] = UINT64_MAX;  // not -1
  CHECK(v->verify(validToken(c), kNow));
  c["exp"] = INT64_MIN;
  CHECK(reason(v->verify(validToken(c), kNow)) == "token expired");
  c["exp"] = kNow + 300;
  c["nbf"] = INT64_MAX;
  CHECK(reason(v->verify(validToken(c), kNow)) == "token not valid yet");
}

TEST_CASE("every rejection path", "[jwt]") {
  const auto& k = Keys::shared();
  auto v = verifier();
  SECTION("bad signature") {
    std::string token = validToken();
    token[token.size() - 5] = token[token.size() - 5] == 'A' ? 'B' : 'A';
    CHECK(reason(v->verify(token, kNow)) == "bad signature");
    // Signed by another key than the kid names.
    CHECK(reason(v->verify(
              t::signJwt({{"alg", "RS256"}, {"kid", "rsa"}}, claims(), k.stranger.get()), kNow)) ==
          "bad signature");
  }
  SECTION("wrong algorithm for the key, or not allowed") {
    CHECK(reason(v->verify(t::signJwt({{"alg", "ES256"}, {"kid", "rsa"}}, claims(), k.ec384.get()),
                           kNow))
              .find("needs a key on its curve") != std::string::npos);
    CHECK(reason(v->verify(t::signJwt({{"alg", "RS256"}, {"kid", "ed"}}, claims(), k.rsa.get()),
                           kNow)) == "RS256 needs an RSA key");
    auto es_only = verifier({"ES256"});
    CHECK(es_only->verify(validToken(), kNow));
    CHECK(reason(es_only->verify(
              t::signJwt({{"alg", "RS256"}, {"kid", "rsa"}}, claims(), k.rsa.get()), kNow)) ==
          "algorithm RS256 not in signingalgorithms");
  }
  SECTION("none and HS256 are refused") {
    CHECK(reason(v->verify(t::signJwt({{"alg", "none"}, {"kid", "rsa"}}, claims(), nullptr),
                           kNow)) == "algorithm none refused");
    CHECK(reason(v->verify(t::signJwt({{"alg", "HS256"}, {"kid", "rsa"}}, claims(), nullptr,
                                      "0123456789abcdef0123456789abcdef"),
                           kNow)) == "algorithm HS256 refused");
  }
  SECTION("expired, with 60 s leeway") {
    json c = claims();
    c["exp"] = kNow - 61;
    CHECK(reason(v->verify(validToken(c), kNow)) == "token expired");
    c["exp"] = kNow - 59;
    CHECK(v->verify(validToken(c), kNow));
    c.erase("exp");
    CHECK(reason(v->verify(validToken(c), kNow)) == "no exp");
  }
  SECTION("nbf in the future, with 60 s leeway") {
    json c = claims();
    c["nbf"] = kNow + 61;
    CHECK(reason(v->verify(validToken(c), kNow)) == "token not valid yet");
    c["nbf"] = kNow + 59;
    CHECK(v->verify(validToken(c), kNow));
  }
  SECTION("wrong aud, wrong iss") {
    json c = claims();
    c["aud"] = "another-registry";
    CHECK(reason(v->verify(validToken(c), kNow)) == "token intended for another audience");
    c["aud"] = {"a", "b"};
    CHECK(reason(v->verify(validToken(c), kNow)) == "token intended for another audience");
    c = claims();
    c["iss"] = "someone-else";
    CHECK(reason(v->verify(validToken(c), kNow)) == "token from an untrusted issuer");
  }
  SECTION("missing or malformed access") {
    json c = claims();
    c.erase("access");
    auto none = v->verify(validToken(c), kNow);
    REQUIRE(none);  // a token without access grants nothing (TokenAccess: insufficient_scope)
    CHECK(none->access.empty());
    c["access"] = "everything";
    CHECK(reason(v->verify(validToken(c), kNow)) == "access is not an array");
  }
  SECTION("untrusted x5c") {
    const auto& certs = t::TestCertificates::shared();
    json header = {{"alg", "ES256"}, {"x5c", t::x5cOf(certs.untrustedClientCert())}};
    auto key = t::loadPrivateKey(certs.untrustedClientKey());
    CHECK(reason(v->verify(t::signJwt(header, claims(), key.get()), kNow))
              .starts_with("untrusted x5c chain"));
    // A trusted chain whose leaf did not sign.
    CHECK(reason(v->verify(t::signJwt(x5cHeader(), claims(), k.ca.get()), kNow)) ==
          "bad signature");
  }
  SECTION("unknown kid, no key at all") {
    CHECK(reason(v->verify(t::signJwt({{"alg", "RS256"}, {"kid", "nobody"}}, claims(), k.rsa.get()),
                           kNow))
              .starts_with("token signed by an untrusted key"));
    CHECK(reason(v->verify(t::signJwt({{"alg", "RS256"}}, claims(), k.rsa.get()), kNow))
              .starts_with("no x5c, jwk or kid"));
  }
  SECTION("malformed") {
    CHECK(reason(v->verify("", kNow)).starts_with("malformed"));
    CHECK(reason(v->verify("a.b", kNow)).starts_with("malformed"));
    CHECK(reason(v->verify("a.b.c.d", kNow)).starts_with("malformed"));
    CHECK(reason(v->verify("!!.e30.AA", kNow)) == "malformed base64url");
    CHECK(reason(v->verify(t::base64Url("[1]") + ".e30.AA", kNow)) ==
          "header is not a JSON object");
    CHECK(reason(v->verify(t::base64Url(R"({"alg":"ES256","crit":["b64"]})") + ".e30.AA", kNow))
              .starts_with("crit"));
  }
  SECTION("1 MiB token and an oversized header are refused before decoding") {
    std::string huge(1 << 20, 'A');
    CHECK(reason(v->verify(huge, kNow)) == "token too large");
    std::string big_header(portico::auth::kMaxHeaderSize + 1, 'A');
    CHECK(reason(v->verify(big_header + ".e30.AA", kNow))
              .starts_with("malformed token (or a header"));
  }
}

TEST_CASE("open() refuses unusable key material", "[jwt]") {
  t::TempDir dir("jwt-open");
  JwtSettings s = settings();
  s.jwks.clear();
  s.rootcertbundle.clear();
  CHECK_FALSE(JwtVerifier::open(s));
  s.rootcertbundle = dir.path() + "/missing.pem";
  CHECK_FALSE(JwtVerifier::open(s));
  std::ofstream(dir.path() + "/empty.pem") << "no certificates here\n";
  s.rootcertbundle = dir.path() + "/empty.pem";
  CHECK_FALSE(JwtVerifier::open(s));
  s = settings({"HS256"});
  CHECK_FALSE(JwtVerifier::open(s));
  s = settings();
  std::ofstream(dir.path() + "/bad.json") << R"({"keys":[{"kty":"RSA"}]})";
  s.jwks = dir.path() + "/bad.json";
  CHECK_FALSE(JwtVerifier::open(s));
}
