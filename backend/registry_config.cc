#include "backend/registry_config.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <initializer_list>
#include <set>
#include <sstream>
#include <string_view>

extern char** environ;

namespace portico::backend {
namespace {

// Every key distribution 2.8's configuration.go knows, as dotted paths; `[]` stands for a
// list element and `*` accepts anything below (driver parameters, free-form maps).
constexpr std::string_view kKnownKeys[] = {
    "version",
    "loglevel",
    "log.level",
    "log.formatter",
    "log.fields.*",
    "log.hooks.*",
    "log.accesslog.disabled",
    "storage.filesystem.rootdirectory",
    "storage.filesystem.maxthreads",
    "storage.inmemory.*",
    "storage.s3.*",
    "storage.azure.*",
    "storage.gcs.*",
    "storage.swift.*",
    "storage.oss.*",
    "storage.delete.enabled",
    "storage.redirect.disable",
    "storage.cache.blobdescriptor",
    "storage.cache.blobdescriptorsize",
    "storage.cache.layerinfo",
    "storage.maintenance.uploadpurging.enabled",
    "storage.maintenance.uploadpurging.age",
    "storage.maintenance.uploadpurging.interval",
    "storage.maintenance.uploadpurging.dryrun",
    "storage.maintenance.readonly.enabled",
    "auth.silly.*",
    "auth.token.*",
    "auth.htpasswd.*",
    "auth.none.*",
    "middleware.*",
    "reporting.*",
    "http.addr",
    "http.net",
    "http.prefix",
    "http.host",
    "http.secret",
    "http.relativeurls",
    "http.draintimeout",
    "http.tls.certificate",
    "http.tls.key",
    "http.tls.clientcas",
    "http.tls.clientcas[]",
    "http.tls.minimumtls",
    "http.tls.ciphersuites",
    "http.tls.ciphersuites[]",
    "http.tls.letsencrypt.*",
    "http.headers.*",
    "http.debug.addr",
    "http.debug.prometheus.enabled",
    "http.debug.prometheus.path",
    "http.http2.disabled",
    "http.h2c.enabled",
    "notifications.events.includereferences",
    "notifications.endpoints",
    "notifications.endpoints[].name",
    "notifications.endpoints[].disabled",
    "notifications.endpoints[].url",
    "notifications.endpoints[].headers.*",
    "notifications.endpoints[].timeout",
    "notifications.endpoints[].threshold",
    "notifications.endpoints[].backoff",
    "notifications.endpoints[].ignoredmediatypes",
    "notifications.endpoints[].ignoredmediatypes[]",
    "notifications.endpoints[].ignore.*",
    "redis.addr",
    "redis.password",
    "redis.db",
    "redis.dialtimeout",
    "redis.readtimeout",
    "redis.writetimeout",
    "redis.pool.maxidle",
    "redis.pool.maxactive",
    "redis.pool.idletimeout",
    "redis.tls.enabled",
    "health.storagedriver.enabled",
    "health.storagedriver.interval",
    "health.storagedriver.threshold",
    "health.file",
    "health.file[].*",
    "health.http",
    "health.http[].*",
    "health.tcp",
    "health.tcp[].*",
    "proxy.remoteurl",
    "proxy.username",
    "proxy.password",
    "proxy.ttl",
    "compatibility.*",
    "validation.enabled",
    "validation.disabled",
    "validation.manifests.*",
    "policy.*",
};

class Schema {
 public:
  Schema() {
    for (std::string_view key : kKnownKeys) {
      std::string path(key);
      if (path.size() >= 2 && path.ends_with(".*")) {
        wildcards_.insert(path.substr(0, path.size() - 2));
        path.resize(path.size() - 2);
      }
      // Every prefix of a known path is a known (intermediate) path.
      for (size_t i = 0; i <= path.size(); ++i) {
        if (i == path.size() || path[i] == '.' || path[i] == '[') known_.insert(path.substr(0, i));
      }
    }
  }
  bool known(const std::string& path) const { return known_.count(path) > 0; }
  bool opaque(const std::string& path) const { return wildcards_.count(path) > 0; }

