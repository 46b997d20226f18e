// portico-proxy: the TLS front proxy (see docs/proxy.md).
//   portico-proxy [--config FILE]       run (default conf/proxy.yml)
//   portico-proxy check-config FILE     validate a configuration and exit
//   portico-proxy -h | --help | -V | --version

#include <spdlog/spdlog.h>

#include <csignal>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/build_info.h"
#include "common/config/yaml_document.h"
#include "common/http/http_server.h"
#include "common/log/access_log.h"
#include "common/log/log.h"
#include "common/net/address.h"
#include "common/net/bufferevent_tuning.h"
#include "common/net/signals.h"
#include "common/net/tls_context.h"
#include "common/net/worker.h"
#include "proxy/admin_server.h"
#include "proxy/health_checker.h"
#include "proxy/proxy_config.h"
#include "proxy/proxy_runtime.h"

namespace portico::proxy {
namespace {

constexpr const char* kDefaultConfig = "conf/proxy.yml";
constexpr std::chrono::seconds kDrainGrace{30};
constexpr const char* kAdminListener = "admin";

void printHelp() {
  std::cout << R"(portico-proxy - TLS front proxy for a container registry, routing by User-Agent

Usage:
  portico-proxy [--config FILE]        run with FILE (default: conf/proxy.yml)
  portico-proxy check-config FILE      validate FILE and the certificate files it names;
                                       prints "configuration OK" (exit 0) or
                                       "FILE:LINE: KEY: message" (exit 1)
  portico-proxy -h | --help            this text
  portico-proxy -V | --version         the version

Options:
  -c, --config FILE   configuration file (YAML; reference: conf/proxy.yml, docs/proxy.md);
                      also --config=FILE

Signals:
  SIGHUP              reload: re-read the configuration (routes, upstreams) and the TLS
                      certificates; a bad configuration is logged and the old one keeps
                      serving; open connections are not dropped. Listen addresses, limits,
                      workers, admin and logs need a restart
  SIGTERM, SIGINT     graceful stop: stop accepting, finish in-flight requests (up to 30 s)

Exit status: 0 after a graceful stop, 1 when the configuration or a listener cannot be set
up (the reason is logged), 2 for a command-line error.

Ready lines (in the log, on stderr):
  ... info [thread] listening on https://0.0.0.0:5000 (listen[0])
  ... info [thread] listening on http://127.0.0.1:5002 (admin)
  ... info [thread] ready

Example:
  portico-proxy --config /etc/portico/proxy.yml
  curl --cacert ca.crt https://registry.example.com:5000/v2/
  curl http://127.0.0.1:5002/metrics
)";
}

// A worker's handler: the admin listener's requests go to AdminHandler, the rest are proxied.
class ListenerDispatch final : public http::RequestHandler {
 public:
  ListenerDispatch(event_base& base, ProxyRuntime& runtime)
      : proxy_(base, runtime), admin_(runtime) {}
  void onRequest(http::ServerExchange& exchange) override {
    if (exchange.connection().listener == kAdminListener) {
      admin_.onRequest(exchange);
    } else {
      proxy_.onRequest(exchange);
    }
  }

