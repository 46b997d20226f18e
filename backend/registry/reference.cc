#include "backend/registry/reference.h"

#include <string>

namespace portico::registry {
namespace {

bool isLowerAlnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

bool isTagChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '.' || c == '-';
}

// path-component: [a-z0-9]+ ((\.|_|__|-+)[a-z0-9]+)*  (distribution/reference regexp.go)
bool isPathComponent(std::string_view component) {
  size_t i = 0;
  const size_t n = component.size();
  auto alnumRun = [&] {
    const size_t start = i;
    while (i < n && isLowerAlnum(component[i])) ++i;
    return i > start;
  };
  if (!alnumRun()) return false;
  while (i < n) {
    if (component[i] == '.') {
      ++i;
    } else if (component[i] == '_') {
      ++i;
      if (i < n && component[i] == '_') ++i;
    } else if (component[i] == '-') {
      while (i < n && component[i] == '-') ++i;
    } else {
      return false;
    }
    if (!alnumRun()) return false;
  }
  return true;
}

std::string printable(std::string_view text) {
  std::string out;
  for (char c : text.substr(0, 300)) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      static constexpr char kHex[] = "0123456789abcdef";
      out += "\\x";
      out += kHex[(static_cast<unsigned char>(c) >> 4) & 0xf];
      out += kHex[static_cast<unsigned char>(c) & 0xf];
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace

Result<Repository> Repository::parse(std::string_view name) {
  auto invalid = [&](const char* why) {
    return Error{ErrorCode::NameInvalid, std::string("invalid repository name: ") + why,
                 printable(name)};
  };
  if (name.empty()) return invalid("empty");
  if (name.size() > kMaxRepositoryNameLength) return invalid("longer than 255 characters");
  size_t start = 0;
  for (;;) {
    const size_t slash = name.find('/', start);
    const std::string_view component = name.substr(
        start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
    if (!isPathComponent(component)) {
      return invalid(
          "each path component must match [a-z0-9]+((\\.|_|__|-+)[a-z0-9]+)*, joined by '/'");
    }
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return Repository(std::string(name));
}

Result<Tag> Tag::parse(std::string_view tag) {
  const bool valid = !tag.empty() && tag.size() <= kMaxTagLength && tag.front() != '.' &&
                     tag.front() != '-' && [&] {
                       for (char c : tag) {
                         if (!isTagChar(c)) return false;
                       }
                       return true;
                     }();
  if (!valid) {
    return Error{ErrorCode::TagInvalid, "invalid tag: must match [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}",
                 printable(tag)};
  }
  return Tag(std::string(tag));
}

Result<crypto::Digest> parseDigest(std::string_view text) {
  auto digest = crypto::Digest::parse(text);
  if (!digest) {
    return Error{ErrorCode::DigestInvalid, "invalid digest: " + digest.error().message(),
                 printable(text)};
  }
  return std::move(*digest);
}

Result<Reference> Reference::parse(std::string_view text) {
  if (text.find(':') != std::string_view::npos) {
    auto digest = parseDigest(text);
    if (!digest) return digest.error();
    return Reference(std::move(*digest));
  }
  auto tag = Tag::parse(text);
  if (!tag) return tag.error();
  return Reference(std::move(*tag));
}

const std::string& Reference::str() const {
  return isDigest() ? digest().str() : tag().str();
}

bool isValidUploadId(std::string_view id) {
  if (id.empty() || id.size() > 128 || id.front() == '.') return false;
  for (char c : id) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_' || c == '.' || c == '=';
    if (!ok) return false;
  }
  return true;
}

}  // namespace portico::registry
