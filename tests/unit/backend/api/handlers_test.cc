#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <functional>
#include <future>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "backend/api/access.h"
#include "backend/api/registry_handler.h"
#include "backend/registry/events.h"
#include "backend/registry/local_services.h"
#include "backend/storage/executor.h"
#include "backend/storage/layout.h"
#include "backend/storage/memory_driver.h"
#include "common/crypto/digest.h"
#include "tests/unit/backend/api/fake_exchange.h"

using nlohmann::json;
using portico::crypto::Digest;
using portico::testing::FakeExchange;

namespace {

struct Reply {
  int status = 0;
  portico::http::HeaderMap headers;
  std::string body;
  bool finished = false;

  std::string header(std::string_view name) const {
    return std::string(headers.get(name).value_or(""));
  }
  std::string errorCode() const { return json::parse(body)["errors"][0]["code"]; }
};

// A registry over a MemoryDriver, driven through RegistryHandler without sockets: the handler
// runs on a real worker loop, its storage calls on a real StorageExecutor, as in the server.
struct Registry {
  portico::storage::MemoryDriver driver;
  portico::storage::StorageExecutor executor{2};
  portico::registry::LocalNamespace names{driver, executor};
  portico::api::ApiOptions options;
  portico::api::AllowAll access;
  portico::registry::NullEventSink null_events;
  portico::registry::EventSink* events = &null_events;
  portico::api::AccessController* controller = &access;
  portico::registry::Namespace* ns = &names;  // a decorator may wrap it
  portico::net::Worker worker{0};

  Registry() { REQUIRE(worker.start()); }
  ~Registry() {
    worker.requestStop();
    worker.join();
  }

  // Runs `task` on the worker and waits for it.
  void onWorker(std::function<void()> task) {
    std::promise<void> done;
    worker.post([&] {
      task();
      done.set_value();
    });
    done.get_future().wait();
  }

  Reply call(const std::string& method, const std::string& target,
             std::vector<std::pair<std::string, std::string>> headers = {},
             std::optional<std::string> body = std::nullopt, size_t chunk = 7) {
    portico::api::RegistryHandler handler(
        portico::api::ApiServices{*ns, options, *controller, *events, nullptr}, &worker);
    auto exchange = std::make_unique<FakeExchange>();
    exchange->head.method = method;
    exchange->head.target = target;
    size_t q = target.find('?');
    exchange->head.path = target.substr(0, q);
    exchange->head.query = q == std::string::npos ? "" : target.substr(q + 1);
    exchange->head.headers.add("Host", "registry.test:5000");
    for (auto& [name, value] : headers) exchange->head.headers.add(name, value);
    if (body) {
      exchange->body.has_body = true;
      exchange->body.data = *body;
    }
    exchange->body.chunk = chunk;
    exchange->body.defer = [this](std::function<void()> task) { worker.post(std::move(task)); };
    std::promise<void> ended;
    exchange->on_end = [&ended] { ended.set_value(); };
    onWorker([&] { handler.onRequest(*exchange); });
    // A safety net only: a handler that never answers fails here instead of hanging.
    REQUIRE(ended.get_future().wait_for(std::chrono::seconds(30)) == std::future_status::ready);
    Reply reply;
    bool answered = false;
    onWorker([&] {
      exchange->on_end = nullptr;
      answered = exchange->response.has_value();
      if (!answered) return exchange.reset();
      reply.status = exchange->response->status;
      reply.headers = exchange->response->headers;
      reply.body = exchange->response_body;
      reply.finished = exchange->finished;
      pauses = exchange->body.pauses;
      exchange.reset();  // its Pending goes on the loop, as in the server
    });
    REQUIRE(answered);
    CHECK(reply.header("Docker-Distribution-Api-Version") == "registry/2.0");
    return reply;
  }
  size_t pauses = 0;  // body pauses of the last call

  // Pushes a blob monolithically; returns its digest.
  std::string pushBlob(const std::string& repo, const std::string& content) {
    std::string digest = Digest::of(content).str();
    Reply r = call("POST", "/v2/" + repo + "/blobs/uploads/?digest=" + digest, {}, content);
    REQUIRE(r.status == 201);
    return digest;
  }

