#include "backend/registry_config.h"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

using namespace std::chrono_literals;
using portico::backend::RegistryConfig;
using portico::config::BareNumber;
using portico::config::ConfigError;
using portico::config::parseDuration;

namespace {

// The example config from the Docker docs ("Deploying a registry server"), with the doc's
// stray tab indentation replaced by spaces.
const char* kDockerDocsExample = R"(version: 0.1
log:
  level: debug
  fields:
    service: registry
    environment: development
storage:
  cache:
      layerinfo: inmemory
  filesystem:
      rootdirectory: /tmp/registry-dev
  maintenance:
      uploadpurging:
          enabled: false
http:
  addr: :5000
  secret: asecretforlocaldevelopment
  debug:
      addr: localhost:5001
redis:
  addr: localhost:6379
  pool:
    maxidle: 16
    maxactive: 64
    idletimeout: 300s
  dialtimeout: 10ms
  readtimeout: 10ms
  writetimeout: 10ms
notifications:
  endpoints:
      - name: local-8082
        url: http://localhost:5003/callback
        headers:
           Authorization: [Bearer <an example token>]
        timeout: 1s
        threshold: 10
        backoff: 1s
        disabled: true
      - name: local-8083
        url: http://localhost:8083/callback
        timeout: 1s
        threshold: 10
        backoff: 1s
        disabled: true
)";

RegistryConfig parse(const std::string& text, std::vector<std::string> env = {}) {
  return RegistryConfig::parse(text, "registry.yml", env);
}

std::string errorOf(const std::string& text, std::vector<std::string> env = {}) {
  try {
    parse(text, env);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "no error";
}

}  // namespace

TEST_CASE("the Docker docs example config loads as is", "[registry_config]") {
  RegistryConfig config = parse(kDockerDocsExample);
  CHECK(config.version == "0.1");
  CHECK(config.log.level == "debug");
  CHECK(config.log.fields.at("service") == "registry");
  CHECK(config.log.fields.at("environment") == "development");
  CHECK(config.storage.driver == "filesystem");
  CHECK(config.storage.root_directory == "/tmp/registry-dev");
  CHECK_FALSE(config.storage.upload_purging.enabled);
  CHECK(config.http.addr == ":5000");
  CHECK(config.http.secret == "asecretforlocaldevelopment");
  CHECK(config.http.debug_addr == "localhost:5001");
  CHECK_FALSE(config.http.tls.has_value());
  CHECK_FALSE(config.warnings.empty());
}

TEST_CASE("defaults apply when sections are absent", "[registry_config]") {
  RegistryConfig config = parse("version: 0.1\n");
  CHECK(config.storage.root_directory == "/var/lib/registry");
  CHECK_FALSE(config.storage.delete_enabled);
  CHECK(config.storage.upload_purging.enabled);
  CHECK(config.storage.upload_purging.age == std::chrono::hours(168));
  CHECK(config.storage.upload_purging.interval == std::chrono::hours(24));
  CHECK(config.http.addr == ":5000");
  CHECK(config.log.formatter == "text");
  CHECK_FALSE(config.http.relative_urls);
}

