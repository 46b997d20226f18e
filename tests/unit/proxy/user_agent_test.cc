#include "proxy/user_agent.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <catch2/catch.hpp>
#include <optional>
#include <string>

#include "common/http/message.h"
#include "proxy/router.h"

using portico::proxy::DockerVersion;
using portico::proxy::Regex;
using portico::proxy::RouteAction;
using portico::proxy::Router;
using portico::proxy::UserAgent;
using portico::proxy::UserAgentErrc;
using portico::proxy::UserAgentMatcher;
using portico::proxy::VersionConstraint;

namespace {

// The nginx deployment's rule, evaluated by PCRE2 directly (the engine nginx uses): the oracle.
constexpr const char* kNginxLegacyRegex = R"(^(docker\/1\.(3|4|5(?!\.[0-9]-dev))|Go ).*$)";

bool nginxSaysLegacy(const std::string& ua) {
  int error = 0;
  PCRE2_SIZE offset = 0;
  static pcre2_code* code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(kNginxLegacyRegex),
                                          PCRE2_ZERO_TERMINATED, 0, &error, &offset, nullptr);
  REQUIRE(code != nullptr);
  pcre2_match_data* data = pcre2_match_data_create_from_pattern(code, nullptr);
  const int rc =
      pcre2_match(code, reinterpret_cast<PCRE2_SPTR>(ua.data()), ua.size(), 0, 0, data, nullptr);
  pcre2_match_data_free(data);
  return rc >= 0;
}