  // Pushes an OCI image manifest with one layer; returns its digest.
  std::string pushImage(const std::string& repo, const std::string& tag,
                        const std::string& layer_content, const json& extra = json::object()) {
    std::string config = "{\"architecture\":\"amd64\",\"os\":\"linux\"}";
    std::string config_digest = pushBlob(repo, config);
    std::string layer_digest = pushBlob(repo, layer_content);
    json manifest = {{"schemaVersion", 2},
                     {"mediaType", "application/vnd.oci.image.manifest.v1+json"},
                     {"config",
                      {{"mediaType", "application/vnd.oci.image.config.v1+json"},
                       {"digest", config_digest},
                       {"size", config.size()}}},
                     {"layers",
                      {{{"mediaType", "application/vnd.oci.image.layer.v1.tar+gzip"},
                        {"digest", layer_digest},
                        {"size", layer_content.size()}}}}};
    manifest.update(extra);
    Reply r =
        call("PUT", "/v2/" + repo + "/manifests/" + tag,
             {{"Content-Type", "application/vnd.oci.image.manifest.v1+json"}}, manifest.dump());
    REQUIRE(r.status == 201);
    return r.header("Docker-Content-Digest");
  }
};

}  // namespace

TEST_CASE("GET /v2/ answers 200 {} with the API version header", "[handlers]") {
  Registry registry;
  Reply r = registry.call("GET", "/v2/");
  CHECK(r.status == 200);
  CHECK(r.body == "{}");
  CHECK(r.finished);
}

TEST_CASE("an unknown path is a JSON 404 and an unknown method a 405 UNSUPPORTED with Allow",
          "[handlers]") {
  Registry registry;
  Reply missing = registry.call("GET", "/v2/foo");
  CHECK(missing.status == 404);
  CHECK(missing.header("Content-Type").starts_with("application/json"));
  Reply method = registry.call("POST", "/v2/foo/tags/list");
  CHECK(method.status == 405);
  CHECK(method.errorCode() == "UNSUPPORTED");
  CHECK(method.header("Allow") == "GET, HEAD");
  Reply hostile = registry.call("GET", "/v2/%2e%2e/tags/list");
  CHECK(hostile.status == 400);
  CHECK(hostile.errorCode() == "NAME_INVALID");
}

TEST_CASE("a monolithic upload stores the blob and HEAD/GET serve it", "[handlers]") {
  Registry registry;
  std::string digest = registry.pushBlob("lib/app", "hello, blob");
  Reply head = registry.call("HEAD", "/v2/lib/app/blobs/" + digest);
  CHECK(head.status == 200);
  CHECK(head.header("Content-Length") == "11");
  CHECK(head.header("Docker-Content-Digest") == digest);
  CHECK(head.header("Accept-Ranges") == "bytes");
  CHECK(head.body.empty());
  Reply get = registry.call("GET", "/v2/lib/app/blobs/" + digest);
  CHECK(get.status == 200);
  CHECK(get.body == "hello, blob");
  Reply other_repo = registry.call("GET", "/v2/other/blobs/" + digest);
  CHECK(other_repo.status == 404);
  CHECK(other_repo.errorCode() == "BLOB_UNKNOWN");
}

TEST_CASE("a single Range is 206 with Content-Range; an unsatisfiable one is 416", "[handlers]") {
  Registry registry;
  std::string digest = registry.pushBlob("r", "0123456789");
  Reply part = registry.call("GET", "/v2/r/blobs/" + digest, {{"Range", "bytes=2-5"}});
  CHECK(part.status == 206);
  CHECK(part.body == "2345");
  CHECK(part.header("Content-Range") == "bytes 2-5/10");
  CHECK(part.header("Content-Length") == "4");
  Reply suffix = registry.call("GET", "/v2/r/blobs/" + digest, {{"Range", "bytes=-3"}});
  CHECK(suffix.body == "789");
  Reply bad = registry.call("GET", "/v2/r/blobs/" + digest, {{"Range", "bytes=10-"}});
  CHECK(bad.status == 416);
  CHECK(bad.header("Content-Range") == "bytes */10");
  CHECK(bad.errorCode() == "RANGE_INVALID");
}

