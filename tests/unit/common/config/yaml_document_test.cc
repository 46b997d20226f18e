#include "common/config/yaml_document.h"

#include <catch2/catch.hpp>
#include <chrono>
#include <string>

using namespace std::chrono_literals;
using portico::config::BareNumber;
using portico::config::ConfigError;
using portico::config::parseDuration;
using portico::config::parseSize;
using portico::config::YamlDocument;

namespace {

// Runs `body` and returns the ConfigError's what(), or "" if nothing was thrown.
template <typename F>
std::string errorOf(F&& body) {
  try {
    body();
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("durations accept Go syntax, units and combinations", "[config]") {
  CHECK(parseDuration("900s") == 900s);
  CHECK(parseDuration("5m") == 5min);
  CHECK(parseDuration("1h30m") == 90min);
  CHECK(parseDuration("250ms") == 250ms);
  CHECK(parseDuration("10ms") == 10ms);
  CHECK(parseDuration("300s") == 300s);
  CHECK(parseDuration("1.5h") == 90min);
  CHECK(parseDuration("2h45m30.5s") == 2h + 45min + 30500ms);
  CHECK(parseDuration("250us") == 250us);
  CHECK(parseDuration("250\xc2\xb5s") == 250us);
  CHECK(parseDuration("7ns") == 7ns);
  CHECK(parseDuration("1d") == 24h);
  CHECK(parseDuration("0") == 0s);
}

TEST_CASE("bare numbers are read in the caller's unit", "[config]") {
  CHECK(parseDuration("30") == 30s);
  CHECK(parseDuration("30", BareNumber::Milliseconds) == 30ms);
  CHECK(parseDuration("30", BareNumber::Nanoseconds) == 30ns);
  CHECK_FALSE(parseDuration("30", BareNumber::Invalid));
  CHECK(parseDuration("0", BareNumber::Invalid) == 0s);
}

TEST_CASE("malformed durations are rejected", "[config]") {
  for (const char* bad : {"", "s", "5x", "5 m", "-5s", "1h30", "ms5", "1..5s", "5mss", "abc"}) {
    INFO(bad);
    CHECK_FALSE(parseDuration(bad));
  }
}

TEST_CASE("sizes accept binary, nginx and SI units", "[config]") {
  CHECK(parseSize("4096") == 4096u);
  CHECK(parseSize("0") == 0u);
  CHECK(parseSize("100B") == 100u);
  CHECK(parseSize("64KiB") == 64u * 1024);
  CHECK(parseSize("512k") == 512u * 1024);
  CHECK(parseSize("512K") == 512u * 1024);
  CHECK(parseSize("1MiB") == 1024u * 1024);
  CHECK(parseSize("1m") == 1024u * 1024);
  CHECK(parseSize("2GiB") == 2ull << 30);
  CHECK(parseSize("1TiB") == 1ull << 40);
  CHECK(parseSize("10KB") == 10000u);
  CHECK(parseSize("10MB") == 10000000u);
  CHECK(parseSize("1.5KiB") == 1536u);
  CHECK(parseSize("8 MiB") == 8u << 20);
}

TEST_CASE("malformed sizes are rejected", "[config]") {
  for (const char* bad : {"", "KiB", "12XB", "-1", "1.3B", "1e6", "64 KiB extra"}) {
    INFO(bad);
    CHECK_FALSE(parseSize(bad));
  }
}

TEST_CASE("typed values are read by key path", "[config]") {
  auto doc = YamlDocument::loadString(
      "limits:\n"
      "  header_bytes: 64KiB\n"
      "  header_count: 100\n"
      "  idle_timeout: 2m\n"
      "  enabled: yes\n"
      "name: portico\n",
      "test.yml");
  auto root = doc.root();
  auto limits = root["limits"];
  CHECK(limits.path() == "limits");
  CHECK(limits["header_bytes"].asSize() == 65536u);
  CHECK(limits["header_count"].asInt(1, 1000) == 100);
  CHECK(limits["idle_timeout"].asDuration() == 120s);
  CHECK(limits["enabled"].asBool());
  CHECK(root["name"].asString() == "portico");
  CHECK(root.stringOr("missing", "fallback") == "fallback");
  CHECK(limits.durationOr("header_timeout", 30s) == 30s);
  CHECK(limits.sizeOr("body_bytes", 7) == 7u);
  CHECK(limits.intOr("header_count", 5) == 100);
  CHECK_FALSE(root.has("missing"));
  CHECK(root.has("limits"));
}

TEST_CASE("an unknown key names file, line and key path", "[config]") {
  auto doc = YamlDocument::loadString(
      "routes:\n"
      "  - name: a\n"
      "    match: {path_prefix: /v2/}\n"
      "  - name: b\n"
      "    match:\n"
      "      path_prefix: /\n"
      "      user_agnet: {legacy_go_client: true}\n",
      "proxy.yml");
  auto routes = doc.root()["routes"].items();
  REQUIRE(routes.size() == 2);
  CHECK(routes[1].path() == "routes[1]");
  CHECK(errorOf([&] {
          routes[1]["match"].checkKeys({"path_prefix", "user_agent"});
        }) ==
        "proxy.yml:7: routes[1].match.user_agnet: unknown key (known keys: path_prefix, "
        "user_agent)");
  CHECK(errorOf([&] { routes[0]["match"].checkKeys({"path_prefix"}); }).empty());
}

TEST_CASE("wrong value types report the value's line", "[config]") {
  auto doc = YamlDocument::loadString(
      "a: 1\n"
      "limits:\n"
      "  header_count: lots\n"
      "  idle_timeout: soon\n"
      "  header_bytes: [1]\n"
      "  flag: maybe\n",
      "x.yml");
  auto limits = doc.root()["limits"];
  CHECK(errorOf([&] { limits["header_count"].asInt(); }) ==
        "x.yml:3: limits.header_count: expected an integer, got \"lots\"");
  CHECK(errorOf([&] { limits["idle_timeout"].asDuration(); }) ==
        "x.yml:4: limits.idle_timeout: expected a duration like 30s, 5m, 1h30m or 250ms, got "
        "\"soon\"");
  CHECK(errorOf([&] {
          limits["header_bytes"].asSize();
        }).rfind("x.yml:5: limits.header_bytes: ", 0) == 0);
  CHECK(errorOf([&] { limits["flag"].asBool(); }).rfind("x.yml:6: limits.flag: ", 0) == 0);
  CHECK(errorOf([&] { doc.root()["a"].asInt(5, 10); }) ==
        "x.yml:1: a: must be between 5 and 10, got 1");
}

TEST_CASE("a missing required key points at its parent's line", "[config]") {
  auto doc = YamlDocument::loadString("x: 1\nupstream:\n  balance: round_robin\n", "c.yml");
  CHECK(errorOf([&] { doc.root()["upstream"]["servers"].asString(); }) ==
        "c.yml:2: upstream.servers: is required");
}

TEST_CASE("ConfigError exposes its parts", "[config]") {
  ConfigError e("proxy.yml", 14, "routes[2].match.user_agent", "unknown operator \"<<\"");
  CHECK(std::string(e.what()) ==
        "proxy.yml:14: routes[2].match.user_agent: unknown operator \"<<\"");
  CHECK(e.file() == "proxy.yml");
  CHECK(e.line() == 14);
  CHECK(e.key() == "routes[2].match.user_agent");
  CHECK(e.message() == "unknown operator \"<<\"");
}

TEST_CASE("YAML syntax errors carry the line", "[config]") {
  const std::string what =
      errorOf([] { YamlDocument::loadString("a: 1\nb: [1, 2\nc: 3\n", "bad.yml"); });
  CHECK(what.rfind("bad.yml:", 0) == 0);
  CHECK(what.find("YAML syntax error") != std::string::npos);
}

TEST_CASE("a missing file is a ConfigError naming the file", "[config]") {
  const std::string what = errorOf([] { YamlDocument::load("/nonexistent/proxy.yml"); });
  CHECK(what.rfind("/nonexistent/proxy.yml: cannot open", 0) == 0);
}

TEST_CASE("an empty document has an undefined root", "[config]") {
  auto doc = YamlDocument::loadString("", "empty.yml");
  CHECK_FALSE(doc.root().defined());
  CHECK(doc.root()["listen"].items().empty());
  CHECK(doc.root().intOr("workers", 3) == 3);
}

TEST_CASE("mapping entries keep document order and lines", "[config]") {
  auto doc =
      YamlDocument::loadString("upstreams:\n  v2: {servers: [a]}\n  v1:\n    servers: [b]\n");
  auto entries = doc.root()["upstreams"].entries();
  REQUIRE(entries.size() == 2);
  CHECK(entries[0].first == "v2");
  CHECK(entries[0].second.line() == 2);
  CHECK(entries[1].first == "v1");
  CHECK(entries[1].second.path() == "upstreams.v1");
  CHECK(entries[1].second["servers"].items()[0].path() == "upstreams.v1.servers[0]");
  CHECK(entries[1].second["servers"].items()[0].line() == 4);
}

TEST_CASE("a scalar where a list is expected can be promoted", "[config]") {
  auto doc = YamlDocument::loadString("expect: 200\nlist: [200, 401]\n");
  CHECK(doc.root()["expect"].itemsOrScalar().size() == 1);
  CHECK(doc.root()["list"].itemsOrScalar().size() == 2);
  CHECK_THROWS_AS(doc.root()["expect"].items(), ConfigError);
}

TEST_CASE("a negative duration or a bare number that needs a unit says so", "[config]") {
  auto doc = YamlDocument::loadString("a: -1s\nb: 3600\nc: -2\n", "test.yml");
  auto root = doc.root();
  CHECK(errorOf([&] { root["a"].asDuration(); }) ==
        "test.yml:1: a: must not be negative, got \"-1s\"");
  CHECK(errorOf([&] { root["b"].asDuration(BareNumber::Invalid); }) ==
        "test.yml:2: b: needs a unit (ns, us, ms, s, m, h), got \"3600\"");
  CHECK(root["b"].asDuration(BareNumber::Nanoseconds) == 0ms);
  CHECK(errorOf([&] { root["c"].asDuration(BareNumber::Nanoseconds); }) ==
        "test.yml:3: c: must not be negative, got \"-2\"");
}
