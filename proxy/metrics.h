#pragma once
// Process-wide proxy metrics, rendered in the Prometheus text exposition format by the admin
// listener (/metrics). Every counter is a relaxed atomic: workers update them without locks.
// Per-(route, upstream) series are created at configuration time (RouteMetrics objects live
// as long as the process, so a reload keeps counting), never on the request path.
//
// Metric names (docs/proxy.md lists them for operators):
//   portico_proxy_requests_total{route,upstream,status_class}
//   portico_proxy_request_duration_seconds{route} (histogram)
//   portico_proxy_request_bytes_total{route}, portico_proxy_response_bytes_total{route}
//   portico_proxy_upstream_failures_total{route,source}
//   portico_proxy_open_connections, portico_proxy_active_requests

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <string_view>

#include "proxy/failure.h"

namespace portico::proxy {

// Upper bounds (seconds) of the request duration histogram buckets; +Inf is implicit.
inline constexpr std::array<double, 14> kDurationBuckets = {
    0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 60, 300};

// Counters of one (route, upstream) pair. Stable address for the life of the process.
struct RouteMetrics {
  std::string route;
  std::string upstream;                              // empty for `respond` routes
  std::array<std::atomic<uint64_t>, 5> responses{};  // by status class 1xx..5xx
  std::array<std::atomic<uint64_t>, kDurationBuckets.size() + 1> duration_buckets{};
  std::atomic<uint64_t> duration_sum_us{0};
  std::atomic<uint64_t> request_bytes{0};
  std::atomic<uint64_t> response_bytes{0};
  std::array<std::atomic<uint64_t>, kFailureSourceCount> failures{};

  // Records one finished request. Status 0 (the downstream connection died before a response
  // head was sent) counts in the duration and byte series only.
  void record(int status, std::chrono::microseconds duration, uint64_t bytes_in,
              uint64_t bytes_out);
  void recordFailure(FailureSource source);
};

class ProxyMetrics {
 public:
  // The series for (route, upstream), created on first call. Call at configuration time;
  // takes a lock. The reference stays valid for the life of this object.
  RouteMetrics& route(std::string_view route, std::string_view upstream);

  std::atomic<int64_t> active_requests{0};  // exchanges in flight
  std::atomic<uint64_t> reloads{0};
  std::atomic<uint64_t> reload_failures{0};

  // Appends the Prometheus text format of every series to `out`.
  void render(std::string& out) const;

 private:
  mutable std::mutex mutex_;
  std::deque<RouteMetrics> routes_;  // deque: stable addresses on growth
};

// The status class index 0..4 for 1xx..5xx, or -1 when out of range.
int statusClassIndex(int status);

// Escapes a Prometheus label value (backslash, quote, newline).
std::string escapeLabel(std::string_view value);

}  // namespace portico::proxy
