#pragma once
// RegistryServer: a running portico-registry without its command line: the storage executor,
// the LocalNamespace over the given driver, one RegistryHandler per worker (behind the debug
// handler when a "debug" listener is configured) on an http::HttpServer. main.cc builds one
// from the configuration; test binaries (tests/integration/registry_gate_server.cc) build
// one over their own driver.
//
// Teardown order (the destructor): stop the HTTP server (the workers' loops end), drain the
// storage executor (queued calls finish; their completions are posted to loops that no longer
// run and are dropped), destroy the server (connections, their Pendings), then the namespace,
// the access controller and the driver.

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>

#include "backend/api/access.h"
#include "backend/api/api_options.h"
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
  api::ApiOptions api;
  // Listeners ("http", optional "debug"), workers, limits; the handler factory is set here.
  http::ServerOptions server;
  log::AccessLog* access_log = nullptr;  // outlives the server; null: no access log
  // Makes the AccessController (backend/auth) once the storage executor exists; unset: AllowAll.
  std::function<Result<std::unique_ptr<api::AccessController>>(storage::StorageExecutor&)> access;
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
  storage::StorageExecutor& executor() { return *executor_; }

  // HttpServer::stop and wait.
  void stop(std::chrono::milliseconds drain);

 private:
  RegistryServer() = default;

  std::unique_ptr<storage::StorageDriver> driver_;
  std::unique_ptr<storage::StorageExecutor> executor_;
  std::unique_ptr<registry::LocalNamespace> names_;
  api::ApiOptions api_options_;
  std::unique_ptr<api::AccessController> access_;  // after the executor: its tasks use it
  registry::NullEventSink events_;
  std::unique_ptr<http::HttpServer> http_;
};

}  // namespace portico::backend
