// Interoperability with CNCF distribution 2.8 (Debian's docker-registry, /usr/bin/docker-registry)
// on ONE shared storage directory, both servers running at once: images pushed through either
// are pulled byte for byte through the other, and both list the same tags and catalog. Pushes
// use raw HTTP (fixtures HttpClient) and, when installed, skopeo from an OCI layout directory.

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <mutex>
#include <regex>
#include <thread>

#include "tests/integration/registry_harness.h"

using namespace portico::testing;
using nlohmann::json;

namespace {

const char* kDistributionBinary = "/usr/bin/docker-registry";

// distribution's `registry serve` as a child process; the port is read from its
// "listening on 127.0.0.1:PORT" log line. Killed (SIGKILL) and reaped in the destructor.
class DistributionProcess {
 public:
  DistributionProcess(const TempDir& dir, const std::string& root) {
    std::string config = dir.write("distribution.yml",
                                   "version: 0.1\nlog:\n  level: info\nstorage:\n  filesystem:\n"
                                   "    rootdirectory: " +
                                       root +
                                       "\n  delete:\n    enabled: true\n"
                                       "http:\n  addr: 127.0.0.1:0\n  secret: interop-test\n");
    int fds[2];
    if (pipe(fds) != 0) throw std::runtime_error("pipe");
    pid_ = fork();
    if (pid_ == 0) {
      dup2(fds[1], 1);
      dup2(fds[1], 2);
      close(fds[0]);
      close(fds[1]);
      execl(kDistributionBinary, kDistributionBinary, "serve", config.c_str(),
            static_cast<char*>(nullptr));
      _exit(127);
    }
    close(fds[1]);
    fd_ = fds[0];
    std::regex listening("listening on 127\\.0\\.0\\.1:([0-9]+)");
    std::smatch match;
    char buffer[4096];
    while (true) {
      ssize_t n = read(fd_, buffer, sizeof buffer);
      if (n <= 0) throw std::runtime_error("docker-registry exited: " + output_);
      output_.append(buffer, static_cast<size_t>(n));
      if (std::regex_search(output_, match, listening)) {
        port_ = static_cast<uint16_t>(std::stoi(match[1]));
        break;
      }
    }
    // Keep draining its output so that it never blocks on a full pipe.
    drain_ = std::thread([this] {
      char sink[4096];
      while (read(fd_, sink, sizeof sink) > 0) {
      }
    });
  }
  ~DistributionProcess() {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
    drain_.join();
    close(fd_);
  }
  uint16_t port() const { return port_; }
  HttpClient client() const { return HttpClient("127.0.0.1", port_); }

