#pragma once
// Shared by the registry integration tests: a temp storage root, a config.yml listening on
// 127.0.0.1:0, the real portico-registry binary ($PORTICO_REGISTRY_BIN), and small helpers to
// push blobs and manifests over HTTP with the fixtures' independent client.

#include <pthread.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "tests/fixtures/fixtures.h"

namespace portico::testing {

inline std::string registryBinary() {
  const char* path = std::getenv("PORTICO_REGISTRY_BIN");
  if (path == nullptr) throw std::runtime_error("PORTICO_REGISTRY_BIN is not set");
  return path;
}

inline std::string sha256Digest(std::string_view data) {
  return "sha256:" + Sha256::hex(data);
}

struct RegistrySetup {
  bool delete_enabled = true;
  bool access_log = true;  // false: log.accesslog.disabled (for floods of requests)
  std::string extra;       // more YAML appended at the top level
  std::string storage;     // more YAML under `storage:` (indented by two spaces)
  ServerProcess::Env env;
  // When set, the storage root is a tmpfs of this many bytes, mounted in a mount namespace of
  // the registry's own (`unshare --mount`; `--user --map-root-user` too when not root), so a
  // test can fill the volume. The test reaches that volume only through the registry, or
  // through /proc/<pid>/root (volumeFreeBytes). restart() starts on a new, empty volume.
  std::optional<uint64_t> tmpfs_bytes;
  // When set, this storage root instead of a new one (two registries on one root).
  std::string shared_root;
};

// One registry process over a storage root that outlives restarts of the process.
class RegistryServer {
 public:
  explicit RegistryServer(RegistrySetup setup = {})
      : setup_(std::move(setup)),
        root_(setup_.shared_root.empty() ? dir_.mkdir("root") : setup_.shared_root) {
    start();
  }

  void start() {
    std::string yaml = "version: 0.1\nlog:\n  level: info\n";
    if (!setup_.access_log) yaml += "  accesslog:\n    disabled: true\n";
    yaml += "storage:\n  filesystem:\n";
    yaml += "    rootdirectory: " + root_ + "\n";
    yaml +=
        "  delete:\n    enabled: " + std::string(setup_.delete_enabled ? "true" : "false") + "\n";
    yaml += "  maintenance:\n    uploadpurging:\n      enabled: false\n";
    yaml += setup_.storage;
    yaml += "http:\n  addr: 127.0.0.1:0\n";
    yaml += setup_.extra;
    config_ = dir_.write("config.yml", yaml);
    if (!setup_.tmpfs_bytes) {
      process_.emplace(ServerProcess::start(registryBinary(), {"serve", config_}, setup_.env));
      return;
    }
    std::vector<std::string> args;
    if (::geteuid() != 0) args = {"--user", "--map-root-user"};
    args.insert(args.end(),
                {"--mount", "--", "sh", "-c",
                 "mount -t tmpfs -o size=\"$3\" tmpfs \"$0\" && exec \"$1\" serve \"$2\"", root_,
                 registryBinary(), config_, std::to_string(*setup_.tmpfs_bytes)});
    process_.emplace(ServerProcess::start("/usr/bin/unshare", args, setup_.env));
  }
  // Free bytes on the tmpfs volume (tmpfs_bytes), seen through the registry's mount namespace.
  uint64_t volumeFreeBytes() const {
    struct statvfs st {};
    std::string path = "/proc/" + std::to_string(process_->pid()) + "/root" + root_;
    if (::statvfs(path.c_str(), &st) != 0) throw std::runtime_error("statvfs " + path);
    return static_cast<uint64_t>(st.f_bavail) * st.f_frsize;
  }
  // SIGKILL and restart on the same storage (port changes).
  void restart() {
    process_.reset();
    start();
  }

  ServerProcess& process() { return *process_; }
  HttpClient client() { return HttpClient(process_->endpoint()); }
  const std::string& root() const { return root_; }
  const TempDir& dir() const { return dir_; }
  std::string hostPort() const {
    return process_->endpoint().host + ":" + std::to_string(process_->endpoint().port);
  }

