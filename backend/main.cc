// portico-registry: the Docker Registry HTTP API v2 / OCI Distribution Spec 1.1 server on
// CNCF distribution's storage layout, configured with distribution's config.yml.
//
//   portico-registry serve CONFIG          run the registry
//   portico-registry check-config CONFIG   validate CONFIG (exit 1 with file:line: key: ...)
//   portico-registry garbage-collect [--dry-run] [--delete-untagged] CONFIG
//   portico-registry verify [--repair] CONFIG

#include <spdlog/spdlog.h>

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <functional>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "backend/api/api_options.h"
#include "backend/auth/htpasswd.h"
#include "backend/auth/htpasswd_access.h"
#include "backend/auth/token_access.h"
#include "backend/gc_runner.h"
#include "backend/notify/notifier.h"
#include "backend/registry/gc.h"
#include "backend/registry/verify.h"
#include "backend/registry_config.h"
#include "backend/registry_server.h"
#include "backend/storage/driver_factory.h"
#include "backend/storage/executor.h"
#include "backend/upload_purger.h"
#include "common/build_info.h"
#include "common/config/yaml_document.h"
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
  check-config CONFIG   validate CONFIG and load the TLS files it names (http.tls);
                        prints "configuration OK", or each error as
                        FILE:LINE: KEY: MESSAGE and exits with status 1
  garbage-collect [--dry-run|-d] [--delete-untagged|-m] CONFIG
                        delete blobs no manifest references, as distribution's
                        `registry garbage-collect` (same flags and output lines); run it
                        with the registry stopped or read-only, or use the online
                        storage.maintenance.gc instead. --delete-untagged also deletes
                        manifests no tag points to (never an index's children)
  verify [--repair] CONFIG
                        check the store: every blob's content against its digest, every
                        link against its blob, every manifest parses and what it references
                        exists, every tag points at a revision; one line per problem and a
                        summary, exit status 1 if any. --repair removes only what is
                        provably broken (blobs whose content does not match their digest,
                        links to blobs without data) and prints what it removed. Run it
                        with the registry stopped or read-only
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

portico::net::TlsServerOptions tlsOptions(const RegistryConfig::Tls& tls) {
  portico::net::TlsServerOptions options;
  options.certificates.push_back({tls.certificate, tls.key});
  if (!tls.client_cas.empty()) {
    // Every file is trusted, as distribution appends each one to its client CA pool.
    options.client_ca = tls.client_cas.front();
    options.more_client_cas.assign(tls.client_cas.begin() + 1, tls.client_cas.end());
    options.client_auth = portico::net::ClientAuth::Required;
  }
  options.min_version = tls.minimum_tls;
  return options;
}

// The files http.tls names load, as `serve` would load them (nginx -t does the same). Each
// problem reads "FILE:LINE: http.tls.key: cannot read /x.key: No such file or directory", LINE
// that of the key in FILE (the http.tls line for what only the pair shows, such as a key that
// does not match its certificate; 0 when the value came from the environment).
std::vector<std::string> tlsFileProblems(const std::string& path, const RegistryConfig& config) {
  std::vector<std::string> problems;
  if (!config.http.tls) return problems;
  const auto& tls = *config.http.tls;
  portico::config::Node node(nullptr, YAML::Node(YAML::NodeType::Undefined), "http.tls", 0);
  try {
    node = portico::config::YamlDocument::load(path).root()["http"]["tls"];
  } catch (const std::exception&) {
    // The config loaded already; without lines the messages still name file and key.
  }
  auto place = [&](const portico::config::Node& at, const std::string& key) {
    return path + ":" + std::to_string(at.defined() ? at.line() : 0) + ": " + key + ": ";
  };
  std::vector<std::pair<std::string, portico::config::Node>> files = {
      {tls.certificate, node["certificate"]}, {tls.key, node["key"]}};
  std::vector<portico::config::Node> cas = node["clientcas"].defined()
                                               ? node["clientcas"].itemsOrScalar()
                                               : std::vector<portico::config::Node>{};
  for (size_t i = 0; i < tls.client_cas.size(); ++i) {
    files.emplace_back(tls.client_cas[i], i < cas.size() ? cas[i] : node["clientcas"]);
  }
  for (const auto& [file, at] : files) {
    std::FILE* opened = std::fopen(file.c_str(), "r");
    if (opened == nullptr) {
      problems.push_back(place(at, at.path()) + "cannot read " + file + ": " +
                         std::strerror(errno));
    } else {
      std::fclose(opened);
    }
  }
  if (problems.empty()) {
    auto created = portico::net::TlsServerContext::create(tlsOptions(tls));
    if (!created) problems.push_back(place(node, "http.tls") + created.error().message());
  }
  return problems;
}

// The htpasswd file auth.htpasswd.path names parses as `serve` would read it: a problem reads
// "FILE:LINE: auth.htpasswd.path: /etc/htpasswd:3: ...". A missing file is no problem: serve
// creates it (distribution's first start), which check-config says. Entries that can never log
// in (not bcrypt, cost above the cap) are listed as warnings, as serve logs them.
std::vector<std::string> htpasswdProblems(const std::string& path, const RegistryConfig& config) {
  std::vector<std::string> problems;
  if (config.auth.type != "htpasswd") return problems;
  const std::string& file = config.auth.parameters.at("path");
  int line = 0;
  try {
    auto at = portico::config::YamlDocument::load(path).root()["auth"]["htpasswd"]["path"];
    if (at.defined()) line = at.line();
  } catch (const std::exception&) {
    // The config loaded already; without a line the message still names file and key.
  }
  const std::string place = path + ":" + std::to_string(line) + ": auth.htpasswd.path: ";
  std::ifstream in(file);
  if (!in) {
    if (errno == ENOENT) {
      std::cout << "note: " << place << file
                << " does not exist: serve creates it with user \"docker\" and a random "
                   "password\n";
    } else {
      problems.push_back(place + "cannot read " + file + ": " + std::strerror(errno));
    }
    return problems;
  }
  std::stringstream text;
  text << in.rdbuf();
  auto parsed = portico::auth::HtpasswdFile::parse(text.str(), file);
  if (!parsed) {
    problems.push_back(place + parsed.error().message() + " " + parsed.error().detail());
    return problems;
  }
  for (const auto& unusable : (*parsed)->unusable()) {
    std::cout << "warning: " << file << ":" << unusable.line << ": user \"" << unusable.user
              << "\" can never log in: " << unusable.reason << "\n";
  }
  return problems;
}

portico::auth::TokenSettings tokenSettings(const RegistryConfig& config) {
  const auto& p = config.auth.parameters;
  auto get = [&](const char* key) { return p.count(key) ? p.at(key) : std::string{}; };
  portico::auth::TokenSettings settings;
  settings.realm = get("realm");
  settings.service = get("service");
  settings.jwt.issuer = get("issuer");
  settings.jwt.rootcertbundle = get("rootcertbundle");
  settings.jwt.jwks = get("jwks");
  settings.jwt.algorithms = config.auth.signing_algorithms;
  settings.autoredirect = get("autoredirect") == "true";
  settings.autoredirect_path = get("autoredirectpath");
  return settings;
}

// auth.token's rootcertbundle and jwks load as `serve` would load them.
std::vector<std::string> tokenProblems(const std::string& path, const RegistryConfig& config) {
  if (config.auth.type != "token") return {};
  auto opened = portico::auth::TokenAccess::open(tokenSettings(config));
  if (opened) return {};
  return {path + ": auth.token: " + opened.error().message() + ": " + opened.error().detail()};
}

int checkConfig(const std::string& path) {
  bool ok = false;
  RegistryConfig config = loadOrExit(path, ok);
  if (!ok) return 1;
  for (const auto& warning : config.warnings) std::cout << "warning: " << warning << "\n";
  auto problems = tlsFileProblems(path, config);
  for (auto& problem : htpasswdProblems(path, config)) problems.push_back(std::move(problem));
  for (auto& problem : tokenProblems(path, config)) problems.push_back(std::move(problem));
  for (const auto& problem : problems) std::cerr << problem << "\n";
  if (!problems.empty()) return 1;
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

// The access controller's factory for the configured auth (unset: AllowAll).
auto accessController(const RegistryConfig& config) {
  std::function<portico::Result<std::unique_ptr<portico::api::AccessController>>(
      portico::storage::StorageExecutor&)>
      factory;
  if (config.auth.type == "token") {
    factory = [settings = tokenSettings(config)](portico::storage::StorageExecutor&)
        -> portico::Result<std::unique_ptr<portico::api::AccessController>> {
      auto access = portico::auth::TokenAccess::open(settings);
      if (!access) return access.error();
      return std::unique_ptr<portico::api::AccessController>(std::move(*access));
    };
    return factory;
  }
  if (config.auth.type != "htpasswd") return factory;
  portico::auth::HtpasswdSettings settings;
  settings.realm = config.auth.parameters.at("realm");
  settings.path = config.auth.parameters.at("path");
  settings.policy = config.auth.policy;
  factory = [settings](portico::storage::StorageExecutor& executor)
      -> portico::Result<std::unique_ptr<portico::api::AccessController>> {
    auto access = portico::auth::HtpasswdAccess::open(settings, executor);
    if (!access) return access.error();
    return std::unique_ptr<portico::api::AccessController>(std::move(*access));
  };
  return factory;
}

std::string listenAddress(const RegistryConfig& config) {
  if (config.http.net == "unix") return "unix:" + config.http.addr;
  return config.http.addr;
}

// The storage driver storage.<name> names (driver_factory), or null after saying why.
std::unique_ptr<portico::storage::StorageDriver> openDriver(const RegistryConfig& config) {
  auto driver = portico::storage::createDriver(config.storage.driver, config.storage.parameters);
  if (!driver) {
    std::cerr << config.source << ": storage." << config.storage.driver << ": "
              << driver.error().message() << "\n";
    return nullptr;
  }
  return std::move(*driver);
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

// notifications: the enabled endpoints, each with its queue directory.
portico::notify::NotifierOptions notifierOptions(const RegistryConfig& config) {
  portico::notify::NotifierOptions options;
  options.include_references = config.notifications.include_references;
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) != 0) std::strcpy(host, "localhost");
  const std::string& addr = config.http.addr;
  size_t colon = addr.rfind(':');
  options.source_addr = std::string(host) + (colon == std::string::npos ? "" : addr.substr(colon));
  for (const auto& endpoint : config.notifications.endpoints) {
    if (endpoint.disabled) continue;
    portico::notify::EndpointOptions e;
    e.name = endpoint.name;
    e.url = endpoint.url;
    e.headers = endpoint.headers;
    e.timeout = endpoint.timeout;
    e.threshold = endpoint.threshold;
    e.backoff = endpoint.backoff;
    e.ignored_media_types = endpoint.ignored_media_types;
    e.ignored_media_types.insert(e.ignored_media_types.end(), endpoint.ignore_media_types.begin(),
                                 endpoint.ignore_media_types.end());
    e.ignore_actions = endpoint.ignore_actions;
    e.media_type = endpoint.media_type;
    e.queue_dir = config.queueDirectory(endpoint.name);
    e.limits = {.max_events = endpoint.max_events, .max_bytes = endpoint.max_bytes};
    if (config.notifications.queue_dir.empty() && config.storage.driver != "filesystem") {
      spdlog::warn("notifications[{}]: queued in {} (set notifications.queuedir)", e.name,
                   e.queue_dir);
    }
    spdlog::info("notifications[{}]: POST {} (queue {})", e.name, e.url, e.queue_dir);
    options.endpoints.push_back(std::move(e));
  }
  return options;
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
    auto created = portico::net::TlsServerContext::create(tlsOptions(*config.http.tls));
    if (!created) {
      std::cerr << config.source << ": http.tls: " << created.error().message() << " "
                << created.error().detail() << "\n";
      return 1;
    }
    tls = *created;
  }

  portico::backend::RegistryServerOptions registry;
  registry.driver = openDriver(config);
  if (!registry.driver) return 1;
  // storage.filesystem.maxthreads bounds distribution's blocking filesystem calls (goroutines);
  // here, when it is set, it is the number of storage threads that run them. Unset, the
  // executor's own default (4 per core, at least 8) rather than distribution's 100.
  auto max_threads = registry.driver->maxThreads();
  registry.storage_threads = config.storage.parameters.count("maxthreads") != 0 && max_threads
                                 ? static_cast<size_t>(*max_threads)
                                 : portico::storage::StorageExecutor::defaultThreads();
  if (!config.storage.blob_descriptor_cache.empty()) {
    registry.descriptor_cache_size = config.storage.blob_descriptor_cache_size;
  }
  registry.api = apiOptions(config);
  registry.access_log = access_log.get();
  registry.access = accessController(config);
  if (config.auth.type.empty() || config.auth.type == "none") {
    spdlog::warn(
        "no auth configured: anyone who can reach the registry can push and delete "
        "(auth.htpasswd: docs/securing.md)");
  }
  registry.server.listeners.push_back({"http", listenAddress(config), tls});
  if (!config.http.debug_addr.empty()) {
    registry.server.listeners.push_back({"debug", config.http.debug_addr, nullptr});
  }
  registry.prometheus = config.http.prometheus_enabled;
  registry.prometheus_path = config.http.prometheus_path;
  registry.health = healthChecks(config);
  registry.notifications = notifierOptions(config);
  auto server = portico::backend::RegistryServer::start(std::move(registry));
  if (!server) {
    std::cerr << "portico-registry: cannot listen: " << server.error().message() << "\n";
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
  std::unique_ptr<portico::backend::GcRunner> gc;
  if (config.storage.gc.enabled && !config.storage.read_only) {
    const auto& settings = config.storage.gc;
    gc = std::make_unique<portico::backend::GcRunner>(
        (*server)->driver(),
        portico::backend::GcSettings{settings.interval, settings.delay, settings.untagged,
                                     settings.dry_run},
        [server = server->get()] { server->invalidateCaches(); });
    // Read by /metrics only while the server serves: it stops before `gc` goes.
    (*server)->metrics().addCollector(
        [counters = &gc->counters()](portico::metrics::TextWriter& w) {
          portico::backend::writeGcMetrics(*counters, w);
        });
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
  gc.reset();
  server->reset();
  if (access_log) access_log->flush();
  access_log.reset();  // its logger must go before spdlog's thread pool
  spdlog::info("stopped");
  spdlog::shutdown();
  return 0;
}

int garbageCollect(const std::vector<std::string>& args) {
  portico::registry::GcOptions options;
  std::string path;
  for (size_t i = 1; i < args.size(); ++i) {
    if (args[i] == "--dry-run" || args[i] == "-d") {
      options.dry_run = true;
    } else if (args[i] == "--delete-untagged" || args[i] == "-m") {
      options.delete_untagged = true;
    } else if (!args[i].empty() && args[i][0] == '-') {
      return usageError("garbage-collect: unknown flag " + args[i]);
    } else if (path.empty()) {
      path = args[i];
    } else {
      return usageError("garbage-collect takes one CONFIG file");
    }
  }
  if (path.empty()) return usageError("garbage-collect: a CONFIG file is required");
  bool ok = false;
  RegistryConfig config = loadOrExit(path, ok);
  if (!ok) return 1;
  auto driver = openDriver(config);
  if (!driver) return 1;
  auto lock = portico::registry::GcLock::tryAcquire(*driver);
  if (!lock) {
    std::cerr << "portico-registry: " << lock.error().message() << " " << lock.error().detail()
              << "\n";
    return 1;
  }
  if (!*lock) {
    std::cerr << "portico-registry: another garbage collection is running on this storage\n";
    return 1;
  }
  options.emit = [](std::string_view line) { std::cout << line << "\n"; };
  auto report = portico::registry::collectGarbage(*driver, options);
  std::cout.flush();
  if (!report) {
    std::cerr << "failed to garbage collect: " << report.error().message() << " "
              << report.error().detail() << "\n";
    return 1;
  }
  return 0;
}

int verify(const std::vector<std::string>& args) {
  portico::registry::VerifyOptions options;
  std::string path;
  for (size_t i = 1; i < args.size(); ++i) {
    if (args[i] == "--repair") {
      options.repair = true;
    } else if (!args[i].empty() && args[i][0] == '-') {
      return usageError("verify: unknown flag " + args[i]);
    } else if (path.empty()) {
      path = args[i];
    } else {
      return usageError("verify takes one CONFIG file");
    }
  }
  if (path.empty()) return usageError("verify: a CONFIG file is required");
  bool ok = false;
  RegistryConfig config = loadOrExit(path, ok);
  if (!ok) return 1;
  auto driver = openDriver(config);
  if (!driver) return 1;
  // Hashing: one thread per core, at most 4 (each holds a 1 MiB buffer; more only queue on
  // the disk), never more than the driver's own limit.
  options.threads = std::clamp<size_t>(std::thread::hardware_concurrency(), 1, 4);
  if (auto limit = driver->maxThreads()) options.threads = std::min(options.threads, *limit);
  options.emit = [](std::string_view line) { std::cout << line << "\n"; };
  auto report = portico::registry::verifyStore(*driver, options);
  std::cout.flush();
  if (!report) {
    std::cerr << "failed to verify: " << report.error().message() << " " << report.error().detail()
              << "\n";
    return 1;
  }
  return report->problems == 0 ? 0 : 1;
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
  if (command == "garbage-collect") return garbageCollect(args);
  if (command == "verify") return verify(args);
  return usageError("unknown command \"" + command + "\"");
}
