#pragma once
// DebugHandler: answers the debug listener (http.debug.addr) and hands every other listener's
// requests to the API handler, except /livez and /readyz, which every listener answers (the
// proxy's active health check reaches only the API port). Debug listener routes:
//   /debug/health (and /health)  200 {} when every configured health check passes, else 503
//                                with {"<check>": "<error>", ...} (distribution's format)
//   /livez                       200 while the process serves (Kubernetes liveness)
//   /readyz                      200 when the storage is reachable now (a driver stat on the
//                                storage executor), else 503 (Kubernetes readiness)
//   <prometheus path>            the Prometheus text (http.debug.prometheus.enabled)
// What this does not do: authenticate. The debug listener belongs on a private address.

#include <memory>
#include <string>

#include "backend/observability/health.h"
#include "backend/observability/registry_metrics.h"
#include "backend/storage/executor.h"
#include "common/http/server.h"

namespace portico::net {
class Worker;
}

namespace portico::observability {

struct DebugOptions {
  RegistryMetrics* metrics = nullptr;  // null: no /metrics
  std::string metrics_path = "/metrics";
  HealthChecks* health = nullptr;  // null: /debug/health is always 200
  // /readyz: runs readiness.check() on `executor`, answers on `worker`.
  StorageReadiness* readiness = nullptr;
  storage::StorageExecutor* executor = nullptr;
};

class DebugHandler : public http::RequestHandler {
 public:
  DebugHandler(std::unique_ptr<http::RequestHandler> api, DebugOptions options,
               net::Worker* worker);

  // http::RequestHandler
  void onRequest(http::ServerExchange& exchange) override;

 private:
  void ready(http::ServerExchange& exchange);

  std::unique_ptr<http::RequestHandler> api_;
  DebugOptions options_;
  net::Worker* worker_;
};

}  // namespace portico::observability