TEST_CASE("a chunked upload reports its range and completes with PUT ?digest=", "[handlers]") {
  Registry registry;
  Reply start = registry.call("POST", "/v2/r/blobs/uploads/");
  REQUIRE(start.status == 202);
  CHECK(start.header("Range") == "0-0");
  std::string uuid = start.header("Docker-Upload-UUID");
  REQUIRE_FALSE(uuid.empty());
  std::string location = start.header("Location");
  CHECK(location == "http://registry.test:5000/v2/r/blobs/uploads/" + uuid);
  std::string path = "/v2/r/blobs/uploads/" + uuid;

  Reply first = registry.call("PATCH", path, {{"Content-Range", "0-4"}}, std::string("abcde"));
  CHECK(first.status == 202);
  CHECK(first.header("Range") == "0-4");
  Reply gap = registry.call("PATCH", path, {{"Content-Range", "10-14"}}, std::string("zzzzz"));
  CHECK(gap.status == 416);
  CHECK(gap.errorCode() == "RANGE_INVALID");
  Reply second = registry.call("PATCH", path, {}, std::string("fgh"));
  CHECK(second.header("Range") == "0-7");
  Reply status = registry.call("GET", path);
  CHECK(status.status == 204);
  CHECK(status.header("Range") == "0-7");

  std::string digest = Digest::of("abcdefghij").str();
  Reply done = registry.call("PUT", path + "?digest=" + digest, {}, std::string("ij"));
  CHECK(done.status == 201);
  CHECK(done.header("Docker-Content-Digest") == digest);
  CHECK(done.header("Location") == "http://registry.test:5000/v2/r/blobs/" + digest);
  CHECK(registry.call("GET", "/v2/r/blobs/" + digest).body == "abcdefghij");
  CHECK(registry.call("GET", path).status == 404);
}

// end - start + 1 wrapped to 0 for 0-18446744073709551615, so an empty PATCH with
// Content-Length: 0 "matched" a range of 2^64 bytes and was accepted (202).
TEST_CASE("a chunk whose Content-Range spans 2^64 bytes is 416 RANGE_INVALID", "[handlers]") {
  Registry registry;
  std::string uuid = registry.call("POST", "/v2/r/blobs/uploads/").header("Docker-Upload-UUID");
  std::string path = "/v2/r/blobs/uploads/" + uuid;
  for (const char* range : {"0-18446744073709551615", "bytes 0-18446744073709551615/*"}) {
    INFO(range);
    Reply patch = registry.call("PATCH", path, {{"Content-Range", range}}, std::string());
    CHECK(patch.status == 416);
    CHECK(patch.errorCode() == "RANGE_INVALID");
  }
  Reply put = registry.call("PUT", path + "?digest=" + Digest::of("").str(),
                            {{"Content-Range", "0-18446744073709551615"}}, std::string());
  CHECK(put.status == 416);
  CHECK(put.errorCode() == "RANGE_INVALID");
  CHECK(registry.call("GET", path).header("Range") == "0-0");  // nothing written
}

TEST_CASE("a digest that does not match is DIGEST_INVALID and nothing is stored", "[handlers]") {
  Registry registry;
  std::string claimed = Digest::of("something else").str();
  Reply r = registry.call("POST", "/v2/r/blobs/uploads/?digest=" + claimed, {},
                          std::string("actual bytes"));
  CHECK(r.status == 400);
  CHECK(r.errorCode() == "DIGEST_INVALID");
  CHECK(registry.call("HEAD", "/v2/r/blobs/" + claimed).status == 404);
  CHECK(registry.call("HEAD", "/v2/r/blobs/" + Digest::of("actual bytes").str()).status == 404);
}

TEST_CASE("PUT without a digest is DIGEST_INVALID; DELETE cancels an upload", "[handlers]") {
  Registry registry;
  std::string uuid = registry.call("POST", "/v2/r/blobs/uploads/").header("Docker-Upload-UUID");
  std::string path = "/v2/r/blobs/uploads/" + uuid;
  CHECK(registry.call("PUT", path).errorCode() == "DIGEST_INVALID");
  CHECK(registry.call("DELETE", path).status == 204);
  Reply gone = registry.call("PATCH", path, {}, std::string("x"));
  CHECK(gone.status == 404);
  CHECK(gone.errorCode() == "BLOB_UPLOAD_UNKNOWN");
}

TEST_CASE("a cross-repository mount links the blob (201) or falls back to an upload (202)",
          "[handlers]") {
  Registry registry;
  std::string digest = registry.pushBlob("source", "shared layer");
  Reply mounted =
      registry.call("POST", "/v2/target/blobs/uploads/?mount=" + digest + "&from=source");
  CHECK(mounted.status == 201);
  CHECK(mounted.header("Docker-Content-Digest") == digest);
  CHECK(registry.call("GET", "/v2/target/blobs/" + digest).body == "shared layer");
  Reply fallback =
      registry.call("POST", "/v2/target/blobs/uploads/?mount=" + digest + "&from=nowhere");
  CHECK(fallback.status == 202);
  CHECK_FALSE(fallback.header("Docker-Upload-UUID").empty());
}