 private:
  RegistrySetup setup_;
  TempDir dir_{"portico-registry-test"};
  std::string root_;
  std::string config_;
  std::optional<ServerProcess> process_;
};

// SIGINT/SIGTERM for the long runs (./run crash, ./run soak): blocked in this thread and in the
// threads it starts afterwards, and taken synchronously with wait(), so Ctrl-C ends the run
// through the destructors that stop every server. (ServerProcess starts servers with an empty
// signal mask; they sit in their own process groups, which a terminal's Ctrl-C does not reach.)
class Interrupts {
 public:
  Interrupts() {
    sigemptyset(&set_);
    sigaddset(&set_, SIGINT);
    sigaddset(&set_, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set_, &old_);
  }
  ~Interrupts() { pthread_sigmask(SIG_SETMASK, &old_, nullptr); }
  Interrupts(const Interrupts&) = delete;
  Interrupts& operator=(const Interrupts&) = delete;
  // Waits up to `timeout` for SIGINT or SIGTERM; true once one came (and from then on).
  bool wait(std::chrono::milliseconds timeout) {
    if (caught_) return true;
    timespec ts{static_cast<time_t>(timeout.count() / 1000),
                static_cast<long>(timeout.count() % 1000) * 1'000'000};
    if (sigtimedwait(&set_, nullptr, &ts) > 0) caught_ = true;
    return caught_;
  }
  bool caught() { return wait(std::chrono::milliseconds(0)); }

 private:
  sigset_t set_{};
  sigset_t old_{};
  bool caught_ = false;
};

// The first JSON error code of an error response body.
inline std::string errorCode(const Response& response) {
  auto body = nlohmann::json::parse(response.body, nullptr, false);
  if (body.is_discarded() || !body.contains("errors") || body["errors"].empty()) return "";
  return body["errors"][0].value("code", "");
}

// The path part of a Location header (absolute or relative).
inline std::string locationPath(const Response& response) {
  std::string location = response.headers.get("Location");
  size_t scheme = location.find("://");
  if (scheme == std::string::npos) return location;
  size_t slash = location.find('/', scheme + 3);
  return slash == std::string::npos ? "/" : location.substr(slash);
}

// Monolithic upload; returns the digest (throws unless 201).
inline std::string pushBlob(HttpClient& client, const std::string& repo,
                            const std::string& content) {
  std::string digest = sha256Digest(content);
  auto r = client.request("POST", "/v2/" + repo + "/blobs/uploads/?digest=" + digest,
                          {{"Content-Type", "application/octet-stream"}}, content);
  if (r.status != 201) throw std::runtime_error("push blob: " + std::to_string(r.status) + r.body);
  return digest;
}

inline nlohmann::json descriptor(const std::string& media_type, const std::string& content) {
  return {{"mediaType", media_type}, {"digest", sha256Digest(content)}, {"size", content.size()}};
}

// Pushes config + layers and returns the manifest JSON (not yet pushed).
inline nlohmann::json imageManifest(HttpClient& client, const std::string& repo,
                                    const std::vector<std::string>& layers, bool docker = false,
                                    const std::string& config_content = "") {
  std::string config = config_content.empty()
                           ? std::string("{\"architecture\":\"amd64\",\"os\":\"linux\",\"n\":") +
                                 std::to_string(layers.size()) + "}"
                           : config_content;
  pushBlob(client, repo, config);
  nlohmann::json manifest = {{"schemaVersion", 2}};
  manifest["mediaType"] = docker ? "application/vnd.docker.distribution.manifest.v2+json"
                                 : "application/vnd.oci.image.manifest.v1+json";
  manifest["config"] = descriptor(docker ? "application/vnd.docker.container.image.v1+json"
                                         : "application/vnd.oci.image.config.v1+json",
                                  config);
  manifest["layers"] = nlohmann::json::array();
  for (const auto& layer : layers) {
    pushBlob(client, repo, layer);
    manifest["layers"].push_back(
        descriptor(docker ? "application/vnd.docker.image.rootfs.diff.tar.gzip"
                          : "application/vnd.oci.image.layer.v1.tar+gzip",
                   layer));
  }
  return manifest;
}

// PUT a manifest; returns the response.
inline Response putManifest(HttpClient& client, const std::string& repo,
                            const std::string& reference, const std::string& bytes,
                            const std::string& media_type) {
  return client.request("PUT", "/v2/" + repo + "/manifests/" + reference,
                        {{"Content-Type", media_type}}, bytes);
}

// Runs `command` (via sh) and returns {exit status, combined output}.
inline std::pair<int, std::string> runCommand(const std::string& command) {
  std::string output;
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) throw std::runtime_error("popen failed");
  char buffer[4096];
  size_t n;
  while ((n = fread(buffer, 1, sizeof buffer, pipe)) > 0) output.append(buffer, n);
  int status = pclose(pipe);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status), output};
}

// Every regular file below `dir` (recursive), as paths relative to it.
inline std::vector<std::string> filesBelow(const std::string& dir) {
  std::vector<std::string> out;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir)) {
    if (entry.is_regular_file()) {
      out.push_back(std::filesystem::relative(entry.path(), dir).string());
    }
  }
  return out;
}

}  // namespace portico::testing
