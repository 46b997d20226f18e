// portico-registry over HTTP: /v2/ ping, the API version header on every response, JSON
// errors for unknown paths and methods, the CLI (check-config, --help, --version).

#include <catch2/catch.hpp>

#include "tests/integration/registry_harness.h"

using namespace portico::testing;

TEST_CASE("GET /v2/ is 200 {} with Docker-Distribution-Api-Version", "[registry][ping]") {
  RegistryServer registry;
  auto client = registry.client();
  auto r = client.get("/v2/");
  CHECK(r.status == 200);
  CHECK(r.body == "{}");
  CHECK(r.headers.get("Docker-Distribution-Api-Version") == "registry/2.0");
  CHECK(r.headers.get("Content-Type").starts_with("application/json"));
  auto head = client.request("HEAD", "/v2/");
  CHECK(head.status == 200);
  CHECK(head.headers.get("Docker-Distribution-Api-Version") == "registry/2.0");
}

TEST_CASE("an absolute-form GET http://host:port/v2/ is 200, as distribution answers",
          "[registry][ping]") {
  RegistryServer registry;
  auto client = registry.client();
  const std::string authority = registry.hostPort();
  client.sendRaw("GET http://" + authority + "/v2/ HTTP/1.1\r\nHost: " + authority + "\r\n\r\n");
  auto r = client.readResponse();
  CHECK(r.status == 200);
  CHECK(r.body == "{}");
}

TEST_CASE("unknown paths are JSON 404s and unknown methods 405 UNSUPPORTED, with the API header",
          "[registry][ping]") {
  RegistryServer registry;
  auto client = registry.client();
  auto missing = client.get("/v2/foo");
  CHECK(missing.status == 404);
  CHECK(missing.headers.get("Docker-Distribution-Api-Version") == "registry/2.0");
  CHECK(missing.headers.get("Content-Type").starts_with("application/json"));
  auto outside = client.get("/index.html");
  CHECK(outside.status == 404);
  auto method = client.request("PATCH", "/v2/");
  CHECK(method.status == 405);
  CHECK(errorCode(method) == "UNSUPPORTED");
  CHECK(method.headers.get("Docker-Distribution-Api-Version") == "registry/2.0");
}

TEST_CASE("http.headers from the config are sent on every response", "[registry][ping]") {
  RegistryServer registry({.extra = "  headers:\n    X-Content-Type-Options: [nosniff]\n"});
  auto client = registry.client();
  CHECK(client.get("/v2/").headers.get("X-Content-Type-Options") == "nosniff");
  CHECK(client.get("/v2/x/tags/list").headers.get("X-Content-Type-Options") == "nosniff");
}

TEST_CASE("REGISTRY_ environment variables override the config file", "[registry][ping]") {
  TempDir other("portico-env-root");
  RegistryServer registry({.env = {{"REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY", other.path()}}});
  auto client = registry.client();
  pushBlob(client, "envtest", "bytes");
  CHECK(std::filesystem::exists(other.path() + "/docker/registry/v2/repositories/envtest"));
  CHECK_FALSE(std::filesystem::exists(registry.root() + "/docker"));
}

TEST_CASE("check-config accepts a valid file and names file:line:key of an invalid one",
          "[registry][cli]") {
  TempDir dir("portico-cli");
  std::string good = dir.write("good.yml",
                               "version: 0.1\nstorage:\n  filesystem:\n"
                               "    rootdirectory: /tmp/x\n");
  auto [ok_status, ok_output] = runCommand(registryBinary() + " check-config " + good);
  CHECK(ok_status == 0);
  CHECK(ok_output.find("configuration OK") != std::string::npos);

  std::string bad = dir.write("bad.yml", "version: 0.1\nhttp:\n  addr: :5000\n  adr: x\n");
  auto [bad_status, bad_output] = runCommand(registryBinary() + " check-config " + bad);
  CHECK(bad_status == 1);
  CHECK(bad_output.find(bad + ":4: http.adr: unknown key") != std::string::npos);

  // The htpasswd file is read as serve reads it: a line without ':' is an error there.
  std::string users = dir.write("htpasswd", "# users\nalice\n");
  std::string auth = dir.write("auth.yml",
                               "version: 0.1\nauth:\n  htpasswd:\n    realm: r\n"
                               "    path: " +
                                   users + "\n");
  auto [auth_status, auth_output] = runCommand(registryBinary() + " check-config " + auth);
  CHECK(auth_status == 1);
  CHECK(auth_output.find(auth + ":5: auth.htpasswd.path: ") != std::string::npos);
  CHECK(auth_output.find(users) != std::string::npos);
  // A missing file is created by serve, as distribution does: check-config says so, and passes.
  std::string later = dir.write("later.yml",
                                "version: 0.1\nauth:\n  htpasswd:\n    realm: r\n"
                                "    path: " +
                                    dir.file("nobody-yet") + "\n");
  auto [later_status, later_output] = runCommand(registryBinary() + " check-config " + later);
  CHECK(later_status == 0);
  CHECK(later_output.find("serve creates it") != std::string::npos);
}

TEST_CASE("--help lists the commands and environment overrides; --version prints the version",
          "[registry][cli]") {
  auto [help_status, help] = runCommand(registryBinary() + " --help");
  CHECK(help_status == 0);
  CHECK(help.find("serve CONFIG") != std::string::npos);
  CHECK(help.find("check-config CONFIG") != std::string::npos);
  CHECK(help.find("REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY") != std::string::npos);
  auto [version_status, version] = runCommand(registryBinary() + " --version");
  CHECK(version_status == 0);
  CHECK(version.starts_with("portico-registry "));
  auto [bad_status, bad] = runCommand(registryBinary() + " frobnicate");
  CHECK(bad_status == 2);
}

TEST_CASE("SIGTERM stops the registry cleanly", "[registry][cli]") {
  RegistryServer registry;
  CHECK(registry.client().get("/v2/").status == 200);
  CHECK(registry.process().stop() == 0);
}
