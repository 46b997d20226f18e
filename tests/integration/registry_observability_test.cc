// portico-registry's debug listener: /metrics (parsed by a strict Prometheus text parser),
// /debug/health with the storagedriver check, /livez and /readyz.

#include <catch2/catch.hpp>
#include <filesystem>

#include "tests/fixtures/fixtures.h"
#include "tests/fixtures/prometheus_text.h"
#include "tests/integration/registry_harness.h"

using namespace portico::testing;

namespace {

const char* kDebug =
    "  debug:\n    addr: 127.0.0.1:0\n    prometheus:\n      enabled: true\n"
    "      path: /metrics\n";

PromText scrape(RegistryServer& registry) {
  HttpClient debug(registry.process().endpoint("debug"));
  Response r = debug.get("/metrics");
  REQUIRE(r.status == 200);
  CHECK(r.headers.get("Content-Type").rfind("text/plain; version=0.0.4", 0) == 0);
  return PromText::parse(r.body);
}

}  // namespace

TEST_CASE("/metrics on the debug listener counts requests with distribution's names",
          "[registry][metrics]") {
  RegistryServer registry(RegistrySetup{.extra = kDebug});
  PromText before = scrape(registry);
  for (const char* family :
       {"registry_http_requests_total", "registry_http_request_duration_seconds",
        "registry_http_in_flight_requests", "registry_http_request_size_bytes",
        "registry_http_response_size_bytes", "registry_storage_action_seconds",
        "registry_storage_cache_total", "portico_registry_bytes_pushed_total",
        "portico_registry_bytes_pulled_total", "portico_registry_uploads_in_progress",
        "portico_registry_upload_purge_runs_total", "portico_registry_storage_queue_length",
        "portico_registry_storage_worker_reads_total"}) {
    CHECK(before.has(family));
  }
  CHECK(before.family("registry_http_request_duration_seconds").type == "histogram");
  CHECK(before.family("registry_storage_action_seconds").type == "histogram");
  CHECK(before.family("registry_http_requests_total").type == "counter");

  HttpClient client = registry.client();
  for (int i = 0; i < 3; ++i) REQUIRE(client.get("/v2/").status == 200);
  std::string blob(100'000, 'x');
  std::string digest = pushBlob(client, "metrics/repo", blob);
  REQUIRE(client.get("/v2/metrics/repo/blobs/" + digest).status == 200);
  REQUIRE(client.get("/v2/metrics/repo/blobs/sha256:" + std::string(64, '0')).status == 404);

  PromText after = scrape(registry);
  const std::map<std::string, std::string> base_get = {
      {"code", "200"}, {"handler", "base"}, {"method", "GET"}};
  // Three pings counted exactly (the scrape itself is not an API request).
  CHECK(after.value("registry_http_requests_total", base_get) -
            before.value("registry_http_requests_total", base_get) ==
        3);
  CHECK(after.value("registry_http_requests_total",
                    {{"code", "201"}, {"handler", "blob-upload"}, {"method", "POST"}}) == 1);
  CHECK(after.value("registry_http_requests_total",
                    {{"code", "404"}, {"handler", "blob"}, {"method", "GET"}}) == 1);
  CHECK(after.value("registry_http_request_duration_seconds_count",
                    {{"handler", "base"}, {"method", "GET"}}) == 3);
  // Nothing is in flight once the responses arrived.
  CHECK(after.sum("registry_http_in_flight_requests") == 0);
  CHECK(after.value("portico_registry_uploads_in_progress") == 0);
  // The upload's body and the blob GET's body.
  CHECK(after.value("portico_registry_bytes_pushed_total") == blob.size());
  CHECK(after.value("portico_registry_bytes_pulled_total") == blob.size());
  CHECK(after.value("registry_http_request_size_bytes_sum", {{"handler", "blob-upload"}}) ==
        blob.size());
  // Storage calls were timed by the filesystem driver's decorator.
  CHECK(after.sum("registry_storage_action_seconds_count", {{"driver", "filesystem"}}) >
        before.sum("registry_storage_action_seconds_count", {{"driver", "filesystem"}}));
  CHECK(after.value("registry_storage_action_seconds_count",
                    {{"driver", "filesystem"}, {"action", "Writer"}}) >= 1);
}

TEST_CASE("the descriptor cache answers repeated blob HEADs and forgets a deleted blob",
          "[registry][metrics][cache]") {
  RegistryServer registry(
      RegistrySetup{.extra = kDebug, .storage = "  cache:\n    blobdescriptor: inmemory\n"});
  HttpClient client = registry.client();
  std::string digest = pushBlob(client, "cache/repo", std::string(1000, 'c'));
  const std::string path = "/v2/cache/repo/blobs/" + digest;
  PromText before = scrape(registry);
  const std::map<std::string, std::string> hit = {{"type", "Hit"}}, miss = {{"type", "Miss"}},
                                           requests = {{"type", "Request"}};
  for (int i = 0; i < 5; ++i) {
    Response head = client.request("HEAD", path);
    REQUIRE(head.status == 200);
    CHECK(head.headers.get("Content-Length") == "1000");
    CHECK(head.headers.get("Docker-Content-Digest") == digest);
  }
  PromText after = scrape(registry);
  // The first HEAD may miss (the push's commit does not fill the cache); the others hit.
  CHECK(after.value("registry_storage_cache_total", requests) -
            before.value("registry_storage_cache_total", requests) ==
        5);
  CHECK(after.value("registry_storage_cache_total", hit) -
            before.value("registry_storage_cache_total", hit) ==
        4);
  CHECK(after.value("registry_storage_cache_total", miss) -
            before.value("registry_storage_cache_total", miss) ==
        1);

  // Another repository has not linked the blob: a miss, answered 404 by the store.
  CHECK(client.request("HEAD", "/v2/cache/other/blobs/" + digest).status == 404);
  // A delete is seen at once, although the cache held the blob.
  REQUIRE(client.request("DELETE", path).status == 202);
  CHECK(client.request("HEAD", path).status == 404);
  CHECK(client.get(path).status == 404);
}

TEST_CASE("manifest and blob reads in the page cache are answered on the worker",
          "[registry][metrics][nowait]") {
  RegistryServer registry(RegistrySetup{.extra = kDebug});
  HttpClient client = registry.client();
  const std::string config = "{\"architecture\":\"amd64\",\"os\":\"linux\"}";
  const std::string digest = pushBlob(client, "nowait/repo", config);
  const std::string manifest =
      R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",)"
      R"("config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":")" +
      digest + R"(","size":)" + std::to_string(config.size()) + R"(},"layers":[]})";
  REQUIRE(client
              .request("PUT", "/v2/nowait/repo/manifests/v1",
                       {{"Content-Type", "application/vnd.oci.image.manifest.v1+json"}}, manifest)
              .status == 201);
  const std::map<std::string, std::string> answered = {{"result", "answered"}};
  PromText before = scrape(registry);
  // Just written, so in the kernel's caches: each read is answered without a storage thread.
  for (int i = 0; i < 3; ++i) {
    Response got = client.get("/v2/nowait/repo/manifests/v1",
                              {{"Accept", "application/vnd.oci.image.manifest.v1+json"}});
    REQUIRE(got.status == 200);
    CHECK(got.body == manifest);
    Response blob = client.get("/v2/nowait/repo/blobs/" + digest);
    REQUIRE(blob.status == 200);
    CHECK(blob.body == config);
  }
  PromText after = scrape(registry);
  // Per round: the manifest GET, the blob's stat and its open.
  CHECK(after.value("portico_registry_storage_worker_reads_total", answered) -
            before.value("portico_registry_storage_worker_reads_total", answered) ==
        9);
}

