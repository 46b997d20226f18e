#include "backend/registry_config.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <climits>
#include <filesystem>
#include <set>
#include <sstream>
#include <string_view>

extern char** environ;

namespace portico::backend {
namespace {

using config::BareNumber;
using config::ConfigError;
using config::Node;
using config::YamlDocument;

// distribution's time.Duration fields, decoded by yaml.v2: a Go duration string, or a bare
// integer of nanoseconds (http.draintimeout, notifications, redis, health, proxy.ttl).
constexpr BareNumber kDurationField = BareNumber::Nanoseconds;
// storage.maintenance values, strings handed to time.ParseDuration: a unit is required.
constexpr BareNumber kParsedDuration = BareNumber::Invalid;

// Every key distribution 2.8's configuration.go knows, as dotted paths, then Portico's
// extensions (docs/configuration.md says where new ones go); `[]` stands for a list element
// and `*` accepts anything below (driver parameters, free-form maps).
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
    // Portico: storage.maintenance.gc (distribution ignores unknown maintenance keys).
    "storage.maintenance.gc.enabled",
    "storage.maintenance.gc.interval",
    "storage.maintenance.gc.delay",
    "storage.maintenance.gc.untagged",
    "storage.maintenance.gc.dryrun",
    "auth.silly.*",
    "auth.token.*",
    "auth.htpasswd.*",
    "auth.none.*",
    // Portico: auth.policy (distribution would read it as a second access controller).
    "auth.policy.*",
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
    "notifications.endpoints[].mediatype",
    "notifications.endpoints[].maxevents",
    "notifications.endpoints[].maxbytes",
    "notifications.queuedir",
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

// Present in the file, possibly null (`key:` with no value): distribution's zero value.
bool present(const Node& node) {
  return node.yaml().IsDefined();
}

// A string value; null reads as "" (distribution's zero value).
std::string text(const Node& node) {
  return node.defined() ? node.asString() : std::string();
}

// A boolean value; null reads as false (distribution's zero value).
bool flag(const Node& node) {
  return node.defined() && node.asBool();
}

int integer(const Node& node, int64_t min = INT_MIN, int64_t max = INT_MAX) {
  return node.defined() ? static_cast<int>(node.asInt(min, max)) : 0;
}

std::chrono::seconds seconds(const Node& node, BareNumber bare) {
  return std::chrono::duration_cast<std::chrono::seconds>(node.asDuration(bare));
}

// The scalar values of a driver's or access controller's section, as strings.
Parameters parameters(const Node& node) {
  Parameters out;
  if (!node.defined()) return out;
  for (const auto& [key, value] : node.entries()) out[key] = text(value);
  return out;
}

// Headers in distribution's http.Header form: `Name: [value, ...]` (a single value too).
std::vector<std::pair<std::string, std::string>> headers(const Node& node) {
  std::vector<std::pair<std::string, std::string>> out;
  if (!node.defined()) return out;
  for (const auto& [name, values] : node.entries()) {
    if (!values.defined()) {
      out.emplace_back(name, "");
      continue;
    }
    for (const Node& value : values.itemsOrScalar()) out.emplace_back(name, text(value));
  }
  return out;
}

std::vector<std::string> strings(const Node& node) {
  std::vector<std::string> out;
  if (!node.defined()) return out;
  for (const Node& item : node.itemsOrScalar()) out.push_back(text(item));
  return out;
}

// REGISTRY_A_B_C=value overrides (distribution's overwriteFields), and which variable set
// which path, so that an error in an overridden value names the variable.
class EnvironmentOverrides {
 public:
  // Applies the REGISTRY_ variables of `environment` to `root` (creating maps on the way);
  // variables that name no known key are skipped with a warning.
  void apply(YAML::Node& root, const std::vector<std::string>& environment,
             std::vector<std::string>& warnings) {
    collectPaths(root, "", file_paths_);
    std::vector<std::pair<std::string, std::string>> overrides;
    for (const std::string& entry : environment) {
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
          warnings.push_back("ignoring unrecognized environment variable " + name);
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
      variables_.emplace_back(path, name);
    }
  }

