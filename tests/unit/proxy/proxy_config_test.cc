#include "proxy/proxy_config.h"

#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "common/config/yaml_document.h"

using portico::config::ConfigError;
using portico::http::RequestHead;
using portico::proxy::Balance;
using portico::proxy::kNoV1Body;
using portico::proxy::ProxyConfig;
using portico::proxy::RouteAction;

namespace {

// The source tree's conf/ folder (meson passes PORTICO_SOURCE_DIR to the test).
std::string confFile(const std::string& name) {
  const char* root = std::getenv("PORTICO_SOURCE_DIR");
  REQUIRE(root != nullptr);
  return std::string(root) + "/conf/" + name;
}

std::string errorOf(const std::string& yaml) {
  try {
    ProxyConfig::loadString(yaml, "proxy.yml");
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "(no error)";
}

RequestHead get(std::string path, std::string ua = "docker/27.3.1 go/go1.22.7 os/linux") {
  RequestHead r;
  r.method = "GET";
  r.path = r.target = std::move(path);
  r.headers.add("User-Agent", std::move(ua));
  return r;
}

const std::string kRoutesHead =
    "upstreams:\n"
    "  v2: {servers: [\"127.0.0.1:5001\"]}\n";

}  // namespace

TEST_CASE("the shipped conf/proxy.yml loads and reproduces the nginx deployment", "[config]") {
  const ProxyConfig c = ProxyConfig::load(confFile("proxy.yml"));
  REQUIRE(c.listen.size() == 1);
  CHECK(c.listen[0].address == "0.0.0.0:5000");
  REQUIRE(c.listen[0].tls);
  REQUIRE(c.listen[0].tls->certificates.size() == 1);
  // Relative to the file's folder: conf/certs/, the example certificate.
  CHECK(c.listen[0].tls->certificates[0].certificate == confFile("certs/domain.crt"));
  CHECK(c.listen[0].tls->certificates[0].key == confFile("certs/domain.key"));
  CHECK(c.listen[0].tls->min_version == "1.2");
  CHECK(c.listen[0].tls->client_auth == portico::net::ClientAuth::None);

  REQUIRE(c.upstreams.size() == 1);
  const auto& v2 = c.upstreams.at("v2");
  CHECK(v2.name == "v2");
  CHECK(v2.servers == std::vector<std::string>{"127.0.0.1:5001"});
  CHECK(v2.balance == Balance::RoundRobin);
  CHECK(v2.keepalive == 32);
  CHECK(v2.timeouts.read == std::chrono::seconds(900));
  CHECK(v2.timeouts.connect == std::chrono::seconds(5));
  CHECK(v2.health_check.enabled);
  CHECK(v2.health_check.path == "/readyz");  // portico-registry: 503 when storage is lost
  CHECK(v2.health_check.expect == std::vector<int>{200});
  CHECK(v2.passive.max_fails == 1);

  CHECK(c.limits.header_bytes == size_t{64} * 1024);
  CHECK(c.limits.header_count == 100);
  CHECK(c.limits.body_bytes == 0);
  CHECK(c.limits.idle_timeout == std::chrono::seconds(120));
  CHECK(c.access_log.path == "-");
  CHECK(c.access_log.options.format == portico::log::Format::Text);
  CHECK(c.admin.address == "127.0.0.1:5002");
  CHECK(c.workers == 0);
  REQUIRE(c.warnings.size() == 1);
  CHECK(c.warnings[0].find("no v1 upstream is configured") != std::string::npos);
}

TEST_CASE("shipped routes: legacy clients get a bare 404 on /v2/, others reach v2", "[config]") {
  const ProxyConfig c = ProxyConfig::load(confFile("proxy.yml"));
  const RouteAction* legacy = c.router.match(get("/v2/", "docker/1.5.0 go/go1.4.1 os/linux"));
  REQUIRE(legacy != nullptr);
  CHECK(legacy->kind == RouteAction::Kind::Respond);
  CHECK(legacy->respond.status == 404);
  CHECK(legacy->respond.headers.empty());
  const RouteAction* ping = c.router.match(get("/v2/", "Go 1.1 package http"));
  REQUIRE(ping != nullptr);
  CHECK(ping->route == "legacy-go-ping");
  const RouteAction* dev = c.router.match(get("/v2/", "docker/1.5.0-dev go/go1.4.1"));
  REQUIRE(dev != nullptr);
  CHECK(dev->kind == RouteAction::Kind::Forward);
  CHECK(dev->upstream == "v2");
}

TEST_CASE("without a v1 upstream, v1 routes answer 404 'no legacy v1 registry is configured'",
          "[config]") {
  const ProxyConfig c = ProxyConfig::load(confFile("proxy.yml"));
  for (const char* path : {"/v1/_ping", "/_ping", "/"}) {
    INFO(path);
    const RouteAction* a = c.router.match(get(path, "docker/1.4.1 go/go1.3.3"));
    REQUIRE(a != nullptr);
    CHECK(a->route == "v1");
    CHECK(a->kind == RouteAction::Kind::Respond);
    CHECK(a->respond.status == 404);
    CHECK(a->respond.body == kNoV1Body);
    CHECK(a->respond.headers.get("Content-Type") == "text/plain; charset=utf-8");
  }
}

TEST_CASE("relative TLS file paths are relative to the config file's folder", "[config]") {
  std::string yaml =
      "listen:\n  - address: \"127.0.0.1:0\"\n    tls:\n"
      "      certificates: [{certificate: c/a.crt, key: /abs/a.key}]\n"
      "      client_ca: ../ca.crt\n"
      "upstreams:\n  v2:\n    servers: [\"127.0.0.1:1\"]\n    tls: {ca_file: up/ca.crt}\n";
  std::string dir = std::filesystem::temp_directory_path() / "portico-config-XXXXXX";
  REQUIRE(mkdtemp(dir.data()) != nullptr);
  std::filesystem::create_directory(dir + "/sub");
  std::ofstream(dir + "/sub/proxy.yml") << yaml;
  const ProxyConfig c = ProxyConfig::load(dir + "/sub/proxy.yml");
  std::filesystem::remove_all(dir);
  CHECK(c.listen[0].tls->certificates[0].certificate == dir + "/sub/c/a.crt");
  CHECK(c.listen[0].tls->certificates[0].key == "/abs/a.key");
  CHECK(c.listen[0].tls->client_ca == dir + "/ca.crt");
  CHECK(c.upstreams.at("v2").tls->ca_file == dir + "/sub/up/ca.crt");
  // loadString has no folder: paths stay as written.
  CHECK(ProxyConfig::loadString(yaml).listen[0].tls->certificates[0].certificate == "c/a.crt");
}

TEST_CASE("conf/proxy-legacy-v1.yml forwards non-/v2/ paths to the v1 upstream", "[config]") {
  const ProxyConfig c = ProxyConfig::load(confFile("proxy-legacy-v1.yml"));
  CHECK(c.warnings.empty());
  REQUIRE(c.upstreams.count("v1") == 1);
  CHECK(c.upstreams.at("v1").servers == std::vector<std::string>{"registryv1:5000"});
  const RouteAction* a = c.router.match(get("/v1/_ping", "docker/1.4.1 go/go1.3.3"));
  REQUIRE(a != nullptr);
  CHECK(a->kind == RouteAction::Kind::Forward);
  CHECK(a->upstream == "v1");
  CHECK(c.router.match(get("/v2/", "docker/1.4.1 go/go1.3.3"))->kind == RouteAction::Kind::Respond);
}

TEST_CASE("conf/proxy-mtls.yml requires client certificates and TLS 1.3", "[config]") {
  const ProxyConfig c = ProxyConfig::load(confFile("proxy-mtls.yml"));
  REQUIRE(c.listen.size() == 1);
  REQUIRE(c.listen[0].tls);
  const auto& tls = *c.listen[0].tls;
  CHECK(tls.client_auth == portico::net::ClientAuth::Required);
  CHECK(tls.client_ca == confFile("certs/clients-ca.crt"));
  CHECK(tls.min_version == "1.3");
  CHECK(tls.certificates.size() == 2);
  CHECK(c.upstreams.at("v2").balance == Balance::LeastConnections);
  CHECK(c.upstreams.at("v2").keepalive == 64);
  CHECK(c.access_log.options.format == portico::log::Format::Json);
  const RouteAction* other = c.router.match(get("/v1/_ping"));
  REQUIRE(other != nullptr);
  CHECK(other->respond.status == 404);
  CHECK(other->respond.body == "only /v2/ is served here\n");
  CHECK(other->respond.headers.get("Content-Type") == "text/plain");
}

TEST_CASE("an empty config gets the nginx deployment's defaults", "[config]") {
  const ProxyConfig c = ProxyConfig::loadString("", "empty.yml");
  REQUIRE(c.listen.size() == 1);
  CHECK(c.listen[0].address == "0.0.0.0:5000");
  CHECK_FALSE(c.listen[0].tls);
  REQUIRE(c.upstreams.count("v2") == 1);
  CHECK(c.upstreams.at("v2").servers == std::vector<std::string>{"127.0.0.1:5001"});
  CHECK(c.upstreams.at("v2").timeouts.read == std::chrono::seconds(900));
  CHECK(c.router.rules().size() == 4);
  CHECK(c.router.match(get("/v2/"))->upstream == "v2");
  CHECK(c.router.match(get("/v2/", "docker/1.3.2 go/go1.3.3"))->respond.status == 404);
  CHECK(c.router.match(get("/v1/_ping"))->respond.body == kNoV1Body);
  CHECK(c.limits.header_bytes == size_t{64} * 1024);
  CHECK(c.admin.address == "127.0.0.1:5002");
  CHECK(c.source == "empty.yml");
}

TEST_CASE("listen entries accept plain addresses, unix sockets and IPv6", "[config]") {
  const ProxyConfig c = ProxyConfig::loadString(
      "listen: [\"127.0.0.1:0\", {address: \"unix:/run/portico.sock\"}, {address: "
      "\"[::1]:5000\"}, \":8080\"]\n");
  REQUIRE(c.listen.size() == 4);
  CHECK(c.listen[0].address == "127.0.0.1:0");
  CHECK(c.listen[1].address == "unix:/run/portico.sock");
  CHECK(c.listen[2].address == "[::1]:5000");
  CHECK(c.listen[3].address == ":8080");
}

TEST_CASE("route conditions and respond actions are compiled from YAML", "[config]") {
  const ProxyConfig c =
      ProxyConfig::loadString(kRoutesHead +
                              "routes:\n"
                              "  - name: writes\n"
                              "    match:\n"
                              "      methods: [PUT, POST]\n"
                              "      host: \"*.example.com\"\n"
                              "      path_regex: \"^/v2/.+/manifests/\"\n"
                              "      user_agent: {regex: \"^docker/2[0-9]\\\\.\"}\n"
                              "    respond:\n"
                              "      status: 403\n"
                              "      headers: {X-Reason: read-only}\n"
                              "      body: read only\n"
                              "  - name: rest\n"
                              "    forward: v2\n");
  RequestHead put = get("/v2/a/manifests/latest", "docker/20.10.7 go/go1.13.15");
  put.method = "PUT";
  put.headers.add("Host", "eu.example.com:5000");
  const RouteAction* a = c.router.match(put);
  REQUIRE(a != nullptr);
  CHECK(a->route == "writes");
  CHECK(a->respond.status == 403);
  CHECK(a->respond.headers.get("X-Reason") == "read-only");
  CHECK(a->respond.body == "read only");
  put.headers.set("User-Agent", "docker/19.03.12");
  CHECK(c.router.match(put)->route == "rest");
}

TEST_CASE("upstream keys are read with their units", "[config]") {
  const ProxyConfig c = ProxyConfig::loadString(
      "upstreams:\n"
      "  v2:\n"
      "    servers: [\"10.0.0.1:5001\", \"unix:/run/registry.sock\"]\n"
      "    balance: least_connections\n"
      "    keepalive: 8\n"
      "    timeouts: {connect: 250ms, read: 1h30m, write: 60}\n"
      "    health_check: {path: /v2/, interval: 2s, timeout: 500ms, expect: 200, fall: 5, "
      "rise: 1}\n"
      "    passive: {max_fails: 3, fail_timeout: 30s}\n"
      "    tls: {ca_file: /etc/ca.pem, server_name: registry.internal}\n");
  const auto& v2 = c.upstreams.at("v2");
  CHECK(v2.servers.size() == 2);
  CHECK(v2.balance == Balance::LeastConnections);
  CHECK(v2.keepalive == 8);
  CHECK(v2.timeouts.connect == std::chrono::milliseconds(250));
  CHECK(v2.timeouts.read == std::chrono::minutes(90));
  CHECK(v2.timeouts.write == std::chrono::seconds(60));
  CHECK(v2.health_check.expect == std::vector<int>{200});
  CHECK(v2.health_check.fall == 5);
  CHECK(v2.health_check.rise == 1);
  CHECK(v2.health_check.timeout == std::chrono::milliseconds(500));
  CHECK(v2.passive.max_fails == 3);
  CHECK(v2.passive.fail_timeout == std::chrono::seconds(30));
  REQUIRE(v2.tls);
  CHECK(v2.tls->ca_file == "/etc/ca.pem");
  CHECK(v2.tls->server_name == "registry.internal");
  CHECK(v2.tls->verify);
}

TEST_CASE("the README's example error: an unknown version operator names file, line and key",
          "[config]") {
  const std::string yaml =
      "# line 1\n"
      "upstreams:\n"
      "  v2: {servers: [\"127.0.0.1:5001\"]}\n"
      "routes:\n"
      "  - name: legacy-docker-v2\n"
      "    match: {path_prefix: /v2/, user_agent: {docker_version: \"< 1.6\"}}\n"
      "    respond: {status: 404}\n"
      "  - name: legacy-go-ping\n"
      "    match: {path_prefix: /v2/, user_agent: {legacy_go_client: true}}\n"
      "    respond: {status: 404}\n"
      "  - name: odd\n"
      "    match:\n"
      "      user_agent:\n"
      "        docker_version: \"<< 1.6\"\n"
      "    forward: v2\n";
  CHECK(errorOf(yaml) ==
        "proxy.yml:14: routes[2].match.user_agent.docker_version: unknown operator \"<<\"");
}

TEST_CASE("bad configs are refused with file:line:key", "[config]") {
  struct Case {
    std::string yaml;
    std::string expected;
  };
  auto c = GENERATE_COPY(values<Case>({
      {"listen: [\":5000\"]\nlistne: []\n",
       "proxy.yml:2: listne: unknown key (known keys: listen, upstreams, routes, limits, "
       "access_log, admin, log, workers)"},
      {kRoutesHead + "routes:\n  - name: x\n    forward: v3\n",
       "proxy.yml:5: routes[0].forward: route \"x\" forwards to upstream \"v3\", which is not "
       "defined in upstreams"},
      {kRoutesHead + "routes:\n  - name: x\n    forward: v2\n    respond: {status: 404}\n",
       "proxy.yml:4: routes[0]: needs exactly one action: forward: <upstream> or respond: "
       "{status, headers, body}"},
      {kRoutesHead + "routes:\n  - name: x\n    forward: v2\n  - name: x\n    forward: v2\n",
       "proxy.yml:6: routes[1].name: duplicate route name \"x\""},
      {kRoutesHead + "routes:\n  - match: {path_regex: \"^(/v2\"}\n    forward: v2\n",
       "proxy.yml:4: routes[0].match.path_regex: invalid regex at offset 5: missing closing "
       "parenthesis"},
      {kRoutesHead + "routes:\n  - match: {path_prefix: v2/}\n    forward: v2\n",
       "proxy.yml:4: routes[0].match.path_prefix: must start with /"},
      {kRoutesHead + "routes:\n  - match: {methods: [get]}\n    forward: v2\n",
       "proxy.yml:4: routes[0].match.methods[0]: expected an upper-case method like GET, got "
       "\"get\""},
      {kRoutesHead + "routes:\n  - match: {user_agent: {docker: \"< 1.6\"}}\n    forward: v2\n",
       "proxy.yml:4: routes[0].match.user_agent.docker: unknown key (known keys: "
       "docker_version, legacy_go_client, regex)"},
      {kRoutesHead + "routes:\n  - match: {user_agent: {docker_version: \"< one\"}}\n"
                     "    forward: v2\n",
       "proxy.yml:4: routes[0].match.user_agent.docker_version: invalid version \"one\" "
       "(expected e.g. 1.6 or 1.10.3)"},
      {kRoutesHead + "routes:\n  - respond: {status: 99}\n",
       "proxy.yml:4: routes[0].respond.status: must be between 200 and 599, got 99"},
      {"listen:\n  - address: \"0.0.0.0:5000\"\n    tls:\n      certificates:\n"
       "        - {certificate: a.crt, key: a.key}\n      min_version: \"1.1\"\n",
       "proxy.yml:6: listen[0].tls.min_version: TLS versions below 1.2 are not allowed (got "
       "\"1.1\")"},
      {"listen:\n  - address: \"0.0.0.0:5000\"\n    tls:\n      certificates:\n"
       "        - {certificate: a.crt, key: a.key}\n      min_version: \"2.0\"\n",
       "proxy.yml:6: listen[0].tls.min_version: expected \"1.2\" or \"1.3\", got \"2.0\""},
      {"listen:\n  - address: \"0.0.0.0:5000\"\n    tls:\n      certificates:\n"
       "        - {certificate: a.crt, key: a.key}\n      client_auth: required\n",
       "proxy.yml:6: listen[0].tls.client_auth: client_auth required needs client_ca"},
      {"listen:\n  - address: \"0.0.0.0:5000\"\n    tls: {min_version: \"1.3\"}\n",
       "proxy.yml:3: listen[0].tls.certificates: is required: at least one {certificate, key}"},
      {"listen:\n  - address: \"0.0.0.0:5000\"\n    tls:\n      certificates:\n"
       "        - {certificate: a.crt}\n",
       "proxy.yml:5: listen[0].tls.certificates[0].key: is required"},
      {"listen:\n  - address: localhost\n",
       "proxy.yml:2: listen[0].address: invalid address \"localhost\": expected host:port or "
       "unix:/path"},
      {"listen: [\"0.0.0.0:70000\"]\n",
       "proxy.yml:1: listen[0]: invalid address \"0.0.0.0:70000\": port out of range: 70000"},
      {"listen: [\"unix:run/p.sock\"]\n",
       "proxy.yml:1: listen[0]: invalid address \"unix:run/p.sock\": unix socket path must be "
       "absolute"},
      {"upstreams:\n  v2:\n    servers: [\"127.0.0.1:5001\"]\n    timeouts: {read: forever}\n",
       "proxy.yml:4: upstreams.v2.timeouts.read: expected a duration like 30s, 5m, 1h30m or "
       "250ms, got \"forever\""},
      {"upstreams:\n  v2:\n    servers: [\"127.0.0.1:5001\"]\n    balance: random\n",
       "proxy.yml:4: upstreams.v2.balance: expected round_robin or least_connections, got "
       "\"random\""},
      {"upstreams:\n  v2:\n    server: [\"127.0.0.1:5001\"]\n",
       "proxy.yml:3: upstreams.v2.server: unknown key (known keys: servers, balance, keepalive, "
       "timeouts, health_check, passive, tls)"},
      {"upstreams:\n  v2:\n    balance: round_robin\n",
       "proxy.yml:2: upstreams.v2.servers: is required: a list of host:port or unix:/path"},
      {"upstreams:\n  v2:\n    servers: [\"127.0.0.1:5001\"]\n    health_check: {expect: "
       "[200, 700]}\n",
       "proxy.yml:4: upstreams.v2.health_check.expect[1]: must be between 100 and 599, got 700"},
      {"limits: {header_bytes: lots}\n",
       "proxy.yml:1: limits.header_bytes: expected a size like 4096, 512k, 64KiB or 1MiB, got "
       "\"lots\""},
      {"limits:\n  header_count: 100\n  body_size: 1MiB\n",
       "proxy.yml:3: limits.body_size: unknown key (known keys: header_bytes, header_count, "
       "request_line_bytes, body_bytes, header_timeout, idle_timeout, body_timeout, "
       "send_timeout)"},
      {"access_log: {path: \"-\", format: xml}\n",
       "proxy.yml:1: access_log.format: expected text or json, got \"xml\""},
      {"access_log: {path: \"-\", flush: 0s}\n", "proxy.yml:1: access_log.flush: must be positive"},
      {"log: {level: loud}\n",
       "proxy.yml:1: log.level: expected trace, debug, info, warn, error, critical or off"},
      {"workers: many\n", "proxy.yml:1: workers: expected an integer, got \"many\""},
      {"routes: {name: x}\n", "proxy.yml:1: routes: must be a list"},
  }));
  INFO(c.yaml);
  CHECK(errorOf(c.yaml) == c.expected);
}

TEST_CASE("access_log buffer and flush default to nginx's 64k and 1s and can be set", "[config]") {
  const ProxyConfig defaults = ProxyConfig::loadString("access_log: {path: \"-\"}\n", "p.yml");
  CHECK(defaults.access_log.options.buffer_bytes == 64 * 1024);
  CHECK(defaults.access_log.options.flush_interval == std::chrono::seconds(1));
  const ProxyConfig set = ProxyConfig::loadString(
      "access_log: {path: /var/log/a.log, format: json, buffer: 0, flush: 250ms}\n", "p.yml");
  CHECK(set.access_log.path == "/var/log/a.log");
  CHECK(set.access_log.options.buffer_bytes == 0);
  CHECK(set.access_log.options.flush_interval == std::chrono::milliseconds(250));
  CHECK(set.access_log.options.format == portico::log::Format::Json);
}

TEST_CASE("a YAML syntax error names the file and line", "[config]") {
  const std::string what = errorOf("upstreams:\n  v2: {servers: [\"a:1\"\n");
  CHECK(what.rfind("proxy.yml:", 0) == 0);
  CHECK(what.find("YAML syntax error") != std::string::npos);
}
