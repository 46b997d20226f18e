#pragma once
// RegistryConfig: CNCF distribution's config.yml schema (docs/configuration.md), compiled once
// at startup. Every key that distribution 2.8 knows is accepted; keys that nobody knows are
// reported as `file:line: key: unknown key`. Features that portico-registry does not implement
// yet (auth, notifications, redis, storage drivers other than filesystem/inmemory) are
// accepted when absent or disabled, produce a warning when present, and fail the load with a
// message naming the key when they are enabled.
//
// REGISTRY_<SECTION>_<KEY>... environment variables override the file as in distribution
// (REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY, REGISTRY_HTTP_ADDR, ...). Values are YAML
// scalars or flow collections. Exceptions are thrown here, at startup, never at request time.

#include <chrono>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace portico::backend {

// A configuration error that names where it happened: "registry.yml:14: http.tls.key: ...".
class RegistryConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

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
  struct Storage {
    std::string driver = "filesystem";  // filesystem | inmemory
    std::string root_directory = "/var/lib/registry";
    bool delete_enabled = false;
    bool read_only = false;
    UploadPurging upload_purging;
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
    std::string debug_addr;  // health endpoint listener; empty = none
    std::vector<std::pair<std::string, std::string>> headers;  // added to every response
    std::chrono::milliseconds drain_timeout{0};
  };

  std::string source;  // file name the config came from
  std::string version = "0.1";
  Log log;
  Storage storage;
  Http http;
  std::vector<std::string> warnings;  // accepted-but-not-implemented keys, to log at startup

  // Loads a file and applies the environment overrides in `environment` (NAME=VALUE strings,
  // normally `environ`). Throws RegistryConfigError.
  static RegistryConfig load(const std::string& path, const std::vector<std::string>& environment);
  // Same, from text; `source` names it in error messages.
  static RegistryConfig parse(const std::string& text, const std::string& source,
                              const std::vector<std::string>& environment);
};

// The process environment as NAME=VALUE strings.
std::vector<std::string> processEnvironment();

// Parses a Go duration ("300s", "10ms", "1h30m", "168h"); nullopt when malformed.
std::optional<std::chrono::milliseconds> parseGoDuration(const std::string& text);

}  // namespace portico::backend
