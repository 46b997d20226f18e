#pragma once
// RegistryHandler: portico-registry's http::RequestHandler, one per worker. Matches the route
// (RouteTable), answers route errors (404 JSON, 405 UNSUPPORTED with Allow, NAME_INVALID...)
// and dispatches to the handlers in handlers.h.

#include "backend/api/api_options.h"
#include "backend/api/route_table.h"
#include "backend/api/services.h"
#include "common/http/server.h"

namespace portico::log {
class AccessLog;
}

namespace portico::api {

class RegistryHandler : public http::RequestHandler {
 public:
  // `access_log` may be null (access logging disabled). All references outlive the handler.
  RegistryHandler(Services& services, const ApiOptions& options, log::AccessLog* access_log);

  // http::RequestHandler
  void onRequest(http::ServerExchange& exchange) override;

 private:
  Services& services_;
  const ApiOptions& options_;
  log::AccessLog* access_log_;
  RouteTable routes_;
};

}  // namespace portico::api