  // The variable an error at `key` comes from: one that set `key` or a section above it, or,
  // when `key` is not in the file at all, one that created it by setting something below.
  std::optional<std::string> variableFor(const std::string& key) const {
    std::optional<std::string> found;
    for (const auto& [path, name] : variables_) {
      if (within(key, path) || (!file_paths_.count(key) && within(path, key))) found = name;
    }
    return found;
  }

 private:
  // `path` is `section` or lies below it.
  static bool within(const std::string& path, const std::string& section) {
    if (!path.starts_with(section)) return false;
    return path.size() == section.size() || path[section.size()] == '.' ||
           path[section.size()] == '[';
  }

  // Every key path of the file, spelled as config::Node spells them (a.b, a[0].b).
  static void collectPaths(const YAML::Node& node, const std::string& path,
                           std::set<std::string>& out) {
    if (node.IsMap()) {
      for (const auto& item : node) {
        if (!item.first.IsScalar()) continue;
        std::string child = path.empty() ? item.first.Scalar() : path + "." + item.first.Scalar();
        out.insert(child);
        collectPaths(item.second, child, out);
      }
    } else if (node.IsSequence()) {
      size_t index = 0;
      for (const auto& item : node) {
        std::string child = path + "[" + std::to_string(index++) + "]";
        out.insert(child);
        collectPaths(item, child, out);
      }
    }
  }

  std::set<std::string> file_paths_;
  std::vector<std::pair<std::string, std::string>> variables_;  // dotted path → variable
};

class Loader {
 public:
  explicit Loader(RegistryConfig& config) : config_(config) {}

  // Reads everything below `root` into the config; returns the warnings to log at startup.
  std::vector<std::string> run(const Node& root) {
    checkKnown(root, "");
    if (present(root["version"])) config_.version = text(root["version"]);
    readLog(root);
    readStorage(root["storage"]);
    readHttp(root["http"]);
    readAuth(root["auth"]);
    readNotifications(root["notifications"]);
    readRedis(root["redis"]);
    readHealth(root["health"]);
    readUnimplemented(root);
    return std::move(warnings_);
  }

 private:
  // Fails on the first key that is not in kKnownKeys, at its line.
  void checkKnown(const Node& node, const std::string& schema_path) {
    if (!schema_path.empty() && schema().opaque(schema_path)) return;
    if (node.isMap()) {
      for (const auto& [key, child] : node.entries()) {
        std::string path = schema_path;
        if (!path.empty()) path += '.';
        path += key;
        if (!schema().known(path)) child.fail("unknown key");
        checkKnown(child, path);
      }
    } else if (node.isSequence()) {
      const std::string path = schema_path + "[]";
      if (!schema().known(path)) node.fail("a list is not allowed here");
      for (const Node& item : node.items()) checkKnown(item, path);
    }
  }

  void readLog(const Node& root) {
    auto& log = config_.log;
    if (present(root["loglevel"])) log.level = level(root["loglevel"]);
    Node node = root["log"];
    if (!node.defined()) return;
    if (present(node["level"])) log.level = level(node["level"]);
    if (Node v = node["formatter"]; present(v)) {
      log.formatter = text(v);
      if (log.formatter == "logstash") log.formatter = "json";
      if (log.formatter != "text" && log.formatter != "json") {
        v.fail("expected text, json or logstash");
      }
    }
    for (const auto& [key, value] : node["fields"].entries()) {
      log.fields[key] = value.isScalar() ? value.asString() : "";
    }
    log.access_log_disabled = flag(node["accesslog"]["disabled"]);
    if (present(node["hooks"])) warnings_.push_back("log.hooks is accepted but not implemented");
  }

