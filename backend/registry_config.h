#pragma once
// RegistryConfig: CNCF distribution's config.yml schema (docs/configuration.md), read once at
// startup with common/config (YamlDocument, config::Node), so every error is a
// config::ConfigError that reads `registry.yml:14: http.tls.key: required with http.tls`.
// Every key that distribution 2.8 knows is accepted, plus Portico's extensions (marked in
// docs/configuration.md); keys that nobody knows are reported as `file:line: key: unknown key`.
// Features that portico-registry does not implement yet (auth.silly, notifications, redis,
// storage drivers other than filesystem/inmemory, garbage collection) are accepted when absent
// or disabled, produce a warning when present, and fail the load with a message naming the key
// when they are enabled (auth.silly and garbage collection: whenever present / enabled).
//
// REGISTRY_<SECTION>_<KEY>... environment variables override the file as in distribution
// (REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY, REGISTRY_HTTP_ADDR, ...), before validation.
// Values are YAML scalars or flow collections; an error in a value a variable set names the
// variable instead of a line: `environment REGISTRY_HTTP_NET: http.net: expected tcp or unix`.
//
// Durations are read as distribution reads them: time.Duration fields (http.draintimeout,
// notification timeout/backoff, redis timeouts, health intervals, proxy.ttl) take a Go
// duration or a bare integer of nanoseconds; storage.maintenance values (uploadpurging age and
// interval, gc) go through time.ParseDuration and need a unit. Nothing may be negative.
//
// Exceptions are thrown here, at startup, never at request time.

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "backend/auth/policy.h"
#include "common/config/yaml_document.h"

