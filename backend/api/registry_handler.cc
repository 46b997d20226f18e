#include "backend/api/registry_handler.h"

#include <variant>

#include "backend/api/api_request.h"
#include "backend/api/error_response.h"
#include "backend/api/pending.h"
#include "backend/api/pipeline.h"

namespace portico::api {

RegistryHandler::RegistryHandler(const ApiServices& services, net::Worker* worker)
    : services_(services), worker_(worker), routes_(services.options.prefix) {}

void RegistryHandler::onRequest(http::ServerExchange& exchange) {
  ApiRequest request(exchange, services_.names, services_.options, routes_, services_.access_log,
                     worker_, &services_.events);
  const auto& head = exchange.request();
  RouteMatch match = routes_.match(head.method, head.path);

  if (std::holds_alternative<RouteNotFound>(match)) {
    request.observe(services_.metrics);
    ErrorResponse response = routeNotFound(head.path);
    http::HeaderMap headers = request.baseHeaders();
    headers.set("Content-Type", std::string(kJsonContentType));
    request.respond(response.status, std::move(headers), response.body);
    return;
  }
  if (auto* not_allowed = std::get_if<MethodNotAllowed>(&match)) {
    request.route.kind = not_allowed->kind;
    request.routed = true;
    request.observe(services_.metrics);
    http::HeaderMap allow;
    allow.set("Allow", std::string(allowedMethods(not_allowed->kind)));
    request.respondError(Error{registry::ErrorCode::Unsupported, "method not allowed",
                               head.method + " is not allowed on this route"},
                         allow);
    return;
  }
  if (auto* error = std::get_if<Error>(&match)) {
    request.observe(services_.metrics);
    request.respondError(*error);
    return;
  }
  request.route = std::move(std::get<Route>(match));
  request.routed = true;
  request.observe(services_.metrics);
  runPipeline(Pending::attach(std::move(request)), services_.access);
}

}  // namespace portico::api