 private:
  std::set<std::string> known_;
  std::set<std::string> wildcards_;
};

const Schema& schema() {
  static const Schema instance;
  return instance;
}

// The node at `keys` below `node`, or an undefined node when any step is missing (chained
// operator[] on a missing key would throw or, on non-const nodes, insert).
YAML::Node find(const YAML::Node& node, std::initializer_list<const char*> keys) {
  YAML::Node current = node;
  for (const char* key : keys) {
    if (!current.IsMap()) return YAML::Node(YAML::NodeType::Undefined);
    const YAML::Node& as_const = current;
    YAML::Node next = as_const[key];
    if (!next.IsDefined()) return YAML::Node(YAML::NodeType::Undefined);
    current.reset(next);
  }
  return current;
}

class Loader {
 public:
  Loader(std::string source, const std::vector<std::string>& environment)
      : source_(std::move(source)), environment_(environment) {}

  RegistryConfig run(const std::string& text) {
    YAML::Node root;
    try {
      root = YAML::Load(text);
    } catch (const YAML::Exception& e) {
      throw RegistryConfigError(source_ + ":" + std::to_string(e.mark.line + 1) + ": " + e.msg);
    }
    if (root.IsNull()) root = YAML::Node(YAML::NodeType::Map);
    if (!root.IsMap()) throw RegistryConfigError(source_ + ":1: the document is not a mapping");
    applyEnvironment(root);
    checkKeys(root, "");

    RegistryConfig config;
    config.source = source_;
    if (auto v = find(root, {"version"})) config.version = scalar(v, "version");
    readLog(root, config);
    readStorage(root, config);
    readHttp(root, config);
    readUnimplemented(root, config);
    config.warnings.insert(config.warnings.end(), warnings_.begin(), warnings_.end());
    return config;
  }

 private:
  [[noreturn]] void fail(const YAML::Node& node, const std::string& key, const std::string& what) {
    auto env = env_paths_.end();
    for (auto it = env_paths_.begin(); it != env_paths_.end(); ++it) {
      if (key == it->first || key.starts_with(it->first + ".")) env = it;
    }
    if (env != env_paths_.end()) {
      throw RegistryConfigError("environment " + env->second + ": " + key + ": " + what);
    }
    int line = node.Mark().line >= 0 ? node.Mark().line + 1 : 0;
    throw RegistryConfigError(source_ + ":" + std::to_string(line) + ": " + key + ": " + what);
  }

  // REGISTRY_A_B_C=value sets a.b.c (creating maps), distribution's overwriteFields.
  void applyEnvironment(YAML::Node& root) {
    std::vector<std::pair<std::string, std::string>> overrides;
    for (const std::string& entry : environment_) {
      if (!entry.starts_with("REGISTRY_")) continue;
      size_t eq = entry.find('=');
      if (eq == std::string::npos) continue;
      overrides.emplace_back(entry.substr(0, eq), entry.substr(eq + 1));
    }
    // Shorter names first, so REGISTRY_HTTP=... is refined by REGISTRY_HTTP_ADDR=....
    std::sort(overrides.begin(), overrides.end());
    for (const auto& [name, value] : overrides) {
      std::vector<std::string> segments;
      std::string lowered;
      for (char c : std::string_view(name).substr(9)) {
        lowered += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      }
      std::stringstream split(lowered);
      for (std::string segment; std::getline(split, segment, '_');) segments.push_back(segment);
      std::string path;
      for (const auto& s : segments) path += (path.empty() ? "" : ".") + s;
      if (segments.empty() || !schema().known(path)) {
        bool under_opaque = false;
        std::string prefix;
        for (const auto& s : segments) {
          prefix += (prefix.empty() ? "" : ".") + s;
          if (schema().opaque(prefix)) under_opaque = true;
        }
        if (!under_opaque) {
          warnings_.push_back("ignoring unrecognized environment variable " + name);
          continue;
        }
      }
      YAML::Node parsed;
      try {
        parsed = YAML::Load(value);
      } catch (const YAML::Exception&) {
        parsed = YAML::Node(value);
      }
      if (parsed.IsNull() && !value.empty()) parsed = YAML::Node(value);
      // Walk with handles moved by reset(): assigning one Node to another writes through.
      YAML::Node current;
      current.reset(root);
      for (size_t i = 0; i + 1 < segments.size(); ++i) {
        YAML::Node next;
        next.reset(current[segments[i]]);
        if (!next.IsMap()) {
          current[segments[i]] = YAML::Node(YAML::NodeType::Map);
          next.reset(current[segments[i]]);
        }
        current.reset(next);
      }
      current[segments.back()] = parsed;
      env_paths_.emplace_back(path, name);
    }
  }

