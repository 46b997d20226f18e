// Durable notifications (issue 14 section 2): a receiver started here (FakeUpstream) gets
// distribution's envelope for push, pull, mount and delete; events survive a receiver that is
// down and a registry killed with SIGKILL, and arrive in order.

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>

#include "tests/fixtures/prometheus_text.h"
#include "tests/integration/registry_harness.h"

using portico::testing::FakeUpstream;
using portico::testing::FakeUpstreamOptions;
using portico::testing::RegistryServer;
using portico::testing::RegistrySetup;
using portico::testing::UpstreamReply;
using Json = nlohmann::json;

namespace {

std::string endpointYaml(const std::string& name, uint16_t port, const std::string& more = "") {
  return "    - name: " + name + "\n      url: http://127.0.0.1:" + std::to_string(port) +
         "/events\n      headers:\n        Authorization: [Bearer t0ken]\n"
         "      timeout: 2s\n      threshold: 1\n      backoff: 20ms\n" +
         more;
}

// Every event received so far, in arrival order, first delivery of each id only.
std::vector<Json> eventsOf(const FakeUpstream& receiver) {
  std::vector<Json> out;
  std::set<std::string> seen;
  for (const auto& request : receiver.requests()) {
    auto body = Json::parse(request.body, nullptr, false);
    if (body.is_discarded() || !body.contains("events")) continue;
    for (const auto& event : body["events"]) {
      if (seen.insert(event["id"].get<std::string>()).second) out.push_back(event);
    }
  }
  return out;
}

// Waits until `count` distinct events arrived (or 20 s passed).
std::vector<Json> waitForEvents(const FakeUpstream& receiver, size_t count) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  for (;;) {
    auto events = eventsOf(receiver);
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (events.size() >= count || left.count() <= 0) return events;
    receiver.waitForRequests(receiver.requestCount() + 1, left);
  }
}

std::string actionAndTarget(const Json& event) {
  const auto& target = event["target"];
  return event["action"].get<std::string>() + " " + target.value("repository", "") + " " +
         target.value("digest", "") + " " + target.value("tag", "");
}

}  // namespace

