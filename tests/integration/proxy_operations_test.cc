// portico-proxy operations, end to end: /health and /metrics, the access log, upstream
// health checks (down → 502, recovery), graceful drain on SIGTERM and the command line.

#include <nlohmann/json.hpp>

#include <sys/wait.h>
#include <catch2/catch.hpp>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "tests/fixtures/transport.h"
#include "tests/integration/proxy_harness.h"

using namespace portico::testing;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

struct CommandResult {
  int exit_code = -1;
  std::string output;
};

// Runs the proxy binary with `args` (stdout and stderr together).
CommandResult runProxyCommand(const std::string& args) {
  CommandResult result;
  std::string command = proxyBinary() + " " + args + " 2>&1";
  FILE* pipe = popen(command.c_str(), "r");
  REQUIRE(pipe != nullptr);
  char buffer[4096];
  size_t n;
  while ((n = fread(buffer, 1, sizeof buffer, pipe)) > 0) result.output.append(buffer, n);
  int status = pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

std::vector<json> readJsonLines(const std::string& path) {
  std::vector<json> lines;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty()) lines.push_back(json::parse(line));
  }
  return lines;
}

}  // namespace

TEST_CASE("/health answers ok and /metrics counts requests by route, upstream and status",
          "[proxy][admin]") {
  FakeUpstream v2;
  RunningProxy proxy;
  startProxy(proxy, {.v2 = {v2.address()}});
  HttpClient client(proxy->endpoint());
  REQUIRE(client.get("/v2/").status == 200);
  REQUIRE(client.get("/v2/", {{"User-Agent", "docker/1.5.0 go/go1.4.1"}}).status == 404);

  HttpClient admin(proxy->endpoint("admin"));
  auto health = admin.get("/health");
  CHECK(health.status == 200);
  CHECK(health.body == "ok\n");
  auto verbose = json::parse(admin.get("/health?verbose").body);
  CHECK(verbose["upstreams"]["v2"][0]["address"] == v2.address());
  CHECK(verbose["upstreams"]["v2"][0]["up"] == true);

  auto metrics = admin.get("/metrics");
  CHECK(metrics.status == 200);
  CHECK(metrics.headers.get("Content-Type").find("text/plain") == 0);
  const std::string& text = metrics.body;
  CHECK(
      text.find(
          "portico_proxy_requests_total{route=\"v2\",upstream=\"v2\",status_class=\"2xx\"} 1\n") !=
      std::string::npos);
  CHECK(text.find("portico_proxy_requests_total{route=\"legacy-docker-v2\",upstream=\"\",status_"
                  "class=\"4xx\"} 1\n") != std::string::npos);
  CHECK(text.find("portico_proxy_request_duration_seconds_count{route=\"v2\"} 1\n") !=
        std::string::npos);
  CHECK(text.find("portico_proxy_upstream_up{upstream=\"v2\",server=\"" + v2.address() +
                  "\"} 1\n") != std::string::npos);
  CHECK(text.find("# TYPE portico_proxy_active_requests gauge") != std::string::npos);
  // Two client connections are open now: `client` (kept alive) and `admin`.
  CHECK(text.find("portico_proxy_open_connections 2\n") != std::string::npos);
  CHECK(admin.get("/nothing").status == 404);
}

TEST_CASE("the JSON access log has one line per request with route and upstream",
          "[proxy][access_log]") {
  FakeUpstream v2;
  RunningProxy proxy;
  std::string log_path = proxy.dir.file("access.log");
  startProxy(proxy, {.v2 = {v2.address()}, .access_log_path = log_path});
  HttpClient client(proxy->endpoint());
  REQUIRE(client.get("/v2/library/alpine/manifests/latest", {{"User-Agent", "curl/8"}}).status ==
          200);
  REQUIRE(client.get("/v1/_ping").status == 404);
  proxy->stop(10s);
  auto lines = readJsonLines(log_path);
  REQUIRE(lines.size() == 2);
  CHECK(lines[0]["method"] == "GET");
  CHECK(lines[0]["target"] == "/v2/library/alpine/manifests/latest");
  CHECK(lines[0]["status"] == 200);
  CHECK(lines[0]["route"] == "v2");
  CHECK(lines[0]["upstream"] == "v2");
  CHECK(lines[0]["upstream_status"] == 200);
  CHECK(lines[0]["user_agent"] == "curl/8");
  CHECK(lines[1]["status"] == 404);
  CHECK(lines[1]["route"] == "v1");
}