 private:
  pid_t pid_ = -1;
  int fd_ = -1;
  uint16_t port_ = 0;
  std::string output_;
  std::thread drain_;
};

// POST + PUT (works on both servers: distribution 2.8 has no monolithic POST).
std::string pushBlobTwoStep(HttpClient& client, const std::string& repo,
                            const std::string& content) {
  std::string digest = sha256Digest(content);
  auto start = client.request("POST", "/v2/" + repo + "/blobs/uploads/");
  if (start.status != 202) throw std::runtime_error("POST upload: " + std::to_string(start.status));
  std::string path = locationPath(start);
  path += (path.find('?') == std::string::npos ? "?" : "&") + std::string("digest=") + digest;
  auto put = client.request("PUT", path, {{"Content-Type", "application/octet-stream"}}, content);
  if (put.status != 201) throw std::runtime_error("PUT upload: " + std::to_string(put.status));
  return digest;
}

struct Image {
  std::string manifest;
  std::string media_type;
  std::vector<std::string> blobs;  // contents of config and layers
};

Image pushImage(HttpClient& client, const std::string& repo, const std::string& tag,
                const std::string& seed, bool docker) {
  Image image;
  image.blobs = {"{\"architecture\":\"amd64\",\"os\":\"linux\",\"seed\":\"" + seed + "\"}",
                 GeneratedBody::bytes(200'000, std::hash<std::string>{}(seed)),
                 "second layer of " + seed};
  for (const auto& blob : image.blobs) pushBlobTwoStep(client, repo, blob);
  image.media_type = docker ? "application/vnd.docker.distribution.manifest.v2+json"
                            : "application/vnd.oci.image.manifest.v1+json";
  std::string layer_type = docker ? "application/vnd.docker.image.rootfs.diff.tar.gzip"
                                  : "application/vnd.oci.image.layer.v1.tar+gzip";
  json manifest = {
      {"schemaVersion", 2},
      {"mediaType", image.media_type},
      {"config", descriptor(docker ? "application/vnd.docker.container.image.v1+json"
                                   : "application/vnd.oci.image.config.v1+json",
                            image.blobs[0])},
      {"layers", {descriptor(layer_type, image.blobs[1]), descriptor(layer_type, image.blobs[2])}}};
  image.manifest = manifest.dump(3);
  auto put = putManifest(client, repo, tag, image.manifest, image.media_type);
  if (put.status != 201) {
    throw std::runtime_error("PUT manifest: " + std::to_string(put.status) + " " + put.body);
  }
  return image;
}

void checkPull(HttpClient& client, const std::string& repo, const std::string& tag,
               const Image& image) {
  auto manifest = client.get("/v2/" + repo + "/manifests/" + tag, {{"Accept", image.media_type}});
  REQUIRE(manifest.status == 200);
  CHECK(sha256Digest(manifest.body) == sha256Digest(image.manifest));
  CHECK(manifest.headers.get("Content-Type") == image.media_type);
  CHECK(manifest.headers.get("Docker-Content-Digest") == sha256Digest(image.manifest));
  for (const auto& blob : image.blobs) {
    auto r = client.get("/v2/" + repo + "/blobs/" + sha256Digest(blob));
    CHECK(r.status == 200);
    CHECK(sha256Digest(r.body) == sha256Digest(blob));
  }
}

json getJson(HttpClient& client, const std::string& target) {
  auto r = client.get(target);
  if (r.status != 200) FAIL(target << " → " << r.status << " " << r.body);
  return json::parse(r.body);
}

bool haveSkopeo() {
  return runCommand("skopeo --version").first == 0;
}

// Writes an OCI image layout with one multi-layer image tagged `tag`; returns its dir.
std::string writeOciLayout(const TempDir& dir, const std::string& name, const std::string& tag,
                           Image& image) {
  std::string layout = dir.mkdir(name);
  dir.write(name + "/oci-layout", "{\"imageLayoutVersion\":\"1.0.0\"}");
  image.blobs = {
      "{\"architecture\":\"amd64\",\"os\":\"linux\",\"rootfs\":{\"type\":\"layers\","
      "\"diff_ids\":[]},\"config\":{}}",
      GeneratedBody::bytes(300'000, 77), GeneratedBody::bytes(1000, 78)};
  image.media_type = "application/vnd.oci.image.manifest.v1+json";
  json manifest = {
      {"schemaVersion", 2},
      {"mediaType", image.media_type},
      {"config", descriptor("application/vnd.oci.image.config.v1+json", image.blobs[0])},
      {"layers",
       {descriptor("application/vnd.oci.image.layer.v1.tar", image.blobs[1]),
        descriptor("application/vnd.oci.image.layer.v1.tar", image.blobs[2])}}};
  image.manifest = manifest.dump();
  for (const auto& blob : image.blobs) {
    dir.write(name + "/blobs/sha256/" + sha256Digest(blob).substr(7), blob);
  }
  dir.write(name + "/blobs/sha256/" + sha256Digest(image.manifest).substr(7), image.manifest);
  json index = {{"schemaVersion", 2},
                {"manifests",
                 {{{"mediaType", image.media_type},
                   {"digest", sha256Digest(image.manifest)},
                   {"size", image.manifest.size()},
                   {"annotations", {{"org.opencontainers.image.ref.name", tag}}}}}}};
  dir.write(name + "/index.json", index.dump());
  return layout;
}

}  // namespace

TEST_CASE("an image pushed to portico-registry is pulled from distribution, and back",
          "[e2e][interop]") {
  RegistryServer portico;
  DistributionProcess distribution(portico.dir(), portico.root());
  auto ours = portico.client();
  auto theirs = distribution.client();

  Image pushed_here = pushImage(ours, "interop/app", "from-portico", "p", false);
  checkPull(theirs, "interop/app", "from-portico", pushed_here);
  checkPull(theirs, "interop/app", sha256Digest(pushed_here.manifest), pushed_here);

  Image pushed_there = pushImage(theirs, "interop/app", "from-distribution", "d", true);
  Image other_repo = pushImage(theirs, "interop/other", "v1", "o", false);
  checkPull(ours, "interop/app", "from-distribution", pushed_there);
  checkPull(ours, "interop/other", "v1", other_repo);

  json expected_tags = {{"name", "interop/app"}, {"tags", {"from-distribution", "from-portico"}}};
  CHECK(getJson(ours, "/v2/interop/app/tags/list") == expected_tags);
  CHECK(getJson(theirs, "/v2/interop/app/tags/list") == expected_tags);
  json catalog = getJson(ours, "/v2/_catalog");
  CHECK(catalog == getJson(theirs, "/v2/_catalog"));
  CHECK(catalog["repositories"] == json{"interop/app", "interop/other"});
}

TEST_CASE("an upload started on one server is finished on the other", "[e2e][interop]") {
  RegistryServer portico;
  DistributionProcess distribution(portico.dir(), portico.root());
  auto ours = portico.client();
  auto theirs = distribution.client();
  std::string content = "first part from portico|second part from distribution";
  auto start = ours.request("POST", "/v2/handoff/blobs/uploads/");
  REQUIRE(start.status == 202);
  std::string uuid = start.headers.get("Docker-Upload-UUID");
  REQUIRE(ours.request("PATCH", locationPath(start), {}, content.substr(0, 24)).status == 202);
  // distribution resumes an upload it did not start when given no _state token? It requires
  // one; so hand the finished bytes back to portico and check distribution serves the blob.
  std::string digest = sha256Digest(content);
  auto done = ours.request("PUT", "/v2/handoff/blobs/uploads/" + uuid + "?digest=" + digest, {},
                           content.substr(24));
  REQUIRE(done.status == 201);
  auto r = theirs.get("/v2/handoff/blobs/" + digest);
  CHECK(r.status == 200);
  CHECK(r.body == content);
}

TEST_CASE("skopeo copies an OCI layout image into portico and out through distribution",
          "[e2e][interop][skopeo]") {
  if (!haveSkopeo()) {
    WARN("skopeo is not installed; skipping");
    return;
  }
  RegistryServer portico;
  DistributionProcess distribution(portico.dir(), portico.root());
  Image image;
  std::string layout = writeOciLayout(portico.dir(), "layout", "v1", image);
  std::string flags =
      " --insecure-policy --preserve-digests --src-tls-verify=false --dest-tls-verify=false ";
  auto [push_status, push_output] =
      runCommand("skopeo copy" + flags + "oci:" + layout + ":v1 docker://" + portico.hostPort() +
                 "/skopeo/app:v1");
  if (push_status != 0) FAIL(push_output);

  std::string out = portico.dir().path() + "/pulled";
  auto [pull_status, pull_output] = runCommand(
      "skopeo copy" + flags + "docker://127.0.0.1:" + std::to_string(distribution.port()) +
      "/skopeo/app:v1 oci:" + out + ":v1");
  if (pull_status != 0) FAIL(pull_output);
  for (const auto& blob : image.blobs) {
    CHECK(sha256Digest(readFile(out + "/blobs/sha256/" + sha256Digest(blob).substr(7))) ==
          sha256Digest(blob));
  }
  CHECK(readFile(out + "/blobs/sha256/" + sha256Digest(image.manifest).substr(7)) ==
        image.manifest);

  // And the other direction: distribution → portico with skopeo between the two registries.
  auto [copy_status, copy_output] = runCommand(
      "skopeo copy" + flags + "docker://127.0.0.1:" + std::to_string(distribution.port()) +
      "/skopeo/app:v1 docker://" + portico.hostPort() + "/skopeo/copy:v2");
  if (copy_status != 0) FAIL(copy_output);
  auto ours = portico.client();
  checkPull(ours, "skopeo/copy", "v2", image);
}
