#pragma once
// RegistryServer: a running portico-registry without its command line: the storage executor,
// the LocalNamespace over the given driver (through a TimedDriver), the metrics and health
// checks, one RegistryHandler per worker behind observability::DebugHandler (the "debug"
// listener's routes, /livez and /readyz) on an
// http::HttpServer. main.cc builds one from the configuration; test binaries
// (tests/integration/registry_gate_server.cc) build one over their own driver.
//
// Teardown order (the destructor): stop the HTTP server (the workers' loops end), drain the
// storage executor (queued calls and event appends finish; their completions are posted to
// loops that no longer run and are dropped), stop the notification senders, destroy the server
// (connections, their Pendings), then the health checks, the namespace, the access controller and
// the driver.

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "backend/api/access.h"
#include "backend/api/api_options.h"
#include "backend/notify/notifier.h"
#include "backend/observability/health.h"
#include "backend/observability/registry_metrics.h"
#include "backend/registry/descriptor_cache.h"
#include "backend/registry/events.h"
#include "backend/registry/local_services.h"
#include "backend/storage/executor.h"
#include "backend/storage/storage_driver.h"
#include "common/http/http_server.h"
#include "common/result.h"

namespace portico::log {
class AccessLog;
}

namespace portico::backend {

struct RegistryServerOptions {
  std::unique_ptr<storage::StorageDriver> driver;
  size_t storage_threads = storage::StorageExecutor::defaultThreads();  // maxthreads
  // storage.cache.blobdescriptor: inmemory: a DescriptorCache of this many entries in front
  // of the namespace (registry/descriptor_cache.h); 0: none.
  size_t descriptor_cache_size = 0;
  api::ApiOptions api;
  // Listeners ("http", optional "debug"), workers, limits; the handler factory is set here.
  http::ServerOptions server;
  log::AccessLog* access_log = nullptr;  // outlives the server; null: no access log
  // Makes the AccessController (backend/auth) once the storage executor exists; unset: AllowAll.
  std::function<Result<std::unique_ptr<api::AccessController>>(storage::StorageExecutor&)> access;
  // The debug listener: /metrics when prometheus is set (http.debug.prometheus), the
  // configured health checks behind /debug/health (the `health` section).
  bool prometheus = false;
  std::string prometheus_path = "/metrics";
  std::vector<observability::HealthCheckSpec> health;
  // notifications: no endpoints, no events (a NullEventSink).
  notify::NotifierOptions notifications;
};

class RegistryServer {
 public:
  static Result<std::unique_ptr<RegistryServer>> start(RegistryServerOptions options);
  ~RegistryServer();
  RegistryServer(const RegistryServer&) = delete;
  RegistryServer& operator=(const RegistryServer&) = delete;

  http::HttpServer& http() { return *http_; }
  storage::StorageDriver& driver() { return *driver_; }
  registry::LocalNamespace& names() { return *names_; }
  // What the API serves: names(), behind the descriptor cache when one is configured.
  registry::Namespace& services() {
    if (cached_names_) return *cached_names_;
    return *names_;
  }
  // Forgets everything cached about the storage (after garbage collection deleted): the
  // descriptor cache, the tag and referrer listings. Thread-safe.
  void invalidateCaches();
  storage::StorageExecutor& executor() { return *executor_; }
  // Always kept (requests, storage actions); rendered only with prometheus enabled.
  observability::RegistryMetrics& metrics() { return *metrics_; }

  // HttpServer::stop and wait.
  void stop(std::chrono::milliseconds drain);

 private:
  RegistryServer() = default;

  std::unique_ptr<observability::RegistryMetrics> metrics_;
  std::unique_ptr<storage::StorageDriver> driver_;  // a TimedDriver over the given driver
  std::unique_ptr<storage::StorageExecutor> executor_;
  std::unique_ptr<observability::StorageReadiness> readiness_;
  std::unique_ptr<observability::HealthChecks> health_;
  std::unique_ptr<registry::LocalNamespace> names_;
  std::unique_ptr<registry::DescriptorCache> descriptor_cache_;
  std::unique_ptr<registry::CachingNamespace> cached_names_;
  api::ApiOptions api_options_;
  std::unique_ptr<api::AccessController> access_;  // after the executor: its tasks use it
  registry::NullEventSink null_events_;
  std::unique_ptr<notify::Notifier> notifier_;  // after the executor: its appends use it
  std::unique_ptr<http::HttpServer> http_;
};

}  // namespace portico::backend
