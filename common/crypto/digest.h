#pragma once
// Content digests as the OCI image spec defines them (`algorithm:encoded`, descriptor.md
// "Digests"): Digest is a parsed, validated value; DigestStream hashes bytes as they stream
// (OpenSSL EVP), so no body is ever held whole to be hashed.
//
// Supported algorithms are the spec's registered ones: sha256 (64 hex digits) and sha512
// (128 hex digits), lowercase hex only. Other grammatically valid algorithms parse to
// DigestErrc::Unsupported. What this does not do: serialize a partial hash state (EVP cannot);
// resuming an interrupted upload re-hashes the bytes already stored.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "common/result.h"

struct evbuffer;
struct evp_md_ctx_st;

namespace portico::crypto {

// Errors of digest parsing and verification (the domain of Error::is<DigestErrc>()).
enum class DigestErrc {
  InvalidFormat,  // not `algorithm:encoded`, or encoded not lowercase hex
  InvalidLength,  // known algorithm, wrong number of hex digits
  Unsupported,    // grammatically valid algorithm other than sha256/sha512
};

enum class DigestAlgorithm { Sha256, Sha512 };

// "sha256" or "sha512".
std::string_view algorithmName(DigestAlgorithm algorithm);
// Number of hex digits of an encoded digest of that algorithm (64 or 128).
size_t hexLength(DigestAlgorithm algorithm);

// A validated digest, e.g. "sha256:e3b0c442...". Default-constructed digests are empty()
// and compare less than every parsed one.
class Digest {
 public:
  Digest() = default;
  // From an algorithm and lowercase hex of the right length (asserted, not validated).
  Digest(DigestAlgorithm algorithm, std::string_view hex);

  // Parses `algorithm:hex` per the OCI grammar; see DigestErrc for the failures.
  static Result<Digest> parse(std::string_view text);
  // Hashes a small in-memory buffer (manifests, tests). Blobs use DigestStream.
  static Digest of(std::string_view data, DigestAlgorithm algorithm = DigestAlgorithm::Sha256);

  // The full text, "sha256:<hex>".
  const std::string& str() const { return text_; }
  DigestAlgorithm algorithm() const { return algorithm_; }
  std::string_view algorithmName() const;
  // The encoded part (lowercase hex).
  std::string_view hex() const;
  bool empty() const { return text_.empty(); }

  friend bool operator==(const Digest& a, const Digest& b) { return a.text_ == b.text_; }
  friend auto operator<=>(const Digest& a, const Digest& b) { return a.text_ <=> b.text_; }

 private:
  DigestAlgorithm algorithm_ = DigestAlgorithm::Sha256;
  std::string text_;
};

// Streaming hash of one algorithm. Movable (cheap: one pointer), not copyable.
class DigestStream {
 public:
  explicit DigestStream(DigestAlgorithm algorithm = DigestAlgorithm::Sha256);
  DigestStream(DigestStream&&) noexcept;
  DigestStream& operator=(DigestStream&&) noexcept;
  ~DigestStream();

  void update(const void* data, size_t length);
  void update(std::string_view data) { update(data.data(), data.size()); }
  // Hashes every byte in `buffer` without draining it (evbuffer_peek over its chains).
  void update(evbuffer& buffer);
  // The digest of everything so far; the stream then starts over (empty, same algorithm).
  Digest finish();
  // The digest of everything so far, leaving the stream running.
  Digest peek() const;
  // Bytes hashed since construction or the last finish().
  uint64_t bytes() const { return bytes_; }
  DigestAlgorithm algorithm() const { return algorithm_; }

 private:
  struct CtxFree {
    void operator()(evp_md_ctx_st* ctx) const;
  };
  void reset();

  DigestAlgorithm algorithm_;
  std::unique_ptr<evp_md_ctx_st, CtxFree> ctx_;
  uint64_t bytes_ = 0;
};

}  // namespace portico::crypto

template <>
struct std::hash<portico::crypto::Digest> {
  size_t operator()(const portico::crypto::Digest& d) const noexcept {
    return std::hash<std::string>{}(d.str());
  }
};