TEST_CASE("the text access log is nginx combined plus route and upstream", "[proxy][access_log]") {
  FakeUpstream v2;
  RunningProxy proxy;
  std::string log_path = proxy.dir.file("access.log");
  startProxy(proxy,
             {.v2 = {v2.address()}, .access_log_path = log_path, .access_log_format = "text"});
  HttpClient client(proxy->endpoint());
  REQUIRE(client.get("/v2/", {{"User-Agent", "curl/8"}}).status == 200);
  proxy->stop(10s);
  std::string text = readFile(log_path);
  CHECK(text.find("\"GET /v2/ HTTP/1.1\" 200 ") != std::string::npos);
  CHECK(text.find("\"curl/8\"") != std::string::npos);
  CHECK(text.find("route=v2") != std::string::npos);
  CHECK(text.find("upstream=v2") != std::string::npos);
}

TEST_CASE("a server failing its health checks is marked down and comes back when it recovers",
          "[proxy][health]") {
  FakeUpstream v2;
  v2.setDefaultReply(UpstreamReply::respond(500, "broken"));
  RunningProxy proxy;
  startProxy(proxy, {.v2 = {v2.address()},
                     .v2_extra = "health_check: {path: /v2/, interval: 100ms, timeout: 1s, "
                                 "expect: [200], fall: 2, rise: 2}"});
  REQUIRE(proxy->waitForOutput("is down", 10s));
  HttpClient admin(proxy->endpoint("admin"));
  CHECK(admin.get("/metrics")
            .body.find("portico_proxy_upstream_healthy{upstream=\"v2\",server=\"" + v2.address() +
                       "\"} 0") != std::string::npos);
  v2.setDefaultReply(UpstreamReply::echoRequest());
  REQUIRE(proxy->waitForOutput("is up", 10s));
  CHECK(admin.get("/metrics")
            .body.find("portico_proxy_upstream_up{upstream=\"v2\",server=\"" + v2.address() +
                       "\"} 1") != std::string::npos);
  HttpClient client(proxy->endpoint());
  CHECK(client.get("/v2/").status == 200);
  auto probes = v2.requests();
  REQUIRE_FALSE(probes.empty());
  CHECK(probes[0].target == "/v2/");
}

TEST_CASE("requests go to the healthy server of a group", "[proxy][health]") {
  FakeUpstream good;
  FakeUpstream bad;
  bad.setDefaultReply(UpstreamReply::respond(503, "down"));
  RunningProxy proxy;
  startProxy(proxy, {.v2 = {bad.address(), good.address()},
                     .v2_extra = "health_check: {path: /v2/, interval: 100ms, expect: [200], "
                                 "fall: 1, rise: 1}",
                     .workers = 1});
  REQUIRE(proxy->waitForOutput("is down", 10s));
  size_t bad_before = bad.requestCount();
  HttpClient client(proxy->endpoint());
  for (int i = 0; i < 4; ++i) CHECK(client.get("/v2/x").status == 200);
  for (const auto& r : bad.requests()) CHECK(r.target == "/v2/");  // only probes
  CHECK(bad.requestCount() >= bad_before);
}

TEST_CASE("a refused server is ejected and the next one takes the request", "[proxy][health]") {
  FakeUpstream good;
  RunningProxy proxy;
  // A port nobody listens on: bind and close.
  std::string refused;
  {
    FakeUpstream gone;
    refused = gone.address();
  }
  startProxy(proxy, {.v2 = {refused, good.address()}, .workers = 1});
  HttpClient client(proxy->endpoint());
  for (int i = 0; i < 4; ++i) CHECK(client.get("/v2/x").status == 200);
  CHECK(good.requestCount() == 4);
}