TEST_CASE("Location follows X-Forwarded-Proto/Host, or is relative with relativeurls",
          "[handlers]") {
  Registry registry;
  Reply proxied =
      registry.call("POST", "/v2/r/blobs/uploads/",
                    {{"X-Forwarded-Proto", "https"}, {"X-Forwarded-Host", "registry.example.com"}});
  CHECK(proxied.header("Location").starts_with("https://registry.example.com/v2/r/blobs/uploads/"));
  registry.options.relative_urls = true;
  CHECK(registry.call("POST", "/v2/r/blobs/uploads/")
            .header("Location")
            .starts_with("/v2/r/blobs/uploads/"));
}

TEST_CASE("manifests: PUT 201, GET returns the bytes and type, HEAD the headers", "[handlers]") {
  Registry registry;
  std::string digest = registry.pushImage("app", "v1", "layer one");
  Reply get = registry.call("GET", "/v2/app/manifests/v1");
  CHECK(get.status == 200);
  CHECK(get.header("Content-Type") == "application/vnd.oci.image.manifest.v1+json");
  CHECK(get.header("Docker-Content-Digest") == digest);
  CHECK(Digest::of(get.body).str() == digest);
  Reply head = registry.call("HEAD", "/v2/app/manifests/" + digest);
  CHECK(head.status == 200);
  CHECK(head.header("Content-Length") == std::to_string(get.body.size()));
  CHECK(head.body.empty());
  CHECK(registry.call("GET", "/v2/app/manifests/v2").errorCode() == "MANIFEST_UNKNOWN");
}

TEST_CASE("GET, HEAD, DELETE of an invalid reference are 404 MANIFEST_UNKNOWN; PUT 400 TAG_INVALID",
          "[handlers]") {
  Registry registry;
  registry.pushImage("app", "v1", "layer one");
  for (const char* method : {"GET", "HEAD", "DELETE"}) {
    Reply r = registry.call(method, "/v2/app/manifests/.INVALID_MANIFEST_NAME");
    INFO(method);
    CHECK(r.status == 404);
    if (std::string(method) != "HEAD") CHECK(r.errorCode() == "MANIFEST_UNKNOWN");
  }
  Reply put = registry.call("PUT", "/v2/app/manifests/.INVALID_MANIFEST_NAME",
                            {{"Content-Type", "application/vnd.oci.image.manifest.v1+json"}}, "{}");
  CHECK(put.status == 400);
  CHECK(put.errorCode() == "TAG_INVALID");
}

TEST_CASE("a manifest referencing a missing blob is 400 MANIFEST_BLOB_UNKNOWN", "[handlers]") {
  Registry registry;
  std::string config_digest = registry.pushBlob("app", "{}");
  json manifest = {{"schemaVersion", 2},
                   {"mediaType", "application/vnd.oci.image.manifest.v1+json"},
                   {"config",
                    {{"mediaType", "application/vnd.oci.image.config.v1+json"},
                     {"digest", config_digest},
                     {"size", 2}}},
                   {"layers",
                    {{{"mediaType", "application/vnd.oci.image.layer.v1.tar"},
                      {"digest", Digest::of("never pushed").str()},
                      {"size", 12}}}}};
  Reply r = registry.call("PUT", "/v2/app/manifests/latest",
                          {{"Content-Type", "application/vnd.oci.image.manifest.v1+json"}},
                          manifest.dump());
  CHECK(r.status == 400);
  CHECK(r.errorCode() == "MANIFEST_BLOB_UNKNOWN");
  Reply invalid = registry.call("PUT", "/v2/app/manifests/latest",
                                {{"Content-Type", "application/vnd.oci.image.manifest.v1+json"}},
                                std::string("{not json"));
  CHECK(invalid.status == 400);
  CHECK(invalid.errorCode() == "MANIFEST_INVALID");
}

TEST_CASE("a manifest over the size limit is SIZE_INVALID", "[handlers]") {
  Registry registry;
  registry.options.max_manifest_bytes = 64;
  Reply r = registry.call("PUT", "/v2/app/manifests/latest",
                          {{"Content-Type", "application/vnd.oci.image.manifest.v1+json"}},
                          std::string(100, ' '));
  CHECK(r.status == 400);
  CHECK(r.errorCode() == "SIZE_INVALID");
}