namespace portico::backend {

// A driver's or access controller's parameters (distribution's configuration.Parameters):
// the scalar values below storage.<driver> or auth.<type>, as strings.
using Parameters = std::map<std::string, std::string>;

struct RegistryConfig {
  struct Log {
    std::string level = "info";                 // error | warn | info | debug
    std::string formatter = "text";             // text | json | logstash (treated as json)
    std::map<std::string, std::string> fields;  // static fields added to every line
    bool access_log_disabled = false;
  };
  struct UploadPurging {
    bool enabled = true;
    std::chrono::seconds age{168 * 3600};
    std::chrono::seconds interval{24 * 3600};
    bool dry_run = false;
  };
  // storage.maintenance.gc (Portico): online garbage collection (backend/gc_runner.h).
  struct GarbageCollection {
    bool enabled = false;
    std::chrono::seconds interval{24 * 3600};
    std::chrono::seconds delay{3600};  // blobs younger than this are kept
    bool untagged = false;             // also remove manifests no tag points to
    bool dry_run = false;
  };
  struct Storage {
    // storage.<driver>: its name (a driver factory's key) and its parameters.
    std::string driver = "filesystem";  // filesystem | inmemory
    Parameters parameters;
    // The filesystem driver's parameters, checked here (distribution's defaults).
    std::string root_directory = "/var/lib/registry";
    int max_threads = 100;  // at least 25, as distribution
    bool delete_enabled = false;
    bool read_only = false;
    UploadPurging upload_purging;
    GarbageCollection gc;
    // storage.cache.blobdescriptor (or its older name layerinfo): "" (none), inmemory, or redis
    // (accepted with a warning; the in-memory cache is used). blobdescriptorsize: its entries.
    std::string blob_descriptor_cache;
    size_t blob_descriptor_cache_size = 10'000;
  };
  struct Tls {
    std::string certificate;
    std::string key;
    std::vector<std::string> client_cas;
    std::string minimum_tls = "1.2";  // "1.2" or "1.3"
  };
  struct Http {
    std::string addr = ":5000";
    std::string net = "tcp";  // tcp | unix
    std::string prefix;       // path prefix before /v2/ ("" or "/something/")
    std::string host;         // externally reachable URL for Location headers
    std::string secret;
    bool relative_urls = false;
    std::optional<Tls> tls;
    std::string debug_addr;                    // health endpoint listener; empty = none
    bool prometheus_enabled = false;           // http.debug.prometheus.enabled
    std::string prometheus_path = "/metrics";  // http.debug.prometheus.path
    std::vector<std::pair<std::string, std::string>> headers;  // added to every response
    std::chrono::milliseconds drain_timeout{0};
  };
  // auth.<type> (distribution: exactly one access controller) and Portico's auth.policy
  // (backend/auth/policy.h, with htpasswd only). Not implemented: silly fails the load.
  struct Auth {
    std::string type;  // "" (none configured) | none | htpasswd (parameters realm, path) |
                       // token (realm, service, issuer, rootcertbundle, jwks, autoredirect
                       // "true"/"false", autoredirectpath defaulted to /auth/token)
    Parameters parameters;
    std::vector<std::string> signing_algorithms;  // auth.token.signingalgorithms; empty: all
    std::shared_ptr<const auth::Policy> policy;   // null: authenticated users may do everything
  };
  // notifications.endpoints[] (distribution's defaults for timeout, threshold, backoff).
  struct NotificationEndpoint {
    std::string name;
    bool disabled = false;
    std::string url;
    std::vector<std::pair<std::string, std::string>> headers;
    std::chrono::milliseconds timeout{1000};
    int threshold = 10;
    std::chrono::milliseconds backoff{1000};
    std::vector<std::string> ignored_media_types;
    std::vector<std::string> ignore_media_types;  // ignore.mediatypes
    std::vector<std::string> ignore_actions;      // ignore.actions
    // Portico's keys: the envelope's media type (v1, or distribution 3.x's v2), and the bound
    // of the endpoint's on-disk queue (when full, the oldest events are dropped).
    std::string media_type = "application/vnd.docker.distribution.events.v1+json";
    uint64_t max_events = 10'000;
    uint64_t max_bytes = uint64_t{64} * 1024 * 1024;
  };
  // Events are queued durably per endpoint under queue_dir/<name> (Portico's
  // notifications.queuedir; empty: <rootdirectory>/docker/registry/v2/_portico/notifications
  // for the filesystem driver, see queueDirectory()).
  struct Notifications {
    bool include_references = false;  // events.includereferences
    std::string queue_dir;            // notifications.queuedir
    std::vector<NotificationEndpoint> endpoints;
  };
  // health.storagedriver, health.file[], health.http[], health.tcp[] (distribution's
  // defaults: interval 10s, timeout 1s, statuscode 200, threshold 0 = fail at once).
  struct HealthCheck {
    std::string kind;  // storagedriver | file | http | tcp
    std::chrono::milliseconds interval{10'000};
    int threshold = 0;
    std::chrono::milliseconds timeout{1'000};
    std::string target;  // file, uri or addr
    std::vector<std::pair<std::string, std::string>> headers;
    int status_code = 200;
  };
  // redis (accepted, unused: there is no Redis descriptor cache yet).
  struct Redis {
    std::string addr;
    std::string password;
    int db = 0;
    std::chrono::milliseconds dial_timeout{0};
    std::chrono::milliseconds read_timeout{0};
    std::chrono::milliseconds write_timeout{0};
    int pool_max_idle = 0;
    int pool_max_active = 0;
    std::chrono::milliseconds pool_idle_timeout{0};
    bool tls_enabled = false;
  };

  std::string source;  // file name the config came from
  std::string version = "0.1";
  Log log;
  Storage storage;
  Http http;
  Auth auth;
  Notifications notifications;
  std::optional<Redis> redis;
  std::vector<HealthCheck> health;
  std::vector<std::string> warnings;  // accepted-but-not-implemented keys, to log at startup

  // The directory of endpoint `name`'s event queue.
  std::string queueDirectory(const std::string& name) const;

  // Loads a file and applies the environment overrides in `environment` (NAME=VALUE strings,
  // normally `environ`). Throws config::ConfigError.
  static RegistryConfig load(const std::string& path, const std::vector<std::string>& environment);
  // Same, from text; `source` names it in error messages.
  static RegistryConfig parse(const std::string& text, const std::string& source,
                              const std::vector<std::string>& environment);
};

// The process environment as NAME=VALUE strings.
std::vector<std::string> processEnvironment();

}  // namespace portico::backend
