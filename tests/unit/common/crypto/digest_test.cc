#include "common/crypto/digest.h"

#include <event2/buffer.h>

#include <catch2/catch.hpp>
#include <memory>
#include <string>
#include <unordered_set>

using portico::crypto::Digest;
using portico::crypto::DigestAlgorithm;
using portico::crypto::DigestErrc;
using portico::crypto::DigestStream;

namespace {

constexpr const char* kEmptySha256 =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
constexpr const char* kAbcSha256 =
    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
constexpr const char* kMillionASha256 =
    "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0";
constexpr const char* kMebibyteASha256 =
    "9bc1b2a288b26af7257a36277ae3816a7d4f16e89c1e7e77d0a5c48bad62b360";
constexpr const char* kEmptySha512 =
    "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec"
    "2f"
    "63b931bd47417a81a538327af927da3e";
constexpr const char* kAbcSha512 =
    "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feeb"
    "bd"
    "454d4423643ce80e2a9ac94fa54ca49f";
constexpr const char* kMillionASha512 =
    "e718483d0ce769644e2e42c7bc15b4638e1f98b13b2044285632a803afa973ebde0ff244877ea60a4cb0432ce577c3"
    "1b"
    "eb009c5c2c49aa2e4eadb217ad8cc09b";

struct EvbufferFree {
  void operator()(evbuffer* b) const { evbuffer_free(b); }
};

}  // namespace

TEST_CASE("sha256 of known vectors matches FIPS 180 values", "[digest]") {
  CHECK(Digest::of("").str() == std::string("sha256:") + kEmptySha256);
  CHECK(Digest::of("abc").hex() == kAbcSha256);
  CHECK(Digest::of(std::string(1000000, 'a')).hex() == kMillionASha256);
  CHECK(Digest::of(std::string(1 << 20, 'a')).hex() == kMebibyteASha256);
}

TEST_CASE("sha512 of known vectors matches FIPS 180 values", "[digest]") {
  CHECK(Digest::of("", DigestAlgorithm::Sha512).str() == std::string("sha512:") + kEmptySha512);
  CHECK(Digest::of("abc", DigestAlgorithm::Sha512).hex() == kAbcSha512);
  CHECK(Digest::of(std::string(1000000, 'a'), DigestAlgorithm::Sha512).hex() == kMillionASha512);
}

TEST_CASE("streaming in uneven pieces gives the one-shot digest", "[digest]") {
  const std::string data(1 << 20, 'a');
  DigestStream stream;
  size_t offset = 0;
  size_t piece = 1;
  while (offset < data.size()) {
    const size_t n = std::min(piece, data.size() - offset);
    stream.update(data.data() + offset, n);
    offset += n;
    piece = piece * 3 + 7;
  }
  CHECK(stream.bytes() == data.size());
  CHECK(stream.finish().hex() == kMebibyteASha256);
}

TEST_CASE("finish restarts the stream empty", "[digest]") {
  DigestStream stream;
  stream.update("abc");
  CHECK(stream.finish().hex() == kAbcSha256);
  CHECK(stream.bytes() == 0);
  CHECK(stream.finish().hex() == kEmptySha256);
}

TEST_CASE("peek reports the digest so far and keeps hashing", "[digest]") {
  DigestStream stream;
  stream.update("ab");
  CHECK(stream.peek() == Digest::of("ab"));
  stream.update("c");
  CHECK(stream.finish().hex() == kAbcSha256);
}

TEST_CASE("a moved stream keeps its state", "[digest]") {
  DigestStream a(DigestAlgorithm::Sha512);
  a.update("ab");
  DigestStream b(std::move(a));
  b.update("c");
  CHECK(b.algorithm() == DigestAlgorithm::Sha512);
  CHECK(b.finish().hex() == kAbcSha512);
}

