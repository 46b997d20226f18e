#include "backend/observability/registry_metrics.h"

#include <utility>

namespace portico::observability {
namespace {

constexpr std::array<std::string_view, kStorageActionCount> kStorageActionNames = {
    "GetContent",  "PutContent",     "Reader", "Writer", "Stat", "List",
    "ListEntries", "ListingVersion", "Move",   "Delete", "Walk"};

bool isPull(std::string_view handler, std::string_view method) {
  return method == "GET" && (handler == "blob" || handler == "manifest");
}

bool isPush(std::string_view handler, std::string_view method) {
  if (handler == "manifest") return method == "PUT";
  return handler == "blob-upload" || handler == "blob-upload-chunk";
}

}  // namespace

std::string_view storageActionName(StorageAction action) {
  return kStorageActionNames[static_cast<size_t>(action)];
}

RegistryMetrics::RegistryMetrics() {
  for (size_t i = 0; i < kStorageActionCount; ++i) {
    storage_actions_.push_back(std::make_unique<metrics::Histogram>(metrics::kDurationBuckets));
  }
}

void RegistryMetrics::requestStarted(std::string_view handler, bool upload_body) {
  std::lock_guard lock(mutex_);
  auto it = handlers_.find(handler);
  if (it == handlers_.end()) {
    it = handlers_.emplace(std::string(handler), std::make_unique<HandlerSeries>()).first;
  }
  ++it->second->in_flight;
  if (upload_body) ++uploads_in_progress_;
}

void RegistryMetrics::requestFinished(std::string_view handler, bool upload_body,
                                      std::string_view method, int status, uint64_t bytes_in,
                                      uint64_t bytes_out, double seconds) {
  std::lock_guard lock(mutex_);
  auto it = handlers_.find(handler);
  if (it == handlers_.end()) return;  // requestStarted was not called
  HandlerSeries& h = *it->second;
  --h.in_flight;
  if (upload_body) --uploads_in_progress_;
  if (status == 0) return;
  auto& series = requests_[{std::string(handler), std::string(method)}];
  if (!series) series = std::make_unique<Series>();
  ++series->codes[status];
  series->duration.observe(seconds);
  h.request_size.observe(static_cast<double>(bytes_in));
  h.response_size.observe(static_cast<double>(bytes_out));
  if (status >= 200 && status < 300) {
    if (isPush(handler, method)) bytes_pushed_ += bytes_in;
    if (isPull(handler, method)) bytes_pulled_ += bytes_out;
  }
}

void RegistryMetrics::storageAction(StorageAction action, double seconds) {
  storage_actions_[static_cast<size_t>(action)]->observe(seconds);
}

void RegistryMetrics::addCollector(std::function<void(metrics::TextWriter&)> collect) {
  std::lock_guard lock(mutex_);
  collectors_.push_back(std::move(collect));
}

std::string RegistryMetrics::render() const {
  std::string out;
  metrics::TextWriter w(out);
  std::vector<std::function<void(metrics::TextWriter&)>> collectors;
  {
    std::lock_guard lock(mutex_);
    w.family("registry_http_requests_total", "counter",
             "Requests answered, by status code, handler (route) and method.");
    for (const auto& [key, series] : requests_) {
      for (const auto& [code, count] : series->codes) {
        std::string code_text = std::to_string(code);
        w.sample(
            "registry_http_requests_total",
            metrics::labels({{"code", code_text}, {"handler", key.first}, {"method", key.second}}),
            count);
      }
    }
    w.family("registry_http_request_duration_seconds", "histogram",
             "Time from request head to the end of the response.");
    for (const auto& [key, series] : requests_) {
      series->duration.render(w, "registry_http_request_duration_seconds",
                              metrics::labels({{"handler", key.first}, {"method", key.second}}));
    }
    w.family("registry_http_in_flight_requests", "gauge", "Requests being answered now.");
    for (const auto& [handler, h] : handlers_) {
      w.sample("registry_http_in_flight_requests", metrics::labels({{"handler", handler}}),
               h->in_flight);
    }
    w.family("registry_http_request_size_bytes", "histogram", "Request body sizes.");
    for (const auto& [handler, h] : handlers_) {
      h->request_size.render(w, "registry_http_request_size_bytes",
                             metrics::labels({{"handler", handler}}));
    }
    w.family("registry_http_response_size_bytes", "histogram", "Response body sizes.");
    for (const auto& [handler, h] : handlers_) {
      h->response_size.render(w, "registry_http_response_size_bytes",
                              metrics::labels({{"handler", handler}}));
    }
    w.family("portico_registry_bytes_pushed_total", "counter",
             "Body bytes of successful blob uploads and manifest PUTs.");
    w.sample("portico_registry_bytes_pushed_total", "", bytes_pushed_);
    w.family("portico_registry_bytes_pulled_total", "counter",
             "Body bytes of successful blob and manifest GETs.");
    w.sample("portico_registry_bytes_pulled_total", "", bytes_pulled_);
    w.family("portico_registry_uploads_in_progress", "gauge",
             "Upload requests whose body is being received.");
    w.sample("portico_registry_uploads_in_progress", "", uploads_in_progress_);
    collectors = collectors_;
  }
  w.family("registry_storage_action_seconds", "histogram",
           "Time of each storage driver call, by driver and action.");
  for (size_t i = 0; i < kStorageActionCount; ++i) {
    storage_actions_[i]->render(
        w, "registry_storage_action_seconds",
        metrics::labels({{"driver", driver_name_}, {"action", kStorageActionNames[i]}}));
  }
  w.family("registry_storage_cache_total", "counter",
           "Descriptor cache lookups (no cache is configured: always 0).");
  auto load = [](const std::atomic<uint64_t>& a) { return a.load(std::memory_order_relaxed); };
  w.sample("registry_storage_cache_total", metrics::labels({{"type", "Request"}}),
           load(cache_requests));
  w.sample("registry_storage_cache_total", metrics::labels({{"type", "Hit"}}), load(cache_hits));
  w.sample("registry_storage_cache_total", metrics::labels({{"type", "Miss"}}), load(cache_misses));
  w.family("portico_registry_upload_purge_runs_total", "counter",
           "Runs of the upload purger (storage.maintenance.uploadpurging).");
  w.sample("portico_registry_upload_purge_runs_total", "", load(upload_purge_runs));
  for (const auto& collect : collectors) collect(w);
  return out;
}

RequestObservation::RequestObservation(RegistryMetrics& metrics, std::string_view handler,
                                       std::string method, bool upload_body)
    : metrics_(metrics),
      handler_(handler),
      method_(std::move(method)),
      upload_body_(upload_body),
      started_(std::chrono::steady_clock::now()) {
  metrics_.requestStarted(handler_, upload_body_);
}

RequestObservation::~RequestObservation() {
  finish(0, 0, 0);
}

void RequestObservation::finish(int status, uint64_t bytes_in, uint64_t bytes_out) {
  if (finished_) return;
  finished_ = true;
  double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
  metrics_.requestFinished(handler_, upload_body_, method_, status, bytes_in, bytes_out, seconds);
}

}  // namespace portico::observability