 private:
  ProxyHandler proxy_;
  AdminHandler admin_;
};

// Builds a group and the factory of its per-worker pools. Throws std::runtime_error
// (startup/reload only) on a bad address or TLS file.
SnapshotUpstream makeUpstream(const UpstreamGroupOptions& options,
                              const http::ServerLimits& limits) {
  std::vector<net::Address> addresses;
  for (const auto& server : options.servers) {
    auto address = net::Address::parse(server);
    if (!address) {
      throw std::runtime_error("upstream " + options.name + ": " + address.error().message());
    }
    addresses.push_back(std::move(*address));
  }
  std::shared_ptr<net::TlsClientContext> tls;
  if (options.tls) {
    auto created = net::TlsClientContext::create(*options.tls);
    if (!created) {
      throw std::runtime_error("upstream " + options.name + " tls: " + created.error().message());
    }
    tls = std::move(*created);
  }
  http::ClientPool::Options pool_options;
  pool_options.max_idle = options.keepalive;
  pool_options.timeouts = options.timeouts;
  pool_options.high_watermark = limits.high_watermark;
  pool_options.low_watermark = limits.low_watermark;
  pool_options.max_header_bytes = static_cast<uint32_t>(limits.header_bytes);

  SnapshotUpstream upstream;
  upstream.group = std::make_shared<UpstreamGroup>(options);
  upstream.make_pool = [addresses, tls, pool_options](event_base& base, size_t index) {
    return http::ClientPool::create(base, addresses[index], tls, pool_options);
  };
  return upstream;
}

// Turns a loaded configuration into a snapshot; groups whose definition did not change
// are taken over from `previous` (keeping health state and pools).
std::shared_ptr<ProxySnapshot> buildSnapshot(ProxyConfig& config, ProxyRuntime& runtime,
                                             const ProxySnapshot* previous) {
  auto snapshot = std::make_shared<ProxySnapshot>();
  for (const auto& [name, options] : config.upstreams) {
    UpstreamGroupOptions named = options;
    named.name = name;
    const SnapshotUpstream* old = previous != nullptr ? previous->upstream(name) : nullptr;
    if (old != nullptr && old->group->options() == named) {
      snapshot->upstreams.emplace(name, *old);
    } else {
      snapshot->upstreams.emplace(name, makeUpstream(named, config.limits));
    }
  }
  for (const auto& rule : config.router.rules()) {
    const RouteAction& action = rule.action;
    bool forward = action.kind == RouteAction::Kind::Forward;
    snapshot->route_metrics[action.route] =
        &runtime.metrics.route(action.route, forward ? action.upstream : "");
  }
  snapshot->unrouted_metrics = &runtime.metrics.route("", "");
  snapshot->router = std::make_shared<const Router>(std::move(config.router));
  return snapshot;
}

std::vector<SnapshotUpstream> upstreamList(const ProxySnapshot& snapshot) {
  std::vector<SnapshotUpstream> list;
  for (const auto& [name, upstream] : snapshot.upstreams) list.push_back(upstream);
  return list;
}

bool sameUpstreamSet(const ProxySnapshot& a, const ProxySnapshot& b) {
  if (a.upstreams.size() != b.upstreams.size()) return false;
  for (const auto& [name, upstream] : a.upstreams) {
    const SnapshotUpstream* other = b.upstream(name);
    if (other == nullptr || other->group != upstream.group) return false;
  }
  return true;
}

int checkConfig(const std::string& path) {
  try {
    ProxyConfig config = ProxyConfig::load(path);
    for (const auto& warning : config.warnings) std::cerr << "warning: " << warning << "\n";
    // Files named by the config must load too (certificates, upstream TLS).
    for (const auto& listen : config.listen) {
      if (!listen.tls) continue;
      auto tls = net::TlsServerContext::create(*listen.tls);
      if (!tls) throw std::runtime_error(listen.address + " tls: " + tls.error().message());
    }
    for (const auto& [name, options] : config.upstreams) {
      UpstreamGroupOptions named = options;
      named.name = name;
      (void)makeUpstream(named, config.limits);
    }
  } catch (const std::exception& e) {
    std::cerr << e.what() << "\n";
    return 1;
  }
  std::cout << "configuration OK\n";
  return 0;
}

int run(const std::string& path) {
  net::blockSignals();
  net::tuneAllocator();
  ProxyConfig config;
  try {
    config = ProxyConfig::load(path);
  } catch (const std::exception& e) {
    std::cerr << e.what() << "\n";
    return 1;
  }
  log::setup(config.log);
  for (const auto& warning : config.warnings) spdlog::warn("{}", warning);

  ProxyRuntime runtime;
  std::unique_ptr<HealthChecker> health;
  std::unique_ptr<http::HttpServer> server;
  std::vector<std::shared_ptr<net::TlsServerContext>> tls_contexts;
  try {
    if (config.access_log.path != "off") {
      runtime.access_log = log::AccessLog::open(config.access_log.path, config.access_log.options);
    }
    http::ServerOptions options;
    options.workers = config.workers;
    options.limits = config.limits;
    for (size_t i = 0; i < config.listen.size(); ++i) {
      const ListenConfig& listen = config.listen[i];
      http::ListenerSpec listener;
      listener.name = "listen[" + std::to_string(i) + "]";
      listener.address = listen.address;
      if (listen.tls) {
        auto tls = net::TlsServerContext::create(*listen.tls);
        if (!tls) throw std::runtime_error(listen.address + " tls: " + tls.error().message());
        listener.tls = *tls;
        tls_contexts.push_back(*tls);
      }
      options.listeners.push_back(std::move(listener));
    }
    if (!config.admin.address.empty()) {
      options.listeners.push_back(
          http::ListenerSpec{kAdminListener, config.admin.address, nullptr});
    }
    auto snapshot = buildSnapshot(config, runtime, nullptr);
    runtime.publish(snapshot);
    health = std::make_unique<HealthChecker>(upstreamList(*snapshot));
    if (auto started = health->start(); !started) {
      throw std::runtime_error("health checks: " + started.error().message());
    }
    options.handler_factory = [&runtime](net::Worker& worker) {
      return std::make_unique<ListenerDispatch>(worker.base(), runtime);
    };
    auto started = http::HttpServer::start(std::move(options));
    if (!started) throw std::runtime_error(started.error().message());
    server = std::move(*started);
    http::logListening(*server);
  } catch (const std::exception& e) {
    spdlog::critical("{}", e.what());
    spdlog::shutdown();
    return 1;
  }

  for (;;) {
    int sig = net::waitForSignal();
    if (sig != SIGHUP) {
      spdlog::info("{}: stopping (draining up to {} s)", strsignal(sig), kDrainGrace.count());
      break;
    }
    spdlog::info("SIGHUP: reloading {}", path);
    try {
      ProxyConfig fresh = ProxyConfig::load(path);
      for (const auto& warning : fresh.warnings) spdlog::warn("{}", warning);
      for (auto& tls : tls_contexts) {
        if (auto reloaded = tls->reload(); !reloaded) {
          throw std::runtime_error("tls reload: " + reloaded.error().message());
        }
      }
      auto previous = runtime.current();
      auto snapshot = buildSnapshot(fresh, runtime, previous.get());
      if (!sameUpstreamSet(*previous, *snapshot)) {
        health->stop();
        health = std::make_unique<HealthChecker>(upstreamList(*snapshot));
        if (auto started = health->start(); !started) {
          spdlog::error("health checks: {}", started.error().message());
        }
      }
      runtime.publish(snapshot);
      runtime.metrics.reloads.fetch_add(1, std::memory_order_relaxed);
      spdlog::info("reloaded {} (listen addresses, limits and workers need a restart)", path);
    } catch (const std::exception& e) {
      runtime.metrics.reload_failures.fetch_add(1, std::memory_order_relaxed);
      spdlog::error("reload failed, keeping the running configuration: {}", e.what());
    }
  }
  server->stop(kDrainGrace);
  server->wait();
  health->stop();
  server.reset();
  if (runtime.access_log) runtime.access_log->flush();
  runtime.access_log.reset();  // its async logger must go before spdlog's thread pool
  spdlog::info("stopped");
  spdlog::shutdown();
  return 0;
}

}  // namespace
}  // namespace portico::proxy

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  std::string config = portico::proxy::kDefaultConfig;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "--help" || arg == "-h") {
      portico::proxy::printHelp();
      return 0;
    }
    if (arg == "--version" || arg == "-V") {
      std::cout << "portico-proxy " << portico::version() << "\n";
      return 0;
    }
    if (arg == "check-config") {
      if (i + 1 >= args.size()) {
        std::cerr << "check-config needs a FILE (see --help)\n";
        return 2;
      }
      return portico::proxy::checkConfig(args[i + 1]);
    }
    if (arg == "--config" || arg == "-c") {
      if (i + 1 >= args.size()) {
        std::cerr << arg << " needs a FILE (see --help)\n";
        return 2;
      }
      config = args[++i];
      continue;
    }
    if (arg.rfind("--config=", 0) == 0) {
      config = arg.substr(9);
      continue;
    }
    std::cerr << "unknown argument: " << arg << " (see --help)\n";
    return 2;
  }
  return portico::proxy::run(config);
}