TEST_CASE("hashing an evbuffer reads every chain and does not drain it", "[digest]") {
  std::unique_ptr<evbuffer, EvbufferFree> buffer(evbuffer_new());
  // Separate chains: evbuffer_add_reference never merges with the previous chain.
  static const char kA[] = "a";
  static const char kB[] = "b";
  static const char kC[] = "c";
  evbuffer_add_reference(buffer.get(), kA, 1, nullptr, nullptr);
  evbuffer_add_reference(buffer.get(), kB, 1, nullptr, nullptr);
  evbuffer_add_reference(buffer.get(), kC, 1, nullptr, nullptr);
  DigestStream stream;
  stream.update(*buffer);
  CHECK(evbuffer_get_length(buffer.get()) == 3);
  CHECK(stream.finish().hex() == kAbcSha256);

  std::unique_ptr<evbuffer, EvbufferFree> empty(evbuffer_new());
  stream.update(*empty);
  CHECK(stream.finish().hex() == kEmptySha256);
}

TEST_CASE("parse accepts valid sha256 and sha512 digests", "[digest]") {
  auto a = Digest::parse(std::string("sha256:") + kAbcSha256);
  REQUIRE(a);
  CHECK(a->algorithm() == DigestAlgorithm::Sha256);
  CHECK(a->algorithmName() == "sha256");
  CHECK(a->hex() == kAbcSha256);
  CHECK(*a == Digest::of("abc"));

  auto b = Digest::parse(std::string("sha512:") + kAbcSha512);
  REQUIRE(b);
  CHECK(b->algorithm() == DigestAlgorithm::Sha512);
  CHECK(b->str() == std::string("sha512:") + kAbcSha512);
}

TEST_CASE("parse rejects malformed digests with the right error", "[digest]") {
  const std::string hex = kAbcSha256;
  std::string upper = hex;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));

  struct Case {
    std::string text;
    DigestErrc expected;
  };
  auto c = GENERATE_COPY(values<Case>({
      {"sha256:" + upper, DigestErrc::InvalidFormat},
      {"sha256:" + hex.substr(0, 63), DigestErrc::InvalidLength},
      {"sha256:" + hex + "0", DigestErrc::InvalidLength},
      {"sha256:" + std::string(kAbcSha512), DigestErrc::InvalidLength},
      {"sha512:" + hex, DigestErrc::InvalidLength},
      {"md5:d41d8cd98f00b204e9800998ecf8427e", DigestErrc::Unsupported},
      {"sha384:" + hex, DigestErrc::Unsupported},
      {"multihash+base58:QmRZxt2b1FVZPNqd8hsiykDL3TdBDeTSPX9Kv46HmX4Gx8", DigestErrc::Unsupported},
      {"sha256" + hex, DigestErrc::InvalidFormat},
      {"", DigestErrc::InvalidFormat},
      {":" + hex, DigestErrc::InvalidFormat},
      {"sha256:", DigestErrc::InvalidFormat},
      {"SHA256:" + hex, DigestErrc::InvalidFormat},
      {"sha256:" + hex.substr(0, 63) + "g", DigestErrc::InvalidFormat},
      {"sha256:" + hex.substr(0, 63) + "/", DigestErrc::InvalidFormat},
      {"sha--256:" + hex, DigestErrc::InvalidFormat},
      {" sha256:" + hex, DigestErrc::InvalidFormat},
  }));
  INFO(c.text);
  auto result = Digest::parse(c.text);
  REQUIRE_FALSE(result);
  CHECK(result.error().is(c.expected));
}

TEST_CASE("digests order and hash by their text", "[digest]") {
  const Digest a = Digest::of("a");
  const Digest b = Digest::of("b");
  CHECK(a != b);
  CHECK((a < b) == (a.str() < b.str()));
  CHECK(Digest() < a);
  CHECK(Digest().empty());
  std::unordered_set<Digest> set{a, b, Digest::of("a")};
  CHECK(set.size() == 2);
}