TEST_CASE("deletes are 405 UNSUPPORTED unless enabled; then by tag only the tag goes",
          "[handlers]") {
  Registry registry;
  std::string digest = registry.pushImage("app", "v1", "layer");
  std::string blob = registry.pushBlob("app", "loose blob");
  CHECK(registry.call("DELETE", "/v2/app/manifests/v1").status == 405);
  CHECK(registry.call("DELETE", "/v2/app/blobs/" + blob).errorCode() == "UNSUPPORTED");
  registry.options.delete_enabled = true;
  CHECK(registry.call("DELETE", "/v2/app/manifests/v1").status == 202);
  CHECK(registry.call("GET", "/v2/app/manifests/v1").status == 404);
  CHECK(registry.call("GET", "/v2/app/manifests/" + digest).status == 200);
  CHECK(registry.call("DELETE", "/v2/app/manifests/" + digest).status == 202);
  CHECK(registry.call("GET", "/v2/app/manifests/" + digest).status == 404);
  CHECK(registry.call("DELETE", "/v2/app/blobs/" + blob).status == 202);
  CHECK(registry.call("GET", "/v2/app/blobs/" + blob).status == 404);
}

TEST_CASE("tags/list paginates with n, last and a Link header", "[handlers]") {
  Registry registry;
  for (const char* tag : {"c", "a", "b", "d"}) registry.pushImage("app", tag, "same layer");
  Reply all = registry.call("GET", "/v2/app/tags/list");
  CHECK(json::parse(all.body) == json{{"name", "app"}, {"tags", {"a", "b", "c", "d"}}});
  CHECK_FALSE(all.headers.has("Link"));
  Reply page = registry.call("GET", "/v2/app/tags/list?n=2");
  CHECK(json::parse(page.body)["tags"] == json{"a", "b"});
  CHECK(page.header("Link") == "</v2/app/tags/list?n=2&last=b>; rel=\"next\"");
  Reply next = registry.call("GET", "/v2/app/tags/list?n=2&last=b");
  CHECK(json::parse(next.body)["tags"] == json{"c", "d"});
  CHECK(registry.call("GET", "/v2/app/tags/list?n=-1").errorCode() == "PAGINATION_NUMBER_INVALID");
  CHECK(registry.call("GET", "/v2/nothing/tags/list").errorCode() == "NAME_UNKNOWN");
}

TEST_CASE("tags/list writes names from disk as valid JSON (escapes, U+FFFD for bad UTF-8)",
          "[handlers]") {
  Registry registry;
  registry.pushImage("app", "v1", "layer");
  // Tag directories the API would refuse, written by something else on the storage.
  for (std::string odd : {std::string("q\"b\\s"), std::string("c\x01t"), std::string("\xff\xfex"),
                          std::string("\xc3\xa9t\xe2\x82\xac")}) {
    REQUIRE(registry.driver.putContent(
        portico::storage::layout::tagsDir("app") + "/" + odd + "/current/link", "x"));
  }
  Reply all = registry.call("GET", "/v2/app/tags/list");
  REQUIRE(all.status == 200);
  json parsed = json::parse(all.body);  // throws (fails the test) on invalid JSON or UTF-8
  CHECK(parsed["name"] == "app");
  CHECK(parsed["tags"] ==
        json{"c\x01t", "q\"b\\s", "v1", "\xc3\xa9t\xe2\x82\xac", "\xef\xbf\xbd\xef\xbf\xbdx"});
  CHECK(all.body.find("\\u0001") != std::string::npos);
}

TEST_CASE("_catalog lists repositories with pagination", "[handlers]") {
  Registry registry;
  for (const char* repo : {"b", "a/x", "c"}) registry.pushBlob(repo, "x");
  Reply all = registry.call("GET", "/v2/_catalog");
  CHECK(json::parse(all.body)["repositories"] == json{"a/x", "b", "c"});
  Reply page = registry.call("GET", "/v2/_catalog?n=1");
  CHECK(json::parse(page.body)["repositories"] == json{"a/x"});
  CHECK(page.header("Link") == "</v2/_catalog?n=1&last=a%2Fx>; rel=\"next\"");
  Reply next = registry.call("GET", "/v2/_catalog?n=1&last=a%2Fx");
  CHECK(json::parse(next.body)["repositories"] == json{"b"});
}

