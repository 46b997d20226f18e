#include "backend/api/registry_handler.h"

#include <variant>

#include "backend/api/api_request.h"
#include "backend/api/error_response.h"
#include "backend/api/handlers.h"

namespace portico::api {

RegistryHandler::RegistryHandler(Services& services, const ApiOptions& options,
                                 log::AccessLog* access_log)
    : services_(services), options_(options), access_log_(access_log), routes_(options.prefix) {}

void RegistryHandler::onRequest(http::ServerExchange& exchange) {
  ApiRequest request(exchange, services_, options_, routes_, access_log_);
  const auto& head = exchange.request();
  RouteMatch match = routes_.match(head.method, head.path);

  if (std::holds_alternative<RouteNotFound>(match)) {
    ErrorResponse response = routeNotFound(head.path);
    http::HeaderMap headers = request.baseHeaders();
    headers.set("Content-Type", std::string(kJsonContentType));
    request.respond(response.status, std::move(headers), response.body);
    return;
  }
  if (auto* not_allowed = std::get_if<MethodNotAllowed>(&match)) {
    request.route.kind = not_allowed->kind;
    request.routed = true;
    http::HeaderMap allow;
    allow.set("Allow", std::string(allowedMethods(not_allowed->kind)));
    request.respondError(Error{registry::ErrorCode::Unsupported, "method not allowed",
                               head.method + " is not allowed on this route"},
                         allow);
    return;
  }
  if (auto* error = std::get_if<Error>(&match)) {
    request.respondError(*error);
    return;
  }
  request.route = std::move(std::get<Route>(match));
  request.routed = true;
  switch (request.route.kind) {
    case RouteKind::Base:
      return handleBase(std::move(request));
    case RouteKind::Catalog:
      return handleCatalog(std::move(request));
    case RouteKind::Tags:
      return handleTags(std::move(request));
    case RouteKind::Blob:
      return handleBlob(std::move(request));
    case RouteKind::UploadStart:
      return handleUploadStart(std::move(request));
    case RouteKind::Upload:
      return handleUpload(std::move(request));
    case RouteKind::Manifest:
      return handleManifest(std::move(request));
    case RouteKind::Referrers:
      return handleReferrers(std::move(request));
  }
}

}  // namespace portico::api
