#include "proxy/metrics.h"

#include <catch2/catch.hpp>

using namespace portico::proxy;
using namespace std::chrono_literals;

TEST_CASE("requests are counted by route, upstream and status class", "[metrics]") {
  ProxyMetrics metrics;
  RouteMetrics& v2 = metrics.route("v2", "v2");
  v2.record(200, 3ms, 10, 20);
  v2.record(201, 3ms, 0, 0);
  v2.record(502, 3ms, 0, 0);
  CHECK(&metrics.route("v2", "v2") == &v2);
  std::string out;
  metrics.render(out);
  CHECK(
      out.find(
          "portico_proxy_requests_total{route=\"v2\",upstream=\"v2\",status_class=\"2xx\"} 2\n") !=
      std::string::npos);
  CHECK(
      out.find(
          "portico_proxy_requests_total{route=\"v2\",upstream=\"v2\",status_class=\"5xx\"} 1\n") !=
      std::string::npos);
  CHECK(out.find("portico_proxy_request_bytes_total{route=\"v2\"} 10\n") != std::string::npos);
  CHECK(out.find("portico_proxy_response_bytes_total{route=\"v2\"} 20\n") != std::string::npos);
}

TEST_CASE("the duration histogram is cumulative and ends with +Inf", "[metrics]") {
  ProxyMetrics metrics;
  RouteMetrics& r = metrics.route("legacy", "");
  r.record(404, 2ms, 0, 0);    // le 0.005
  r.record(404, 200ms, 0, 0);  // le 0.25
  r.record(404, 1000s, 0, 0);  // +Inf only
  std::string out;
  metrics.render(out);
  CHECK(out.find(
            "portico_proxy_request_duration_seconds_bucket{route=\"legacy\",le=\"0.001\"} 0\n") !=
        std::string::npos);
  CHECK(out.find(
            "portico_proxy_request_duration_seconds_bucket{route=\"legacy\",le=\"0.005\"} 1\n") !=
        std::string::npos);
  CHECK(
      out.find("portico_proxy_request_duration_seconds_bucket{route=\"legacy\",le=\"0.25\"} 2\n") !=
      std::string::npos);
  CHECK(
      out.find("portico_proxy_request_duration_seconds_bucket{route=\"legacy\",le=\"300\"} 2\n") !=
      std::string::npos);
  CHECK(
      out.find("portico_proxy_request_duration_seconds_bucket{route=\"legacy\",le=\"+Inf\"} 3\n") !=
      std::string::npos);
  CHECK(out.find("portico_proxy_request_duration_seconds_count{route=\"legacy\"} 3\n") !=
        std::string::npos);
}

TEST_CASE("label values are escaped", "[metrics]") {
  CHECK(escapeLabel("a\"b\\c\nd") == "a\\\"b\\\\c\\nd");
}

TEST_CASE("status 0 counts in no status class", "[metrics]") {
  ProxyMetrics metrics;
  RouteMetrics& r = metrics.route("v2", "v2");
  r.record(0, 1ms, 5, 0);
  for (const auto& c : r.responses) CHECK(c.load() == 0);
  CHECK(r.request_bytes.load() == 5);
}

TEST_CASE("upstream failures are counted by source", "[metrics]") {
  ProxyMetrics metrics;
  metrics.route("v2", "v2").recordFailure(FailureSource::Timeout);
  std::string out;
  metrics.render(out);
  CHECK(out.find("portico_proxy_upstream_failures_total{route=\"v2\",upstream=\"v2\",source="
                 "\"timeout\"} 1\n") != std::string::npos);
}