TEST_CASE("referrers list manifests with that subject, filtered by artifactType", "[handlers]") {
  Registry registry;
  std::string subject = registry.pushImage("app", "v1", "base layer");
  Reply empty = registry.call("GET", "/v2/app/referrers/" + subject);
  CHECK(empty.status == 200);
  CHECK(json::parse(empty.body)["manifests"].empty());

  json subject_descriptor = {{"mediaType", "application/vnd.oci.image.manifest.v1+json"},
                             {"digest", subject},
                             {"size", registry.call("GET", "/v2/app/manifests/v1").body.size()}};
  std::string sbom = registry.pushImage(
      "app", "sbom", "sbom layer",
      {{"subject", subject_descriptor}, {"artifactType", "application/spdx+json"}});
  Reply put_sig = registry.call("GET", "/v2/app/manifests/sbom");
  REQUIRE(put_sig.status == 200);

  Reply listed = registry.call("GET", "/v2/app/referrers/" + subject);
  CHECK(listed.header("Content-Type") == "application/vnd.oci.image.index.v1+json");
  auto index = json::parse(listed.body);
  REQUIRE(index["manifests"].size() == 1);
  CHECK(index["manifests"][0]["digest"] == sbom);
  CHECK(index["manifests"][0]["artifactType"] == "application/spdx+json");
  CHECK_FALSE(listed.headers.has("OCI-Filters-Applied"));

  Reply filtered =
      registry.call("GET", "/v2/app/referrers/" + subject + "?artifactType=application/other");
  CHECK(filtered.header("OCI-Filters-Applied") == "artifactType");
  CHECK(json::parse(filtered.body)["manifests"].empty());
}

TEST_CASE("a manifest with a subject answers OCI-Subject", "[handlers]") {
  Registry registry;
  std::string subject = registry.pushImage("app", "v1", "base");
  json extra = {{"subject",
                 {{"mediaType", "application/vnd.oci.image.manifest.v1+json"},
                  {"digest", subject},
                  {"size", registry.call("GET", "/v2/app/manifests/v1").body.size()}}}};
  std::string config = "{\"architecture\":\"amd64\",\"os\":\"linux\"}";
  std::string layer = registry.pushBlob("app", "sig");
  json manifest = {
      {"schemaVersion", 2},
      {"mediaType", "application/vnd.oci.image.manifest.v1+json"},
      {"config",
       {{"mediaType", "application/vnd.oci.image.config.v1+json"},
        {"digest", registry.pushBlob("app", config)},
        {"size", config.size()}}},
      {"layers", {{{"mediaType", "application/octet-stream"}, {"digest", layer}, {"size", 3}}}}};
  manifest.update(extra);
  Reply r = registry.call("PUT", "/v2/app/manifests/sig",
                          {{"Content-Type", "application/vnd.oci.image.manifest.v1+json"}},
                          manifest.dump());
  CHECK(r.status == 201);
  CHECK(r.header("OCI-Subject") == subject);
}

TEST_CASE("read-only mode refuses writes with 405 UNSUPPORTED but serves reads", "[handlers]") {
  Registry registry;
  std::string digest = registry.pushBlob("r", "data");
  registry.options.read_only = true;
  CHECK(registry.call("POST", "/v2/r/blobs/uploads/").errorCode() == "UNSUPPORTED");
  CHECK(registry.call("GET", "/v2/r/blobs/" + digest).status == 200);
}

TEST_CASE("configured http.headers are on every response", "[handlers]") {
  Registry registry;
  registry.options.headers = {{"X-Content-Type-Options", "nosniff"}};
  CHECK(registry.call("GET", "/v2/").header("X-Content-Type-Options") == "nosniff");
  CHECK(registry.call("GET", "/v2/x/tags/list").header("X-Content-Type-Options") == "nosniff");
}

// ---------------------------------------------------------------------------------------
// The pipeline: policy in one place, the AccessController, events, decorators.

namespace {

// Denies everything with a fixed decision.
class DenyAll : public portico::api::AccessController {
 public:
  explicit DenyAll(portico::api::AccessDecision decision) : decision_(std::move(decision)) {}
  void authorize(const portico::http::RequestHead& /*head*/,
                 const std::vector<portico::api::Access>& access, portico::net::Worker* /*worker*/,
                 std::function<void(portico::api::AccessDecision)> done) override {
    asked = access;
    done(decision_);
  }
  std::vector<portico::api::Access> asked;

