#include "backend/registry_server.h"

#include <utility>

#include "backend/api/registry_handler.h"

namespace portico::backend {
namespace {

// Answers the debug listener (http.debug.addr): /debug/health → 200 {}.
class DebugHandler : public http::RequestHandler {
 public:
  explicit DebugHandler(std::unique_ptr<http::RequestHandler> api) : api_(std::move(api)) {}
  void onRequest(http::ServerExchange& exchange) override {
    if (exchange.connection().listener != "debug") return api_->onRequest(exchange);
    http::HeaderMap headers;
    headers.set("Content-Type", "application/json; charset=utf-8");
    if (exchange.request().path == "/debug/health" || exchange.request().path == "/health") {
      exchange.respond(200, std::move(headers), "{}");
    } else {
      exchange.respond(404, std::move(headers), "{\"error\":\"not found\"}");
    }
  }

 private:
  std::unique_ptr<http::RequestHandler> api_;
};

}  // namespace

Result<std::unique_ptr<RegistryServer>> RegistryServer::start(RegistryServerOptions options) {
  std::unique_ptr<RegistryServer> server(new RegistryServer());
  server->driver_ = std::move(options.driver);
  server->executor_ = std::make_unique<storage::StorageExecutor>(options.storage_threads);
  server->names_ = std::make_unique<registry::LocalNamespace>(*server->driver_, *server->executor_);
  server->api_options_ = std::move(options.api);
  if (options.access) {
    auto access = options.access(*server->executor_);
    if (!access) return access.error();
    server->access_ = std::move(*access);
  } else {
    server->access_ = std::make_unique<api::AllowAll>();
  }

  bool debug = false;
  for (const auto& listener : options.server.listeners) debug |= listener.name == "debug";
  api::ApiServices services{*server->names_, server->api_options_, *server->access_,
                            server->events_, options.access_log};
  options.server.handler_factory =
      [services, debug](net::Worker& worker) -> std::unique_ptr<http::RequestHandler> {
    auto api = std::make_unique<api::RegistryHandler>(services, &worker);
    if (!debug) return api;
    return std::make_unique<DebugHandler>(std::move(api));
  };
  auto http = http::HttpServer::start(std::move(options.server));
  if (!http) return http.error();
  server->http_ = std::move(*http);
  return server;
}

void RegistryServer::stop(std::chrono::milliseconds drain) {
  if (!http_) return;
  http_->stop(drain);
  http_->wait();
}

RegistryServer::~RegistryServer() {
  if (http_) {
    http_->stop(std::chrono::milliseconds(0));
    http_->wait();
  }
  executor_.reset();  // runs what is queued; completions go to loops that have ended
  http_.reset();
  names_.reset();
  access_.reset();
  driver_.reset();
}

}  // namespace portico::backend
