#pragma once
// The User-Agent side of routing: Docker's UA grammar, Docker versions compared as numbers,
// version constraints from config ("< 1.6") and the matcher a route uses.
//
// Docker's User-Agent (RFC 9110 §10.1.5 product tokens and comments):
//   docker/1.5.0 go/go1.4.1 git-commit/a8a31ef kernel/3.13.0 os/linux arch/amd64
//   docker/20.10.7 go/go1.13.15 ... arch/amd64 UpstreamClient(Docker-Client/20.10.7 \(darwin\))
// The classic nginx rule this reproduces (the default routes in conf/proxy.yml):
//   if ($http_user_agent ~ "^(docker\/1\.(3|4|5(?!\.[0-9]-dev))|Go ).*$") { return 404; }

#include <compare>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "proxy/regex.h"

namespace portico::proxy {

enum class UserAgentErrc { InvalidVersion, UnknownOperator, InvalidRegex };

// A Docker engine version: "1.5.0", "1.10.3", "17.03.1-ce", "1.5.0-dev", "27.3.1".
// Comparison is numeric on (major, minor, patch); the suffix does not take part.
struct DockerVersion {
  int major = 0;
  int minor = 0;
  int patch = 0;
  int components = 3;  // how many numbers were written (1..3): "1.6" has 2
  std::string suffix;  // everything after the numbers: "-dev", "-rc1", "-ce", "" ...

  // Parses "MAJOR[.MINOR[.PATCH]][suffix]"; the suffix starts with a non-digit, non-dot.
  static std::optional<DockerVersion> parse(std::string_view text);

  friend bool operator==(const DockerVersion& a, const DockerVersion& b) {
    return a.major == b.major && a.minor == b.minor && a.patch == b.patch;
  }
  friend std::strong_ordering operator<=>(const DockerVersion& a, const DockerVersion& b) {
    if (auto c = a.major <=> b.major; std::is_neq(c)) return c;
    if (auto c = a.minor <=> b.minor; std::is_neq(c)) return c;
    return a.patch <=> b.patch;
  }
};

// A parsed User-Agent: product tokens ("docker/1.5.0") and comments ("(linux)").
class UserAgent {
 public:
  struct Product {
    std::string name;
    std::string version;  // empty when the token has no "/version"
  };

  // Tolerant parse: never fails; unknown shapes give fewer products.
  static UserAgent parse(std::string_view header);

  const std::string& text() const { return text_; }
  const std::vector<Product>& products() const { return products_; }
  const std::vector<std::string>& comments() const { return comments_; }
  // The version of the first product named `name` (case-sensitive), if present.
  std::optional<std::string_view> productVersion(std::string_view name) const;
  // The Docker engine version when the UA starts with "docker/<version>".
  std::optional<DockerVersion> dockerVersion() const;

 private:
  std::string text_;
  std::vector<Product> products_;
  std::vector<std::string> comments_;
};

// "<op> VERSION" with op one of < <= > >= == !=. The client's version is truncated to the
// constraint's precision before comparing: "< 1.6" holds for 1.5.9, not for 1.6.2;
// "== 1.5" holds for every 1.5.x; "> 1.5" does not hold for 1.5.3.
class VersionConstraint {
 public:
  enum class Op { Less, LessEqual, Greater, GreaterEqual, Equal, NotEqual };

  // Errors: UnknownOperator (message `unknown operator "<<"`), InvalidVersion.
  static Result<VersionConstraint> parse(std::string_view text);

  bool holds(const DockerVersion& version) const;
  Op op() const { return op_; }
  const DockerVersion& version() const { return version_; }
  const std::string& text() const { return text_; }

 private:
  Op op_ = Op::Less;
  DockerVersion version_;
  std::string text_;
};

// The `user_agent:` part of a route's match. Every configured condition must hold.
//  - docker_version: the UA starts with docker/<version> and the version satisfies the
//    constraint. A "1.5.N-dev" build with a one-digit N counts as 1.6.0: Docker 1.5 dev builds
//    already speak v2 properly, and the nginx regex's lookahead `5(?!\.[0-9]-dev)` spares them
//    (only them: "1.5.10-dev" stays 1.5, as the regex decides).
//    Differences from the regex, on versions that were never released: the regex's
//    "docker/1.3" also matches "docker/1.30"; numbers compare as numbers here. Docker before
//    1.3 (no v2 support at all) is "< 1.6" here, which the regex does not catch.
//  - legacy_go_client: the UA starts with "Go " — Go's pre-1.2 default "Go 1.1 package http",
//    which Docker 1.5 sends on its /v2/ ping. Today's "Go-http-client/1.1" is not legacy.
//    `legacy_go_client: false` requires a UA that is not the legacy one.
//  - regex: PCRE2 pattern searched in the whole header value.
// A request without a User-Agent header is matched as the empty string (like nginx's
// $http_user_agent): it is neither a Docker client nor the legacy Go client.
class UserAgentMatcher {
 public:
  UserAgentMatcher() = default;  // no condition: matches everything

  void setDockerVersion(VersionConstraint constraint) { docker_version_ = std::move(constraint); }
  void setLegacyGoClient(bool legacy) { legacy_go_client_ = legacy; }
  void setRegex(Regex regex) { regex_ = std::move(regex); }

  bool matches(std::string_view user_agent) const;

  // The version the docker_version condition compares: dockerVersion() with the 1.5.N-dev rule.
  static std::optional<DockerVersion> effectiveDockerVersion(std::string_view user_agent);
  // True for the legacy Go client's default User-Agent.
  static bool isLegacyGoClient(std::string_view user_agent);

 private:
  std::optional<VersionConstraint> docker_version_;
  std::optional<bool> legacy_go_client_;
  std::optional<Regex> regex_;
};

}  // namespace portico::proxy
