#include "proxy/user_agent.h"
#include "common/text.h"

#include <charconv>

namespace portico::proxy {
namespace {

bool isDigit(char c) {
  return c >= '0' && c <= '9';
}

// Reads a decimal number at the front of `text` (at most 9 digits).
std::optional<int> takeNumber(std::string_view& text) {
  size_t n = 0;
  while (n < text.size() && isDigit(text[n])) ++n;
  if (n == 0 || n > 9) return std::nullopt;
  int value = 0;
  std::from_chars(text.data(), text.data() + n, value);
  text.remove_prefix(n);
  return value;
}

// Truncates `v` to `components` numbers (missing ones are zero).
DockerVersion truncated(const DockerVersion& v, int components) {
  DockerVersion out;
  out.major = v.major;
  out.minor = components >= 2 ? v.minor : 0;
  out.patch = components >= 3 ? v.patch : 0;
  return out;
}

}  // namespace

std::optional<DockerVersion> DockerVersion::parse(std::string_view text) {
  DockerVersion v;
  auto major = takeNumber(text);
  if (!major) return std::nullopt;
  v.major = *major;
  v.components = 1;
  if (text.size() >= 2 && text[0] == '.' && isDigit(text[1])) {
    text.remove_prefix(1);
    v.minor = *takeNumber(text);
    v.components = 2;
    if (text.size() >= 2 && text[0] == '.' && isDigit(text[1])) {
      text.remove_prefix(1);
      auto patch = takeNumber(text);
      if (!patch) return std::nullopt;
      v.patch = *patch;
      v.components = 3;
    }
  }
  if (!text.empty() && (isDigit(text[0]) || text[0] == '.')) return std::nullopt;
  v.suffix = std::string(text);
  return v;
}

UserAgent UserAgent::parse(std::string_view header) {
  UserAgent ua;
  ua.text_ = std::string(header);
  std::string_view rest = header;
  while (!rest.empty()) {
    const char c = rest.front();
    if (c == ' ' || c == '\t') {
      rest.remove_prefix(1);
      continue;
    }
    if (c == '(') {
      // A comment (RFC 9110 §5.6.5): nested parentheses, backslash escapes.
      std::string comment;
      int depth = 0;
      size_t i = 0;
      for (; i < rest.size(); ++i) {
        const char d = rest[i];
        if (d == '\\' && i + 1 < rest.size()) {
          comment += rest[++i];
          continue;
        }
        if (d == '(') {
          if (depth++ == 0) continue;
        } else if (d == ')') {
          if (--depth == 0) {
            ++i;
            break;
          }
        }
        comment += d;
      }
      ua.comments_.push_back(std::move(comment));
      rest.remove_prefix(i);
      continue;
    }
    // A product token: name[/version], ending at whitespace or a comment.
    size_t end = 0;
    while (end < rest.size() && rest[end] != ' ' && rest[end] != '\t' && rest[end] != '(') ++end;
    const std::string_view token = rest.substr(0, end);
    const size_t slash = token.find('/');
    Product product;
    product.name = std::string(token.substr(0, slash));
    if (slash != std::string_view::npos) product.version = std::string(token.substr(slash + 1));
    ua.products_.push_back(std::move(product));
    rest.remove_prefix(end);
  }
  return ua;
}

std::optional<std::string_view> UserAgent::productVersion(std::string_view name) const {
  for (const Product& p : products_) {
    if (p.name == name) return std::string_view(p.version);
  }
  return std::nullopt;
}

std::optional<DockerVersion> UserAgent::dockerVersion() const {
  // Only a UA that starts with "docker/": Docker's own engine and CLI put it first; other
  // tools that mention docker later (e.g. in UpstreamClient) are not the engine.
  if (products_.empty() || products_.front().name != "docker") return std::nullopt;
  if (text_.rfind("docker/", 0) != 0) return std::nullopt;
  return DockerVersion::parse(products_.front().version);
}

Result<VersionConstraint> VersionConstraint::parse(std::string_view text) {
  VersionConstraint c;
  c.text_ = std::string(text);
  std::string_view rest = trimBlanks(text);
  size_t opLength = 0;
  while (opLength < rest.size() &&
         std::string_view("<>=!~^").find(rest[opLength]) != std::string_view::npos)
    ++opLength;
  const std::string_view op = rest.substr(0, opLength);
  if (op.empty()) {
    return Error(UserAgentErrc::UnknownOperator,
                 "missing operator (one of < <= > >= == !=) before \"" + std::string(rest) + "\"");
  }
  if (op == "<") {
    c.op_ = Op::Less;
  } else if (op == "<=") {
    c.op_ = Op::LessEqual;
  } else if (op == ">") {
    c.op_ = Op::Greater;
  } else if (op == ">=") {
    c.op_ = Op::GreaterEqual;
  } else if (op == "==") {
    c.op_ = Op::Equal;
  } else if (op == "!=") {
    c.op_ = Op::NotEqual;
  } else {
    return Error(UserAgentErrc::UnknownOperator, "unknown operator \"" + std::string(op) + "\"");
  }
  rest = trimBlanks(rest.substr(opLength));
  auto version = DockerVersion::parse(rest);
  if (!version || !version->suffix.empty()) {
    return Error(UserAgentErrc::InvalidVersion,
                 "invalid version \"" + std::string(rest) + "\" (expected e.g. 1.6 or 1.10.3)");
  }
  c.version_ = *version;
  return c;
}

bool VersionConstraint::holds(const DockerVersion& version) const {
  const DockerVersion v = truncated(version, version_.components);
  const DockerVersion bound = truncated(version_, version_.components);
  switch (op_) {
    case Op::Less:
      return v < bound;
    case Op::LessEqual:
      return v <= bound;
    case Op::Greater:
      return v > bound;
    case Op::GreaterEqual:
      return v >= bound;
    case Op::Equal:
      return v == bound;
    case Op::NotEqual:
      return v != bound;
  }
  return false;
}

std::optional<DockerVersion> UserAgentMatcher::effectiveDockerVersion(std::string_view user_agent) {
  auto version = UserAgent::parse(user_agent).dockerVersion();
  if (!version) return std::nullopt;
  // nginx: 5(?!\.[0-9]-dev) — "1.5.N-dev" with one digit N is a dev build of 1.6.
  const std::string_view rest = user_agent.substr(std::string_view("docker/").size());
  if (rest.size() >= 9 && rest.substr(0, 4) == "1.5." && isDigit(rest[4]) &&
      rest.substr(5, 4) == "-dev") {
    version->minor = 6;
    version->patch = 0;
  }
  return version;
}

bool UserAgentMatcher::isLegacyGoClient(std::string_view user_agent) {
  return user_agent.rfind("Go ", 0) == 0;
}

bool UserAgentMatcher::matches(std::string_view user_agent) const {
  if (docker_version_) {
    auto version = effectiveDockerVersion(user_agent);
    if (!version || !docker_version_->holds(*version)) return false;
  }
  if (legacy_go_client_ && isLegacyGoClient(user_agent) != *legacy_go_client_) return false;
  if (regex_ && !regex_->matches(user_agent)) return false;
  return true;
}

}  // namespace portico::proxy