  static std::string level(const Node& node) {
    std::string level = text(node);
    static const std::set<std::string> kLevels = {"error", "warn",  "warning", "info",
                                                  "debug", "trace", "fatal",   "panic"};
    if (!kLevels.count(level)) node.fail("unknown level \"" + level + "\"");
    if (level == "warning") return "warn";
    if (level == "fatal" || level == "panic") return "error";
    if (level == "trace") return "debug";
    return level;
  }

  // storage: one driver section (or `storage: <driver>`, distribution's short form) beside
  // distribution's delete, redirect, cache and maintenance.
  void readStorage(const Node& node) {
    auto& storage = config_.storage;
    if (!node.defined()) return;
    if (node.isScalar()) {
      useDriver(node, text(node), nullptr);
      return;
    }
    static constexpr std::string_view kSections[] = {"delete", "redirect", "cache", "maintenance"};
    std::vector<std::string> drivers;
    for (const auto& [key, child] : node.entries()) {
      if (std::find(std::begin(kSections), std::end(kSections), key) != std::end(kSections))
        continue;
      useDriver(child, key, &child);
      drivers.push_back(key);
    }
    if (drivers.size() > 1) {
      node.fail("more than one storage driver configured (" + drivers[0] + ", " + drivers[1] + ")");
    }
    storage.delete_enabled = flag(node["delete"]["enabled"]);
    readMaintenance(node["maintenance"]);
    Node cache = node["cache"];
    Node kind_node = present(cache["layerinfo"]) ? cache["layerinfo"] : cache["blobdescriptor"];
    std::string kind = text(kind_node);
    if (kind == "redis") {
      warnings_.push_back(
          "storage.cache.blobdescriptor: redis is not implemented yet; using the in-memory cache");
      kind = "inmemory";
    } else if (!kind.empty() && kind != "inmemory") {
      kind_node.fail("unknown cache type \"" + kind + "\" (supported: inmemory, redis)");
    }
    storage.blob_descriptor_cache = kind;
    if (Node v = cache["blobdescriptorsize"]; present(v)) {
      storage.blob_descriptor_cache_size = static_cast<size_t>(v.asInt(1, INT32_MAX));
    }
    if (present(node["redirect"])) {
      warnings_.push_back("storage.redirect is accepted and ignored (filesystem serves bytes)");
    }
  }

  // A driver section (null for `storage: <driver>`): its name selects the driver, its scalars
  // are the driver's parameters.
  void useDriver(const Node& at, const std::string& name, const Node* section) {
    auto& storage = config_.storage;
    if (name != "filesystem" && name != "inmemory") {
      at.fail("this storage driver is not implemented yet (supported: filesystem, inmemory)");
    }
    storage.driver = name;
    if (section == nullptr) return;
    storage.parameters = parameters(*section);
    if (name != "filesystem") return;
    if (Node v = (*section)["rootdirectory"]; present(v)) {
      storage.root_directory = text(v);
      if (storage.root_directory.empty()) v.fail("must not be empty");
    }
    if (Node v = (*section)["maxthreads"]; v.defined()) {
      storage.max_threads = std::max(25, integer(v));
    }
  }

  void readMaintenance(const Node& node) {
    auto& storage = config_.storage;
    if (Node purging = node["uploadpurging"]; purging.defined()) {
      auto& p = storage.upload_purging;
      if (present(purging["enabled"])) p.enabled = flag(purging["enabled"]);
      if (Node v = purging["age"]; present(v)) p.age = seconds(v, kParsedDuration);
      if (Node v = purging["interval"]; present(v)) {
        p.interval = seconds(v, kParsedDuration);
        if (p.interval.count() <= 0) v.fail("must be positive");
      }
      p.dry_run = flag(purging["dryrun"]);
    }
    storage.read_only = flag(node["readonly"]["enabled"]);
    if (Node gc_node = node["gc"]; gc_node.defined()) {
      auto& gc = storage.gc;
      gc.enabled = flag(gc_node["enabled"]);
      if (Node v = gc_node["interval"]; present(v)) {
        gc.interval = seconds(v, kParsedDuration);
        if (gc.interval.count() <= 0) v.fail("must be positive");
      }
      if (present(gc_node["delay"])) gc.delay = seconds(gc_node["delay"], kParsedDuration);
      gc.untagged = flag(gc_node["untagged"]);
      gc.dry_run = flag(gc_node["dryrun"]);
    }
  }