TEST_CASE("every supported key is read", "[registry_config]") {
  RegistryConfig config = parse(R"(version: 0.1
log:
  level: warn
  formatter: json
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: /srv/reg
  delete:
    enabled: true
  maintenance:
    uploadpurging:
      enabled: true
      age: 2h
      interval: 30m
      dryrun: true
    readonly:
      enabled: true
  redirect:
    disable: true
http:
  addr: 127.0.0.1:5001
  net: tcp
  prefix: /reg
  host: https://registry.example.com/
  relativeurls: true
  draintimeout: 15s
  tls:
    certificate: /c.pem
    key: /k.pem
    clientcas:
      - /ca1.pem
      - /ca2.pem
    minimumtls: tls1.3
  headers:
    X-Content-Type-Options: [nosniff]
)");
  CHECK(config.log.level == "warn");
  CHECK(config.log.formatter == "json");
  CHECK(config.log.access_log_disabled);
  CHECK(config.storage.root_directory == "/srv/reg");
  CHECK(config.storage.delete_enabled);
  CHECK(config.storage.read_only);
  CHECK(config.storage.upload_purging.age == std::chrono::hours(2));
  CHECK(config.storage.upload_purging.interval == std::chrono::minutes(30));
  CHECK(config.storage.upload_purging.dry_run);
  CHECK(config.http.addr == "127.0.0.1:5001");
  CHECK(config.http.prefix == "/reg/");
  CHECK(config.http.host == "https://registry.example.com");
  CHECK(config.http.relative_urls);
  CHECK(config.http.drain_timeout == std::chrono::seconds(15));
  REQUIRE(config.http.tls.has_value());
  CHECK(config.http.tls->certificate == "/c.pem");
  CHECK(config.http.tls->key == "/k.pem");
  CHECK(config.http.tls->client_cas == std::vector<std::string>{"/ca1.pem", "/ca2.pem"});
  CHECK(config.http.tls->minimum_tls == "1.3");
  REQUIRE(config.http.headers.size() == 1);
  CHECK(config.http.headers[0].first == "X-Content-Type-Options");
  CHECK(config.http.headers[0].second == "nosniff");
}

TEST_CASE("an unknown key is reported with file, line and key", "[registry_config]") {
  CHECK(errorOf("version: 0.1\nstorage:\n  filesystem:\n    rootdir: /x\n") ==
        "registry.yml:4: storage.filesystem.rootdir: unknown key");
  CHECK(errorOf("version: 0.1\nhttpx:\n  addr: :1\n") == "registry.yml:2: httpx: unknown key");
}

TEST_CASE("bad values are reported with file, line and key", "[registry_config]") {
  CHECK(errorOf("storage:\n  delete:\n    enabled: maybe\n") ==
        "registry.yml:3: storage.delete.enabled: expected true or false, got \"maybe\"");
  CHECK(errorOf("storage:\n  maintenance:\n    uploadpurging:\n      age: 3 days\n") ==
        "registry.yml:4: storage.maintenance.uploadpurging.age: expected a duration like 30s, "
        "5m, 1h30m or 250ms, got \"3 days\"");
  CHECK(errorOf("http:\n  tls:\n    minimumtls: tls1.0\n")
            .starts_with("registry.yml:3: http.tls.minimumtls:"));
  // A missing key is reported at its section's line.
  CHECK(errorOf("http:\n  tls:\n    certificate: /c.pem\n") ==
        "registry.yml:2: http.tls.key: required with http.tls");
  CHECK(errorOf("log:\n  level: loud\n").starts_with("registry.yml:2: log.level:"));
  CHECK(errorOf("version: [0.1\n").starts_with("registry.yml:"));
}

TEST_CASE("auth.token reads distribution 2.8 and 3.x keys", "[registry_config]") {
  auto config = parse(
      "auth:\n  token:\n    realm: https://auth.example/token\n    service: registry\n"
      "    issuer: issuer\n    rootcertbundle: /certs/bundle.pem\n    jwks: /certs/jwks.json\n"
      "    autoredirect: true\n    signingalgorithms: [ES256, RS256]\n");
  CHECK(config.auth.type == "token");
  CHECK(config.auth.parameters.at("realm") == "https://auth.example/token");
  CHECK(config.auth.parameters.at("service") == "registry");
  CHECK(config.auth.parameters.at("issuer") == "issuer");
  CHECK(config.auth.parameters.at("rootcertbundle") == "/certs/bundle.pem");
  CHECK(config.auth.parameters.at("jwks") == "/certs/jwks.json");
  CHECK(config.auth.parameters.at("autoredirect") == "true");
  CHECK(config.auth.parameters.at("autoredirectpath") == "/auth/token");
  CHECK(config.auth.signing_algorithms == std::vector<std::string>{"ES256", "RS256"});
  // 3.x: jwks alone is enough.
  CHECK(parse("auth:\n  token:\n    realm: r\n    service: s\n    issuer: i\n"
              "    jwks: /j.json\n")
            .auth.type == "token");
}

