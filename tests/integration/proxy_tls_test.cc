// portico-proxy's TLS listener, end to end: protocol versions, mTLS, SNI, and SIGHUP reload
// keeping established connections.

#include <openssl/ssl.h>

#include <catch2/catch.hpp>
#include <csignal>
#include <filesystem>
#include <thread>

#include "tests/integration/proxy_harness.h"

using namespace portico::testing;
using namespace std::chrono_literals;

TEST_CASE("TLS 1.2 and 1.3 are accepted and TLS 1.1 is refused", "[proxy][tls]") {
  FakeUpstream v2;
  RunningProxy proxy;
  startProxy(proxy, {.tls = true, .v2 = {v2.address()}});
  for (int version : {TLS1_2_VERSION, TLS1_3_VERSION}) {
    auto tls = trustingTestCa();
    tls.min_version = version;
    tls.max_version = version;
    HttpClient client(proxy->endpoint(), tls);
    CHECK(client.get("/v2/").status == 200);
    CHECK(client.tlsVersion() == (version == TLS1_2_VERSION ? "TLSv1.2" : "TLSv1.3"));
  }
  auto old = trustingTestCa();
  old.max_version = TLS1_1_VERSION;
  HttpClient legacy(proxy->endpoint(), old);
  CHECK_THROWS(legacy.connect());
}

TEST_CASE("with client_auth required a client certificate from the CA is needed", "[proxy][tls]") {
  FakeUpstream v2;
  RunningProxy proxy;
  const auto& certs = TestCertificates::shared();
  startProxy(proxy,
             {.tls = true,
              .tls_extra = "client_auth: required\n      client_ca: \"" + certs.caCert() + "\"",
              .v2 = {v2.address()}});
  auto with_cert = trustingTestCa();
  with_cert.cert_file = certs.clientCert();
  with_cert.key_file = certs.clientKey();
  HttpClient good(proxy->endpoint(), with_cert);
  CHECK(good.get("/v2/").status == 200);

  HttpClient anonymous(proxy->endpoint(), trustingTestCa());
  CHECK_THROWS(anonymous.get("/v2/"));

  auto untrusted = trustingTestCa();
  untrusted.cert_file = certs.untrustedClientCert();
  untrusted.key_file = certs.untrustedClientKey();
  HttpClient stranger(proxy->endpoint(), untrusted);
  CHECK_THROWS(stranger.get("/v2/"));
  CHECK(v2.requestCount() == 1);
}

TEST_CASE("SNI picks the second certificate and the first is the default", "[proxy][tls]") {
  FakeUpstream v2;
  RunningProxy proxy;
  startProxy(proxy, {.tls = true, .second_certificate = true, .v2 = {v2.address()}});
  auto other = trustingTestCa();
  other.server_name = "other.test";
  HttpClient by_name(proxy->endpoint(), other);
  CHECK(by_name.get("/v2/").status == 200);
  CHECK(by_name.peerSubject().find("other.test") != std::string::npos);

  auto fallback = trustingTestCa();
  fallback.server_name = "localhost";
  HttpClient by_default(proxy->endpoint(), fallback);
  CHECK(by_default.get("/v2/").status == 200);
  CHECK(by_default.peerSubject().find("localhost") != std::string::npos);
}

TEST_CASE("SIGHUP reloads while established connections keep working", "[proxy][tls][reload]") {
  FakeUpstream v2;
  RunningProxy proxy;
  startProxy(proxy, {.tls = true, .v2 = {v2.address()}});
  HttpClient client(proxy->endpoint(), trustingTestCa());
  REQUIRE(client.get("/v2/").status == 200);

  size_t mark = proxy->output().size();
  proxy->signal(SIGHUP);
  REQUIRE(proxy->waitForOutput("reloaded", 10s, mark));

  CHECK(client.get("/v2/again").status == 200);
  CHECK(client.connectionCount() == 1);
  HttpClient fresh(proxy->endpoint(), trustingTestCa());
  CHECK(fresh.get("/v2/new").status == 200);
}

TEST_CASE("SIGHUP with a broken config keeps the running one", "[proxy][reload]") {
  FakeUpstream v2;
  RunningProxy proxy;
  startProxy(proxy, {.v2 = {v2.address()}});
  proxy.dir.write("proxy.yml", "listen: [{address: \"127.0.0.1:0\", bogus: 1}]\n");
  size_t mark = proxy->output().size();
  proxy->signal(SIGHUP);
  REQUIRE(proxy->waitForOutput("reload failed", 10s, mark));
  CHECK(proxy->output().find("bogus", mark) != std::string::npos);
  HttpClient client(proxy->endpoint());
  CHECK(client.get("/v2/").status == 200);
}

TEST_CASE("SIGHUP applies new routes without a restart", "[proxy][reload]") {
  FakeUpstream v2;
  RunningProxy proxy;
  ProxySetup setup{.v2 = {v2.address()}};
  startProxy(proxy, setup);
  HttpClient client(proxy->endpoint());
  REQUIRE(client.get("/v2/").status == 200);
  setup.extra =
      "routes:\n  - name: maintenance\n    match: {path_prefix: /v2/}\n"
      "    respond: {status: 503, body: \"maintenance\\n\"}\n";
  proxy.dir.write("proxy.yml", proxyYaml(setup));
  size_t mark = proxy->output().size();
  proxy->signal(SIGHUP);
  REQUIRE(proxy->waitForOutput("reloaded", 10s, mark));
  auto response = client.get("/v2/");
  CHECK(response.status == 503);
  CHECK(response.body == "maintenance\n");
  CHECK(v2.requestCount() == 1);
}

