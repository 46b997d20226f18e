// portico-registry: the Docker Registry HTTP API v2 / OCI Distribution Spec 1.1 server on
// CNCF distribution's storage layout, configured with distribution's config.yml.
//
//   portico-registry serve CONFIG          run the registry
//   portico-registry check-config CONFIG   validate CONFIG (exit 1 with file:line: key: ...)

#include <spdlog/spdlog.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "backend/api/api_options.h"
#include "backend/registry_config.h"
#include "backend/registry_server.h"
#include "backend/storage/filesystem_driver.h"
#include "backend/storage/memory_driver.h"
#include "backend/upload_purger.h"
#include "common/build_info.h"
#include "common/http/http_server.h"
#include "common/log/access_log.h"
#include "common/log/log.h"
#include "common/net/bufferevent_tuning.h"
#include "common/net/signals.h"
#include "common/net/tls_context.h"

namespace {

using portico::backend::RegistryConfig;
using portico::config::ConfigError;

constexpr std::string_view kUsage = R"(usage: portico-registry COMMAND [CONFIG]

A Docker Registry HTTP API v2 / OCI Distribution Spec 1.1 server that stores images in
CNCF distribution's on-disk layout (a registry:2 volume works unchanged) and reads
distribution's config.yml.

Commands:
  serve CONFIG          run the registry with the configuration file CONFIG
  check-config CONFIG   validate CONFIG; prints "configuration OK", or the error as
                        FILE:LINE: KEY: MESSAGE and exits with status 1
  --help, -h            this text
  --version, -v         the version

Environment overrides (as in distribution): REGISTRY_<SECTION>_<KEY>=VALUE replaces the
key at that path, e.g.
  REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY=/srv/registry
  REGISTRY_HTTP_ADDR=127.0.0.1:5001
  REGISTRY_STORAGE_DELETE_ENABLED=true
  REGISTRY_LOG_LEVEL=debug

Signals: SIGTERM/SIGINT drain in-flight requests (http.draintimeout) and exit;
SIGHUP reloads the TLS certificate and key.

Example:
  portico-registry check-config conf/registry.yml
  REGISTRY_HTTP_ADDR=127.0.0.1:5001 portico-registry serve conf/registry.yml

Configuration reference: docs/configuration.md
)";

int usageError(std::string_view message) {
  std::cerr << "portico-registry: " << message << "\n\n" << kUsage;
  return 2;
}

RegistryConfig loadOrExit(const std::string& path, bool& ok) {
  try {
    ok = true;
    return RegistryConfig::load(path, portico::backend::processEnvironment());
  } catch (const ConfigError& e) {
    std::cerr << e.what() << "\n";
  } catch (const std::exception& e) {
    std::cerr << path << ": " << e.what() << "\n";
  }
  ok = false;
  return {};
}

int checkConfig(const std::string& path) {
  bool ok = false;
  RegistryConfig config = loadOrExit(path, ok);
  if (!ok) return 1;
  for (const auto& warning : config.warnings) std::cout << "warning: " << warning << "\n";
  std::cout << "configuration OK\n";
  return 0;
}

portico::api::ApiOptions apiOptions(const RegistryConfig& config) {
  portico::api::ApiOptions options;
  options.delete_enabled = config.storage.delete_enabled;
  options.read_only = config.storage.read_only;
  options.relative_urls = config.http.relative_urls;
  options.host = config.http.host;
  options.prefix = config.http.prefix;
  options.headers = config.http.headers;
  return options;
}

std::string listenAddress(const RegistryConfig& config) {
  if (config.http.net == "unix") return "unix:" + config.http.addr;
  return config.http.addr;
}

std::vector<portico::observability::HealthCheckSpec> healthChecks(const RegistryConfig& config) {
  using Kind = portico::observability::HealthCheckSpec::Kind;
  std::vector<portico::observability::HealthCheckSpec> specs;
  for (const auto& check : config.health) {
    portico::observability::HealthCheckSpec spec;
    spec.kind = check.kind == "file"   ? Kind::File
                : check.kind == "http" ? Kind::Http
                : check.kind == "tcp"  ? Kind::Tcp
                                       : Kind::StorageDriver;
    spec.interval = check.interval;
    spec.threshold = check.threshold;
    spec.timeout = check.timeout;
    spec.target = check.target;
    spec.headers = check.headers;
    spec.status_code = check.status_code;
    specs.push_back(std::move(spec));
  }
  return specs;
}

