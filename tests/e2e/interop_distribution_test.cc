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
#include <random>
#include <regex>
#include <set>
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

// Flags shared by every skopeo copy here: no policy.json needed, plain HTTP, digests kept.
const char* kSkopeoFlags =
    " --insecure-policy --preserve-digests --src-tls-verify=false --dest-tls-verify=false ";

// An OCI image manifest for linux/`arch` over a config and `layers` (stored nowhere yet).
Image ociImage(const std::string& arch, const std::vector<std::string>& layers) {
  Image image;
  image.blobs = {"{\"architecture\":\"" + arch +
                 "\",\"os\":\"linux\",\"rootfs\":{\"type\":\"layers\","
                 "\"diff_ids\":[]},\"config\":{}}"};
  image.blobs.insert(image.blobs.end(), layers.begin(), layers.end());
  image.media_type = "application/vnd.oci.image.manifest.v1+json";
  json manifest = {
      {"schemaVersion", 2},
      {"mediaType", image.media_type},
      {"config", descriptor("application/vnd.oci.image.config.v1+json", image.blobs[0])},
      {"layers", json::array()}};
  for (size_t i = 1; i < image.blobs.size(); ++i) {
    manifest["layers"].push_back(
        descriptor("application/vnd.oci.image.layer.v1.tar", image.blobs[i]));
  }
  image.manifest = manifest.dump();
  return image;
}

// Stores `content` under the layout's blobs/sha256/.
void writeLayoutBlob(const TempDir& dir, const std::string& name, const std::string& content) {
  dir.write(name + "/blobs/sha256/" + sha256Digest(content).substr(7), content);
}

// Stores the image's config, layers and manifest in the layout.
void writeLayoutImage(const TempDir& dir, const std::string& name, const Image& image) {
  for (const auto& blob : image.blobs) writeLayoutBlob(dir, name, blob);
  writeLayoutBlob(dir, name, image.manifest);
}

// Creates the layout's oci-layout and an index.json whose one entry, tagged `tag`, is the
// (already stored) manifest `top` of type `media_type`; returns the layout dir.
std::string writeLayoutIndex(const TempDir& dir, const std::string& name, const std::string& tag,
                             const std::string& media_type, const std::string& top) {
  std::string layout = dir.mkdir(name);
  dir.write(name + "/oci-layout", "{\"imageLayoutVersion\":\"1.0.0\"}");
  json index = {{"schemaVersion", 2},
                {"manifests",
                 {{{"mediaType", media_type},
                   {"digest", sha256Digest(top)},
                   {"size", top.size()},
                   {"annotations", {{"org.opencontainers.image.ref.name", tag}}}}}}};
  dir.write(name + "/index.json", index.dump());
  return layout;
}