TEST_CASE("without prometheus enabled the debug listener has no /metrics", "[registry][metrics]") {
  RegistryServer registry(RegistrySetup{.extra = "  debug:\n    addr: 127.0.0.1:0\n"});
  HttpClient debug(registry.process().endpoint("debug"));
  CHECK(debug.get("/metrics").status == 404);
  CHECK(debug.get("/debug/health").status == 200);
  CHECK(debug.get("/livez").status == 200);
  CHECK(debug.get("/readyz").status == 200);
  // And the API listener does not answer debug paths.
  CHECK(registry.client().get("/metrics").status == 404);
}

TEST_CASE("the prometheus path is configurable", "[registry][metrics]") {
  RegistryServer registry(RegistrySetup{
      .extra = "  debug:\n    addr: 127.0.0.1:0\n    prometheus:\n      enabled: true\n"
               "      path: /prom\n"});
  HttpClient debug(registry.process().endpoint("debug"));
  Response r = debug.get("/prom");
  REQUIRE(r.status == 200);
  CHECK(PromText::parse(r.body).has("registry_http_requests_total"));
  CHECK(debug.get("/metrics").status == 404);
}

TEST_CASE("health turns 503 when the storage root disappears and 200 when it returns",
          "[registry][health]") {
  RegistryServer registry(RegistrySetup{
      .extra = "  debug:\n    addr: 127.0.0.1:0\nhealth:\n  storagedriver:\n    enabled: true\n"
               "    interval: 50ms\n    threshold: 2\n"});
  HttpClient debug(registry.process().endpoint("debug"));
  CHECK(debug.get("/debug/health").status == 200);
  CHECK(debug.get("/readyz").status == 200);

  std::filesystem::path root = registry.root();
  std::filesystem::path moved = root.string() + ".away";
  std::filesystem::rename(root, moved);
  // Readiness is checked at request time: unready at once.
  Response ready = debug.get("/readyz");
  CHECK(ready.status == 503);
  CHECK(debug.get("/livez").status == 200);  // the process itself is alive
  // The periodic check reports after `threshold` failures (logged when it turns).
  REQUIRE(registry.process().waitForOutput("health check storagedriver_filesystem failed",
                                           std::chrono::seconds(10)));
  Response health = debug.get("/debug/health");
  CHECK(health.status == 503);
  auto body = nlohmann::json::parse(health.body);
  CHECK(body.contains("storagedriver_filesystem"));

  std::filesystem::rename(moved, root);
  CHECK(debug.get("/readyz").status == 200);
  REQUIRE(registry.process().waitForOutput("health check storagedriver_filesystem recovered",
                                           std::chrono::seconds(10)));
  CHECK(debug.get("/debug/health").status == 200);
}