int serve(const std::string& path) {
  portico::net::blockSignals();
  portico::net::tuneAllocator();
  bool ok = false;
  RegistryConfig config = loadOrExit(path, ok);
  if (!ok) return 1;

  portico::log::Options log_options;
  log_options.level = portico::log::parseLevel(config.log.level).value_or(spdlog::level::info);
  log_options.format =
      config.log.formatter == "json" ? portico::log::Format::Json : portico::log::Format::Text;
  log_options.fields.assign(config.log.fields.begin(), config.log.fields.end());
  portico::log::setup(log_options);
  for (const auto& warning : config.warnings) spdlog::warn("{}", warning);

  std::unique_ptr<portico::log::AccessLog> access_log;
  if (!config.log.access_log_disabled) {
    try {
      access_log = portico::log::AccessLog::open("-", {.format = log_options.format});
    } catch (const std::exception& e) {
      std::cerr << "portico-registry: access log: " << e.what() << "\n";
      return 1;
    }
  }

  std::shared_ptr<portico::net::TlsServerContext> tls;
  if (config.http.tls) {
    portico::net::TlsServerOptions tls_options;
    tls_options.certificates.push_back({config.http.tls->certificate, config.http.tls->key});
    if (!config.http.tls->client_cas.empty()) {
      // Every file is trusted, as distribution appends each one to its client CA pool.
      tls_options.client_ca = config.http.tls->client_cas.front();
      tls_options.more_client_cas.assign(config.http.tls->client_cas.begin() + 1,
                                         config.http.tls->client_cas.end());
      tls_options.client_auth = portico::net::ClientAuth::Required;
    }
    tls_options.min_version = config.http.tls->minimum_tls;
    auto created = portico::net::TlsServerContext::create(tls_options);
    if (!created) {
      std::cerr << config.source << ": http.tls: " << created.error().message() << " "
                << created.error().detail() << "\n";
      return 1;
    }
    tls = *created;
  }

  portico::backend::RegistryServerOptions registry;
  if (config.storage.driver == "inmemory") {
    registry.driver = std::make_unique<portico::storage::MemoryDriver>();
  } else {
    registry.driver =
        std::make_unique<portico::storage::FilesystemDriver>(config.storage.root_directory);
  }
  // storage.filesystem.maxthreads bounds distribution's blocking filesystem calls; here it is
  // the number of storage threads that run them (default 100, at least 25, as distribution).
  registry.storage_threads = static_cast<size_t>(config.storage.max_threads);
  registry.api = apiOptions(config);
  registry.access_log = access_log.get();
  registry.server.listeners.push_back({"http", listenAddress(config), tls});
  if (!config.http.debug_addr.empty()) {
    registry.server.listeners.push_back({"debug", config.http.debug_addr, nullptr});
  }
  registry.prometheus = config.http.prometheus_enabled;
  registry.prometheus_path = config.http.prometheus_path;
  registry.health = healthChecks(config);
  auto server = portico::backend::RegistryServer::start(std::move(registry));
  if (!server) {
    std::cerr << "portico-registry: cannot listen on " << config.http.addr << ": "
              << server.error().message() << " " << server.error().detail() << "\n";
    return 1;
  }
  spdlog::info("portico-registry {} storage {} at {}", portico::version(),
               (*server)->driver().name(), config.storage.root_directory);

  std::unique_ptr<portico::backend::UploadPurger> purger;
  if (config.storage.upload_purging.enabled && !config.storage.read_only) {
    const auto& purging = config.storage.upload_purging;
    purger = std::make_unique<portico::backend::UploadPurger>(
        (*server)->names().stores().uploads,
        portico::backend::UploadPurgeSettings{purging.age, purging.interval, purging.dry_run,
                                              &(*server)->metrics().upload_purge_runs});
  }
  portico::http::logListening((*server)->http());

  while (true) {
    int sig = portico::net::waitForSignal();
    if (sig == SIGHUP) {
      if (tls) {
        auto reloaded = tls->reload();
        if (reloaded) {
          spdlog::info("SIGHUP: TLS certificate reloaded");
        } else {
          spdlog::error("SIGHUP: TLS reload failed, keeping the old certificate: {} {}",
                        reloaded.error().message(), reloaded.error().detail());
        }
      } else {
        spdlog::info("SIGHUP: nothing to reload");
      }
      continue;
    }
    spdlog::info("signal {}: draining", sig);
    break;
  }
  auto drain = config.http.drain_timeout.count() > 0 ? config.http.drain_timeout
                                                     : std::chrono::milliseconds(10'000);
  (*server)->stop(drain);
  purger.reset();
  server->reset();
  if (access_log) access_log->flush();
  access_log.reset();  // its logger must go before spdlog's thread pool
  spdlog::info("stopped");
  spdlog::shutdown();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty()) return usageError("a command is required");
  const std::string& command = args[0];
  if (command == "--help" || command == "-h" || command == "help") {
    std::cout << kUsage;
    return 0;
  }
  if (command == "--version" || command == "-v" || command == "version") {
    std::cout << "portico-registry " << portico::version() << "\n";
    return 0;
  }
  if (command == "serve" || command == "check-config") {
    if (args.size() != 2) return usageError(command + " takes exactly one CONFIG file");
    return command == "serve" ? serve(args[1]) : checkConfig(args[1]);
  }
  return usageError("unknown command \"" + command + "\"");
}