  void readHttp(const Node& node) {
    auto& http = config_.http;
    if (!node.defined()) return;
    if (present(node["addr"])) http.addr = text(node["addr"]);
    if (Node v = node["net"]; present(v)) {
      http.net = text(v);
      if (http.net != "tcp" && http.net != "unix") v.fail("expected tcp or unix");
    }
    if (present(node["prefix"])) {
      http.prefix = text(node["prefix"]);
      if (!http.prefix.empty()) {
        if (!http.prefix.starts_with("/")) http.prefix.insert(0, "/");
        if (!http.prefix.ends_with("/")) http.prefix += "/";
        if (http.prefix == "/") http.prefix.clear();
      }
    }
    if (Node v = node["host"]; present(v)) {
      http.host = text(v);
      if (!http.host.empty() && http.host.find("://") == std::string::npos) {
        v.fail("expected an absolute URL such as https://registry.example.com");
      }
      while (http.host.ends_with("/")) http.host.pop_back();
    }
    http.secret = text(node["secret"]);
    http.relative_urls = flag(node["relativeurls"]);
    if (Node v = node["draintimeout"]; v.defined())
      http.drain_timeout = v.asDuration(kDurationField);
    readTls(node["tls"]);
    http.headers = headers(node["headers"]);
    http.debug_addr = text(node["debug"]["addr"]);
    http.prometheus_enabled = flag(node["debug"]["prometheus"]["enabled"]);
    if (Node v = node["debug"]["prometheus"]["path"]; present(v)) {
      http.prometheus_path = text(v);
      if (!http.prometheus_path.starts_with("/")) v.fail("expected a path starting with /");
    }
  }

  void readTls(const Node& tls) {
    if (!tls.defined()) return;
    RegistryConfig::Tls t;
    t.certificate = text(tls["certificate"]);
    t.key = text(tls["key"]);
    t.client_cas = strings(tls["clientcas"]);
    if (Node v = tls["minimumtls"]; present(v)) {
      std::string min = text(v);
      if (min == "tls1.2" || min == "1.2") {
        t.minimum_tls = "1.2";
      } else if (min == "tls1.3" || min == "1.3") {
        t.minimum_tls = "1.3";
      } else if (min == "tls1.0" || min == "tls1.1") {
        v.fail("TLS below 1.2 is not supported");
      } else {
        v.fail("expected tls1.2 or tls1.3");
      }
    }
    if (present(tls["letsencrypt"])) tls["letsencrypt"].fail("not implemented");
    if (present(tls["ciphersuites"])) {
      warnings_.push_back("http.tls.ciphersuites is accepted and ignored (OpenSSL defaults)");
    }
    bool any = !t.certificate.empty() || !t.key.empty() || !t.client_cas.empty();
    if (!any) return;
    if (t.certificate.empty()) tls["certificate"].fail("required with http.tls");
    if (t.key.empty()) tls["key"].fail("required with http.tls");
    config_.http.tls = t;
  }

