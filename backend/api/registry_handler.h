#pragma once
// RegistryHandler: portico-registry's http::RequestHandler, one per worker. Runs the request
// pipeline (pipeline.h): matches the route (RouteTable), answers route errors (404 JSON, 405
// UNSUPPORTED with Allow, NAME_INVALID...), attaches the request's Pending, authorizes, applies
// the policy and dispatches to the handlers in handlers.h.

#include "backend/api/access.h"
#include "backend/api/api_options.h"
#include "backend/api/route_table.h"
#include "backend/observability/registry_metrics.h"
#include "backend/registry/events.h"
#include "backend/registry/services.h"
#include "common/http/server.h"

namespace portico::log {
class AccessLog;
}
namespace portico::net {
class Worker;
}

namespace portico::api {

// What every worker's handler shares; all of it outlives the handlers.
struct ApiServices {
  registry::Namespace& names;
  const ApiOptions& options;
  AccessController& access;
  registry::EventSink& events;
  log::AccessLog* access_log = nullptr;               // null: access logging disabled
  observability::RegistryMetrics* metrics = nullptr;  // null: no metrics kept
};

class RegistryHandler : public http::RequestHandler {
 public:
  // Completions of the services' calls run on `worker` (the one this handler serves).
  RegistryHandler(const ApiServices& services, net::Worker* worker);

  // http::RequestHandler
  void onRequest(http::ServerExchange& exchange) override;

 private:
  ApiServices services_;
  net::Worker* worker_;
  RouteTable routes_;
};

}  // namespace portico::api
