#include "backend/observability/debug_handler.h"

#include <nlohmann/json.hpp>
#include <utility>

#include "common/net/worker.h"

namespace portico::observability {
namespace {

constexpr std::string_view kJson = "application/json; charset=utf-8";

void respondJson(http::ServerExchange& exchange, int status, const std::string& body) {
  http::HeaderMap headers;
  headers.set("Content-Type", std::string(kJson));
  headers.set("Cache-Control", "no-cache");
  exchange.respond(status, std::move(headers), body);
}

}  // namespace

DebugHandler::DebugHandler(std::unique_ptr<http::RequestHandler> api, DebugOptions options,
                           net::Worker* worker)
    : api_(std::move(api)), options_(std::move(options)), worker_(worker) {}

void DebugHandler::onRequest(http::ServerExchange& exchange) {
  const std::string& path = exchange.request().path;
  if (exchange.connection().listener != "debug") {
    // The probes are answered on the API listener too, so that a proxy or an orchestrator
    // that reaches only that port can use them (as zot does); nothing else is.
    if (path == "/livez") return respondJson(exchange, 200, "{}");
    if (path == "/readyz") return ready(exchange);
    return api_->onRequest(exchange);
  }
  if (path == "/debug/health" || path == "/health") {
    auto failures =
        options_.health ? options_.health->failures() : std::map<std::string, std::string>{};
    nlohmann::json body = nlohmann::json::object();
    for (const auto& [name, error] : failures) body[name] = error;
    return respondJson(exchange, failures.empty() ? 200 : 503, body.dump());
  }
  if (path == "/livez") return respondJson(exchange, 200, "{}");
  if (path == "/readyz") return ready(exchange);
  if (options_.metrics != nullptr && path == options_.metrics_path) {
    http::HeaderMap headers;
    headers.set("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
    return exchange.respond(200, std::move(headers), options_.metrics->render());
  }
  respondJson(exchange, 404, "{\"error\":\"not found\"}");
}

// The readiness answer comes back from a storage thread; the exchange may be gone by then,
// so it is reached only through an observer the exchange owns (weak token as api::Pending).
void DebugHandler::ready(http::ServerExchange& exchange) {
  if (options_.readiness == nullptr || options_.executor == nullptr || worker_ == nullptr) {
    return respondJson(exchange, 200, "{}");
  }
  struct Waiting : http::ExchangeObserver {
    std::shared_ptr<http::ServerExchange*> token;
  };
  auto waiting = std::make_unique<Waiting>();
  waiting->token = std::make_shared<http::ServerExchange*>(&exchange);
  std::weak_ptr<http::ServerExchange*> weak = waiting->token;
  exchange.attach(std::move(waiting));
  StorageReadiness* readiness = options_.readiness;
  options_.executor->run<bool>(
      worker_,
      [readiness]() -> Result<bool> {
        auto checked = readiness->check();
        if (!checked) return checked.error();
        return true;
      },
      [weak](Result<bool> result) {
        auto token = weak.lock();
        if (!token) return;
        if (result) return respondJson(**token, 200, "{}");
        nlohmann::json body = {{"storage", result.error().message()}};
        respondJson(**token, 503, body.dump());
      });
}

}  // namespace portico::observability
