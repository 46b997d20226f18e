#include "common/crypto/digest.h"

#include <event2/buffer.h>
#include <openssl/evp.h>

#include <cassert>
#include <cstdlib>
#include <vector>

namespace portico::crypto {
namespace {

bool isAlgorithmComponentChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}
bool isAlgorithmSeparator(char c) {
  return c == '+' || c == '.' || c == '_' || c == '-';
}
bool isEncodedChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '=' ||
         c == '_' || c == '-';
}
bool isLowerHex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

// algorithm ::= algorithm-component (algorithm-separator algorithm-component)*
bool validAlgorithm(std::string_view a) {
  if (a.empty() || !isAlgorithmComponentChar(a.front()) || !isAlgorithmComponentChar(a.back()))
    return false;
  bool previousSeparator = false;
  for (char c : a) {
    if (isAlgorithmSeparator(c)) {
      if (previousSeparator) return false;
      previousSeparator = true;
    } else if (isAlgorithmComponentChar(c)) {
      previousSeparator = false;
    } else {
      return false;
    }
  }
  return true;
}

const EVP_MD* evpOf(DigestAlgorithm algorithm) {
  return algorithm == DigestAlgorithm::Sha512 ? EVP_sha512() : EVP_sha256();
}

std::string toHex(const unsigned char* data, size_t length) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(length * 2, '0');
  for (size_t i = 0; i < length; ++i) {
    out[2 * i] = kDigits[data[i] >> 4];
    out[2 * i + 1] = kDigits[data[i] & 0xf];
  }
  return out;
}

}  // namespace

std::string_view algorithmName(DigestAlgorithm algorithm) {
  return algorithm == DigestAlgorithm::Sha512 ? "sha512" : "sha256";
}

size_t hexLength(DigestAlgorithm algorithm) {
  return algorithm == DigestAlgorithm::Sha512 ? 128 : 64;
}

Digest::Digest(DigestAlgorithm algorithm, std::string_view hex) : algorithm_(algorithm) {
  assert(hex.size() == hexLength(algorithm));
  text_.reserve(7 + hex.size());
  text_.append(crypto::algorithmName(algorithm)).append(":").append(hex);
}

Result<Digest> Digest::parse(std::string_view text) {
  const size_t colon = text.find(':');
  if (colon == std::string_view::npos) {
    return Error(DigestErrc::InvalidFormat, "digest has no algorithm separator ':'",
                 std::string(text));
  }
  const std::string_view algorithm = text.substr(0, colon);
  const std::string_view encoded = text.substr(colon + 1);
  if (!validAlgorithm(algorithm))
    return Error(DigestErrc::InvalidFormat, "invalid digest algorithm", std::string(text));
  if (encoded.empty())
    return Error(DigestErrc::InvalidFormat, "empty encoded digest", std::string(text));
  for (char c : encoded) {
    if (!isEncodedChar(c)) {
      return Error(DigestErrc::InvalidFormat, "invalid character in encoded digest",
                   std::string(text));
    }
  }
  DigestAlgorithm parsed;
  if (algorithm == "sha256") {
    parsed = DigestAlgorithm::Sha256;
  } else if (algorithm == "sha512") {
    parsed = DigestAlgorithm::Sha512;
  } else {
    return Error(DigestErrc::Unsupported, "unsupported digest algorithm", std::string(algorithm));
  }
  for (char c : encoded) {
    if (!isLowerHex(c)) {
      return Error(DigestErrc::InvalidFormat, "encoded digest is not lowercase hex",
                   std::string(text));
    }
  }
  if (encoded.size() != hexLength(parsed)) {
    return Error(DigestErrc::InvalidLength, "encoded digest has the wrong length",
                 std::string(text));
  }
  return Digest(parsed, encoded);
}

Digest Digest::of(std::string_view data, DigestAlgorithm algorithm) {
  DigestStream stream(algorithm);
  stream.update(data);
  return stream.finish();
}

std::string_view Digest::algorithmName() const {
  return crypto::algorithmName(algorithm_);
}

std::string_view Digest::hex() const {
  if (text_.empty()) return {};
  return std::string_view(text_).substr(crypto::algorithmName(algorithm_).size() + 1);
}

void DigestStream::CtxFree::operator()(evp_md_ctx_st* ctx) const {
  EVP_MD_CTX_free(ctx);
}

DigestStream::DigestStream(DigestAlgorithm algorithm)
    : algorithm_(algorithm), ctx_(EVP_MD_CTX_new()) {
  if (!ctx_) std::abort();  // allocation failure
  reset();
}

DigestStream::DigestStream(DigestStream&&) noexcept = default;
DigestStream& DigestStream::operator=(DigestStream&&) noexcept = default;
DigestStream::~DigestStream() = default;

void DigestStream::reset() {
  // EVP_DigestInit_ex only fails on allocation failure or an unavailable algorithm, neither
  // of which a request can cause.
  if (EVP_DigestInit_ex(ctx_.get(), evpOf(algorithm_), nullptr) != 1) std::abort();
  bytes_ = 0;
}

void DigestStream::update(const void* data, size_t length) {
  assert(ctx_);
  if (length == 0) return;
  EVP_DigestUpdate(ctx_.get(), data, length);
  bytes_ += length;
}

void DigestStream::update(evbuffer& buffer) {
  const int chains = evbuffer_peek(&buffer, -1, nullptr, nullptr, 0);
  if (chains <= 0) return;
  std::vector<evbuffer_iovec> vecs(static_cast<size_t>(chains));
  const int filled = evbuffer_peek(&buffer, -1, nullptr, vecs.data(), chains);
  for (int i = 0; i < filled; ++i) update(vecs[i].iov_base, vecs[i].iov_len);
}

Digest DigestStream::finish() {
  assert(ctx_);
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_DigestFinal_ex(ctx_.get(), out, &length);
  Digest digest(algorithm_, toHex(out, length));
  reset();
  return digest;
}

Digest DigestStream::peek() const {
  assert(ctx_);
  std::unique_ptr<evp_md_ctx_st, CtxFree> copy(EVP_MD_CTX_new());
  if (!copy || EVP_MD_CTX_copy_ex(copy.get(), ctx_.get()) != 1) std::abort();
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_DigestFinal_ex(copy.get(), out, &length);
  return Digest(algorithm_, toHex(out, length));
}

}  // namespace portico::crypto
