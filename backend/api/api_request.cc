#include "backend/api/api_request.h"

#include <spdlog/spdlog.h>

#include "backend/api/error_response.h"
#include "backend/api/location.h"
#include "common/log/access_log.h"
#include "common/log/log.h"

namespace portico::api {

ApiRequest::ApiRequest(http::ServerExchange& exchange, registry::Namespace& names,
                       const ApiOptions& options, const RouteTable& routes,
                       log::AccessLog* access_log, net::Worker* worker, registry::EventSink* events)
    : exchange_(&exchange),
      names_(&names),
      worker_(worker),
      events_(events),
      options_(&options),
      routes_(&routes),
      access_log_(access_log),
      id_(log::newRequestId()),
      started_(std::chrono::steady_clock::now()) {}

ApiRequest::~ApiRequest() = default;

registry::RepositoryService& ApiRequest::repository() {
  if (!repository_) repository_ = names_->repository(route.repository);
  return *repository_;
}

const registry::Context& ApiRequest::context() {
  if (!context_) {
    auto ctx = std::make_shared<registry::RequestContext>();
    const auto& head = request();
    ctx->worker = worker_;
    ctx->request_id = id_;
    ctx->remote_addr = exchange_->connection().peer_address;
    ctx->host = std::string(head.headers.get("Host").value_or(""));
    ctx->method = head.method;
    ctx->user_agent = std::string(head.headers.get("User-Agent").value_or(""));
    ctx->actor = actor;
    context_ = std::move(ctx);
  }
  return context_;
}

void ApiRequest::observe(observability::RegistryMetrics* metrics) {
  if (metrics == nullptr) return;
  const std::string& method = request().method;
  bool upload_body = routed &&
                     (route.kind == RouteKind::UploadStart || route.kind == RouteKind::Upload) &&
                     (method == "PATCH" || method == "PUT" || method == "POST");
  observation_ = std::make_unique<observability::RequestObservation>(
      *metrics, routed ? routeName(route.kind) : std::string_view("none"), method, upload_body);
}

void ApiRequest::emit(registry::Event event, storage::Done<void> then) {
  if (events_ == nullptr) return then(Result<void>{});
  if (event.timestamp == std::chrono::system_clock::time_point{}) {
    event.timestamp = std::chrono::system_clock::now();
  }
  if (event.repository.empty() && routed) event.repository = route.repository.str();
  // distribution's target.url: the manifest or blob URL (none for deletes).
  if (event.url.empty() && event.digest && routed &&
      event.action != registry::Event::Action::Delete) {
    bool manifest = route.kind == RouteKind::Manifest;
    auto repository = registry::Repository::parse(event.repository);
    if (repository) {
      event.url = location(manifest ? routes_->manifestPath(*repository, event.digest->str())
                                    : routes_->blobPath(*repository, *event.digest));
    }
  }
  events_->emit(*context(), std::move(event), [then = std::move(then)] { then(Result<void>{}); });
}

http::HeaderMap ApiRequest::baseHeaders() const {
  http::HeaderMap headers;
  headers.add("Docker-Distribution-Api-Version", "registry/2.0");
  for (const auto& [name, value] : options_->headers) headers.add(name, value);
  return headers;
}

std::string ApiRequest::location(std::string_view path) const {
  return locationFor(request(), exchange_->connection().tls, *options_, path);
}

void ApiRequest::respond(int status, http::HeaderMap headers, std::string_view body) {
  headers.set("Content-Length", std::to_string(body.size()));
  sendHead(status, std::move(headers));
  if (!isHead() && !body.empty()) exchange_->sendBody(body);
  finish();
}

void ApiRequest::respondError(const Error& error, const http::HeaderMap& extra) {
  ErrorResponse response = errorResponse(error);
  if (response.status >= 500) {
    spdlog::error("request {} {} {}: {} {}", id_, request().method, request().path, error.message(),
                  error.detail());
  } else {
    spdlog::debug("request {} {} {}: {} {}", id_, request().method, request().path, error.message(),
                  error.detail());
  }
  http::HeaderMap headers = baseHeaders();
  for (const auto& [name, value] : extra) headers.set(name, value);
  headers.set("Content-Type", std::string(kJsonContentType));
  respond(response.status, std::move(headers), response.body);
}

void ApiRequest::sendHead(int status, http::HeaderMap headers) {
  status_ = status;
  http::ResponseHead head;
  head.status = status;
  head.headers = std::move(headers);
  exchange_->sendHead(std::move(head));
}

void ApiRequest::finish() {
  if (access_log_ != nullptr) {
    const auto& req = request();
    log::AccessRecord record;
    record.remote_addr = exchange_->connection().peer_address;
    record.method = req.method;
    record.target = req.target;
    record.protocol =
        "HTTP/" + std::to_string(req.version.major) + "." + std::to_string(req.version.minor);
    record.status = status_;
    record.bytes_sent = exchange_->bytesSent();
    record.bytes_received = exchange_->requestBody().bytesReceived();
    if (auto v = req.headers.get("Referer")) record.referer = std::string(*v);
    if (auto v = req.headers.get("User-Agent")) record.user_agent = std::string(*v);
    if (auto v = req.headers.get("Host")) record.host = std::string(*v);
    record.request_id = id_;
    record.duration_seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
    if (routed) record.route = std::string(routeName(route.kind));
    access_log_->write(record);
  }
  if (observation_) {
    observation_->finish(status_, exchange_->requestBody().bytesReceived(), exchange_->bytesSent());
  }
  ended_ = true;
  exchange_->finish();
}

void ApiRequest::reset() {
  ended_ = true;
  exchange_->reset();
}

}  // namespace portico::api