  void checkKeys(const YAML::Node& node, const std::string& path) {
    if (!path.empty() && schema().opaque(path)) return;
    if (node.IsMap()) {
      for (const auto& item : node) {
        std::string key = item.first.IsScalar() ? item.first.Scalar() : "?";
        std::string child = path.empty() ? key : path + "." + key;
        if (!schema().known(child)) fail(item.first, child, "unknown key");
        checkKeys(item.second, child);
      }
    } else if (node.IsSequence()) {
      std::string child = path + "[]";
      for (const auto& item : node) {
        if (item.IsScalar()) {
          if (!schema().known(child)) fail(item, path, "a list is not allowed here");
          continue;
        }
        checkKeys(item, child);
      }
    }
  }

  std::string scalar(const YAML::Node& node, const std::string& key) {
    if (node.IsNull()) return "";
    if (!node.IsScalar()) fail(node, key, "expected a scalar value");
    return node.Scalar();
  }

  bool boolean(const YAML::Node& node, const std::string& key) {
    std::string text = scalar(node, key);
    std::string lower;
    for (char c : text) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (lower == "true" || lower == "yes" || lower == "on") return true;
    if (lower == "false" || lower == "no" || lower == "off" || lower.empty()) return false;
    fail(node, key, "expected true or false, got \"" + text + "\"");
  }

  std::chrono::milliseconds duration(const YAML::Node& node, const std::string& key) {
    std::string text = scalar(node, key);
    auto parsed = parseGoDuration(text);
    if (!parsed) fail(node, key, "invalid duration \"" + text + "\" (examples: 10s, 1h30m)");
    return *parsed;
  }

  void readLog(const YAML::Node& root, RegistryConfig& config) {
    auto& log = config.log;
    if (auto v = find(root, {"loglevel"})) log.level = scalar(v, "loglevel");
    YAML::Node node = find(root, {"log"});
    if (!node) return;
    if (auto v = find(node, {"level"})) {
      log.level = scalar(v, "log.level");
      static const std::set<std::string> kLevels = {"error", "warn",  "warning", "info",
                                                    "debug", "trace", "fatal",   "panic"};
      if (!kLevels.count(log.level)) fail(v, "log.level", "unknown level \"" + log.level + "\"");
      if (log.level == "warning") log.level = "warn";
      if (log.level == "fatal" || log.level == "panic") log.level = "error";
      if (log.level == "trace") log.level = "debug";
    }
    if (auto v = find(node, {"formatter"})) {
      log.formatter = scalar(v, "log.formatter");
      if (log.formatter == "logstash") log.formatter = "json";
      if (log.formatter != "text" && log.formatter != "json") {
        fail(v, "log.formatter", "expected text, json or logstash");
      }
    }
    if (auto fields = find(node, {"fields"})) {
      if (fields.IsMap()) {
        for (const auto& item : fields) {
          std::string key = item.first.Scalar();
          log.fields[key] = item.second.IsScalar() ? item.second.Scalar() : "";
        }
      } else if (!fields.IsNull()) {
        fail(fields, "log.fields", "expected a mapping");
      }
    }
    if (auto v = find(node, {"accesslog", "disabled"})) {
      log.access_log_disabled = boolean(v, "log.accesslog.disabled");
    }
    if (find(node, {"hooks"})) warnings_.push_back("log.hooks is accepted but not implemented");
  }

