#pragma once
// ApiRequest: one registry API request being answered: the exchange, its matched route, the
// namespace (registry/services.h) with the request's Context, the options, the event sink, and the
// response helpers every handler uses, so that each response carries
// `Docker-Distribution-Api-Version: registry/2.0` and the configured http.headers, every error goes
// through the one error table, and one access line is written when the response ends. The pipeline
// moves it into the request's Pending (the exchange's observer) before anything asynchronous
// happens.

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include "backend/api/api_options.h"
#include "backend/api/route_table.h"
#include "backend/observability/registry_metrics.h"
#include "backend/registry/events.h"
#include "backend/registry/services.h"
#include "common/error.h"
#include "common/http/server.h"

namespace portico::log {
class AccessLog;
}
namespace portico::net {
class Worker;
}

namespace portico::api {

class ApiRequest {
 public:
  // `worker` is where completions run (null in tools); `events` may be null (none reported).
  ApiRequest(http::ServerExchange& exchange, registry::Namespace& names, const ApiOptions& options,
             const RouteTable& routes, log::AccessLog* access_log, net::Worker* worker = nullptr,
             registry::EventSink* events = nullptr);
  ApiRequest(ApiRequest&&) noexcept = default;
  ApiRequest& operator=(ApiRequest&&) noexcept = default;
  ~ApiRequest();

  http::ServerExchange& exchange() { return *exchange_; }
  const http::RequestHead& request() const { return exchange_->request(); }
  registry::Namespace& names() { return *names_; }
  // The route's repository services (made on first use; repository routes only).
  registry::RepositoryService& repository();
  // Who asks and where completions run; shared by every call of this request.
  const registry::Context& context();
  // Starts this request's metrics (in flight until finish() or destruction) under the route's
  // handler name ("none" when not routed); null `metrics`: none kept.
  void observe(observability::RegistryMetrics* metrics);
  // Reports `event` (after the operation succeeded) with this request's context, then calls
  // `then` (on this worker, possibly synchronously) once the sink has it durably: respond
  // there. Wrap `then` with Pending::then: the request may end while the event is written.
  void emit(registry::Event event, storage::Done<void> then);
  // The sink wants Event::manifest set on manifest push and pull events.
  bool eventsWantManifest() const { return events_ != nullptr && events_->wantsReferences(); }
  const ApiOptions& options() const { return *options_; }
  const RouteTable& routes() const { return *routes_; }
  // The worker completions run on (null in tools).
  net::Worker* worker() const { return worker_; }
  const std::string& id() const { return id_; }
  bool isHead() const { return request().method == "HEAD"; }

  Route route;
  bool routed = false;  // route is valid (access logs name it)
  std::string actor;    // the user the AccessController authenticated (empty: anonymous)

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
  // Closes the connection (a body that cannot complete); the request has ended.
  void reset();
  // True once the response finished or the exchange went away: nothing may be sent.
  bool ended() const { return ended_; }
  // The exchange went away (Pending::onExchangeReset).
  void markEnded() { ended_ = true; }

 private:
  http::ServerExchange* exchange_;
  registry::Namespace* names_;
  net::Worker* worker_;
  registry::EventSink* events_;
  registry::Context context_;
  std::unique_ptr<registry::RepositoryService> repository_;
  const ApiOptions* options_;
  const RouteTable* routes_;
  log::AccessLog* access_log_;
  std::string id_;
  std::chrono::steady_clock::time_point started_;
  std::unique_ptr<observability::RequestObservation> observation_;
  int status_ = 0;
  bool ended_ = false;
};

}  // namespace portico::api
