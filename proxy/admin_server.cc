#include "proxy/admin_server.h"

#include <nlohmann/json.hpp>

#include <map>

namespace portico::proxy {

std::string AdminHandler::renderMetrics(ProxyRuntime& runtime) {
  std::string out;
  out.reserve(size_t{16} * 1024);
  runtime.metrics.render(out);
  auto snapshot = runtime.current();
  if (snapshot) {
    // Sorted by name so the output is stable.
    std::map<std::string, const UpstreamGroup*> sorted;
    for (const auto& [name, upstream] : snapshot->upstreams) sorted[name] = upstream.group.get();
    std::vector<const UpstreamGroup*> groups;
    groups.reserve(sorted.size());
    for (const auto& [name, group] : sorted) groups.push_back(group);
    appendUpstreamMetrics(out, groups, SteadyClock::now());
  }
  return out;
}

std::string AdminHandler::renderHealth(ProxyRuntime& runtime) {
  nlohmann::json upstreams = nlohmann::json::object();
  auto snapshot = runtime.current();
  auto now = SteadyClock::now();
  if (snapshot) {
    for (const auto& [name, upstream] : snapshot->upstreams) {
      nlohmann::json servers = nlohmann::json::array();
      for (size_t i = 0; i < upstream.group->size(); ++i) {
        const UpstreamServer& server = upstream.group->server(i);
        servers.push_back({{"address", server.address()},
                           {"up", server.available(now)},
                           {"healthy", server.healthy()},
                           {"active_requests", server.active()}});
      }
      upstreams[name] = servers;
    }
  }
  nlohmann::json body = {{"status", "ok"}, {"upstreams", upstreams}};
  return body.dump() + "\n";
}

void AdminHandler::onRequest(http::ServerExchange& exchange) {
  const http::RequestHead& request = exchange.request();
  http::HeaderMap headers;
  if (request.method != "GET" && request.method != "HEAD") {
    headers.add("Allow", "GET, HEAD");
    headers.add("Content-Type", "text/plain; charset=utf-8");
    exchange.respond(405, std::move(headers), "method not allowed\n");
    return;
  }
  if (request.path == "/health" || request.path == "/healthz") {
    bool verbose = request.queryParam("verbose").has_value() ||
                   request.headers.hasToken("Accept", "application/json");
    if (verbose) {
      headers.add("Content-Type", "application/json");
      exchange.respond(200, std::move(headers), renderHealth(runtime_));
    } else {
      headers.add("Content-Type", "text/plain; charset=utf-8");
      exchange.respond(200, std::move(headers), "ok\n");
    }
    return;
  }
  if (request.path == "/metrics") {
    headers.add("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
    exchange.respond(200, std::move(headers), renderMetrics(runtime_));
    return;
  }
  headers.add("Content-Type", "text/plain; charset=utf-8");
  exchange.respond(404, std::move(headers),
                   "not found: the admin listener serves /health and /metrics\n");
}

}  // namespace portico::proxy
