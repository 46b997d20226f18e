#pragma once
// An upstream group: the named set of servers a `forward:` route sends requests to, with the
// health state every worker shares. Workers pick a server here (round-robin or least
// connections, skipping servers that are down) and report outcomes back:
//  - passive ejection: `max_fails` failures within `fail_timeout` take a server out of the
//    rotation for `fail_timeout` (nginx's max_fails/fail_timeout);
//  - active health checks (health_checker.h): `fall` consecutive failed probes mark a server
//    down, `rise` consecutive good probes mark it up again.
// All shared state is atomics (relaxed): no lock on the request path. When every server is
// down the group still hands one out (round-robin): a request then fails fast with 502 rather
// than waiting, and the first success brings the server back.
// What this does not do: own connections (http::ClientPool in
// common/http/client.h, one per server and worker) or probe (health_checker.h).

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/http/client.h"
#include "common/net/tls_options.h"

namespace portico::proxy {

using SteadyClock = std::chrono::steady_clock;

enum class Balance { RoundRobin, LeastConnections };

struct HealthCheckOptions {
  bool enabled = false;
  std::string path = "/";
  std::chrono::milliseconds interval{5'000};
  std::chrono::milliseconds timeout{2'000};
  std::vector<int> expect = {200};  // statuses that count as healthy
  uint32_t fall = 3;                // consecutive failures before a server is marked down
  uint32_t rise = 2;                // consecutive successes before it is marked up again

  bool operator==(const HealthCheckOptions&) const = default;
};

struct PassiveEjectionOptions {
  uint32_t max_fails = 1;  // 0 disables passive ejection
  std::chrono::milliseconds fail_timeout{10'000};

  bool operator==(const PassiveEjectionOptions&) const = default;
};

// Everything configured for one upstream group (converted from proxy.yml by main.cc).
// A reload keeps a group (its health state and the workers' pools) only when its options
// compare equal: every field takes part, so a new option cannot be forgotten there.
struct UpstreamGroupOptions {
  std::string name;
  std::vector<std::string> servers;  // "host:port" or "unix:/path"
  Balance balance = Balance::RoundRobin;
  size_t keepalive = 32;  // idle connections kept per server and worker
  http::ClientTimeouts timeouts;
  HealthCheckOptions health_check;
  PassiveEjectionOptions passive;
  std::optional<net::TlsClientOptions> tls;  // set: talk TLS to the servers

  bool operator==(const UpstreamGroupOptions&) const = default;
};

// One server's shared state. Methods are safe from any thread.
class UpstreamServer {
 public:
  UpstreamServer(std::string address, const PassiveEjectionOptions& passive,
                 const HealthCheckOptions& health);

  const std::string& address() const { return address_; }
  // True when the server may take requests: healthy and not ejected at `now`.
  bool available(SteadyClock::time_point now) const;
  // The active health state (true until `fall` probes fail).
  bool healthy() const { return healthy_.load(std::memory_order_relaxed); }
  // True while passively ejected at `now`.
  bool ejected(SteadyClock::time_point now) const;

  // An exchange with this server completed (any HTTP status): clears the failure count.
  void recordSuccess();
  // An exchange failed (connect, reset, timeout): counts towards passive ejection.
  void recordFailure(SteadyClock::time_point now);
  // One active probe's outcome; applies the fall/rise thresholds. Returns true when the
  // health state changed.
  bool recordProbe(bool ok);

  // In-flight requests across all workers (least-connections balancing, metrics).
  uint32_t active() const { return active_.load(std::memory_order_relaxed); }
  void beginRequest() { active_.fetch_add(1, std::memory_order_relaxed); }
  void endRequest() { active_.fetch_sub(1, std::memory_order_relaxed); }
  uint64_t failures() const { return failures_total_.load(std::memory_order_relaxed); }

 private:
  static int64_t toMs(SteadyClock::time_point t);

  std::string address_;
  PassiveEjectionOptions passive_;
  uint32_t fall_;
  uint32_t rise_;
  std::atomic<bool> healthy_{true};
  std::atomic<uint32_t> probe_failures_{0};   // consecutive, written by the checker only
  std::atomic<uint32_t> probe_successes_{0};  // consecutive, written by the checker only
  std::atomic<uint32_t> fails_{0};            // within the current window
  std::atomic<int64_t> window_start_ms_{0};
  std::atomic<int64_t> ejected_until_ms_{0};
  std::atomic<uint32_t> active_{0};
  std::atomic<uint64_t> failures_total_{0};
};

// A named group of servers with its options. Shared (shared_ptr) by every worker.
class UpstreamGroup {
 public:
  explicit UpstreamGroup(UpstreamGroupOptions options);

  const std::string& name() const { return options_.name; }
  const UpstreamGroupOptions& options() const { return options_; }
  size_t size() const { return servers_.size(); }
  UpstreamServer& server(size_t index) { return *servers_[index]; }
  const UpstreamServer& server(size_t index) const { return *servers_[index]; }

  // Picks the server for a new request. `cursor` is the caller's round-robin position (one
  // per worker, so workers do not contend on it). Servers whose bit is set in `tried` are
  // skipped unless nothing else is left (retry on another server after a connect failure).
  size_t pick(size_t& cursor, SteadyClock::time_point now, uint64_t tried = 0) const;

 private:
  UpstreamGroupOptions options_;
  std::vector<std::unique_ptr<UpstreamServer>> servers_;
};

// Appends the Prometheus series of every server of `groups` (portico_proxy_upstream_up,
// _healthy, _active_requests, _server_failures_total), each metric as one group.
void appendUpstreamMetrics(std::string& out, const std::vector<const UpstreamGroup*>& groups,
                           SteadyClock::time_point now);

}  // namespace portico::proxy