// Real User-Agent strings; std::nullopt is a request with no User-Agent header at all.
const std::vector<std::optional<std::string>>& userAgentMatrix() {
  static const std::vector<std::optional<std::string>> kMatrix = {
      "docker/1.3.0 go/go1.3.3 git-commit/c78088f kernel/3.16.0-4-amd64 os/linux arch/amd64",
      "docker/1.3.2 go/go1.3.3 git-commit/39fa2fa kernel/3.13.0-24-generic os/linux arch/amd64",
      "docker/1.3.3 go/go1.3.3 git-commit/d344625 kernel/3.16.7-tinycore64 os/linux arch/amd64",
      "docker/1.4.0 go/go1.3.3 git-commit/4595d4f kernel/3.16.7-tinycore64 os/linux arch/amd64",
      "docker/1.4.1 go/go1.3.3 git-commit/5bc2ff8 kernel/3.13.0-44-generic os/linux arch/amd64",
      "docker/1.5.0 go/go1.4.1 git-commit/a8a31ef kernel/3.13.0 os/linux arch/amd64",
      // NOLINTNEXTLINE(bugprone-suspicious-missing-comma): long User-Agents span two lines
      "docker/1.5.0-rc4 go/go1.4.1 git-commit/a8a31ef kernel/3.18.5-tinycore64 os/linux "
      "arch/amd64",
      "docker/1.5.0-dev go/go1.4.1 git-commit/a8a31ef-dirty kernel/3.18.5-tinycore64 os/linux "
      "arch/amd64",
      "docker/1.5.1-dev go/go1.4.2 git-commit/6c4b5f1 kernel/3.16.0-4-amd64 os/linux arch/amd64",
      "docker/1.5.9-dev go/go1.4.2 git-commit/6c4b5f1 kernel/3.16.0-4-amd64 os/linux arch/amd64",
      "docker/1.5.10-dev go/go1.4.2 git-commit/0a1b2c3 kernel/3.16.0-4-amd64 os/linux arch/amd64",
      "docker/1.6.0-rc2 go/go1.4.2 git-commit/c5ee149 kernel/3.19.0 os/linux arch/amd64",
      "docker/1.6.0 go/go1.4.2 git-commit/4749651 kernel/3.19.0 os/linux arch/amd64",
      "docker/1.6.2 go/go1.4.2 git-commit/7c8fca2 kernel/3.13.0-53-generic os/linux arch/amd64",
      "docker/1.7.1 go/go1.4.2 git-commit/786b29d kernel/3.10.0-229.el7.x86_64 os/linux "
      "arch/amd64",
      "docker/1.8.3 go/go1.4.2 git-commit/f4bf5c7 kernel/4.1.10-boot2docker os/linux arch/amd64",
      "docker/1.9.1 go/go1.4.3 git-commit/a34a1d5 kernel/4.1.12-boot2docker os/linux arch/amd64",
      "docker/1.10.3 go/go1.5.3 git-commit/20f81dd kernel/4.1.19-boot2docker os/linux arch/amd64",
      "docker/1.11.2 go/go1.5.4 git-commit/b9f10c9 kernel/4.4.12-boot2docker os/linux arch/amd64",
      "docker/1.12.6 go/go1.6.4 git-commit/78d1802 kernel/4.4.0-59-generic os/linux arch/amd64 "
      "UpstreamClient(Docker-Client/1.12.6 \\(linux\\))",
      "docker/1.13.1 go/go1.7.5 git-commit/092cba3 kernel/4.9.8-moby os/linux arch/amd64 "
      "UpstreamClient(Docker-Client/1.13.1 \\(darwin\\))",
      "docker/17.03.1-ce go/go1.7.5 git-commit/c6d412e kernel/4.9.13-moby os/linux arch/amd64 "
      "UpstreamClient(Docker-Client/17.03.1-ce \\(darwin\\))",
      "docker/17.06.0-ce go/go1.8.3 git-commit/02c1d87 kernel/4.9.31-moby os/linux arch/amd64 "
      "UpstreamClient(Docker-Client/17.06.0-ce \\(windows\\))",
      "docker/18.09.7 go/go1.10.8 git-commit/2d0083d kernel/4.15.0-54-generic os/linux "
      "arch/amd64 UpstreamClient(Docker-Client/18.09.7 \\(linux\\))",
      "docker/19.03.12 go/go1.13.10 git-commit/48a66213fe kernel/5.4.0-42-generic os/linux "
      "arch/amd64 UpstreamClient(Docker-Client/19.03.12 \\(linux\\))",
      "docker/20.10.7 go/go1.13.15 git-commit/b0f5bc3 kernel/5.10.47-linuxkit os/linux "
      "arch/amd64 UpstreamClient(Docker-Client/20.10.7 \\(darwin\\))",
      "docker/20.10.24+dfsg1 go/go1.19.8 git-commit/5d6db84 kernel/6.1.0-13-amd64 os/linux "
      "arch/amd64 UpstreamClient(Docker-Client/20.10.24+dfsg1 \\(linux\\))",
      "docker/23.0.6 go/go1.19.9 git-commit/9dbdbd4 kernel/6.1.0-9-amd64 os/linux arch/amd64 "
      "UpstreamClient(Docker-Client/23.0.6 \\(linux\\))",
      "docker/24.0.7 go/go1.20.10 git-commit/311b9ff kernel/6.4.16-linuxkit os/linux arch/arm64 "
      "UpstreamClient(Docker-Client/24.0.7 \\(darwin\\))",
      "docker/25.0.3 go/go1.21.6 git-commit/f417435 kernel/6.6.12-linuxkit os/linux arch/arm64 "
      "UpstreamClient(Docker-Client/25.0.3 \\(darwin\\))",
      "docker/26.1.4 go/go1.21.11 git-commit/de5c9cf kernel/5.15.153.1-microsoft-standard-WSL2 "
      "os/linux arch/amd64 UpstreamClient(Docker-Client/26.1.4 \\(windows\\))",
      "docker/27.3.1 go/go1.22.7 git-commit/41ca978 kernel/6.10.14-linuxkit os/linux arch/arm64 "
      "UpstreamClient(Docker-Client/27.3.1 \\(darwin\\))",
      "Docker-Client/27.3.1 (linux)",
      "containerd/1.7.22",
      "containerd/v1.6.33",
      "containerd/1.7.13+unknown",
      "podman/4.9.3",
      "libpod/4.3.1",
      "skopeo/1.13.3",
      "containers/5.24.2 (github.com/containers/image)",
      "buildkit/v0.12.5",
      "buildkit/v0.16-dev",
      "crane/v0.20.2 go-containerregistry/v0.20.2",
      "go-containerregistry/v0.19.1",
      "oras/1.2.0+Homebrew",
      "oras-go/2.5.0",
      "Helm/3.14.4",
      "curl/7.88.1",
      "Wget/1.21.3",
      "kube-probe/1.29",
      "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
      "Go-http-client/1.1",
      "Go-http-client/2.0",
      "Go 1.1 package http",
      "",
      std::nullopt,
  };
  return kMatrix;
}

UserAgentMatcher dockerBelow16() {
  UserAgentMatcher m;
  m.setDockerVersion(VersionConstraint::parse("< 1.6").value());
  return m;
}

UserAgentMatcher legacyGo() {
  UserAgentMatcher m;
  m.setLegacyGoClient(true);
  return m;
}

}  // namespace

