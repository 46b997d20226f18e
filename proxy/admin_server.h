#pragma once
// The admin listener's request handler (proxy.yml `admin.address`):
//   GET /health   200 "ok" while the process serves (JSON with the upstreams' state when
//                 asked with ?verbose or Accept: application/json)
//   GET /metrics  Prometheus text format 0.0.4: ProxyMetrics plus upstream health
// Anything else is 404; methods other than GET/HEAD are 405. Reads only atomics and the
// current snapshot: never blocks a proxy worker.

#include <string>

#include "common/http/server.h"
#include "proxy/proxy_runtime.h"

namespace portico::proxy {

class AdminHandler final : public http::RequestHandler {
 public:
  explicit AdminHandler(ProxyRuntime& runtime) : runtime_(runtime) {}
  void onRequest(http::ServerExchange& exchange) override;

  // The /metrics body for the runtime's current state.
  static std::string renderMetrics(ProxyRuntime& runtime);
  // The /health body (JSON form).
  static std::string renderHealth(ProxyRuntime& runtime);

 private:
  ProxyRuntime& runtime_;
};

}  // namespace portico::proxy