TEST_CASE("auth.token errors name the key", "[registry_config]") {
  CHECK(errorOf("auth:\n  token:\n    realm: r\n") ==
        "registry.yml:2: auth.token.service: required with auth.token");
  CHECK(errorOf("auth:\n  token:\n    realm: r\n    service: s\n    issuer: i\n") ==
        "registry.yml:2: auth.token.rootcertbundle: required with auth.token (or jwks)");
  CHECK(errorOf("auth:\n  token:\n    realm: r\n    service: s\n    issuer: i\n"
                "    rootcertbundle: /b\n    signingalgorithms: [HS256]\n")
            .starts_with("registry.yml:7: auth.token.signingalgorithms"));
  CHECK(errorOf("auth:\n  token:\n    realm: r\n    service: s\n    issuer: i\n"
                "    rootcertbundle: /b\n    autoredirectpath: auth\n")
            .starts_with("registry.yml:7: auth.token.autoredirectpath: must start with /"));
}

TEST_CASE("unimplemented auth and storage fail, naming the key", "[registry_config]") {
  CHECK(errorOf("auth:\n  silly:\n    realm: r\n").starts_with("registry.yml:2: auth.silly:"));
  CHECK(errorOf("storage:\n  s3:\n    bucket: b\n") ==
        "registry.yml:2: storage.s3: this storage driver is not implemented yet (supported: "
        "filesystem, inmemory)");
}

TEST_CASE("notifications are read without warnings; a redis cache is accepted with one",
          "[registry_config]") {
  RegistryConfig enabled = parse(
      "notifications:\n  queuedir: /q\n  endpoints:\n    - name: n\n      url: http://x\n"
      "      ignore:\n        actions: [pull]\n      mediatype: v2\n      maxevents: 5\n"
      "      maxbytes: 4096\n"
      "storage:\n  cache:\n    blobdescriptor: redis\n");
  auto mentions = [&](std::string_view text) {
    for (const auto& w : enabled.warnings) {
      if (w.find(text) != std::string::npos) return true;
    }
    return false;
  };
  CHECK_FALSE(mentions("notifications"));
  CHECK(mentions("storage.cache.blobdescriptor"));
  REQUIRE(enabled.notifications.endpoints.size() == 1);
  const auto& endpoint = enabled.notifications.endpoints[0];
  CHECK(endpoint.ignore_actions == std::vector<std::string>{"pull"});
  CHECK(endpoint.media_type == "application/vnd.docker.distribution.events.v2+json");
  CHECK(endpoint.max_events == 5);
  CHECK(endpoint.max_bytes == 4096);
  CHECK(enabled.queueDirectory("n") == "/q/n");
  RegistryConfig beside = parse(
      "storage:\n  filesystem:\n    rootdirectory: /data\n"
      "notifications:\n  endpoints:\n    - name: n\n      url: http://x\n");
  CHECK(beside.queueDirectory("n") == "/data/docker/registry/v2/_portico/notifications/n");
  RegistryConfig disabled = parse(
      "notifications:\n  endpoints:\n    - name: n\n      url: http://x\n      disabled: true\n"
      "redis:\n  addr: localhost:6379\nstorage:\n  cache:\n    blobdescriptor: inmemory\n");
  CHECK(disabled.warnings.size() == 1);
  CHECK(errorOf("notifications:\n  endpoints:\n    - name: a/b\n      url: http://x\n")
            .find("one path component") != std::string::npos);
  CHECK(errorOf("notifications:\n  endpoints:\n    - name: n\n      url: ftp://x\n")
            .find("http://") != std::string::npos);
  CHECK(errorOf("notifications:\n  endpoints:\n    - name: n\n      url: http://x\n"
                "      ignore:\n        actions: [pul]\n")
            .find("expected push, pull") != std::string::npos);
}