// Writes an OCI image layout with one multi-layer image tagged `tag`; returns its dir.
std::string writeOciLayout(const TempDir& dir, const std::string& name, const std::string& tag,
                           Image& image) {
  image = ociImage("amd64", {GeneratedBody::bytes(300'000, 77), GeneratedBody::bytes(1000, 78)});
  writeLayoutImage(dir, name, image);
  return writeLayoutIndex(dir, name, tag, image.media_type, image.manifest);
}

const char* kOciIndexType = "application/vnd.oci.image.index.v1+json";

// An OCI image index over one image per platform (linux/amd64 and linux/arm64).
struct ImageIndex {
  std::string manifest;
  std::vector<Image> images;
};

// Writes an OCI image layout whose `tag` is an image index over two platform images, each with
// its own config and two small random layers; returns its dir.
std::string writeOciIndexLayout(const TempDir& dir, const std::string& name, const std::string& tag,
                                ImageIndex& index) {
  std::random_device random;
  index.images.clear();
  json manifests = json::array();
  for (const std::string arch : {"amd64", "arm64"}) {
    Image image = ociImage(arch, {GeneratedBody::bytes(4096 + random() % 4096, random()),
                                  GeneratedBody::bytes(512 + random() % 512, random())});
    writeLayoutImage(dir, name, image);
    json entry = descriptor(image.media_type, image.manifest);
    entry["platform"] = {{"architecture", arch}, {"os", "linux"}};
    manifests.push_back(entry);
    index.images.push_back(std::move(image));
  }
  index.manifest =
      json{{"schemaVersion", 2}, {"mediaType", kOciIndexType}, {"manifests", manifests}}.dump();
  writeLayoutBlob(dir, name, index.manifest);
  return writeLayoutIndex(dir, name, tag, kOciIndexType, index.manifest);
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

// The `last` of a Link header's next page ("" when there is none), whatever the order of
// its query parameters (distribution writes last=..&n=.., portico n=..&last=..).
std::string linkLast(const Response& r) {
  auto link = r.headers.find("Link");
  if (!link) return "";
  std::smatch m;
  if (!std::regex_search(*link, m, std::regex("[?&]last=([^&>]*)"))) return "?";
  return m[1];
}

TEST_CASE("_catalog pages are distribution's for every last and n on a tricky tree",
          "[e2e][interop]") {
  RegistryServer portico;
  DistributionProcess distribution(portico.dir(), portico.root());
  auto ours = portico.client();
  auto theirs = distribution.client();
  // Nested repositories, names sorting around '/' and '_' ("a/0b" is walked before "a"),
  // a directory that is no repository.
  const std::vector<std::string> names{"a",     "a/0b",  "a/b",   "a/b/c", "a-b", "a.b",
                                       "a0",    "b",     "b/a/c", "c/x",   "c/y", "c0/z",
                                       "d/e/f", "d/e-f", "d/ef",  "z"};
  const std::string repositories = portico.root() + "/docker/registry/v2/repositories/";
  for (const auto& name : names) {
    std::filesystem::create_directories(repositories + name + "/_layers/sha256");
  }
  std::filesystem::create_directories(repositories + "nothere/deep");
  std::vector<std::string> lasts{"", "0", "a%2F", "a%2Fc", "b%2Fa", "c%2F", "d%2Fe", "zz"};
  for (const auto& name : names) lasts.push_back(std::regex_replace(name, std::regex("/"), "%2F"));
  for (const auto& last : lasts) {
    for (const char* n : {"", "0", "1", "2", "3", "5", "15", "16", "17"}) {
      std::string target = "/v2/_catalog?n=" + std::string(n) + "&last=" + last;
      INFO(target);
      auto mine = ours.get(target);
      auto reference = theirs.get(target);
      REQUIRE(mine.status == reference.status);
      if (mine.status == 200) CHECK(json::parse(mine.body) == json::parse(reference.body));
      CHECK(linkLast(mine) == linkLast(reference));
    }
  }
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
  std::string flags = kSkopeoFlags;
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

TEST_CASE("skopeo copies an image index (two platforms) into portico and back out unchanged",
          "[e2e][interop][skopeo]") {
  if (!haveSkopeo()) {
    WARN("skopeo is not installed; skipping");
    return;
  }
  RegistryServer portico;
  DistributionProcess distribution(portico.dir(), portico.root());
  ImageIndex index;
  std::string layout = writeOciIndexLayout(portico.dir(), "index-layout", "v1", index);
  std::string index_digest = sha256Digest(index.manifest);
  std::string flags = std::string(" --all") + kSkopeoFlags;
  std::string remote = "docker://" + portico.hostPort() + "/multi/index:v1";
  auto [push_status, push_output] =
      runCommand("skopeo copy" + flags + "oci:" + layout + ":v1 " + remote);
  if (push_status != 0) FAIL(push_output);

  // portico serves the index by tag with the pushed bytes and digest, and each child by digest.
  auto ours = portico.client();
  auto served = ours.get("/v2/multi/index/manifests/v1", {{"Accept", kOciIndexType}});
  REQUIRE(served.status == 200);
  CHECK(served.headers.get("Docker-Content-Digest") == index_digest);
  CHECK(served.headers.get("Content-Type") == kOciIndexType);
  CHECK(sha256Digest(served.body) == index_digest);
  for (const auto& image : index.images) {
    auto child = ours.get("/v2/multi/index/manifests/" + sha256Digest(image.manifest),
                          {{"Accept", image.media_type}});
    CHECK(child.status == 200);
    CHECK(child.body == image.manifest);
    CHECK(child.headers.get("Docker-Content-Digest") == sha256Digest(image.manifest));
    for (const auto& blob : image.blobs) {
      auto r = ours.get("/v2/multi/index/blobs/" + sha256Digest(blob));
      CHECK(r.status == 200);
      CHECK(sha256Digest(r.body) == sha256Digest(blob));
    }
  }

  // distribution 2.8 on the same storage serves the same index for the tag.
  auto theirs = distribution.client();
  auto from_distribution = theirs.get("/v2/multi/index/manifests/v1", {{"Accept", kOciIndexType}});
  REQUIRE(from_distribution.status == 200);
  CHECK(from_distribution.headers.get("Docker-Content-Digest") == index_digest);
  CHECK(sha256Digest(from_distribution.body) == index_digest);

  // Pulled back out of portico, the layout holds the same index, manifests and blobs.
  std::string out = portico.dir().path() + "/index-pulled";
  auto [pull_status, pull_output] =
      runCommand("skopeo copy" + flags + remote + " oci:" + out + ":v1");
  if (pull_status != 0) FAIL(pull_output);
  json pulled_index = json::parse(readFile(out + "/index.json"));
  REQUIRE(pulled_index["manifests"].size() == 1);
  CHECK(pulled_index["manifests"][0]["digest"] == index_digest);
  CHECK(pulled_index["manifests"][0]["mediaType"] == kOciIndexType);
  CHECK(readFile(out + "/blobs/sha256/" + index_digest.substr(7)) == index.manifest);
  for (const auto& image : index.images) {
    CHECK(readFile(out + "/blobs/sha256/" + sha256Digest(image.manifest).substr(7)) ==
          image.manifest);
    for (const auto& blob : image.blobs) {
      CHECK(sha256Digest(readFile(out + "/blobs/sha256/" + sha256Digest(blob).substr(7))) ==
            sha256Digest(blob));
    }
  }
}

namespace {

// The digests of "blob eligible for deletion: <d>" lines in a garbage-collect output.
std::set<std::string> eligibleBlobs(const std::string& output) {
  std::set<std::string> out;
  std::regex line("blob eligible for deletion: (sha256:[0-9a-f]{64})");
  for (auto it = std::sregex_iterator(output.begin(), output.end(), line);
       it != std::sregex_iterator(); ++it) {
    out.insert((*it)[1]);
  }
  return out;
}

// Runs `binary garbage-collect FLAGS CONFIG`; fails the test unless it exits 0.
std::string garbageCollect(const std::string& binary, const std::string& flags,
                           const std::string& config) {
  auto [status, output] = runCommand(binary + " garbage-collect " + flags + " " + config);
  INFO(output);
  REQUIRE(status == 0);
  return output;
}

std::string distributionConfig(const TempDir& dir, const std::string& name,
                               const std::string& root) {
  return dir.write(name,
                   "version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n"
                   "    rootdirectory: " +
                       root + "\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:0\n");
}

Response deleteManifest(HttpClient& client, const std::string& repo, const Image& image) {
  return client.request("DELETE", "/v2/" + repo + "/manifests/" + sha256Digest(image.manifest));
}

}  // namespace

TEST_CASE("garbage-collect --dry-run lists the blobs distribution's lists, on a root both wrote",
          "[e2e][interop][gc]") {
  RegistryServer portico;
  DistributionProcess distribution(portico.dir(), portico.root());
  auto ours = portico.client();
  auto theirs = distribution.client();

  Image kept_here = pushImage(ours, "gc/app", "v1", "kept-p", false);
  Image kept_there = pushImage(theirs, "gc/app", "v2", "kept-d", true);
  Image deleted_here = pushImage(ours, "gc/app", "old", "gone-p", true);
  Image deleted_there = pushImage(theirs, "gc/other", "old", "gone-d", false);
  Image shared = pushImage(theirs, "gc/other", "v1", "kept-p", false);  // kept_here's layers
  // Retagged: the first image of "moving" is untagged afterwards.
  Image untagged = pushImage(ours, "gc/moving", "latest", "first", false);
  Image moved = pushImage(theirs, "gc/moving", "latest", "second", true);
  pushBlobTwoStep(ours, "gc/app", "an orphan pushed through portico");
  pushBlobTwoStep(theirs, "gc/other", "an orphan pushed through distribution");
  REQUIRE(deleteManifest(ours, "gc/app", deleted_here).status == 202);
  REQUIRE(deleteManifest(theirs, "gc/other", deleted_there).status == 202);

  const std::string our_config = portico.dir().file("config.yml");
  const std::string their_config = portico.dir().file("distribution.yml");
  for (const std::string flags : {"--dry-run", "--dry-run --delete-untagged"}) {
    INFO(flags);
    std::string our_output = garbageCollect(registryBinary(), flags, our_config);
    std::string their_output = garbageCollect(kDistributionBinary, flags, their_config);
    auto ours_eligible = eligibleBlobs(our_output);
    CHECK(ours_eligible == eligibleBlobs(their_output));
    // The deleted manifests, their own layers and configs, the two orphans (+ with
    // --delete-untagged the untagged image and its blobs).
    CHECK(ours_eligible.count(sha256Digest(deleted_here.manifest)) == 1);
    CHECK(ours_eligible.count(sha256Digest("an orphan pushed through distribution")) == 1);
    CHECK(ours_eligible.count(sha256Digest(kept_here.blobs[1])) == 0);
    const bool untagged_too = flags.find("untagged") != std::string::npos;
    CHECK(ours_eligible.count(sha256Digest(untagged.manifest)) == (untagged_too ? 1u : 0u));
    CHECK(ours_eligible.size() == (untagged_too ? 14u : 10u));
    // The counts line, in distribution's words.
    std::smatch counts;
    REQUIRE(std::regex_search(our_output, counts,
                              std::regex("\n\n[0-9]+ blobs marked, ([0-9]+) blobs and ([0-9]+) "
                                         "manifests eligible for deletion\n")));
    CHECK(counts[1] == std::to_string(ours_eligible.size()));
    CHECK(counts[2] == (untagged_too ? "1" : "0"));
  }
  // Nothing was deleted by the dry runs.
  CHECK(ours.get("/v2/gc/app/blobs/" + sha256Digest(deleted_here.blobs[2])).status == 200);

  garbageCollect(registryBinary(), "--delete-untagged", our_config);
  CHECK(eligibleBlobs(garbageCollect(kDistributionBinary, "--dry-run", their_config)).empty());
  // distribution reads every remaining image, and so does portico.
  for (auto* client : {&theirs, &ours}) {
    checkPull(*client, "gc/app", "v1", kept_here);
    checkPull(*client, "gc/app", "v2", kept_there);
    checkPull(*client, "gc/other", "v1", shared);
    checkPull(*client, "gc/moving", "latest", moved);
    CHECK(client->get("/v2/gc/app/blobs/" + sha256Digest(deleted_here.blobs[2])).status == 404);
  }
}

TEST_CASE("--delete-untagged on an image index: distribution 2.8 breaks it, portico keeps it",
          "[e2e][interop][gc]") {
  RegistryServer portico;
  auto ours = portico.client();
  // Children pushed by digest (untagged), the index by tag: how every multi-arch push looks.
  std::vector<Image> children;
  json manifests = json::array();
  for (const std::string arch : {"amd64", "arm64"}) {
    Image image = ociImage(
        arch, {GeneratedBody::bytes(5000, arch.size() * 7 + arch[0]), "small layer " + arch});
    for (const auto& blob : image.blobs) pushBlobTwoStep(ours, "gc/multi", blob);
    REQUIRE(putManifest(ours, "gc/multi", sha256Digest(image.manifest), image.manifest,
                        image.media_type)
                .status == 201);
    json entry = descriptor(image.media_type, image.manifest);
    entry["platform"] = {{"architecture", arch}, {"os", "linux"}};
    manifests.push_back(entry);
    children.push_back(std::move(image));
  }
  const std::string index =
      json{{"schemaVersion", 2}, {"mediaType", kOciIndexType}, {"manifests", manifests}}.dump();
  REQUIRE(putManifest(ours, "gc/multi", "v1", index, kOciIndexType).status == 201);

  // The same data twice: distribution collects one copy, portico the other.
  const std::string copy = portico.dir().path() + "/root-copy";
  REQUIRE(runCommand("cp -a " + portico.root() + " " + copy).first == 0);
  const std::string their_config = distributionConfig(portico.dir(), "copy.yml", copy);
  std::string their_output = garbageCollect(kDistributionBinary, "--delete-untagged", their_config);
  std::string our_output =
      garbageCollect(registryBinary(), "--delete-untagged", portico.dir().file("config.yml"));
  CHECK(our_output.find("0 blobs and 0 manifests eligible for deletion") != std::string::npos);

  // distribution's damage, seen by distribution itself on its copy: the children's revisions
  // are gone and their layers deleted, so the tagged index no longer pulls.
  DistributionProcess damaged(portico.dir(), copy);
  auto theirs = damaged.client();
  CHECK(theirs.get("/v2/gc/multi/manifests/v1", {{"Accept", kOciIndexType}}).status == 200);
  int broken = 0;
  for (const auto& child : children) {
    broken += theirs
                  .get("/v2/gc/multi/manifests/" + sha256Digest(child.manifest),
                       {{"Accept", child.media_type}})
                  .status != 200;
    broken += theirs.get("/v2/gc/multi/blobs/" + sha256Digest(child.blobs[1])).status != 200;
  }
  CHECK(broken == 4);

  // portico's copy: every child and blob is still served, by portico and by distribution.
  DistributionProcess reader(portico.dir(), portico.root());
  auto distribution_client = reader.client();
  for (auto* client : {&ours, &distribution_client}) {
    CHECK(client->get("/v2/gc/multi/manifests/v1", {{"Accept", kOciIndexType}}).body == index);
    for (const auto& child : children)
      checkPull(*client, "gc/multi", sha256Digest(child.manifest), child);
  }
}