 private:
  portico::api::AccessDecision decision_;
};

// Records every event (the worker emits; the test reads after the call).
class RecordingSink : public portico::registry::EventSink {
 public:
  void emit(const portico::registry::RequestContext& ctx, portico::registry::Event event,
            std::function<void()> done) override {
    {
      std::lock_guard lock(mutex);
      events.push_back(std::move(event));
      request_ids.push_back(ctx.request_id);
    }
    done();
  }
  std::mutex mutex;
  std::vector<portico::registry::Event> events;
  std::vector<std::string> request_ids;
};

// Counts BlobService::stat calls; forwards everything else (the decorator pattern).
class CountingBlobs : public portico::registry::ForwardingBlobService {
 public:
  CountingBlobs(portico::registry::BlobService& inner, std::atomic<int>& count)
      : ForwardingBlobService(inner), count_(count) {}
  void stat(const portico::registry::Context& ctx, const Digest& digest,
            portico::registry::Done<portico::registry::Descriptor> done) override {
    ++count_;
    ForwardingBlobService::stat(ctx, digest, std::move(done));
  }

 private:
  std::atomic<int>& count_;
};

class CountingRepository : public portico::registry::ForwardingRepositoryService {
 public:
  CountingRepository(std::unique_ptr<portico::registry::RepositoryService> inner,
                     std::atomic<int>& count)
      : ForwardingRepositoryService(std::move(inner)), blobs_(inner_->blobs(), count) {}
  portico::registry::BlobService& blobs() override { return blobs_; }

 private:
  CountingBlobs blobs_;
};

class CountingNamespace : public portico::registry::ForwardingNamespace {
 public:
  using ForwardingNamespace::ForwardingNamespace;
  std::unique_ptr<portico::registry::RepositoryService> repository(
      const portico::registry::Repository& name) override {
    return std::make_unique<CountingRepository>(ForwardingNamespace::repository(name), stats);
  }
  std::atomic<int> stats{0};
};

}  // namespace

TEST_CASE("policy: read-only refuses every write route with 405, reads pass", "[pipeline]") {
  Registry registry;
  std::string digest = registry.pushBlob("lib/app", "content");
  registry.options.read_only = true;
  registry.options.delete_enabled = true;
  const std::vector<std::pair<std::string, std::string>> writes = {
      {"POST", "/v2/lib/app/blobs/uploads/"},
      {"POST", "/v2/lib/app/blobs/uploads/?digest=" + digest},
      {"PATCH", "/v2/lib/app/blobs/uploads/0f0e0d0c-0b0a-4908-8706-050403020100"},
      {"PUT", "/v2/lib/app/blobs/uploads/0f0e0d0c-0b0a-4908-8706-050403020100?digest=" + digest},
      {"DELETE", "/v2/lib/app/blobs/uploads/0f0e0d0c-0b0a-4908-8706-050403020100"},
      {"PUT", "/v2/lib/app/manifests/v1"},
      {"DELETE", "/v2/lib/app/manifests/v1"},
      {"DELETE", "/v2/lib/app/blobs/" + digest},
  };
  for (const auto& [method, target] : writes) {
    INFO(method << " " << target);
    Reply r = registry.call(method, target, {}, std::string("x"));
    CHECK(r.status == 405);
    CHECK(r.errorCode() == "UNSUPPORTED");
    CHECK(r.body.find("read-only mode") != std::string::npos);
  }
  CHECK(registry.call("HEAD", "/v2/lib/app/blobs/" + digest).status == 200);
  CHECK(registry.call("GET", "/v2/lib/app/blobs/" + digest).status == 200);
  CHECK(registry.call("GET", "/v2/_catalog").status == 200);
}

TEST_CASE("policy: disabled deletes refuse DELETE of blobs and manifests, not uploads",
          "[pipeline]") {
  Registry registry;
  std::string digest = registry.pushBlob("lib/app", "content");
  registry.options.delete_enabled = false;
  for (const auto& target :
       {"/v2/lib/app/blobs/" + digest, std::string("/v2/lib/app/manifests/v1")}) {
    Reply r = registry.call("DELETE", target);
    CHECK(r.status == 405);
    CHECK(r.body.find("storage.delete.enabled is false") != std::string::npos);
  }
  // Cancelling an upload is not a delete of content: the handler answers (unknown upload).
  Reply cancel =
      registry.call("DELETE", "/v2/lib/app/blobs/uploads/0f0e0d0c-0b0a-4908-8706-050403020100");
  CHECK(cancel.status == 404);
  CHECK(cancel.errorCode() == "BLOB_UPLOAD_UNKNOWN");
  CHECK(registry.call("HEAD", "/v2/lib/app/blobs/" + digest).status == 200);
}