TEST_CASE("docker versions compare as numbers, not strings", "[user_agent]") {
  auto v = [](const char* text) { return DockerVersion::parse(text).value(); };
  CHECK(v("1.10") > v("1.6"));
  CHECK(v("1.10.3") > DockerVersion{1, 6, 0});
  CHECK(v("1.5.9") < v("1.6"));
  CHECK(v("27.3.1") > v("1.13.1"));
  CHECK(v("17.03.1-ce") == v("17.3.1"));
  CHECK(v("1.5.0-dev").suffix == "-dev");
  CHECK(v("1.6").components == 2);
  CHECK(v("1.6.0-rc2").patch == 0);
  CHECK(v("20.10.24+dfsg1").suffix == "+dfsg1");
  CHECK_FALSE(DockerVersion::parse(""));
  CHECK_FALSE(DockerVersion::parse("v1.6"));
  CHECK_FALSE(DockerVersion::parse("1..6"));
  CHECK_FALSE(DockerVersion::parse("1.6.0.1"));
}

TEST_CASE("docker's User-Agent grammar splits products and comments", "[user_agent]") {
  const auto ua = UserAgent::parse(
      "docker/1.5.0 go/go1.4.1 git-commit/a8a31ef kernel/3.13.0 os/linux arch/amd64 "
      "UpstreamClient(Docker-Client/1.5.0 \\(linux\\))");
  REQUIRE(ua.products().size() == 7);
  CHECK(ua.products()[0].name == "docker");
  CHECK(ua.products()[0].version == "1.5.0");
  CHECK(ua.productVersion("go") == "go1.4.1");
  CHECK(ua.productVersion("git-commit") == "a8a31ef");
  CHECK(ua.productVersion("kernel") == "3.13.0");
  CHECK(ua.productVersion("os") == "linux");
  CHECK(ua.productVersion("arch") == "amd64");
  CHECK(ua.products()[6].name == "UpstreamClient");
  REQUIRE(ua.comments().size() == 1);
  CHECK(ua.comments()[0] == "Docker-Client/1.5.0 (linux)");
  CHECK(ua.dockerVersion().value() == DockerVersion{1, 5, 0});
  CHECK_FALSE(UserAgent::parse("Go-http-client/1.1").dockerVersion());
  CHECK_FALSE(UserAgent::parse("Docker-Client/27.3.1 (linux)").dockerVersion());
  CHECK_FALSE(UserAgent::parse("").dockerVersion());
}

TEST_CASE("version constraints parse every operator and compare at their precision",
          "[user_agent]") {
  auto holds = [](const char* constraint, const char* version) {
    return VersionConstraint::parse(constraint)
        .value()
        .holds(DockerVersion::parse(version).value());
  };
  CHECK(holds("< 1.6", "1.5.9"));
  CHECK_FALSE(holds("< 1.6", "1.6.2"));
  CHECK_FALSE(holds("< 1.6", "1.10.0"));
  CHECK(holds(">= 1.10", "1.10.3"));
  CHECK_FALSE(holds(">= 1.10", "1.9.1"));
  CHECK(holds("== 1.5.0", "1.5.0"));
  CHECK_FALSE(holds("== 1.5.0", "1.5.1"));
  CHECK(holds("== 1.5", "1.5.7"));
  CHECK(holds("!= 1.5", "1.6.0"));
  CHECK(holds("<= 1.5", "1.5.3"));
  CHECK_FALSE(holds("> 1.5", "1.5.3"));
  CHECK(holds(">1.5", "1.6.0"));
  CHECK(holds("  <  2  ", "1.13.1"));
}

TEST_CASE("an unknown version operator is an error naming the operator", "[user_agent]") {
  auto bad = VersionConstraint::parse("<< 1.6");
  REQUIRE_FALSE(bad);
  CHECK(bad.error().is(UserAgentErrc::UnknownOperator));
  CHECK(bad.error().message() == "unknown operator \"<<\"");
  CHECK(VersionConstraint::parse("=> 1.6").error().is(UserAgentErrc::UnknownOperator));
  CHECK(VersionConstraint::parse("1.6").error().is(UserAgentErrc::UnknownOperator));
  CHECK(VersionConstraint::parse("< one").error().is(UserAgentErrc::InvalidVersion));
  CHECK(VersionConstraint::parse("< 1.6-dev").error().is(UserAgentErrc::InvalidVersion));
  CHECK(VersionConstraint::parse("<").error().is(UserAgentErrc::InvalidVersion));
}

