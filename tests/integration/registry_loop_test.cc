// The registry's event loop never waits for storage: with ONE worker and a storage call held
// blocked (registry_gate_server's gate), new connections are still answered. Asserts the order
// of events only (answers before the gate's release), never durations: on code that runs
// storage on the loop, the answers come only after the safety release, and the order check
// fails.

#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fcntl.h>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdlib>
#include <future>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "tests/integration/registry_harness.h"

using portico::testing::HttpClient;
using portico::testing::HttpClientOptions;
using portico::testing::ServerProcess;
using portico::testing::TempDir;

namespace {

// Only when the loop is blocked (the bug) does the test wait this long, then release the gate.
constexpr auto kSafetyRelease = std::chrono::seconds(15);

std::string gateBinary() {
  const char* path = std::getenv("PORTICO_GATE_BIN");
  if (path == nullptr) throw std::runtime_error("PORTICO_GATE_BIN is not set");
  return path;
}

struct GateServer {
  explicit GateServer(const std::string& mode) : root(dir.file("root")), fifo(dir.file("gate")) {
    REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
    process.emplace(ServerProcess::start(gateBinary(), {root, fifo, mode}));
  }
  HttpClient client() {
    HttpClientOptions options;
    options.timeout = std::chrono::seconds(60);  // longer than the safety release
    const auto& endpoint = process->endpoint();
    return HttpClient(endpoint.host, endpoint.port, options);
  }
  // Opens the gate: the held storage call continues.
  void release() {
    int fd = ::open(fifo.c_str(), O_WRONLY | O_CLOEXEC);
    REQUIRE(fd >= 0);
    ::close(fd);
  }

  TempDir dir{"portico-loop-test"};
  std::string root;
  std::string fifo;
  std::optional<ServerProcess> process;
};

// Ordered record of what happened, from several threads.
class Events {
 public:
  void add(std::string event) {
    std::lock_guard lock(mutex_);
    events_.push_back(std::move(event));
  }
  std::vector<std::string> list() {
    std::lock_guard lock(mutex_);
    return events_;
  }

 private:
  std::mutex mutex_;
  std::vector<std::string> events_;
};

// Pushes an image tagged v1 to `repo`.
void pushImage(GateServer& server, const std::string& repo) {
  auto client = server.client();
  auto manifest = portico::testing::imageManifest(client, repo, {"layer of " + repo});
  auto r = client.request("PUT", "/v2/" + repo + "/manifests/v1",
                          {{"Content-Type", "application/vnd.oci.image.manifest.v1+json"}},
                          manifest.dump());
  REQUIRE(r.status == 201);
}

// While the gate holds a storage call: GET /v2/ and a manifest GET by tag of "fast", each on a
// new connection, from another thread; the gate opens when both are answered or after the
// safety release.
void probeWhileHeld(GateServer& server, Events& events) {
  auto probes = std::async(std::launch::async, [&] {
    auto base = server.client().get("/v2/");
    events.add("GET /v2/ " + std::to_string(base.status));
    auto manifest = server.client().get("/v2/fast/manifests/v1",
                                        {{"Accept", "application/vnd.oci.image.manifest.v1+json"}});
    events.add("GET fast manifest " + std::to_string(manifest.status));
  });
  probes.wait_for(kSafetyRelease);  // returns at once when the loop answers
  events.add("released");
  server.release();
  probes.get();
}

}  // namespace

TEST_CASE("a storage call held on one repository does not stop the loop answering others",
          "[registry][loop]") {
  // repo: every storage call runs on a storage thread. nowait: the driver also offers calls
  // that never wait (storage/nowait.h), so "fast"'s reads are answered on the worker itself,
  // while "slow"'s tag lookup would wait (the gate): it goes to a storage thread and is held
  // there. A driver that waited inside the scope would hold the loop instead.
  const std::string mode = GENERATE("repo", "nowait");
  CAPTURE(mode);
  GateServer server(mode);
  pushImage(server, "fast");

  Events events;
  // The held call: a manifest GET of repository "slow" (its tag lookup reaches the gate).
  auto slow = std::async(std::launch::async, [&] {
    auto r = server.client().get("/v2/slow/manifests/v1");
    events.add("GET slow manifest " + std::to_string(r.status));
  });
  REQUIRE(server.process->waitForOutput("gate: held", std::chrono::seconds(30)));

  probeWhileHeld(server, events);
  slow.get();
  CHECK(events.list() == std::vector<std::string>{"GET /v2/ 200", "GET fast manifest 200",
                                                  "released", "GET slow manifest 404"});
}

TEST_CASE("a blob upload's commit held on the disk does not stop the loop answering others",
          "[registry][loop]") {
  GateServer server("commit");
  pushImage(server, "fast");

  Events events;
  // The held call: the commit (data → blob store) of a monolithic upload to "slow".
  const std::string content = "a layer whose commit waits for the disk";
  const std::string digest = portico::testing::sha256Digest(content);
  auto slow = std::async(std::launch::async, [&] {
    auto r = server.client().request("POST", "/v2/slow/blobs/uploads/?digest=" + digest,
                                     {{"Content-Type", "application/octet-stream"}}, content);
    events.add("POST slow blob " + std::to_string(r.status));
  });
  REQUIRE(server.process->waitForOutput("gate: held move", std::chrono::seconds(30)));

  probeWhileHeld(server, events);
  slow.get();
  CHECK(events.list() == std::vector<std::string>{"GET /v2/ 200", "GET fast manifest 200",
                                                  "released", "POST slow blob 201"});
  // The held commit completed: the blob is there.
  CHECK(server.client().request("HEAD", "/v2/slow/blobs/" + digest).status == 200);
}