  // auth: one access controller (or `auth: <type>`) and Portico's auth.policy.
  void readAuth(const Node& node) {
    if (!node.defined()) return;
    std::vector<std::pair<std::string, Node>> entries;
    if (node.isScalar()) {
      entries.emplace_back(text(node), node);
    } else {
      entries = node.entries();
    }
    std::optional<Node> policy;
    for (const auto& [type, section] : entries) {
      if (type == "policy") {
        policy = section;
        continue;
      }
      if (!config_.auth.type.empty()) {
        section.fail("one access controller only (auth." + config_.auth.type + " is set)");
      }
      if (type == "htpasswd") {
        if (!section.isMap()) section.fail("needs realm and path");
        if (text(section["realm"]).empty()) section["realm"].fail("required with auth.htpasswd");
        if (text(section["path"]).empty()) section["path"].fail("required with auth.htpasswd");
      } else if (type == "token") {
        readToken(section);
      } else if (type != "none") {
        // Deliberately not a warning: a registry that serves without the authentication its
        // operator configured is open to everyone.
        section.fail(
            "this access controller is not implemented yet; use auth.htpasswd, remove the auth "
            "section or run behind an authenticating proxy");
      }
      config_.auth.type = type;
      if (!section.isScalar() && type != "token") config_.auth.parameters = parameters(section);
    }
    if (policy) {
      if (config_.auth.type != "htpasswd") policy->fail("needs auth.htpasswd (its users)");
      config_.auth.policy = std::make_shared<const auth::Policy>(auth::Policy::parse(*policy));
    }
  }

  // auth.token (distribution 2.8 and 3.x keys). rootcertbundle or jwks (3.x) must be given.
  void readToken(const Node& section) {
    if (!section.isMap()) section.fail("needs realm, service, issuer and rootcertbundle or jwks");
    auto& parameters = config_.auth.parameters;
    for (const auto& [key, value] : section.entries()) {
      if (key == "signingalgorithms") {
        for (const Node& item : value.items()) {
          std::string alg = text(item);
          static const std::set<std::string> kSupported = {"RS256", "RS384", "RS512", "PS256",
                                                           "PS384", "PS512", "ES256", "ES384",
                                                           "ES512", "EdDSA"};
          if (!kSupported.contains(alg)) {
            item.fail(
                "unsupported signing algorithm (RS*, PS*, ES*, EdDSA; none and HS* are "
                "refused with public keys)");
          }
          config_.auth.signing_algorithms.push_back(alg);
        }
        continue;
      }
      parameters[key] = text(value);
    }
    for (const char* key : {"realm", "service", "issuer"}) {
      if (parameters[key].empty()) section[key].fail("required with auth.token");
    }
    if (parameters["rootcertbundle"].empty() && parameters["jwks"].empty()) {
      section["rootcertbundle"].fail("required with auth.token (or jwks)");
    }
    if (present(section["autoredirect"])) {
      parameters["autoredirect"] = flag(section["autoredirect"]) ? "true" : "false";
    }
    if (parameters["autoredirectpath"].empty()) parameters["autoredirectpath"] = "/auth/token";
    if (parameters["autoredirectpath"].front() != '/') {
      section["autoredirectpath"].fail("must start with /");
    }
  }