  void readStorage(const YAML::Node& root, RegistryConfig& config) {
    auto& storage = config.storage;
    YAML::Node node = find(root, {"storage"});
    if (!node) return;
    static const char* kOtherDrivers[] = {"s3", "azure", "gcs", "swift", "oss"};
    int drivers = 0;
    if (find(node, {"filesystem"})) {
      ++drivers;
      storage.driver = "filesystem";
      if (auto v = find(node, {"filesystem", "rootdirectory"})) {
        storage.root_directory = scalar(v, "storage.filesystem.rootdirectory");
        if (storage.root_directory.empty()) {
          fail(v, "storage.filesystem.rootdirectory", "must not be empty");
        }
      }
    }
    if (find(node, {"inmemory"})) {
      ++drivers;
      storage.driver = "inmemory";
    }
    for (const char* other : kOtherDrivers) {
      if (auto driver = find(node, {other})) {
        fail(driver, std::string("storage.") + other,
             "this storage driver is not implemented yet (supported: filesystem, inmemory)");
      }
    }
    if (drivers > 1) fail(node, "storage", "more than one storage driver configured");
    if (auto v = find(node, {"delete", "enabled"})) {
      storage.delete_enabled = boolean(v, "storage.delete.enabled");
    }
    if (auto purging = find(node, {"maintenance", "uploadpurging"})) {
      auto& p = storage.upload_purging;
      const std::string base = "storage.maintenance.uploadpurging";
      if (auto v = find(purging, {"enabled"})) p.enabled = boolean(v, base + ".enabled");
      if (auto v = find(purging, {"age"})) {
        p.age = std::chrono::duration_cast<std::chrono::seconds>(duration(v, base + ".age"));
      }
      if (auto v = find(purging, {"interval"})) {
        p.interval =
            std::chrono::duration_cast<std::chrono::seconds>(duration(v, base + ".interval"));
        if (p.interval.count() <= 0) fail(v, base + ".interval", "must be positive");
      }
      if (auto v = find(purging, {"dryrun"})) p.dry_run = boolean(v, base + ".dryrun");
    }
    if (auto v = find(node, {"maintenance", "readonly", "enabled"})) {
      storage.read_only = boolean(v, "storage.maintenance.readonly.enabled");
    }
    if (auto cache = find(node, {"cache"})) {
      std::string kind;
      if (auto v = find(cache, {"blobdescriptor"}))
        kind = scalar(v, "storage.cache.blobdescriptor");
      if (auto v = find(cache, {"layerinfo"})) kind = scalar(v, "storage.cache.layerinfo");
      if (kind == "redis") {
        warnings_.push_back(
            "storage.cache.blobdescriptor: redis is not implemented yet; using the in-memory "
            "cache");
      }
    }
    if (find(node, {"redirect"})) {
      warnings_.push_back("storage.redirect is accepted and ignored (filesystem serves bytes)");
    }
  }

