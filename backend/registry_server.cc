#include "backend/registry_server.h"

#include <utility>

#include "backend/api/registry_handler.h"
#include "backend/observability/debug_handler.h"
#include "backend/observability/timed_driver.h"

namespace portico::backend {

Result<std::unique_ptr<RegistryServer>> RegistryServer::start(RegistryServerOptions options) {
  std::unique_ptr<RegistryServer> server(new RegistryServer());
  server->metrics_ = std::make_unique<observability::RegistryMetrics>();
  server->driver_ =
      std::make_unique<observability::TimedDriver>(std::move(options.driver), *server->metrics_);
  server->executor_ = std::make_unique<storage::StorageExecutor>(options.storage_threads);
  server->readiness_ = std::make_unique<observability::StorageReadiness>(*server->driver_);
  server->health_ = std::make_unique<observability::HealthChecks>(
      std::move(options.health), *server->readiness_, server->driver_->name());
  storage::StorageExecutor* executor = server->executor_.get();
  server->metrics_->addCollector([executor](metrics::TextWriter& w) {
    w.family("portico_registry_storage_queue_length", "gauge",
             "Storage calls queued for the storage threads and not yet started.");
    w.sample("portico_registry_storage_queue_length", "",
             static_cast<uint64_t>(executor->queueLength()));
    w.family("portico_registry_storage_worker_reads_total", "counter",
             "Read-only storage calls tried on the asking worker (storage/nowait.h): answered "
             "there, or would_block (run again on a storage thread).");
    w.sample("portico_registry_storage_worker_reads_total", "result=\"answered\"",
             executor->answeredHere());
    w.sample("portico_registry_storage_worker_reads_total", "result=\"would_block\"",
             executor->answeredHereRefused());
  });
  server->names_ = std::make_unique<registry::LocalNamespace>(*server->driver_, *server->executor_);
  if (options.descriptor_cache_size > 0) {
    auto& m = *server->metrics_;
    server->descriptor_cache_ = std::make_unique<registry::DescriptorCache>(
        options.descriptor_cache_size,
        registry::CacheCounters{&m.cache_requests, &m.cache_hits, &m.cache_misses});
    server->cached_names_ =
        std::make_unique<registry::CachingNamespace>(*server->names_, *server->descriptor_cache_);
  }
  server->api_options_ = std::move(options.api);
  if (options.access) {
    auto access = options.access(*server->executor_);
    if (!access) return access.error();
    server->access_ = std::move(*access);
  } else {
    server->access_ = std::make_unique<api::AllowAll>();
  }

  registry::EventSink* events = &server->null_events_;
  if (!options.notifications.endpoints.empty()) {
    auto notifier = notify::Notifier::start(std::move(options.notifications), *executor);
    if (!notifier) return notifier.error();
    server->notifier_ = std::move(*notifier);
    server->notifier_->addMetrics(*server->metrics_);
    events = server->notifier_.get();
  }
  api::ApiServices services{server->services(), server->api_options_,  *server->access_, *events,
                            options.access_log, server->metrics_.get()};
  observability::DebugOptions debug_options{
      .metrics = options.prometheus ? server->metrics_.get() : nullptr,
      .metrics_path = options.prometheus_path,
      .health = server->health_.get(),
      .readiness = server->readiness_.get(),
      .executor = executor};
  options.server.handler_factory =
      [services, debug_options](net::Worker& worker) -> std::unique_ptr<http::RequestHandler> {
    auto api = std::make_unique<api::RegistryHandler>(services, &worker);
    return std::make_unique<observability::DebugHandler>(std::move(api), debug_options, &worker);
  };
  auto http = http::HttpServer::start(std::move(options.server));
  if (!http) return http.error();
  server->http_ = std::move(*http);
  return server;
}

void RegistryServer::invalidateCaches() {
  if (descriptor_cache_) descriptor_cache_->clear();
  names_->stores().tags.clearCache();
  names_->stores().referrers.clearCache();
}

void RegistryServer::stop(std::chrono::milliseconds drain) {
  if (!http_) return;
  http_->stop(drain);
  http_->wait();
}

RegistryServer::~RegistryServer() {
  if (http_) {
    http_->stop(std::chrono::milliseconds(0));
    http_->wait();
  }
  executor_.reset();  // runs what is queued; completions go to loops that have ended
  notifier_.reset();  // stops the senders; what is undelivered stays on disk
  http_.reset();
  health_.reset();
  cached_names_.reset();
  descriptor_cache_.reset();
  names_.reset();
  access_.reset();
  driver_.reset();
}

}  // namespace portico::backend
