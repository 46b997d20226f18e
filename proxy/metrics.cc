#include "proxy/metrics.h"

#include "common/http/http_server.h"
#include "common/metrics/prometheus.h"

#include <cstdio>

namespace portico::proxy {
namespace {

constexpr std::array<std::string_view, 5> kStatusClassNames = {"1xx", "2xx", "3xx", "4xx", "5xx"};

void appendNumber(std::string& out, uint64_t value) {
  out += std::to_string(value);
}

void appendSeconds(std::string& out, double seconds) {
  char buffer[32];
  int n = std::snprintf(buffer, sizeof buffer, "%g", seconds);
  out.append(buffer, static_cast<size_t>(n));
}

}  // namespace

int statusClassIndex(int status) {
  if (status < 100 || status > 599) return -1;
  return status / 100 - 1;
}

std::string escapeLabel(std::string_view value) {
  return metrics::escapeLabel(value);
}

void RouteMetrics::record(int status, std::chrono::microseconds duration, uint64_t bytes_in,
                          uint64_t bytes_out) {
  int cls = statusClassIndex(status);
  if (cls >= 0) responses[static_cast<size_t>(cls)].fetch_add(1, std::memory_order_relaxed);
  double seconds = static_cast<double>(duration.count()) / 1e6;
  size_t bucket = 0;
  while (bucket < kDurationBuckets.size() && seconds > kDurationBuckets[bucket]) ++bucket;
  duration_buckets[bucket].fetch_add(1, std::memory_order_relaxed);
  duration_sum_us.fetch_add(static_cast<uint64_t>(duration.count()), std::memory_order_relaxed);
  request_bytes.fetch_add(bytes_in, std::memory_order_relaxed);
  response_bytes.fetch_add(bytes_out, std::memory_order_relaxed);
}

void RouteMetrics::recordFailure(FailureSource source) {
  failures[static_cast<size_t>(source)].fetch_add(1, std::memory_order_relaxed);
}

RouteMetrics& ProxyMetrics::route(std::string_view route, std::string_view upstream) {
  std::lock_guard lock(mutex_);
  for (auto& r : routes_) {
    if (r.route == route && r.upstream == upstream) return r;
  }
  auto& created = routes_.emplace_back();
  created.route = std::string(route);
  created.upstream = std::string(upstream);
  return created;
}

void ProxyMetrics::render(std::string& out) const {
  std::lock_guard lock(mutex_);
  auto load = [](const std::atomic<uint64_t>& a) { return a.load(std::memory_order_relaxed); };

  out +=
      "# HELP portico_proxy_requests_total Requests answered, by route, upstream and status "
      "class.\n";
  out += "# TYPE portico_proxy_requests_total counter\n";
  for (const auto& r : routes_) {
    for (size_t c = 0; c < kStatusClassNames.size(); ++c) {
      out += "portico_proxy_requests_total{route=\"" + escapeLabel(r.route) + "\",upstream=\"" +
             escapeLabel(r.upstream) + "\",status_class=\"" + std::string(kStatusClassNames[c]) +
             "\"} ";
      appendNumber(out, load(r.responses[c]));
      out += '\n';
    }
  }

  out += "# HELP portico_proxy_request_duration_seconds Time from request head to response end.\n";
  out += "# TYPE portico_proxy_request_duration_seconds histogram\n";
  for (const auto& r : routes_) {
    std::string labels = "route=\"" + escapeLabel(r.route) + "\"";
    uint64_t cumulative = 0;
    for (size_t b = 0; b < r.duration_buckets.size(); ++b) {
      cumulative += load(r.duration_buckets[b]);
      out += "portico_proxy_request_duration_seconds_bucket{" + labels + ",le=\"";
      if (b < kDurationBuckets.size()) {
        appendSeconds(out, kDurationBuckets[b]);
      } else {
        out += "+Inf";
      }
      out += "\"} ";
      appendNumber(out, cumulative);
      out += '\n';
    }
    out += "portico_proxy_request_duration_seconds_sum{" + labels + "} ";
    appendSeconds(out, static_cast<double>(load(r.duration_sum_us)) / 1e6);
    out += '\n';
    out += "portico_proxy_request_duration_seconds_count{" + labels + "} ";
    appendNumber(out, cumulative);
    out += '\n';
  }

  out += "# HELP portico_proxy_request_bytes_total Request body bytes received from clients.\n";
  out += "# TYPE portico_proxy_request_bytes_total counter\n";
  for (const auto& r : routes_) {
    out += "portico_proxy_request_bytes_total{route=\"" + escapeLabel(r.route) + "\"} ";
    appendNumber(out, load(r.request_bytes));
    out += '\n';
  }
  out += "# HELP portico_proxy_response_bytes_total Response body bytes sent to clients.\n";
  out += "# TYPE portico_proxy_response_bytes_total counter\n";
  for (const auto& r : routes_) {
    out += "portico_proxy_response_bytes_total{route=\"" + escapeLabel(r.route) + "\"} ";
    appendNumber(out, load(r.response_bytes));
    out += '\n';
  }

  out +=
      "# HELP portico_proxy_upstream_failures_total Upstream exchanges that failed, by source.\n";
  out += "# TYPE portico_proxy_upstream_failures_total counter\n";
  for (const auto& r : routes_) {
    if (r.upstream.empty()) continue;
    for (size_t s = 0; s < kFailureSourceCount; ++s) {
      out += "portico_proxy_upstream_failures_total{route=\"" + escapeLabel(r.route) +
             "\",upstream=\"" + escapeLabel(r.upstream) + "\",source=\"" +
             std::string(metricLabel(static_cast<FailureSource>(s))) + "\"} ";
      appendNumber(out, load(r.failures[s]));
      out += '\n';
    }
  }

  out += "# HELP portico_proxy_open_connections Client connections currently open.\n";
  out += "# TYPE portico_proxy_open_connections gauge\n";
  out += "portico_proxy_open_connections " + std::to_string(http::openServerConnections()) + "\n";
  out += "# HELP portico_proxy_active_requests Requests currently in flight.\n";
  out += "# TYPE portico_proxy_active_requests gauge\n";
  out += "portico_proxy_active_requests " +
         std::to_string(active_requests.load(std::memory_order_relaxed)) + "\n";
  out += "# HELP portico_proxy_reloads_total Configuration reloads (SIGHUP), by result.\n";
  out += "# TYPE portico_proxy_reloads_total counter\n";
  out += "portico_proxy_reloads_total{result=\"ok\"} ";
  appendNumber(out, load(reloads));
  out += "\nportico_proxy_reloads_total{result=\"failed\"} ";
  appendNumber(out, load(reload_failures));
  out += '\n';
}

}  // namespace portico::proxy