  void readHttp(const YAML::Node& root, RegistryConfig& config) {
    auto& http = config.http;
    YAML::Node node = find(root, {"http"});
    if (!node) return;
    if (auto v = find(node, {"addr"})) http.addr = scalar(v, "http.addr");
    if (auto v = find(node, {"net"})) {
      http.net = scalar(v, "http.net");
      if (http.net != "tcp" && http.net != "unix") fail(v, "http.net", "expected tcp or unix");
    }
    if (auto v = find(node, {"prefix"})) {
      http.prefix = scalar(v, "http.prefix");
      if (!http.prefix.empty()) {
        if (!http.prefix.starts_with("/")) http.prefix.insert(0, "/");
        if (!http.prefix.ends_with("/")) http.prefix += "/";
        if (http.prefix == "/") http.prefix.clear();
      }
    }
    if (auto v = find(node, {"host"})) {
      http.host = scalar(v, "http.host");
      if (!http.host.empty() && http.host.find("://") == std::string::npos) {
        fail(v, "http.host", "expected an absolute URL such as https://registry.example.com");
      }
      while (http.host.ends_with("/")) http.host.pop_back();
    }
    if (auto v = find(node, {"secret"})) http.secret = scalar(v, "http.secret");
    if (auto v = find(node, {"relativeurls"})) http.relative_urls = boolean(v, "http.relativeurls");
    if (auto v = find(node, {"draintimeout"}))
      http.drain_timeout = duration(v, "http.draintimeout");
    if (auto tls = find(node, {"tls"})) {
      RegistryConfig::Tls t;
      if (auto v = find(tls, {"certificate"})) t.certificate = scalar(v, "http.tls.certificate");
      if (auto v = find(tls, {"key"})) t.key = scalar(v, "http.tls.key");
      if (auto cas = find(tls, {"clientcas"})) {
        if (cas.IsSequence()) {
          for (const auto& ca : cas) t.client_cas.push_back(scalar(ca, "http.tls.clientcas"));
        } else {
          t.client_cas.push_back(scalar(cas, "http.tls.clientcas"));
        }
      }
      if (auto v = find(tls, {"minimumtls"})) {
        std::string min = scalar(v, "http.tls.minimumtls");
        if (min == "tls1.2" || min == "1.2") {
          t.minimum_tls = "1.2";
        } else if (min == "tls1.3" || min == "1.3") {
          t.minimum_tls = "1.3";
        } else if (min == "tls1.0" || min == "tls1.1") {
          fail(v, "http.tls.minimumtls", "TLS below 1.2 is not supported");
        } else {
          fail(v, "http.tls.minimumtls", "expected tls1.2 or tls1.3");
        }
      }
      if (find(tls, {"letsencrypt"}))
        fail(find(tls, {"letsencrypt"}), "http.tls.letsencrypt", "not implemented");
      if (find(tls, {"ciphersuites"})) {
        warnings_.push_back("http.tls.ciphersuites is accepted and ignored (OpenSSL defaults)");
      }
      bool any = !t.certificate.empty() || !t.key.empty() || !t.client_cas.empty();
      if (any) {
        if (t.certificate.empty()) fail(tls, "http.tls.certificate", "required with http.tls");
        if (t.key.empty()) fail(tls, "http.tls.key", "required with http.tls");
        http.tls = t;
      }
    }
    if (auto headers = find(node, {"headers"})) {
      if (!headers.IsMap() && !headers.IsNull()) fail(headers, "http.headers", "expected a map");
      if (headers.IsMap()) {
        for (const auto& item : headers) {
          std::string name = item.first.Scalar();
          if (item.second.IsSequence()) {
            for (const auto& value : item.second) {
              http.headers.emplace_back(name, scalar(value, "http.headers." + name));
            }
          } else {
            http.headers.emplace_back(name, scalar(item.second, "http.headers." + name));
          }
        }
      }
    }
    if (auto v = find(node, {"debug", "addr"})) http.debug_addr = scalar(v, "http.debug.addr");
  }

