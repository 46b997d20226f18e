#include "proxy/upstream_group.h"

#include <algorithm>

#include "proxy/metrics.h"

namespace portico::proxy {

UpstreamServer::UpstreamServer(std::string address, const PassiveEjectionOptions& passive,
                               const HealthCheckOptions& health)
    : address_(std::move(address)),
      passive_(passive),
      fall_(std::max<uint32_t>(health.fall, 1)),
      rise_(std::max<uint32_t>(health.rise, 1)) {}

int64_t UpstreamServer::toMs(SteadyClock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

bool UpstreamServer::ejected(SteadyClock::time_point now) const {
  return toMs(now) < ejected_until_ms_.load(std::memory_order_relaxed);
}

bool UpstreamServer::available(SteadyClock::time_point now) const {
  return healthy() && !ejected(now);
}

void UpstreamServer::recordSuccess() {
  // Load first: the common case (no failures) then writes nothing to the shared line.
  if (fails_.load(std::memory_order_relaxed) != 0) fails_.store(0, std::memory_order_relaxed);
}

void UpstreamServer::recordFailure(SteadyClock::time_point now) {
  failures_total_.fetch_add(1, std::memory_order_relaxed);
  if (passive_.max_fails == 0) return;
  int64_t now_ms = toMs(now);
  int64_t window = passive_.fail_timeout.count();
  int64_t start = window_start_ms_.load(std::memory_order_relaxed);
  uint32_t fails;
  if (fails_.load(std::memory_order_relaxed) == 0 || now_ms - start > window) {
    window_start_ms_.store(now_ms, std::memory_order_relaxed);
    fails_.store(1, std::memory_order_relaxed);
    fails = 1;
  } else {
    fails = fails_.fetch_add(1, std::memory_order_relaxed) + 1;
  }
  if (fails >= passive_.max_fails) {
    ejected_until_ms_.store(now_ms + window, std::memory_order_relaxed);
    fails_.store(0, std::memory_order_relaxed);
  }
}

bool UpstreamServer::recordProbe(bool ok) {
  bool was_healthy = healthy();
  if (ok) {
    probe_failures_.store(0, std::memory_order_relaxed);
    uint32_t successes = probe_successes_.load(std::memory_order_relaxed) + 1;
    probe_successes_.store(successes, std::memory_order_relaxed);
    if (!was_healthy && successes >= rise_) {
      healthy_.store(true, std::memory_order_relaxed);
      // A server that passes its probes again is no longer ejected either.
      ejected_until_ms_.store(0, std::memory_order_relaxed);
      fails_.store(0, std::memory_order_relaxed);
      return true;
    }
  } else {
    probe_successes_.store(0, std::memory_order_relaxed);
    uint32_t failures = probe_failures_.load(std::memory_order_relaxed) + 1;
    probe_failures_.store(failures, std::memory_order_relaxed);
    if (was_healthy && failures >= fall_) {
      healthy_.store(false, std::memory_order_relaxed);
      return true;
    }
  }
  return false;
}

UpstreamGroup::UpstreamGroup(UpstreamGroupOptions options) : options_(std::move(options)) {
  servers_.reserve(options_.servers.size());
  for (const auto& address : options_.servers) {
    servers_.push_back(
        std::make_unique<UpstreamServer>(address, options_.passive, options_.health_check));
  }
}

size_t UpstreamGroup::pick(size_t& cursor, SteadyClock::time_point now, uint64_t tried) const {
  size_t n = servers_.size();
  if (n <= 1) return 0;
  auto isTried = [&](size_t i) { return i < 64 && (tried & (uint64_t{1} << i)) != 0; };
  // Pass 0: available and untried; pass 1: untried (all down: panic); pass 2: anything.
  for (int pass = 0; pass < 3; ++pass) {
    auto eligible = [&](size_t i) {
      if (pass < 2 && isTried(i)) return false;
      return pass > 0 || servers_[i]->available(now);
    };
    if (options_.balance == Balance::LeastConnections) {
      size_t best = n;
      uint32_t best_active = 0;
      // Start at the cursor so that ties rotate instead of always hitting server 0.
      for (size_t k = 0; k < n; ++k) {
        size_t i = (cursor + k) % n;
        if (!eligible(i)) continue;
        uint32_t active = servers_[i]->active();
        if (best == n || active < best_active) {
          best = i;
          best_active = active;
        }
      }
      if (best != n) {
        cursor = best + 1;
        return best;
      }
    } else {
      for (size_t k = 0; k < n; ++k) {
        size_t i = (cursor + k) % n;
        if (!eligible(i)) continue;
        cursor = i + 1;
        return i;
      }
    }
  }
  return cursor++ % n;
}

void appendUpstreamMetrics(std::string& out, const std::vector<const UpstreamGroup*>& groups,
                           SteadyClock::time_point now) {
  struct Series {
    const char* name;
    const char* type;
    const char* help;
    std::string (*value)(const UpstreamServer&, SteadyClock::time_point);
  };
  static const Series kSeries[] = {
      {"portico_proxy_upstream_up", "gauge",
       "1 when the server takes requests (healthy and not ejected).",
       [](const UpstreamServer& s, SteadyClock::time_point t) {
         return std::string(s.available(t) ? "1" : "0");
       }},
      {"portico_proxy_upstream_healthy", "gauge", "Active health check state of the server.",
       [](const UpstreamServer& s, SteadyClock::time_point) {
         return std::string(s.healthy() ? "1" : "0");
       }},
      {"portico_proxy_upstream_active_requests", "gauge", "Requests in flight to the server.",
       [](const UpstreamServer& s, SteadyClock::time_point) { return std::to_string(s.active()); }},
      {"portico_proxy_upstream_server_failures_total", "counter",
       "Failed exchanges with the server (connect, reset, timeout).",
       [](const UpstreamServer& s, SteadyClock::time_point) {
         return std::to_string(s.failures());
       }},
  };
  for (const auto& series : kSeries) {
    out += std::string("# HELP ") + series.name + " " + series.help + "\n";
    out += std::string("# TYPE ") + series.name + " " + series.type + "\n";
    for (const UpstreamGroup* group : groups) {
      for (size_t i = 0; i < group->size(); ++i) {
        const UpstreamServer& server = group->server(i);
        out += series.name;
        out += "{upstream=\"" + escapeLabel(group->name()) + "\",server=\"" +
               escapeLabel(server.address()) + "\"} ";
        out += series.value(server, now);
        out += '\n';
      }
    }
  }
}

}  // namespace portico::proxy