TEST_CASE("docker 1.5.N-dev builds with one digit N count as 1.6, as the nginx regex decides",
          "[user_agent]") {
  CHECK(UserAgentMatcher::effectiveDockerVersion("docker/1.5.0-dev go/go1.4.1").value() ==
        DockerVersion{1, 6, 0});
  CHECK(UserAgentMatcher::effectiveDockerVersion("docker/1.5.1-dev").value() ==
        DockerVersion{1, 6, 0});
  CHECK(UserAgentMatcher::effectiveDockerVersion("docker/1.5.10-dev").value() ==
        DockerVersion{1, 5, 10});
  CHECK(UserAgentMatcher::effectiveDockerVersion("docker/1.5.0").value() == DockerVersion{1, 5, 0});
  CHECK_FALSE(dockerBelow16().matches("docker/1.5.0-dev go/go1.4.1 os/linux"));
  CHECK(dockerBelow16().matches("docker/1.5.10-dev go/go1.4.2 os/linux"));
  CHECK(dockerBelow16().matches("docker/1.5.0 go/go1.4.1 os/linux"));
}

TEST_CASE("the legacy Go client is 'Go 1.1 package http', not Go-http-client", "[user_agent]") {
  CHECK(legacyGo().matches("Go 1.1 package http"));
  CHECK_FALSE(legacyGo().matches("Go-http-client/1.1"));
  CHECK_FALSE(legacyGo().matches(""));
  UserAgentMatcher notLegacy;
  notLegacy.setLegacyGoClient(false);
  CHECK(notLegacy.matches("Go-http-client/1.1"));
  CHECK_FALSE(notLegacy.matches("Go 1.1 package http"));
}

TEST_CASE("a regex matcher searches the whole User-Agent with PCRE2", "[user_agent]") {
  UserAgentMatcher m;
  m.setRegex(Regex::compile(kNginxLegacyRegex).value());
  CHECK(m.matches("docker/1.4.1 go/go1.3.3"));
  CHECK_FALSE(m.matches("docker/1.5.0-dev go/go1.4.1"));
  UserAgentMatcher search;
  search.setRegex(Regex::compile("Docker-Client/2[0-9]").value());
  CHECK(search.matches("docker/20.10.7 UpstreamClient(Docker-Client/20.10.7 \\(darwin\\))"));
  CHECK_FALSE(search.matches("docker/19.03.12 UpstreamClient(Docker-Client/19.03.12)"));
}

TEST_CASE("an invalid regex is an error with PCRE2's reason", "[user_agent]") {
  auto bad = Regex::compile("^(docker");
  REQUIRE_FALSE(bad);
  CHECK(bad.error().message().find("invalid regex at offset 8") == 0);
}

TEST_CASE(
    "the docker_version and legacy_go_client matchers decide like the nginx regex on "
    "real User-Agents",
    "[user_agent]") {
  const auto docker = dockerBelow16();
  const auto go = legacyGo();
  REQUIRE(userAgentMatrix().size() >= 40);
  for (const auto& ua : userAgentMatrix()) {
    const std::string value = ua.value_or("");
    INFO("User-Agent: " << (ua ? "\"" + value + "\"" : "(no header)"));
    CHECK((docker.matches(value) || go.matches(value)) == nginxSaysLegacy(value));
  }
}

TEST_CASE("the default routes send /v2/ to 404 exactly when the nginx regex does",
          "[user_agent][router]") {
  const Router router(Router::defaultRules());
  for (const auto& ua : userAgentMatrix()) {
    portico::http::RequestHead request;
    request.method = "GET";
    request.target = request.path = "/v2/";
    if (ua) request.headers.add("User-Agent", *ua);
    INFO("User-Agent: " << (ua ? "\"" + *ua + "\"" : "(no header)"));
    const RouteAction* action = router.match(request);
    REQUIRE(action != nullptr);
    const bool legacy = nginxSaysLegacy(ua.value_or(""));
    CHECK((action->kind == RouteAction::Kind::Respond) == legacy);
    if (legacy) {
      CHECK(action->respond.status == 404);
    } else {
      CHECK(action->upstream == "v2");
    }
  }
}

TEST_CASE("versions the regex misses because they were never v2-capable are legacy here",
          "[user_agent]") {
  // docker/1.2 predates /v2/ entirely; the regex only lists 1.3-1.5. Documented divergence.
  CHECK(dockerBelow16().matches("docker/1.2.0 go/go1.3.1 git-commit/fa7b24f os/linux"));
  CHECK_FALSE(nginxSaysLegacy("docker/1.2.0 go/go1.3.1 git-commit/fa7b24f os/linux"));
}
