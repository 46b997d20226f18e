#pragma once
// ApiRequest: one registry API request being answered: the exchange, its matched route, the
// shared services and options, and the response helpers every handler uses, so that each
// response carries `Docker-Distribution-Api-Version: registry/2.0` and the configured
// http.headers, every error goes through the one error table, and one access line is
// written when the response ends. Handlers that continue asynchronously (streaming bodies)
// move the ApiRequest into the observer they attach to the exchange.

#include <chrono>
#include <string>
#include <string_view>

#include "backend/api/api_options.h"
#include "backend/api/route_table.h"
#include "backend/api/services.h"
#include "common/error.h"
#include "common/http/server.h"

namespace portico::log {
class AccessLog;
}

namespace portico::api {

class ApiRequest {
 public:
  ApiRequest(http::ServerExchange& exchange, Services& services, const ApiOptions& options,
             const RouteTable& routes, log::AccessLog* access_log);

  http::ServerExchange& exchange() { return *exchange_; }
  const http::RequestHead& request() const { return exchange_->request(); }
  Services& services() { return *services_; }
  const ApiOptions& options() const { return *options_; }
  const RouteTable& routes() const { return *routes_; }
  const std::string& id() const { return id_; }
  bool isHead() const { return request().method == "HEAD"; }

  Route route;
  bool routed = false;  // route is valid (access logs name it)

  // Headers every response starts with.
  http::HeaderMap baseHeaders() const;
  // An absolute (or relative, per options) URL for a path from RouteTable.
  std::string location(std::string_view path) const;

  // A complete response with a small body (Content-Length set; no body sent for HEAD, but
  // Content-Length still the body's), then finish().
  void respond(int status, http::HeaderMap headers, std::string_view body = {});
  // The error's status and JSON body; logs it once with the request id.
  void respondError(const Error& error, const http::HeaderMap& extra = {});
  // Starts a streamed response (the caller sends the body, then calls finish()).
  void sendHead(int status, http::HeaderMap headers);
  // Ends the response and writes the access line. Must be the last use of this object's
  // exchange: finishing may destroy the observer that owns this ApiRequest.
  void finish();

 private:
  http::ServerExchange* exchange_;
  Services* services_;
  const ApiOptions* options_;
  const RouteTable* routes_;
  log::AccessLog* access_log_;
  std::string id_;
  std::chrono::steady_clock::time_point started_;
  int status_ = 0;
};

}  // namespace portico::api