TEST_CASE("the receiver gets distribution's envelope for push, pull, mount and delete",
          "[notify]") {
  FakeUpstream all;
  FakeUpstream no_pulls;
  all.setDefaultReply(UpstreamReply::respond(200));
  no_pulls.setDefaultReply(UpstreamReply::respond(204));
  RegistrySetup setup;
  setup.extra = "notifications:\n  events:\n    includereferences: true\n  endpoints:\n" +
                endpointYaml("all", all.port()) +
                endpointYaml("nopulls", no_pulls.port(),
                             "      ignore:\n        actions: [pull]\n      mediatype: v2\n");
  RegistryServer registry(setup);
  auto client = registry.client();

  std::string layer = "layer-one";
  std::string config = "{\"architecture\":\"amd64\",\"os\":\"linux\"}";
  std::string layer_digest = portico::testing::pushBlob(client, "notify/a", layer);
  std::string config_digest = portico::testing::pushBlob(client, "notify/a", config);
  REQUIRE(client.get("/v2/notify/a/blobs/" + layer_digest).status == 200);
  auto mounted = client.request(
      "POST", "/v2/notify/b/blobs/uploads/?mount=" + layer_digest + "&from=notify/a");
  REQUIRE(mounted.status == 201);
  const std::string oci = "application/vnd.oci.image.manifest.v1+json";
  Json manifest = {
      {"schemaVersion", 2},
      {"mediaType", oci},
      {"config", portico::testing::descriptor("application/vnd.oci.image.config.v1+json", config)},
      {"layers", Json::array({portico::testing::descriptor(
                     "application/vnd.oci.image.layer.v1.tar+gzip", layer)})}};
  std::string bytes = manifest.dump();
  std::string manifest_digest = portico::testing::sha256Digest(bytes);
  REQUIRE(portico::testing::putManifest(client, "notify/a", "latest", bytes, oci).status == 201);
  REQUIRE(client.get("/v2/notify/a/manifests/latest").status == 200);
  REQUIRE(client.request("DELETE", "/v2/notify/a/manifests/" + manifest_digest).status == 202);
  REQUIRE(client.request("DELETE", "/v2/notify/b/blobs/" + layer_digest).status == 202);

  std::vector<std::string> expected = {
      "push notify/a " + layer_digest + " ",
      "push notify/a " + config_digest + " ",
      "pull notify/a " + layer_digest + " ",
      "mount notify/b " + layer_digest + " ",
      "push notify/a " + manifest_digest + " latest",
      "pull notify/a " + manifest_digest + " latest",
      "delete notify/a " + manifest_digest + " ",
      "delete notify/a " + manifest_digest + " latest",
      "delete notify/b " + layer_digest + " ",
  };
  auto events = waitForEvents(all, expected.size());
  std::vector<std::string> got;
  for (const auto& event : events) got.push_back(actionAndTarget(event));
  CHECK(got == expected);
  REQUIRE(events.size() == expected.size());

  // The envelope, field by field (distribution's notifications/event.go).
  auto requests = all.requests();
  REQUIRE_FALSE(requests.empty());
  CHECK(requests[0].method == "POST");
  CHECK(requests[0].target == "/events");
  CHECK(requests[0].headers.get("Content-Type") ==
        "application/vnd.docker.distribution.events.v1+json");
  CHECK(requests[0].headers.get("Authorization") == "Bearer t0ken");
  const Json& push = events[0];
  CHECK(std::regex_match(push["timestamp"].get<std::string>(),
                         std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z)")));
  CHECK_FALSE(push["id"].get<std::string>().empty());
  CHECK(push["target"]["mediaType"] == "application/octet-stream");
  CHECK(push["target"]["size"] == layer.size());
  CHECK(push["target"]["length"] == layer.size());
  CHECK(push["target"]["url"] ==
        "http://" + registry.hostPort() + "/v2/notify/a/blobs/" + layer_digest);
  CHECK_FALSE(push["target"].contains("tag"));
  CHECK(push["request"]["method"] == "POST");
  CHECK_FALSE(push["request"]["id"].get<std::string>().empty());
  CHECK(push["request"]["host"] == registry.hostPort());
  CHECK(push["request"]["addr"].get<std::string>().rfind("127.0.0.1", 0) == 0);
  CHECK(push["request"].contains("useragent"));
  CHECK(push["actor"] == Json::object());
  CHECK_FALSE(push["source"]["instanceID"].get<std::string>().empty());
  CHECK(push["source"]["addr"].get<std::string>().find(':') != std::string::npos);
  const Json& mount = events[3];
  CHECK(mount["target"]["fromRepository"] == "notify/a");
  const Json& manifest_push = events[4];
  CHECK(manifest_push["target"]["mediaType"] == oci);
  CHECK(manifest_push["target"]["size"] == bytes.size());
  CHECK(manifest_push["target"]["url"] ==
        "http://" + registry.hostPort() + "/v2/notify/a/manifests/" + manifest_digest);
  CHECK(manifest_push["request"]["method"] == "PUT");
  // includereferences: the manifest's config and layers, as descriptors (distribution's
  // References()); blob events have none.
  Json references = Json::array({{{"mediaType", "application/vnd.oci.image.config.v1+json"},
                                  {"digest", config_digest},
                                  {"size", config.size()}},
                                 {{"mediaType", "application/vnd.oci.image.layer.v1.tar+gzip"},
                                  {"digest", layer_digest},
                                  {"size", layer.size()}}});
  CHECK(manifest_push["target"]["references"] == references);
  CHECK(events[5]["target"]["references"] == references);
  CHECK_FALSE(push["target"].contains("references"));
  const Json& manifest_pull = events[5];
  CHECK(manifest_pull["request"]["method"] == "GET");
  CHECK(manifest_pull["target"]["size"] == bytes.size());
  const Json& deleted = events[6];
  CHECK(deleted["request"]["method"] == "DELETE");
  CHECK_FALSE(deleted["target"].contains("url"));

  // ignore.actions without any ignored media type (distribution 2.8 ignored it then), and
  // the v2 media type.
  std::vector<std::string> without_pulls;
  for (const auto& line : expected) {
    if (line.rfind("pull ", 0) != 0) without_pulls.push_back(line);
  }
  auto filtered = waitForEvents(no_pulls, without_pulls.size());
  std::vector<std::string> got_filtered;
  for (const auto& event : filtered) got_filtered.push_back(actionAndTarget(event));
  CHECK(got_filtered == without_pulls);
  CHECK(no_pulls.requests()[0].headers.get("Content-Type") ==
        "application/vnd.docker.distribution.events.v2+json");
}

TEST_CASE("events survive a receiver that is down and a registry killed with SIGKILL", "[notify]") {
  uint16_t port = 0;
  {
    FakeUpstream reserve;  // a free port, closed again: the receiver is down
    port = reserve.port();
  }
  RegistrySetup setup;
  setup.access_log = false;
  setup.extra = "notifications:\n  endpoints:\n" + endpointYaml("hook", port);
  RegistryServer registry(setup);
  std::vector<std::string> digests;
  {
    auto client = registry.client();
    for (int i = 0; i < 20; ++i) {
      // 201 means the event is on disk.
      digests.push_back(
          portico::testing::pushBlob(client, "durable/r", "blob " + std::to_string(i)));
    }
  }
  registry.restart();  // SIGKILL, then a new process over the same storage root
  // The queue lives beside the storage root, where a registry:2 user looks.
  CHECK(std::filesystem::exists(registry.root() +
                                "/docker/registry/v2/_portico/notifications/hook/events.log"));

  FakeUpstreamOptions options;
  options.port = port;
  FakeUpstream receiver(options);
  receiver.setDefaultReply(UpstreamReply::respond(202));
  auto events = waitForEvents(receiver, digests.size());
  std::vector<std::string> got;
  for (const auto& event : events) got.push_back(event["target"]["digest"].get<std::string>());
  CHECK(got == digests);

  // Delivered events are acknowledged: the next one follows them, and is the only new one.
  auto client = registry.client();
  std::string last = portico::testing::pushBlob(client, "durable/r", "after the restart");
  events = waitForEvents(receiver, digests.size() + 1);
  REQUIRE(events.size() == digests.size() + 1);
  CHECK(events.back()["target"]["digest"] == last);
}

TEST_CASE("a full queue drops the oldest events, never blocks a push", "[notify]") {
  uint16_t port = 0;
  {
    FakeUpstream reserve;
    port = reserve.port();
  }
  RegistrySetup setup;
  setup.access_log = false;
  setup.extra =
      "  debug:\n    addr: 127.0.0.1:0\n    prometheus:\n      enabled: true\n"
      "notifications:\n  endpoints:\n" +
      endpointYaml("small", port, "      maxevents: 5\n");
  RegistryServer registry(setup);
  auto client = registry.client();
  std::vector<std::string> digests;
  for (int i = 0; i < 8; ++i) {
    digests.push_back(portico::testing::pushBlob(client, "full/r", "full " + std::to_string(i)));
  }
  portico::testing::HttpClient debug(registry.process().endpoint("debug"));
  auto metrics = [&] {
    auto r = debug.get("/metrics");
    REQUIRE(r.status == 200);
    return portico::testing::PromText::parse(r.body);
  };
  const std::map<std::string, std::string> small = {{"endpoint", "small"}};
  auto before = metrics();
  CHECK(before.value("portico_registry_notifications_pending", small) == 5);
  CHECK(before.value("portico_registry_notifications_dropped_total", small) == 3);
  CHECK(before.value("portico_registry_notifications_sent_total", small) == 0);

  FakeUpstreamOptions options;
  options.port = port;
  FakeUpstream receiver(options);
  receiver.setDefaultReply(UpstreamReply::respond(200));
  // The five newest are delivered, in order. (A POST that started before the last pushes may
  // also carry older ones: at least once, never fewer.)
  std::vector<std::string> got;
  for (size_t want = 5; want <= digests.size(); ++want) {
    got.clear();
    for (const auto& event : waitForEvents(receiver, want)) {
      got.push_back(event["target"]["digest"].get<std::string>());
    }
    if (!got.empty() && got.back() == digests.back()) break;
  }
  REQUIRE(got.size() >= 5);
  CHECK(std::vector<std::string>(got.end() - 5, got.end()) ==
        std::vector<std::string>(digests.begin() + 3, digests.end()));
  // One more: once it arrives, everything before it was acknowledged (the sender is in order).
  std::string extra = portico::testing::pushBlob(client, "full/r", "one more");
  auto events = waitForEvents(receiver, got.size() + 1);
  REQUIRE(events.back()["target"]["digest"] == extra);
  auto after = metrics();
  CHECK(after.value("portico_registry_notifications_sent_total", small) >= 5);
  CHECK(after.value("portico_registry_notifications_pending", small) <= 1);
  CHECK(after.value("portico_registry_notifications_failed_total", small) >= 1);
  CHECK(after.value("portico_registry_notifications_dropped_total", small) == 3);
}
