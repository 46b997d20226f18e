#include "proxy/upstream_group.h"

#include <catch2/catch.hpp>

using namespace portico::proxy;
using namespace std::chrono_literals;

namespace {

UpstreamGroupOptions threeServers(Balance balance = Balance::RoundRobin) {
  UpstreamGroupOptions options;
  options.name = "v2";
  options.servers = {"127.0.0.1:1", "127.0.0.1:2", "127.0.0.1:3"};
  options.balance = balance;
  options.passive.max_fails = 2;
  options.passive.fail_timeout = 10s;
  options.health_check.fall = 2;
  options.health_check.rise = 2;
  return options;
}

// The next `count` servers `group` picks from `cursor` at `now`.
std::vector<size_t> nextPicks(const UpstreamGroup& group, size_t& cursor,
                              SteadyClock::time_point now, size_t count) {
  std::vector<size_t> picks;
  picks.reserve(count);
  for (size_t i = 0; i < count; ++i) picks.push_back(group.pick(cursor, now));
  return picks;
}

}  // namespace

TEST_CASE("round-robin visits every server in turn", "[upstream_group]") {
  UpstreamGroup group(threeServers());
  size_t cursor = 0;
  auto now = SteadyClock::now();
  CHECK(nextPicks(group, cursor, now, 6) == std::vector<size_t>{0, 1, 2, 0, 1, 2});
}

TEST_CASE("least-connections picks the server with fewest in-flight requests", "[upstream_group]") {
  UpstreamGroup group(threeServers(Balance::LeastConnections));
  group.server(0).beginRequest();
  group.server(0).beginRequest();
  group.server(2).beginRequest();
  size_t cursor = 0;
  CHECK(group.pick(cursor, SteadyClock::now()) == 1);
  group.server(1).beginRequest();
  group.server(1).beginRequest();
  CHECK(group.pick(cursor, SteadyClock::now()) == 2);
}

TEST_CASE("max_fails failures within fail_timeout eject a server for fail_timeout",
          "[upstream_group]") {
  UpstreamGroup group(threeServers());
  auto now = SteadyClock::now();
  UpstreamServer& server = group.server(1);
  server.recordFailure(now);
  CHECK(server.available(now));
  server.recordFailure(now + 1s);
  CHECK_FALSE(server.available(now + 1s));
  CHECK(server.ejected(now + 5s));
  CHECK(server.available(now + 12s));

  size_t cursor = 0;
  CHECK(nextPicks(group, cursor, now + 2s, 4) == std::vector<size_t>{0, 2, 0, 2});
}

TEST_CASE("failures spread over more than fail_timeout do not eject", "[upstream_group]") {
  UpstreamGroup group(threeServers());
  auto now = SteadyClock::now();
  UpstreamServer& server = group.server(0);
  server.recordFailure(now);
  server.recordFailure(now + 11s);
  CHECK(server.available(now + 11s));
  server.recordFailure(now + 12s);
  CHECK_FALSE(server.available(now + 12s));
}

TEST_CASE("a success clears the failure count", "[upstream_group]") {
  UpstreamGroup group(threeServers());
  auto now = SteadyClock::now();
  UpstreamServer& server = group.server(0);
  server.recordFailure(now);
  server.recordSuccess();
  server.recordFailure(now + 1s);
  CHECK(server.available(now + 1s));
  CHECK(server.failures() == 2);
}

TEST_CASE("max_fails 0 disables passive ejection", "[upstream_group]") {
  auto options = threeServers();
  options.passive.max_fails = 0;
  UpstreamGroup group(options);
  auto now = SteadyClock::now();
  for (int i = 0; i < 10; ++i) group.server(0).recordFailure(now);
  CHECK(group.server(0).available(now));
}

TEST_CASE("fall failed probes mark a server down and rise good probes bring it back",
          "[upstream_group]") {
  UpstreamGroup group(threeServers());
  UpstreamServer& server = group.server(2);
  CHECK_FALSE(server.recordProbe(false));
  CHECK(server.healthy());
  CHECK(server.recordProbe(false));
  CHECK_FALSE(server.healthy());
  CHECK_FALSE(server.recordProbe(true));
  CHECK_FALSE(server.healthy());
  CHECK(server.recordProbe(true));
  CHECK(server.healthy());
}

TEST_CASE("a probe success between failures restarts the fall count", "[upstream_group]") {
  UpstreamGroup group(threeServers());
  UpstreamServer& server = group.server(0);
  server.recordProbe(false);
  server.recordProbe(true);
  server.recordProbe(false);
  CHECK(server.healthy());
}

TEST_CASE("when every server is down one is still handed out", "[upstream_group]") {
  UpstreamGroup group(threeServers());
  for (size_t i = 0; i < 3; ++i) {
    group.server(i).recordProbe(false);
    group.server(i).recordProbe(false);
  }
  size_t cursor = 0;
  auto now = SteadyClock::now();
  CHECK(nextPicks(group, cursor, now, 3) == std::vector<size_t>{0, 1, 2});
}

TEST_CASE("a retry skips the servers already tried", "[upstream_group]") {
  UpstreamGroup group(threeServers());
  size_t cursor = 0;
  auto now = SteadyClock::now();
  CHECK(group.pick(cursor, now, 0b011) == 2);
  cursor = 0;
  CHECK(group.pick(cursor, now, 0b101) == 1);
  // Everything tried: still returns a server.
  CHECK(group.pick(cursor, now, 0b111) < 3);
}

TEST_CASE("upstream metrics render one series per server", "[upstream_group]") {
  UpstreamGroup group(threeServers());
  auto now = SteadyClock::now();
  group.server(1).recordProbe(false);
  group.server(1).recordProbe(false);
  std::string out;
  appendUpstreamMetrics(out, {&group}, now);
  CHECK(out.find("portico_proxy_upstream_up{upstream=\"v2\",server=\"127.0.0.1:1\"} 1\n") !=
        std::string::npos);
  CHECK(out.find("portico_proxy_upstream_up{upstream=\"v2\",server=\"127.0.0.1:2\"} 0\n") !=
        std::string::npos);
  CHECK(out.find("# TYPE portico_proxy_upstream_up gauge") != std::string::npos);
}

TEST_CASE("upstream options compare every field (a reload keeps a group only when equal)",
          "[upstream_group]") {
  UpstreamGroupOptions a = threeServers();
  UpstreamGroupOptions b = a;
  CHECK(a == b);
  b.health_check.expect = {200, 204};
  CHECK_FALSE(a == b);
  b = a;
  b.passive.fail_timeout = std::chrono::milliseconds(1);
  CHECK_FALSE(a == b);
  b = a;
  b.timeouts.write = std::chrono::milliseconds(1);
  CHECK_FALSE(a == b);
  b = a;
  b.tls = portico::net::TlsClientOptions{};
  CHECK_FALSE(a == b);
  a.tls = portico::net::TlsClientOptions{};
  CHECK(a == b);
  b.tls->server_name = "registry.internal";
  CHECK_FALSE(a == b);
}