TEST_CASE("an AccessController's denial is rendered with its status and headers", "[pipeline]") {
  Registry registry;
  std::string digest = registry.pushBlob("lib/app", "content");

  portico::api::AccessDecision unauthorized;
  unauthorized.allowed = false;
  unauthorized.error = portico::Error{portico::registry::ErrorCode::Unauthorized,
                                      "authentication required", "no credentials"};
  unauthorized.headers = {{"WWW-Authenticate", "Bearer realm=\"https://auth.test/token\""}};
  DenyAll deny(unauthorized);
  registry.controller = &deny;
  Reply r = registry.call("HEAD", "/v2/lib/app/blobs/" + digest);
  CHECK(r.status == 401);
  CHECK(r.header("WWW-Authenticate") == "Bearer realm=\"https://auth.test/token\"");
  CHECK(deny.asked == std::vector<portico::api::Access>{{"repository", "lib/app", "pull"}});

  portico::api::AccessDecision denied;
  denied.allowed = false;
  denied.error = portico::Error{portico::registry::ErrorCode::Denied, "denied", "push"};
  DenyAll forbid(denied);
  registry.controller = &forbid;
  Reply put = registry.call("PUT", "/v2/lib/app/manifests/v1", {}, std::string("{}"));
  CHECK(put.status == 403);
  CHECK(put.errorCode() == "DENIED");
  // The denial comes before the policy: read-only does not tell an unauthorized client more.
  registry.options.read_only = true;
  registry.controller = &deny;
  CHECK(registry.call("PUT", "/v2/lib/app/manifests/v1", {}, std::string("{}")).status == 401);
}

TEST_CASE("events are emitted after success, not after a failure", "[pipeline]") {
  Registry registry;
  RecordingSink sink;
  registry.events = &sink;
  std::string digest = registry.pushBlob("lib/app", "content");
  REQUIRE(sink.events.size() == 1);
  CHECK(sink.events[0].action == portico::registry::Event::Action::Push);
  CHECK(sink.events[0].repository == "lib/app");
  CHECK(sink.events[0].digest->str() == digest);
  CHECK(sink.events[0].size == 7);
  CHECK_FALSE(sink.request_ids[0].empty());

  CHECK(registry.call("GET", "/v2/lib/app/blobs/" + digest).status == 200);
  REQUIRE(sink.events.size() == 2);
  CHECK(sink.events[1].action == portico::registry::Event::Action::Pull);

  // Failures report nothing: a wrong digest, an unknown blob, a refused delete.
  Reply bad = registry.call("POST", "/v2/lib/app/blobs/uploads/?digest=" + digest, {},
                            std::string("other content"));
  CHECK(bad.status == 400);
  CHECK(registry.call("GET", "/v2/lib/app/blobs/" + Digest::of("nothing").str()).status == 404);
  CHECK(registry.call("DELETE", "/v2/lib/app/blobs/" + digest).status == 405);
  CHECK(sink.events.size() == 2);

  registry.options.delete_enabled = true;
  CHECK(registry.call("DELETE", "/v2/lib/app/blobs/" + digest).status == 202);
  REQUIRE(sink.events.size() == 3);
  CHECK(sink.events[2].action == portico::registry::Event::Action::Delete);
}

TEST_CASE("a decorator wraps BlobService::stat through the real pipeline", "[pipeline]") {
  Registry registry;
  std::string digest = registry.pushBlob("lib/app", "content");
  CountingNamespace counting(registry.names);
  registry.ns = &counting;
  CHECK(registry.call("HEAD", "/v2/lib/app/blobs/" + digest).status == 200);
  CHECK(registry.call("GET", "/v2/lib/app/blobs/" + digest).status == 200);
  CHECK(counting.stats == 2);
  // Everything it does not override is forwarded: uploads and manifests work through it.
  registry.pushImage("lib/app", "v1", "layer");
  CHECK(registry.call("GET", "/v2/lib/app/manifests/v1").status == 200);
  CHECK(counting.stats == 2);
}