  // Sections we accept but do not implement: fail when they would be active.
  void readUnimplemented(const YAML::Node& root, RegistryConfig& config) {
    (void)config;
    if (auto auth = find(root, {"auth"})) {
      if (auth.IsMap()) {
        for (const auto& item : auth) {
          std::string kind = item.first.Scalar();
          if (kind == "none") continue;
          fail(item.first, "auth." + kind,
               "authentication is not implemented yet; remove the auth section or run behind "
               "an authenticating proxy");
        }
      }
    }
    if (auto endpoints = find(root, {"notifications", "endpoints"})) {
      if (endpoints.IsSequence()) {
        for (const auto& endpoint : endpoints) {
          bool disabled = false;
          if (auto v = find(endpoint, {"disabled"}))
            disabled = boolean(v, "notifications.endpoints[]");
          if (!disabled) {
            // Issue 3: accepted with a warning naming them. (Auth, by contrast, fails: serving
            // without the authentication an operator configured would expose the registry.)
            auto name_node = find(endpoint, {"name"});
            std::string name = name_node && name_node.IsScalar() ? name_node.Scalar() : "?";
            warnings_.push_back("notifications.endpoints[" + name +
                                "]: notifications are not implemented yet; no events are sent");
          }
        }
        warnings_.push_back("notifications are accepted but not implemented");
      }
    }
    if (find(root, {"redis"})) {
      warnings_.push_back("redis is accepted but not used (no redis descriptor cache)");
    }
    if (auto proxy = find(root, {"proxy"})) {
      if (find(proxy, {"remoteurl"}) && !find(proxy, {"remoteurl"}).Scalar().empty()) {
        fail(find(proxy, {"remoteurl"}), "proxy.remoteurl",
             "pull-through cache is not implemented yet");
      }
    }
    static const char* kIgnored[] = {"middleware", "reporting",     "health",
                                     "validation", "compatibility", "policy"};
    for (const char* section : kIgnored) {
      if (find(root, {section})) {
        warnings_.push_back(std::string(section) + " is accepted but not implemented");
      }
    }
  }

  std::string source_;
  const std::vector<std::string>& environment_;
  std::vector<std::pair<std::string, std::string>> env_paths_;  // dotted path → variable
  std::vector<std::string> warnings_;
};

}  // namespace

std::optional<std::chrono::milliseconds> parseGoDuration(const std::string& text) {
  if (text == "0") return std::chrono::milliseconds(0);
  if (text.empty()) return std::nullopt;
  double total_ms = 0;
  size_t i = 0;
  while (i < text.size()) {
    size_t start = i;
    while (i < text.size() && (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.'))
      ++i;
    if (start == i) return std::nullopt;
    double value = 0;
    try {
      value = std::stod(text.substr(start, i - start));
    } catch (...) {
      return std::nullopt;
    }
    size_t unit_start = i;
    while (i < text.size() && !std::isdigit(static_cast<unsigned char>(text[i]))) ++i;
    std::string unit = text.substr(unit_start, i - unit_start);
    double scale = 0;
    if (unit == "ns") {
      scale = 1e-6;
    } else if (unit == "us" || unit == "µs") {
      scale = 1e-3;
    } else if (unit == "ms") {
      scale = 1;
    } else if (unit == "s") {
      scale = 1000;
    } else if (unit == "m") {
      scale = 60'000;
    } else if (unit == "h") {
      scale = 3'600'000;
    } else {
      return std::nullopt;
    }
    total_ms += value * scale;
  }
  return std::chrono::milliseconds(static_cast<int64_t>(total_ms));
}

std::vector<std::string> processEnvironment() {
  std::vector<std::string> out;
  for (char** e = environ; e && *e; ++e) out.emplace_back(*e);
  return out;
}

RegistryConfig RegistryConfig::parse(const std::string& text, const std::string& source,
                                     const std::vector<std::string>& environment) {
  return Loader(source, environment).run(text);
}

RegistryConfig RegistryConfig::load(const std::string& path,
                                    const std::vector<std::string>& environment) {
  std::ifstream in(path);
  if (!in) throw RegistryConfigError(path + ": cannot open the configuration file");
  std::stringstream buffer;
  buffer << in.rdbuf();
  return parse(buffer.str(), path, environment);
}

}  // namespace portico::backend
