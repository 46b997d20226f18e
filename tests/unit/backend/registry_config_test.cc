#include "backend/registry_config.h"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

using portico::backend::parseGoDuration;
using portico::backend::RegistryConfig;
using portico::backend::RegistryConfigError;

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
  } catch (const RegistryConfigError& e) {
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
  CHECK(
      errorOf("storage:\n  maintenance:\n    uploadpurging:\n      age: 3 days\n")
          .starts_with("registry.yml:4: storage.maintenance.uploadpurging.age: invalid duration"));
  CHECK(errorOf("http:\n  tls:\n    minimumtls: tls1.0\n")
            .starts_with("registry.yml:3: http.tls.minimumtls:"));
  CHECK(errorOf("http:\n  tls:\n    certificate: /c.pem\n")
            .starts_with("registry.yml:3: http.tls.key: required"));
  CHECK(errorOf("log:\n  level: loud\n").starts_with("registry.yml:2: log.level:"));
  CHECK(errorOf("version: [0.1\n").starts_with("registry.yml:"));
}

TEST_CASE("enabled auth and unimplemented storage fail, naming the key", "[registry_config]") {
  CHECK(errorOf("auth:\n  htpasswd:\n    realm: r\n    path: /p\n")
            .starts_with("registry.yml:2: auth.htpasswd: authentication is not implemented"));
  CHECK(errorOf("auth:\n  token:\n    realm: r\n").starts_with("registry.yml:2: auth.token:"));
  CHECK(errorOf("storage:\n  s3:\n    bucket: b\n").starts_with("registry.yml:3: storage.s3:"));
}

TEST_CASE("enabled notifications and a redis cache are accepted with warnings naming them",
          "[registry_config]") {
  RegistryConfig enabled = parse(
      "notifications:\n  endpoints:\n    - name: n\n      url: http://x\n"
      "storage:\n  cache:\n    blobdescriptor: redis\n");
  auto mentions = [&](std::string_view text) {
    for (const auto& w : enabled.warnings) {
      if (w.find(text) != std::string::npos) return true;
    }
    return false;
  };
  CHECK(mentions("notifications.endpoints[n]"));
  CHECK(mentions("storage.cache.blobdescriptor"));
  RegistryConfig disabled = parse(
      "notifications:\n  endpoints:\n    - name: n\n      url: http://x\n      disabled: true\n"
      "redis:\n  addr: localhost:6379\nstorage:\n  cache:\n    blobdescriptor: inmemory\n");
  CHECK(disabled.warnings.size() >= 2);
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
  CHECK(parseGoDuration("300s") == std::chrono::seconds(300));
  CHECK(parseGoDuration("10ms") == std::chrono::milliseconds(10));
  CHECK(parseGoDuration("1h30m") == std::chrono::minutes(90));
  CHECK(parseGoDuration("168h") == std::chrono::hours(168));
  CHECK(parseGoDuration("0") == std::chrono::milliseconds(0));
  CHECK_FALSE(parseGoDuration("").has_value());
  CHECK_FALSE(parseGoDuration("10").has_value());
  CHECK_FALSE(parseGoDuration("5 days").has_value());
}