TEST_CASE("storage.cache selects the in-memory descriptor cache and its size",
          "[registry_config]") {
  CHECK(parse("version: 0.1\n").storage.blob_descriptor_cache.empty());
  RegistryConfig inmemory =
      parse("storage:\n  cache:\n    blobdescriptor: inmemory\n    blobdescriptorsize: 500\n");
  CHECK(inmemory.storage.blob_descriptor_cache == "inmemory");
  CHECK(inmemory.storage.blob_descriptor_cache_size == 500);
  CHECK(parse("storage:\n  cache:\n    blobdescriptor: inmemory\n")
            .storage.blob_descriptor_cache_size == 10'000);
  // layerinfo, distribution's older name; redis falls back to memory (with a warning).
  CHECK(parse("storage:\n  cache:\n    layerinfo: inmemory\n").storage.blob_descriptor_cache ==
        "inmemory");
  CHECK(parse("storage:\n  cache:\n    blobdescriptor: redis\n").storage.blob_descriptor_cache ==
        "inmemory");
  CHECK(
      parse("", {"REGISTRY_STORAGE_CACHE_BLOBDESCRIPTOR=inmemory"}).storage.blob_descriptor_cache ==
      "inmemory");
  CHECK(errorOf("storage:\n  cache:\n    blobdescriptor: memcached\n") ==
        "registry.yml:3: storage.cache.blobdescriptor: unknown cache type \"memcached\" "
        "(supported: inmemory, redis)");
  CHECK(errorOf("storage:\n  cache:\n    blobdescriptor: inmemory\n    blobdescriptorsize: 0\n")
            .find("storage.cache.blobdescriptorsize") != std::string::npos);
}

TEST_CASE("REGISTRY_ environment variables override the file", "[registry_config]") {
  RegistryConfig config = parse(
      kDockerDocsExample,
      {"REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY=/data", "REGISTRY_HTTP_ADDR=127.0.0.1:0",
       "REGISTRY_STORAGE_DELETE_ENABLED=true", "REGISTRY_HTTP_RELATIVEURLS=true", "PATH=/bin"});
  CHECK(config.storage.root_directory == "/data");
  CHECK(config.http.addr == "127.0.0.1:0");
  CHECK(config.storage.delete_enabled);
  CHECK(config.http.relative_urls);
}

TEST_CASE("an invalid environment override names the variable", "[registry_config]") {
  CHECK(errorOf("version: 0.1\n", {"REGISTRY_STORAGE_DELETE_ENABLED=perhaps"}) ==
        "environment REGISTRY_STORAGE_DELETE_ENABLED: storage.delete.enabled: expected true or "
        "false, got \"perhaps\"");
  RegistryConfig config = parse("version: 0.1\n", {"REGISTRY_PORT=tcp://10.0.0.1:5000"});
  REQUIRE(config.warnings.size() == 1);
  CHECK(config.warnings[0].find("REGISTRY_PORT") != std::string::npos);
}

TEST_CASE("Go durations parse like time.ParseDuration", "[registry_config]") {
  // distribution hands storage.maintenance values to time.ParseDuration: a unit is required.
  auto go = [](const char* text) { return parseDuration(text, BareNumber::Invalid); };
  CHECK(go("300s") == 300s);
  CHECK(go("10ms") == 10ms);
  CHECK(go("1h30m") == 90min);
  CHECK(go("168h") == 168h);
  CHECK(go("0") == 0s);
  CHECK_FALSE(go("").has_value());
  CHECK_FALSE(go("10").has_value());
  CHECK_FALSE(go("5 days").has_value());
}

TEST_CASE("each error form names file, line and key exactly", "[registry_config]") {
  // Unknown key, at its own line, below a list element too.
  CHECK(errorOf("notifications:\n  endpoints:\n    - name: a\n      urll: http://x\n") ==
        "registry.yml:4: notifications.endpoints[0].urll: unknown key");
  // Wrong type of value.
  CHECK(errorOf("http: yes\n") == "registry.yml:1: http: must be a mapping");
  CHECK(errorOf("http:\n  addr: [a, b]\n") ==
        "registry.yml:2: http.addr: a list is not allowed here");
  CHECK(errorOf("http:\n  net: udp\n") == "registry.yml:2: http.net: expected tcp or unix");
  CHECK(errorOf("storage:\n  filesystem:\n    maxthreads: many\n") ==
        "registry.yml:3: storage.filesystem.maxthreads: expected an integer, got \"many\"");
  CHECK(errorOf("storage:\n  filesystem:\n    rootdirectory: \"\"\n") ==
        "registry.yml:3: storage.filesystem.rootdirectory: must not be empty");
  CHECK(errorOf("storage:\n  filesystem: {}\n  inmemory: {}\n") ==
        "registry.yml:1: storage: more than one storage driver configured (filesystem, inmemory)");
  // Durations.
  CHECK(errorOf("http:\n  draintimeout: -1s\n") ==
        "registry.yml:2: http.draintimeout: must not be negative, got \"-1s\"");
  CHECK(errorOf("storage:\n  maintenance:\n    uploadpurging:\n      interval: 3600\n") ==
        "registry.yml:4: storage.maintenance.uploadpurging.interval: needs a unit (ns, us, ms, "
        "s, m, h), got \"3600\"");
  CHECK(errorOf("storage:\n  maintenance:\n    uploadpurging:\n      interval: 0s\n") ==
        "registry.yml:4: storage.maintenance.uploadpurging.interval: must be positive");
  CHECK(errorOf("redis:\n  dialtimeout: soon\n") ==
        "registry.yml:2: redis.dialtimeout: expected a duration like 30s, 5m, 1h30m or 250ms, "
        "got \"soon\"");
  CHECK(errorOf("health:\n  storagedriver:\n    enabled: true\n    interval: 10 s\n") ==
        "registry.yml:4: health.storagedriver.interval: expected a duration like 30s, 5m, "
        "1h30m or 250ms, got \"10 s\"");
  CHECK(errorOf("notifications:\n  endpoints:\n    - name: a\n      disabled: true\n"
                "      backoff: -5s\n") ==
        "registry.yml:5: notifications.endpoints[0].backoff: must not be negative, got \"-5s\"");
  // Syntax, document shape, file.
  CHECK(errorOf("version: [0.1\n").starts_with("registry.yml:2: YAML syntax error: "));
  CHECK(errorOf("- a\n- b\n") == "registry.yml:1: the document must be a mapping");
  std::string missing = "no error";
  try {
    RegistryConfig::load("/nonexistent/registry.yml", {});
  } catch (const ConfigError& e) {
    missing = e.what();
  }
  CHECK(missing == "/nonexistent/registry.yml: cannot open: No such file or directory");
}

TEST_CASE("durations take Go's forms and distribution's bare nanoseconds", "[registry_config]") {
  auto drain = [](const std::string& value) {
    return parse("http:\n  draintimeout: " + value + "\n").http.drain_timeout;
  };
  CHECK(drain("1h30m") == 90min);
  CHECK(drain("300ms") == 300ms);
  CHECK(drain("1.5h") == 90min);
  CHECK(drain("2h45m30.5s") == 2h + 45min + 30500ms);
  // http.draintimeout is a time.Duration field: yaml.v2 reads a bare integer as nanoseconds.
  CHECK(drain("15000000000") == 15s);
  CHECK(drain("0") == 0s);

  RegistryConfig config = parse(R"(storage:
  maintenance:
    uploadpurging:
      age: 1.5h
      interval: 90s
notifications:
  endpoints:
    - name: a
      url: http://x
      timeout: 2000000000
      backoff: 500ms
      threshold: 3
    - name: b
      url: http://y
      disabled: true
redis:
  addr: localhost:6379
  dialtimeout: 10ms
  pool:
    idletimeout: 300s
health:
  storagedriver:
    interval: 10s
proxy:
  ttl: 168h
)");
  CHECK(config.storage.upload_purging.age == 90min);
  CHECK(config.storage.upload_purging.interval == 90s);
  REQUIRE(config.notifications.endpoints.size() == 2);
  CHECK(config.notifications.endpoints[0].timeout == 2s);
  CHECK(config.notifications.endpoints[0].backoff == 500ms);
  CHECK(config.notifications.endpoints[0].threshold == 3);
  // distribution's defaults for what an endpoint leaves out.
  CHECK(config.notifications.endpoints[1].timeout == 1s);
  CHECK(config.notifications.endpoints[1].backoff == 1s);
  CHECK(config.notifications.endpoints[1].threshold == 10);
  CHECK(config.notifications.endpoints[1].disabled);
  REQUIRE(config.redis.has_value());
  CHECK(config.redis->dial_timeout == 10ms);
  CHECK(config.redis->pool_idle_timeout == 300s);
}

TEST_CASE("environment overrides reach nested keys and create missing sections",
          "[registry_config]") {
  RegistryConfig config = parse(
      "version: 0.1\nhttp:\n  addr: :5000\n",
      {"REGISTRY_STORAGE_MAINTENANCE_UPLOADPURGING_AGE=2h",
       "REGISTRY_STORAGE_MAINTENANCE_UPLOADPURGING_DRYRUN=true",
       "REGISTRY_HTTP_TLS_CERTIFICATE=/c.pem", "REGISTRY_HTTP_TLS_KEY=/k.pem",
       "REGISTRY_HTTP_TLS_MINIMUMTLS=tls1.3", "REGISTRY_HTTP_HEADERS={X-Frame-Options: [DENY]}",
       "REGISTRY_NOTIFICATIONS_EVENTS_INCLUDEREFERENCES=true"});
  CHECK(config.storage.upload_purging.age == 2h);
  CHECK(config.storage.upload_purging.dry_run);
  REQUIRE(config.http.tls.has_value());
  CHECK(config.http.tls->certificate == "/c.pem");
  CHECK(config.http.tls->minimum_tls == "1.3");
  REQUIRE(config.http.headers.size() == 1);
  CHECK(config.http.headers[0] == std::pair<std::string, std::string>{"X-Frame-Options", "DENY"});
  CHECK(config.notifications.include_references);
  CHECK(config.http.addr == ":5000");
}

TEST_CASE("an error in an overridden nested value names the variable, others the file line",
          "[registry_config]") {
  CHECK(errorOf(kDockerDocsExample, {"REGISTRY_STORAGE_MAINTENANCE_UPLOADPURGING_AGE=soon"}) ==
        "environment REGISTRY_STORAGE_MAINTENANCE_UPLOADPURGING_AGE: "
        "storage.maintenance.uploadpurging.age: expected a duration like 30s, 5m, 1h30m or "
        "250ms, got \"soon\"");
  // A section the variable created is blamed on the variable, not on a line of the file.
  CHECK(errorOf("version: 0.1\n", {"REGISTRY_STORAGE_S3_BUCKET=b"}) ==
        "environment REGISTRY_STORAGE_S3_BUCKET: storage.s3: this storage driver is not "
        "implemented yet (supported: filesystem, inmemory)");
  // An error in the file stays at its line when an unrelated variable touches the section.
  CHECK(errorOf("storage:\n  delete:\n    enabled: maybe\n",
                {"REGISTRY_STORAGE_MAINTENANCE_READONLY_ENABLED=true"}) ==
        "registry.yml:3: storage.delete.enabled: expected true or false, got \"maybe\"");
}

TEST_CASE("the short forms storage: <driver> and auth: <type> select the driver and type",
          "[registry_config]") {
  CHECK(parse("storage: inmemory\n").storage.driver == "inmemory");
  CHECK(parse("auth: none\n").auth.type == "none");
  // `auth: htpasswd` lacks its realm and path: refused, never silently ignored.
  CHECK(errorOf("auth: htpasswd\n") == "registry.yml:1: auth: needs realm and path");
}

TEST_CASE("storage driver parameters are handed over as strings", "[registry_config]") {
  RegistryConfig config =
      parse("storage:\n  filesystem:\n    rootdirectory: /srv/r\n    maxthreads: 200\n");
  CHECK(config.storage.driver == "filesystem");
  CHECK(config.storage.parameters ==
        portico::backend::Parameters{{"rootdirectory", "/srv/r"}, {"maxthreads", "200"}});
  CHECK(config.storage.max_threads == 200);
  // distribution raises maxthreads below its minimum to 25.
  CHECK(parse("storage:\n  filesystem:\n    maxthreads: 3\n").storage.max_threads == 25);
  CHECK(parse("version: 0.1\n").storage.max_threads == 100);
}

TEST_CASE("Portico's storage.maintenance.gc is read", "[registry_config]") {
  RegistryConfig config = parse(
      "storage:\n  maintenance:\n    gc:\n      enabled: false\n      interval: 12h\n"
      "      delay: 30m\n      untagged: true\n      dryrun: true\n");
  CHECK_FALSE(config.storage.gc.enabled);
  CHECK(config.storage.gc.interval == 12h);
  CHECK(config.storage.gc.delay == 30min);
  CHECK(config.storage.gc.untagged);
  CHECK(config.storage.gc.dry_run);
  CHECK(parse("storage:\n  maintenance:\n    gc:\n      enabled: true\n").storage.gc.enabled);
}

TEST_CASE("auth.htpasswd needs realm and path; one access controller only", "[registry_config]") {
  RegistryConfig config = parse("auth:\n  htpasswd:\n    realm: r\n    path: /p\n");
  CHECK(config.auth.type == "htpasswd");
  CHECK(config.auth.parameters == portico::backend::Parameters{{"realm", "r"}, {"path", "/p"}});
  CHECK(config.auth.policy == nullptr);
  CHECK(errorOf("auth:\n  htpasswd:\n    realm: r\n") ==
        "registry.yml:2: auth.htpasswd.path: required with auth.htpasswd");
  CHECK(errorOf("auth:\n  htpasswd:\n    path: /p\n") ==
        "registry.yml:2: auth.htpasswd.realm: required with auth.htpasswd");
  CHECK(errorOf("auth:\n  htpasswd: {realm: r, path: /p}\n  none: {}\n") ==
        "registry.yml:3: auth.none: one access controller only (auth.htpasswd is set)");
}

TEST_CASE("auth.policy (Portico) is parsed with htpasswd and validated with file:line:key",
          "[registry_config]") {
  RegistryConfig config = parse(
      "auth:\n  htpasswd: {realm: r, path: /p}\n  policy:\n    anonymous: [pull]\n"
      "    rules:\n      - {repositories: ['**'], users: ['*'], actions: [pull]}\n");
  REQUIRE(config.auth.policy != nullptr);
  CHECK(config.auth.policy->allows("", {"repository", "a/b", "pull"}));
  CHECK(errorOf("auth:\n  policy:\n    rules: []\n") ==
        "registry.yml:2: auth.policy: needs auth.htpasswd (its users)");
  CHECK(errorOf("auth:\n  htpasswd: {realm: r, path: /p}\n  policy:\n    rules:\n"
                "      - {repositories: ['**'], groups: [ci], actions: [pull]}\n") ==
        "registry.yml:5: auth.policy.rules[0].groups[0]: unknown group \"ci\"");
}
