#pragma once
// Names, tags and manifest references as distribution's reference grammar defines them
// (github.com/distribution/reference, regexp.go), applied to untrusted URL components. A value
// of these types is valid by construction: it can go into a storage path (storage/layout.h)
// without further checks.
//
//   repository  path-component ("/" path-component)*, at most 255 characters
//   component   [a-z0-9]+ ((\.|_|__|-+)[a-z0-9]+)*
//   tag         [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}
//   digest      crypto::Digest::parse (sha256 / sha512, lowercase hex of the right length)
//
// Failures are Error{ErrorCode::NameInvalid | TagInvalid | DigestInvalid, message, input}.
// What this does not do: domains or ports in names (the URL path carries the name only), or
// percent-decoding (a "%" is simply invalid).

#include <compare>
#include <string>
#include <string_view>
#include <variant>

#include "backend/registry/error_code.h"
#include "common/crypto/digest.h"
#include "common/result.h"

namespace portico::registry {

inline constexpr size_t kMaxRepositoryNameLength = 255;
inline constexpr size_t kMaxTagLength = 128;

// A repository name, e.g. "library/ubuntu".
class Repository {
 public:
  Repository() = default;
  // Validates `name` (NameInvalid on failure).
  static Result<Repository> parse(std::string_view name);

  const std::string& str() const { return name_; }
  bool empty() const { return name_.empty(); }
  friend bool operator==(const Repository&, const Repository&) = default;
  friend auto operator<=>(const Repository&, const Repository&) = default;

 private:
  explicit Repository(std::string name) : name_(std::move(name)) {}
  std::string name_;
};

// A tag, e.g. "latest".
class Tag {
 public:
  Tag() = default;
  // Validates `tag` (TagInvalid on failure).
  static Result<Tag> parse(std::string_view tag);

  const std::string& str() const { return tag_; }
  friend bool operator==(const Tag&, const Tag&) = default;
  friend auto operator<=>(const Tag&, const Tag&) = default;

 private:
  explicit Tag(std::string tag) : tag_(std::move(tag)) {}
  std::string tag_;
};

// Parses a digest from a URL or header; any failure is DigestInvalid (the digest error's
// message is kept).
Result<crypto::Digest> parseDigest(std::string_view text);

// The <reference> of /v2/<name>/manifests/<reference>: a digest if it contains ':', else a
// tag (errors: DigestInvalid or TagInvalid).
class Reference {
 public:
  static Result<Reference> parse(std::string_view text);

  bool isDigest() const { return std::holds_alternative<crypto::Digest>(value_); }
  bool isTag() const { return std::holds_alternative<Tag>(value_); }
  // Only when isDigest().
  const crypto::Digest& digest() const { return std::get<crypto::Digest>(value_); }
  // Only when isTag().
  const Tag& tag() const { return std::get<Tag>(value_); }
  // The text it was parsed from.
  const std::string& str() const;

 private:
  explicit Reference(std::variant<Tag, crypto::Digest> value) : value_(std::move(value)) {}
  std::variant<Tag, crypto::Digest> value_;
};

// Upload ids in URLs: ours are UUIDs; distribution's route admits [a-zA-Z0-9-_.=]+. We accept
// that set of characters up to 128 long, without a leading '.', so an id is always a single
// safe path component.
bool isValidUploadId(std::string_view id);

}  // namespace portico::registry
