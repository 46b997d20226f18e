#pragma once
// RegistryMetrics: portico-registry's Prometheus series, rendered at http.debug.prometheus.path
// on the debug listener (docs/operating/observability.md lists them). distribution's names
// where distribution has the series, so its dashboards work:
//
//   registry_http_requests_total{code,handler,method}        counter
//   registry_http_request_duration_seconds{handler,method}   histogram
//   registry_http_in_flight_requests{handler}                gauge
//   registry_http_request_size_bytes{handler}                histogram (request body bytes)
//   registry_http_response_size_bytes{handler}               histogram (response body bytes)
//   registry_storage_action_seconds{driver,action}           histogram (TimedDriver)
//   registry_storage_cache_total{type}                       counter (Request, Hit, Miss)
//
// and Portico's own (portico_registry_*): bytes pushed and pulled, uploads in progress,
// upload purge and GC runs, storage executor queue length; other parts (notification queues)
// add theirs through addCollector. Handler names are distribution's route names
// (api::routeName); requests that match no route count under handler "none".
//
// Workers record with relaxed atomics and one short lock per finished request (the series
// map); rendering takes the same lock. Everything lives as long as the RegistryServer.

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "common/metrics/prometheus.h"

namespace portico::observability {

// distribution's storage actions (registry/storage/driver/base: one per driver method).
enum class StorageAction {
  GetContent,
  PutContent,
  Reader,
  Writer,
  Stat,
  List,
  ListEntries,
  ListingVersion,
  Move,
  Delete,
  Walk,
};
inline constexpr size_t kStorageActionCount = 11;
std::string_view storageActionName(StorageAction action);

class RegistryMetrics {
 public:
  RegistryMetrics();
  RegistryMetrics(const RegistryMetrics&) = delete;
  RegistryMetrics& operator=(const RegistryMetrics&) = delete;

  // A request entered `handler` (in-flight gauge; uploads in progress for upload bodies).
  void requestStarted(std::string_view handler, bool upload_body);
  // It ended: status 0 (the connection went away before a response head) counts only in the
  // gauges. Bytes are body bytes received and sent.
  void requestFinished(std::string_view handler, bool upload_body, std::string_view method,
                       int status, uint64_t bytes_in, uint64_t bytes_out, double seconds);

  // The driver's name for registry_storage_action_seconds (set once, before any request).
  void setDriverName(std::string name) { driver_name_ = std::move(name); }
  void storageAction(StorageAction action, double seconds);

  std::atomic<uint64_t> upload_purge_runs{0};
  // registry_storage_cache_total: counted by the descriptor cache (storage.cache.blobdescriptor).
  std::atomic<uint64_t> cache_requests{0};
  std::atomic<uint64_t> cache_hits{0};
  std::atomic<uint64_t> cache_misses{0};

  // `collect` appends more families at every render (called with no lock of ours held);
  // register at startup, before the debug listener serves.
  void addCollector(std::function<void(metrics::TextWriter&)> collect);

  // The whole exposition.
  std::string render() const;

 private:
  struct Series {
    std::map<int, uint64_t> codes;
    metrics::Histogram duration{metrics::kDurationBuckets};
  };
  struct HandlerSeries {
    int64_t in_flight = 0;
    metrics::Histogram request_size{metrics::kSizeBuckets};
    metrics::Histogram response_size{metrics::kSizeBuckets};
  };

  mutable std::mutex mutex_;
  std::map<std::pair<std::string, std::string>, std::unique_ptr<Series>> requests_;
  std::map<std::string, std::unique_ptr<HandlerSeries>, std::less<>> handlers_;
  uint64_t bytes_pushed_ = 0;
  uint64_t bytes_pulled_ = 0;
  int64_t uploads_in_progress_ = 0;

  std::string driver_name_;
  std::vector<std::unique_ptr<metrics::Histogram>> storage_actions_;  // by StorageAction
  std::vector<std::function<void(metrics::TextWriter&)>> collectors_;
};

// One request's observation: in flight from construction to finish() (or destruction, when
// the exchange went away without a response). Owned by api::ApiRequest (moves with it).
class RequestObservation {
 public:
  RequestObservation(RegistryMetrics& metrics, std::string_view handler, std::string method,
                     bool upload_body);
  ~RequestObservation();
  RequestObservation(const RequestObservation&) = delete;
  RequestObservation& operator=(const RequestObservation&) = delete;

  // Records the end once; later calls do nothing.
  void finish(int status, uint64_t bytes_in, uint64_t bytes_out);

 private:
  RegistryMetrics& metrics_;
  std::string handler_;
  std::string method_;
  bool upload_body_;
  bool finished_ = false;
  std::chrono::steady_clock::time_point started_;
};

}  // namespace portico::observability
