// HealthChecker probing a real loopback upstream (tests/fixtures FakeUpstream). Probes of one
// server run one after another (the next is scheduled when one is done), so while probe k+1
// is parked at a Gate, probe k's outcome has been recorded and nothing else changes the
// state: the tests wait for gates and request counts, never for time.

#include "proxy/health_checker.h"

#include <catch2/catch.hpp>

#include <chrono>
#include <memory>
#include <string>

#include "common/http/client.h"
#include "common/net/address.h"
#include "tests/fixtures/fixtures.h"

using namespace portico;
using namespace portico::proxy;
using namespace std::chrono_literals;
using portico::testing::FakeUpstream;
using portico::testing::Gate;
using portico::testing::UpstreamReply;

namespace {

constexpr auto kWait = 10s;  // a deadline, not a timing: a passing run takes milliseconds

// A group "up" of the given servers with an active health check.
SnapshotUpstream checkedGroup(const std::vector<std::string>& servers, uint32_t fall, uint32_t rise,
                              bool enabled = true) {
  UpstreamGroupOptions options;
  options.name = "up";
  options.servers = servers;
  options.health_check.enabled = enabled;
  options.health_check.path = "/healthz?deep=1";
  options.health_check.interval = 5ms;
  options.health_check.timeout = kWait;  // a probe parked at a Gate must not time out
  options.health_check.fall = fall;
  options.health_check.rise = rise;
  options.health_check.expect = {200, 204};
  SnapshotUpstream upstream;
  upstream.group = std::make_shared<UpstreamGroup>(options);
  upstream.make_pool = [servers](event_base& base, size_t index) {
    auto address = net::Address::parse(servers[index]);
    return http::ClientPool::create(base, *address, nullptr, http::ClientPool::Options{});
  };
  return upstream;
}

// One scripted reply per probe, each held at a Gate: next() lets the parked probe answer and
// waits until the following probe is parked, so exactly the probes so far have been recorded
// and no other can run while the test looks at the state.
class ProbeScript {
 public:
  ProbeScript(FakeUpstream& upstream, const std::vector<int>& statuses) {
    for (int status : statuses) {
      gates_.push_back(std::make_shared<Gate>());
      upstream.push(UpstreamReply::respond(status).holdUntil(gates_.back()));
    }
  }
  void next() {
    REQUIRE(done_ + 1 < gates_.size());  // the script needs one probe more than it checks
    REQUIRE(gates_[done_]->waitReached(kWait));
    gates_[done_]->open();
    ++done_;
    REQUIRE(gates_[done_]->waitReached(kWait));
  }

 private:
  std::vector<std::shared_ptr<Gate>> gates_;
  size_t done_ = 0;
};

}  // namespace

TEST_CASE("a server goes down after `fall` failed probes and up after `rise` good ones",
          "[health_checker]") {
  FakeUpstream upstream;
  // Probe 1 passes; 2 and 3 fail (fall = 2); 4 and 5 pass (rise = 2; 204 is expected too).
  ProbeScript probes(upstream, {200, 503, 500, 204, 200, 200});
  SnapshotUpstream group = checkedGroup({upstream.address()}, 2, 2);
  const UpstreamServer& server = group.group->server(0);
  HealthChecker checker({group});
  REQUIRE(checker.start());

  probes.next();
  CHECK(server.healthy());  // probe 1 passed
  probes.next();
  CHECK(server.healthy());  // one failed probe is below fall = 2
  probes.next();
  CHECK_FALSE(server.healthy());  // two consecutive failures: down
  CHECK_FALSE(server.available(SteadyClock::now()));
  probes.next();
  CHECK_FALSE(server.healthy());  // one good probe is below rise = 2
  probes.next();
  CHECK(server.healthy());  // two consecutive good probes: up again
  CHECK(server.available(SteadyClock::now()));

  auto requests = upstream.requests();
  REQUIRE_FALSE(requests.empty());
  CHECK(requests[0].method == "GET");
  CHECK(requests[0].target == "/healthz?deep=1");
  CHECK(requests[0].headers.get("User-Agent") == "portico-proxy-health-check");
}

TEST_CASE("failures that are not consecutive do not take a server down", "[health_checker]") {
  FakeUpstream upstream;
  ProbeScript probes(upstream, {503, 200, 503, 200});
  SnapshotUpstream group = checkedGroup({upstream.address()}, 2, 1);
  HealthChecker checker({group});
  REQUIRE(checker.start());
  for (int probe = 1; probe <= 3; ++probe) {
    probes.next();
    INFO("after probe " << probe);
    CHECK(group.group->server(0).healthy());  // a good probe between them reset the count
  }
}

TEST_CASE("each server of a group is probed on its own", "[health_checker]") {
  FakeUpstream good;
  FakeUpstream bad;
  good.setDefaultReply(UpstreamReply::respond(200));
  bad.setDefaultReply(UpstreamReply::respond(502));
  SnapshotUpstream group = checkedGroup({good.address(), bad.address()}, 1, 1);
  HealthChecker checker({group});
  REQUIRE(checker.start());
  REQUIRE(bad.waitForRequests(2, kWait));
  REQUIRE(good.waitForRequests(2, kWait));
  CHECK(group.group->server(0).healthy());
  CHECK_FALSE(group.group->server(1).healthy());
}

TEST_CASE("groups without an enabled health check are not probed", "[health_checker]") {
  FakeUpstream upstream;
  SnapshotUpstream group = checkedGroup({upstream.address()}, 1, 1, /*enabled=*/false);
  HealthChecker checker({group});
  CHECK(checker.empty());
  REQUIRE(checker.start());
  checker.stop();
  CHECK(upstream.requestCount() == 0);
}