TEST_CASE("SIGTERM lets an in-flight request finish, then exits 0", "[proxy][drain]") {
  FakeUpstream v2;
  auto gate = std::make_shared<Gate>();
  v2.push(UpstreamReply::respond(200, "finished").holdUntil(gate));
  RunningProxy proxy;
  startProxy(proxy, {.v2 = {v2.address()}});
  HttpClient client(proxy->endpoint());
  client.sendRaw("GET /v2/slow HTTP/1.1\r\nHost: h\r\n\r\n");
  REQUIRE(gate->waitReached(10s));
  size_t mark = proxy->output().size();
  proxy->signal(SIGTERM);
  REQUIRE(proxy->waitForOutput("stopping", 10s, mark));
  gate->open();
  auto response = client.readResponse();
  CHECK(response.status == 200);
  CHECK(response.body == "finished");
  CHECK(proxy->waitForExit(30s) == std::optional<int>(0));
}

TEST_CASE("SIGTERM exits at once after TLS clients vanish mid-download with the body paused",
          "[proxy][drain][tls]") {
  // Each client reads the start of a large download and stops, so the proxy's output to it
  // fills and the upstream body is paused; then the client resets its connection. The proxy
  // must notice every vanished client, so that SIGTERM finds nothing in flight and exits well
  // within its 30 s grace (before the fix a TLS connection whose peer was gone waited for
  // its output to drain until the grace ran out).
  FakeUpstream v2;
  constexpr int kClients = 4;
  for (int i = 0; i < kClients; ++i) {
    v2.push(UpstreamReply::respond(200).withGeneratedBody(1ull << 30));
  }
  RunningProxy proxy;
  startProxy(proxy, {.tls = true, .v2 = {v2.address()}, .workers = 1});
  const Endpoint& endpoint = proxy->endpoint();
  SslCtxPtr ctx(SSL_CTX_new(TLS_client_method()));
  REQUIRE(ctx);
  ignoreSigpipe();
  std::vector<Transport> clients;
  for (int i = 0; i < kClients; ++i) {
    auto deadline = Clock::now() + 10s;
    Transport client = Transport::connect(endpoint.host, endpoint.port, deadline);
    client.startTlsClient(ctx.get(), "", "", deadline);
    client.writeAll(
        "GET /v2/big/blobs/sha256:" + std::to_string(i) + " HTTP/1.1\r\nHost: h\r\n\r\n", deadline);
    // The response is flowing once its first 256 KiB have arrived.
    std::string received;
    char buffer[16 * 1024];
    while (received.size() < 256 * 1024) {
      size_t n = client.read(buffer, sizeof buffer, deadline);
      REQUIRE(n > 0);
      received.append(buffer, n);
    }
    CHECK(received.rfind("HTTP/1.1 200", 0) == 0);
    clients.push_back(std::move(client));
  }
  for (auto& client : clients) client.reset();
  size_t mark = proxy->output().size();
  proxy->signal(SIGTERM);
  REQUIRE(proxy->waitForOutput("stopping", 10s, mark));
  CHECK(proxy->waitForExit(15s) == std::optional<int>(0));
}

TEST_CASE("check-config says configuration OK or names file, line and key", "[proxy][cli]") {
  TempDir dir;
  std::string good = dir.write("good.yml", "upstreams:\n  v2: {servers: [\"127.0.0.1:5001\"]}\n");
  auto ok = runProxyCommand("check-config " + good);
  CHECK(ok.exit_code == 0);
  CHECK(ok.output.find("configuration OK") != std::string::npos);

  std::string bad = dir.write("bad.yml",
                              "upstreams:\n  v2:\n    servers: [\"127.0.0.1:5001\"]\n"
                              "    balanse: round_robin\n");
  auto error = runProxyCommand("check-config " + bad);
  CHECK(error.exit_code == 1);
  CHECK(error.output.find("bad.yml:4") != std::string::npos);
  CHECK(error.output.find("balanse") != std::string::npos);
}

TEST_CASE("--help documents options and signals and --version prints the version", "[proxy][cli]") {
  auto help = runProxyCommand("--help");
  CHECK(help.exit_code == 0);
  for (auto word : {"--config", "check-config", "SIGHUP", "SIGTERM", "Example"}) {
    INFO(word);
    CHECK(help.output.find(word) != std::string::npos);
  }
  auto version = runProxyCommand("--version");
  CHECK(version.exit_code == 0);
  CHECK(version.output.rfind("portico-proxy ", 0) == 0);
  auto unknown = runProxyCommand("--frobnicate");
  CHECK(unknown.exit_code != 0);
}