TEST_CASE("a file health check fails while the file exists", "[registry][health]") {
  TempDir dir;
  std::string flag = dir.file("maintenance");
  RegistryServer registry(RegistrySetup{
      .extra = "  debug:\n    addr: 127.0.0.1:0\nhealth:\n  file:\n    - file: " + flag +
               "\n      interval: 50ms\n"});
  HttpClient debug(registry.process().endpoint("debug"));
  CHECK(debug.get("/debug/health").status == 200);
  dir.write("maintenance", "down for maintenance");
  REQUIRE(registry.process().waitForOutput("health check " + flag + " failed",
                                           std::chrono::seconds(10)));
  Response health = debug.get("/debug/health");
  CHECK(health.status == 503);
  CHECK(nlohmann::json::parse(health.body).value(flag, "") == "file exists");
}

TEST_CASE("/livez and /readyz are answered on the API listener too, nothing else is",
          "[registry][health]") {
  RegistryServer registry;
  HttpClient client = registry.client();
  CHECK(client.get("/livez").status == 200);
  CHECK(client.get("/readyz").status == 200);
  CHECK(client.get("/debug/health").status == 404);
  std::filesystem::path root = registry.root();
  std::filesystem::rename(root, root.string() + ".away");
  CHECK(client.get("/readyz").status == 503);  // what the proxy's active check sees
  std::filesystem::rename(root.string() + ".away", root);
  CHECK(client.get("/readyz").status == 200);
}