  void readNotifications(const Node& node) {
    auto& notifications = config_.notifications;
    if (!node.defined()) return;
    notifications.include_references = flag(node["events"]["includereferences"]);
    notifications.queue_dir = text(node["queuedir"]);
    Node endpoints = node["endpoints"];
    if (!endpoints.defined()) return;
    for (const Node& item : endpoints.items()) {
      RegistryConfig::NotificationEndpoint endpoint;
      endpoint.name = text(item["name"]);
      endpoint.disabled = flag(item["disabled"]);
      endpoint.url = text(item["url"]);
      endpoint.headers = headers(item["headers"]);
      // distribution's defaults apply to zero (and absent) values.
      if (Node v = item["timeout"]; v.defined() && v.asDuration(kDurationField).count() > 0)
        endpoint.timeout = v.asDuration(kDurationField);
      if (Node v = item["threshold"]; v.defined() && integer(v) > 0)
        endpoint.threshold = integer(v);
      if (Node v = item["backoff"]; v.defined() && v.asDuration(kDurationField).count() > 0)
        endpoint.backoff = v.asDuration(kDurationField);
      endpoint.ignored_media_types = strings(item["ignoredmediatypes"]);
      endpoint.ignore_media_types = strings(item["ignore"]["mediatypes"]);
      endpoint.ignore_actions = strings(item["ignore"]["actions"]);
      for (const auto& action : endpoint.ignore_actions) {
        if (action != "push" && action != "pull" && action != "mount" && action != "delete") {
          item["ignore"]["actions"].fail("expected push, pull, mount or delete, got \"" + action +
                                         "\"");
        }
      }
      if (Node v = item["mediatype"]; v.defined()) {
        std::string type = text(v);
        if (type == "v1" || type == "application/vnd.docker.distribution.events.v1+json") {
          endpoint.media_type = "application/vnd.docker.distribution.events.v1+json";
        } else if (type == "v2" || type == "application/vnd.docker.distribution.events.v2+json") {
          endpoint.media_type = "application/vnd.docker.distribution.events.v2+json";
        } else {
          v.fail("expected v1 or v2 (application/vnd.docker.distribution.events.v1+json or v2)");
        }
      }
      if (Node v = item["maxevents"]; v.defined()) {
        endpoint.max_events = static_cast<uint64_t>(v.asInt(1, INT64_MAX));
      }
      if (Node v = item["maxbytes"]; v.defined()) {
        endpoint.max_bytes = static_cast<uint64_t>(v.asInt(1024, INT64_MAX));
      }
      if (!endpoint.disabled) {
        // The name is the queue's directory: it must be one path component, and unique.
        if (endpoint.name.empty() || endpoint.name == "." || endpoint.name == ".." ||
            endpoint.name.find('/') != std::string::npos) {
          item["name"].fail("an enabled endpoint needs a name (one path component)");
        }
        for (const auto& other : notifications.endpoints) {
          if (!other.disabled && other.name == endpoint.name) item["name"].fail("duplicate name");
        }
        if (endpoint.url.rfind("http://", 0) != 0 && endpoint.url.rfind("https://", 0) != 0) {
          item["url"].fail("an enabled endpoint needs an http:// or https:// url");
        }
      }
      notifications.endpoints.push_back(std::move(endpoint));
    }
  }

  void readRedis(const Node& node) {
    if (!present(node)) return;
    warnings_.push_back("redis is accepted but not used (no redis descriptor cache)");
    RegistryConfig::Redis redis;
    redis.addr = text(node["addr"]);
    redis.password = text(node["password"]);
    redis.db = integer(node["db"], 0);
    redis.dial_timeout = node.durationOr("dialtimeout", {}, kDurationField);
    redis.read_timeout = node.durationOr("readtimeout", {}, kDurationField);
    redis.write_timeout = node.durationOr("writetimeout", {}, kDurationField);
    redis.pool_max_idle = integer(node["pool"]["maxidle"], 0);
    redis.pool_max_active = integer(node["pool"]["maxactive"], 0);
    redis.pool_idle_timeout = node["pool"].durationOr("idletimeout", {}, kDurationField);
    redis.tls_enabled = flag(node["tls"]["enabled"]);
    config_.redis = redis;
  }