TEST_CASE("SIGHUP reloads the certificate files for new connections", "[proxy][tls][reload]") {
  FakeUpstream v2;
  RunningProxy proxy;
  const auto& certs = TestCertificates::shared();
  std::string cert = proxy.dir.write("live.crt", readFile(certs.serverCert()));
  std::string key = proxy.dir.write("live.key", readFile(certs.serverKey()));
  ProxySetup setup{.v2 = {v2.address()}};
  std::string yaml = proxyYaml(setup);
  std::string listen = "listen:\n  - address: \"127.0.0.1:0\"\n";
  yaml.replace(yaml.find(listen), listen.size(),
               listen + "    tls:\n      certificates:\n        - {certificate: \"" + cert +
                   "\", key: \"" + key + "\"}\n");
  proxy.config_path = proxy.dir.write("proxy.yml", yaml);
  proxy.process.emplace(ServerProcess::start(proxyBinary(), {"--config", proxy.config_path}));

  HttpClient before(proxy->endpoint(), trustingTestCa());
  before.connect();
  CHECK(before.peerSubject().find("localhost") != std::string::npos);

  proxy.dir.write("live.crt", readFile(certs.otherCert()));
  proxy.dir.write("live.key", readFile(certs.otherKey()));
  size_t mark = proxy->output().size();
  proxy->signal(SIGHUP);
  REQUIRE(proxy->waitForOutput("reloaded", 10s, mark));

  auto tls = trustingTestCa();
  tls.server_name = "other.test";
  HttpClient after(proxy->endpoint(), tls);
  CHECK(after.get("/v2/").status == 200);
  CHECK(after.peerSubject().find("other.test") != std::string::npos);
  CHECK(before.get("/v2/").status == 200);  // the old connection keeps working
}

namespace {

// Starts `proxy` with `v2` (a FakeUpstream with TLS) as its v2 upstream, verified with the CA.
void startProxyToTlsUpstream(RunningProxy& proxy, FakeUpstream& v2) {
  startProxy(proxy,
             {.v2 = {v2.address()},
              .v2_extra = "tls: {ca_file: \"" + TestCertificates::shared().caCert() + "\"}"});
}

}  // namespace

TEST_CASE("a TLS upstream's 4 MiB response arrives whole, and its connection is reused",
          "[proxy][tls]") {
  FakeUpstream v2({.tls = true});
  const std::string body(4 << 20, 'u');  // 256 records: the proxy reads them in runs
  v2.push(UpstreamReply::respond(200, body));
  v2.push(UpstreamReply::respond(200, "second"));
  RunningProxy proxy;
  startProxyToTlsUpstream(proxy, v2);
  HttpClient client(proxy->endpoint());
  auto first = client.get("/v2/big");
  CHECK(first.status == 200);
  CHECK(first.body == body);
  auto second = client.get("/v2/small");
  CHECK(second.status == 200);
  CHECK(second.body == "second");
  CHECK(v2.connectionCount() == 1);
}

TEST_CASE("an upstream can be reached over TLS verified with its CA", "[proxy][tls]") {
  FakeUpstream v2({.tls = true});
  RunningProxy proxy;
  startProxyToTlsUpstream(proxy, v2);
  HttpClient client(proxy->endpoint());
  auto response = client.get("/v2/");
  CHECK(response.status == 200);
  REQUIRE(v2.requestCount() == 1);
  CHECK(v2.requests()[0].headers.get("X-Forwarded-Proto") == "http");
}

TEST_CASE("SIGHUP that rebuilds an upstream group closes the old group's pooled connections",
          "[proxy][reload]") {
  auto openFds = [](pid_t pid) {
    size_t n = 0;
    for ([[maybe_unused]] const auto& entry :
         std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/fd")) {
      ++n;
    }
    return n;
  };
  FakeUpstream v2;
  RunningProxy proxy;
  ProxySetup setup{.v2 = {v2.address()}};
  startProxy(proxy, setup);
  HttpClient client(proxy->endpoint());
  REQUIRE(client.get("/v2/").status == 200);  // one idle upstream connection in the pool
  const size_t before = openFds(proxy->pid());
  for (int i = 0; i < 8; ++i) {
    // Another read timeout is another group definition: a new group with new pools.
    setup.v2_extra = "timeouts: {read: " + std::to_string(30 + i) + "s}";
    proxy.dir.write("proxy.yml", proxyYaml(setup));
    size_t mark = proxy->output().size();
    proxy->signal(SIGHUP);
    REQUIRE(proxy->waitForOutput("reloaded", 10s, mark));
    REQUIRE(client.get("/v2/").status == 200);  // through the new group's pool
  }
  // The worker kept every group's pools (and their idle connections, until the pools' idle
  // timeout) for ever; now a group the snapshot dropped goes once no request uses it.
  size_t after = openFds(proxy->pid());
  for (auto deadline = std::chrono::steady_clock::now() + 10s;
       after > before && std::chrono::steady_clock::now() < deadline;
       after = openFds(proxy->pid())) {
    std::this_thread::sleep_for(10ms);  // polling the count, with a deadline
  }
  CHECK(after <= before);  // was before + 8: one idle connection per dropped group
  CHECK(client.get("/v2/").status == 200);
}