  void readHealth(const Node& node) {
    if (!present(node)) return;
    auto common = [&](const Node& item, RegistryConfig::HealthCheck& check) {
      check.interval = item.durationOr("interval", check.interval, kDurationField);
      if (check.interval.count() <= 0) check.interval = std::chrono::milliseconds(10'000);
      check.threshold = integer(item["threshold"], 0);
    };
    if (Node driver = node["storagedriver"]; present(driver) && flag(driver["enabled"])) {
      RegistryConfig::HealthCheck check{.kind = "storagedriver"};
      common(driver, check);
      config_.health.push_back(std::move(check));
    } else if (present(driver)) {
      driver.durationOr("interval", {}, kDurationField);
    }
    for (const char* kind : {"file", "http", "tcp"}) {
      Node list = node[kind];
      if (!present(list)) continue;
      for (const Node& item : list.items()) {
        RegistryConfig::HealthCheck check{.kind = kind};
        common(item, check);
        check.timeout = item.durationOr("timeout", check.timeout, kDurationField);
        if (check.timeout.count() <= 0) check.timeout = std::chrono::milliseconds(1'000);
        const char* key = std::string_view(kind) == "file"   ? "file"
                          : std::string_view(kind) == "http" ? "uri"
                                                             : "addr";
        check.target = text(item[key]);
        if (check.target.empty()) item[key].fail("required");
        if (check.kind == "http") {
          if (!check.target.starts_with("http://")) {
            item[key].fail("only http:// URIs can be checked");
          }
          check.headers = headers(item["headers"]);
          if (present(item["statuscode"]))
            check.status_code = integer(item["statuscode"], 100, 599);
        }
        config_.health.push_back(std::move(check));
      }
    }
  }

  // Sections we accept but do not implement: their values are still checked where they have
  // a type (durations), and they fail when they would be active.
  void readUnimplemented(const Node& root) {
    Node proxy = root["proxy"];
    if (!text(proxy["remoteurl"]).empty()) {
      proxy["remoteurl"].fail("pull-through cache is not implemented yet");
    }
    proxy.durationOr("ttl", {}, kDurationField);
    static const char* kIgnored[] = {"middleware", "reporting", "validation", "compatibility",
                                     "policy"};
    for (const char* section : kIgnored) {
      if (present(root[section])) {
        warnings_.push_back(std::string(section) + " is accepted but not implemented");
      }
    }
  }

  RegistryConfig& config_;
  std::vector<std::string> warnings_;
};

RegistryConfig read(YamlDocument document, const std::vector<std::string>& environment) {
  RegistryConfig config;
  config.source = document.fileName();
  if (document.yaml().IsNull()) document.yaml().reset(YAML::Node(YAML::NodeType::Map));
  if (!document.yaml().IsMap()) document.root().fail("the document must be a mapping");
  EnvironmentOverrides overrides;
  std::vector<std::string> env_warnings;
  overrides.apply(document.yaml(), environment, env_warnings);
  std::vector<std::string> warnings;
  try {
    warnings = Loader(config).run(document.root());
  } catch (const ConfigError& e) {
    if (auto variable = overrides.variableFor(e.key())) {
      throw ConfigError("environment " + *variable, 0, e.key(), e.message());
    }
    throw;
  }
  config.warnings = std::move(env_warnings);
  config.warnings.insert(config.warnings.end(), warnings.begin(), warnings.end());
  return config;
}

}  // namespace

std::vector<std::string> processEnvironment() {
  std::vector<std::string> out;
  for (char** e = environ; e && *e; ++e) out.emplace_back(*e);
  return out;
}

RegistryConfig RegistryConfig::parse(const std::string& text, const std::string& source,
                                     const std::vector<std::string>& environment) {
  return read(YamlDocument::loadString(text, source), environment);
}

RegistryConfig RegistryConfig::load(const std::string& path,
                                    const std::vector<std::string>& environment) {
  return read(YamlDocument::load(path), environment);
}

}  // namespace portico::backend

namespace portico::backend {

std::string RegistryConfig::queueDirectory(const std::string& name) const {
  if (!notifications.queue_dir.empty()) return notifications.queue_dir + "/" + name;
  if (storage.driver == "filesystem") {
    return storage.root_directory + "/docker/registry/v2/_portico/notifications/" + name;
  }
  // inmemory: nothing on disk to sit beside; queued under the temporary directory.
  return (std::filesystem::temp_directory_path() / "portico-notifications" / name).string();
}

}  // namespace portico::backend
