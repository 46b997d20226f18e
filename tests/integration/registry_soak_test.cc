// The soak (issue 15 §4), run by `./run soak [MINUTES]`, never by `meson test` (the test case is
// hidden: tag [.soak]). portico-proxy with TLS (generated certificates) in front of
// portico-registry, both on loopback ports the kernel picks, temp dirs; CLIENTS clients (64) push
// (monolithic and chunked uploads, manifest PUTs moving tags), pull (manifests by tag and digest,
// blobs checked against their digest), HEAD, list (tags/list, _catalog) and delete through the
// proxy for MINUTES. Meanwhile the registry is stopped (SIGTERM, drain) and started again on the
// same storage root and port every RESTART seconds, and the proxy reloaded with SIGHUP every
// RELOAD seconds (alternating the upstream's read timeout, so the upstream group is rebuilt).
//
// Every request's outcome is recorded. Afterwards: no request lost — each got the answer its
// client's own state predicts (its repository is its own), or a 502/503/504 that the proxy
// reported; a request that got no answer at all, an unexpected status or wrong bytes is lost. Both
// processes exit cleanly (0) and print no sanitizer report. RSS and open file descriptors of
// both are sampled every SAMPLE seconds; the curve is printed, and each is flat when the median
// of the last quarter of the samples is within 10 % (plus 4 MiB / 16 fds) of the second quarter's.
//
// PORTICO_SOAK_SECONDS (default 1800), PORTICO_SOAK_CLIENTS (64), PORTICO_SOAK_RESTART_SECONDS
// (150), PORTICO_SOAK_RELOAD_SECONDS (45), PORTICO_SOAK_SAMPLE_SECONDS (5);
// PORTICO_REGISTRY_BIN and PORTICO_PROXY_BIN name the binaries (the sanitizer build's too).

#include <dirent.h>
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "tests/integration/proxy_harness.h"
#include "tests/integration/registry_harness.h"

using namespace portico::testing;
using Clock = std::chrono::steady_clock;

namespace {

std::atomic<bool> g_stop{false};  // SIGINT/SIGTERM: the clients end early

size_t envNumber(const char* name, size_t fallback) {
  const char* value = std::getenv(name);
  return value != nullptr && *value != '\0' ? std::stoull(value) : fallback;
}

constexpr const char* kOciManifest = "application/vnd.oci.image.manifest.v1+json";

// Outcomes per operation kind.
struct Tally {
  std::map<std::string, std::map<std::string, size_t>> by_op;  // op -> outcome -> count
  std::vector<std::string> lost;                               // first few, with detail
  size_t lost_count = 0;
  size_t requests = 0;
};

class Recorder {
 public:
  void record(const std::string& op, const std::string& outcome, const std::string& detail = {}) {
    std::lock_guard lock(mutex_);
    ++tally_.requests;
    ++tally_.by_op[op][outcome];
    if (outcome == "LOST") {
      ++tally_.lost_count;
      if (tally_.lost.size() < 40) tally_.lost.push_back(op + ": " + detail);
    }
  }
  Tally snapshot() {
    std::lock_guard lock(mutex_);
    return tally_;
  }

 private:
  std::mutex mutex_;
  Tally tally_;
};

// Thrown when the proxy reported a gateway error: the operation stops, its effect is unknown.
struct GatewayError {};
// Thrown after a lost request was recorded.
struct Lost {};

enum class State { Present, Deleted, Uncertain };

struct Image {
  std::string digest;
  std::string bytes;
  std::vector<std::pair<std::string, std::string>> blobs;  // digest, content
  State state = State::Present;
};

class SoakClient {
 public:
  SoakClient(Recorder& recorder, const Endpoint& proxy, size_t index, uint64_t seed,
             Clock::time_point deadline)
      : recorder_(recorder),
        endpoint_(proxy),
        repo_("soak/c" + std::to_string(index)),
        rng_(seed),
        seed_(seed),
        deadline_(deadline) {}

  void run() {
    // Bounded by the deadline, and by a count in case every request failed at once.
    for (size_t i = 0; i < 10'000'000 && Clock::now() < deadline_ && !g_stop; ++i) {
      try {
        unsigned pick = rng_() % 20;
        if (pick < 5 || images_.empty()) {
          push();
        } else if (pick < 10) {
          pull();
        } else if (pick < 13) {
          head();
        } else if (pick < 16) {
          listTags();
        } else if (pick < 17) {
          catalog();
        } else {
          removeImage();
        }
      } catch (const GatewayError&) {
        http_.reset();
      } catch (const Lost&) {
        http_.reset();
      }
    }
  }

 private:
  HttpClient& http() {
    if (!http_) {
      http_ = std::make_unique<HttpClient>(endpoint_, trustingTestCa());
      http_->setTimeout(std::chrono::seconds(60));
    }
    return *http_;
  }

  // One request; classifies transport failures and gateway errors. `expected` lists the
  // statuses the client's state predicts.
  Response call(const std::string& op, std::string_view method, const std::string& target,
                std::initializer_list<int> expected, const Headers& headers = {},
                std::string_view body = {}, bool discard_body = false) {
    Response r;
    try {
      r = discard_body ? http().requestDiscardingBody(method, target, headers)
                       : http().request(method, target, headers, body);
    } catch (const std::exception& e) {
      recorder_.record(op, "LOST", std::string(method) + " " + target + ": no answer: " + e.what());
      throw Lost{};
    }
    if (r.status == 502 || r.status == 503 || r.status == 504) {
      recorder_.record(op, std::to_string(r.status));
      throw GatewayError{};
    }
    if (std::find(expected.begin(), expected.end(), r.status) == expected.end()) {
      recorder_.record(op, "LOST",
                       std::string(method) + " " + target + ": " + std::to_string(r.status) + " " +
                           r.body.substr(0, 200));
      throw Lost{};
    }
    recorder_.record(op, std::to_string(r.status));
    return r;
  }

  void wrong(const std::string& op, const std::string& detail) {
    recorder_.record(op + " (bytes)", "LOST", detail);
    throw Lost{};
  }

  std::string pushBlob(const std::string& data) {
    std::string digest = sha256Digest(data);
    std::string uploads = "/v2/" + repo_ + "/blobs/uploads/";
    Headers octet{{"Content-Type", "application/octet-stream"}};
    if (rng_() % 2 == 0) {
      call("blob POST monolithic", "POST", uploads + "?digest=" + digest, {201}, octet, data);
      return digest;
    }
    Response started = call("blob POST", "POST", uploads, {202});
    std::string path = locationPath(started);
    size_t half = data.size() / 2;
    Headers h = octet;
    h.add("Content-Range", "0-" + std::to_string(half - 1));
    Response patched = call("blob PATCH", "PATCH", path, {202}, h, data.substr(0, half));
    path = locationPath(patched);
    std::string sep = path.find('?') == std::string::npos ? "?" : "&";
    call("blob PUT", "PUT", path + sep + "digest=" + digest, {201}, octet, data.substr(half));
    return digest;
  }

  void push() {
    Image image;
    std::string config =
        "{\"architecture\":\"amd64\",\"os\":\"linux\",\"seed\":" + std::to_string(seed_) +
        ",\"n\":" + std::to_string(++counter_) + "}";
    pushBlob(config);
    image.blobs.emplace_back(sha256Digest(config), config);
    // Small layers: the soak is about requests, and nothing collects the blobs it leaves
    // (layers up to 256 KiB filled 23 GB of $TMPDIR in 30 minutes).
    std::string layer = GeneratedBody::bytes(2 + rng_() % (16 * 1024), seed_ * 7919 + counter_);
    pushBlob(layer);
    image.blobs.emplace_back(sha256Digest(layer), layer);
    nlohmann::json manifest = {{"schemaVersion", 2}, {"mediaType", kOciManifest}};
    manifest["config"] = descriptor("application/vnd.oci.image.config.v1+json", config);
    manifest["layers"] = {descriptor("application/vnd.oci.image.layer.v1.tar+gzip", layer)};
    image.bytes = manifest.dump();
    image.digest = sha256Digest(image.bytes);
    std::string tag = "t" + std::to_string(rng_() % 3);
    images_.push_back(image);
    size_t index = images_.size() - 1;
    images_[index].state = State::Uncertain;
    auto previous = tags_.find(tag);
    uncertain_tags_.insert(tag);
    call("manifest PUT", "PUT", "/v2/" + repo_ + "/manifests/" + tag, {201},
         {{"Content-Type", kOciManifest}}, image.bytes);
    images_[index].state = State::Present;
    uncertain_tags_.erase(tag);
    (void)previous;
    tags_[tag] = index;
  }

  size_t pickImage() { return rng_() % images_.size(); }

  void pull() {
    size_t index = pickImage();
    Image& image = images_[index];
    if (image.state == State::Uncertain) return;
    bool present = image.state == State::Present;
    Response m = call("manifest GET", "GET", "/v2/" + repo_ + "/manifests/" + image.digest,
                      {present ? 200 : 404}, {{"Accept", kOciManifest}});
    if (present && m.body != image.bytes) wrong("manifest GET", image.digest);
    // Blobs stay after a manifest delete (until garbage collection): always there.
    const auto& [digest, content] = image.blobs[rng_() % image.blobs.size()];
    Response b = call("blob GET", "GET", "/v2/" + repo_ + "/blobs/" + digest, {200}, {}, {}, true);
    if (b.bodyDigest() != digest || b.body_size != content.size()) wrong("blob GET", digest);
    // By tag: the tag's image, unless a PUT of that tag got a gateway error.
    std::vector<std::string> names;
    for (const auto& [tag, i] : tags_) {
      if (uncertain_tags_.count(tag) == 0) names.push_back(tag);
    }
    if (names.empty()) return;
    const std::string& tag = names[rng_() % names.size()];
    const Image& tagged = images_[tags_[tag]];
    Response t = call("manifest GET tag", "GET", "/v2/" + repo_ + "/manifests/" + tag, {200},
                      {{"Accept", kOciManifest}});
    if (t.body != tagged.bytes) wrong("manifest GET tag", tag);
  }

  void head() {
    const Image& image = images_[pickImage()];
    if (image.state == State::Uncertain) return;
    call("manifest HEAD", "HEAD", "/v2/" + repo_ + "/manifests/" + image.digest,
         {image.state == State::Present ? 200 : 404}, {{"Accept", kOciManifest}});
    call("blob HEAD", "HEAD", "/v2/" + repo_ + "/blobs/" + image.blobs.back().first, {200});
  }

  void listTags() {
    Response r = call("tags/list", "GET", "/v2/" + repo_ + "/tags/list", {200});
    auto body = nlohmann::json::parse(r.body, nullptr, false);
    if (body.is_discarded() || !body["tags"].is_array()) wrong("tags/list", r.body);
    std::set<std::string> listed;
    for (const auto& t : body["tags"]) listed.insert(t.get<std::string>());
    for (const auto& [tag, i] : tags_) {
      if (uncertain_tags_.count(tag) == 0 && images_[i].state == State::Present &&
          listed.count(tag) == 0) {
        wrong("tags/list", tag + " missing from " + r.body);
      }
    }
  }

  void catalog() { call("_catalog", "GET", "/v2/_catalog?n=100", {200}); }

  // Deletes an image no tag names (a delete by digest removes the tags that name it).
  void removeImage() {
    std::vector<size_t> candidates;
    std::set<size_t> tagged;
    for (const auto& [tag, i] : tags_) tagged.insert(i);
    for (size_t i = 0; i < images_.size(); ++i) {
      if (images_[i].state == State::Present && tagged.count(i) == 0) candidates.push_back(i);
    }
    if (candidates.empty()) return push();
    Image& image = images_[candidates[rng_() % candidates.size()]];
    image.state = State::Uncertain;
    call("manifest DELETE", "DELETE", "/v2/" + repo_ + "/manifests/" + image.digest, {202});
    image.state = State::Deleted;
  }

  Recorder& recorder_;
  Endpoint endpoint_;
  std::string repo_;
  std::mt19937_64 rng_;
  uint64_t seed_;
  Clock::time_point deadline_;
  uint64_t counter_ = 0;
  std::unique_ptr<HttpClient> http_;
  std::vector<Image> images_;
  std::map<std::string, size_t> tags_;  // the last acknowledged PUT of each tag
  std::set<std::string> uncertain_tags_;
};

long rssKiB(pid_t pid) {
  std::string status = readFile("/proc/" + std::to_string(pid) + "/status");
  size_t at = status.find("VmRSS:");
  return at == std::string::npos ? 0 : std::stol(status.substr(at + 6));
}

long openFds(pid_t pid) {
  std::string dir = "/proc/" + std::to_string(pid) + "/fd";
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return 0;
  long n = 0;
  while (dirent* e = ::readdir(d)) {
    if (e->d_name[0] != '.') ++n;
  }
  ::closedir(d);
  return n;
}

struct Sample {
  double seconds;
  long proxy_rss, proxy_fds, registry_rss, registry_fds;
  size_t requests;
};

long median(std::vector<long> v) {
  if (v.empty()) return 0;
  std::nth_element(v.begin(), v.begin() + static_cast<long>(v.size() / 2), v.end());
  return v[v.size() / 2];
}

// Flat: median of the last quarter within 10 % (+ slack) of the second quarter's.
bool flat(const std::vector<Sample>& samples, long Sample::*field, long slack, std::string& text) {
  size_t q = samples.size() / 4;
  if (q == 0) {
    text = "too few samples";
    return true;
  }
  std::vector<long> second, last;
  for (size_t i = q; i < 2 * q; ++i) second.push_back(samples[i].*field);
  for (size_t i = samples.size() - q; i < samples.size(); ++i) last.push_back(samples[i].*field);
  long a = median(second), b = median(last);
  bool ok = b <= a + a / 10 + slack;
  text = std::to_string(a) + " -> " + std::to_string(b) + (ok ? " flat" : " NOT FLAT");
  return ok;
}

bool sanitizerReport(const std::string& output) {
  return output.find("Sanitizer") != std::string::npos ||
         output.find("runtime error:") != std::string::npos;
}

}  // namespace

TEST_CASE("soak: 64 clients through the TLS proxy, registry restarts, proxy reloads", "[.soak]") {
  const size_t seconds = envNumber("PORTICO_SOAK_SECONDS", 1800);
  const size_t clients = envNumber("PORTICO_SOAK_CLIENTS", 64);
  const auto restart_every = std::chrono::seconds(envNumber("PORTICO_SOAK_RESTART_SECONDS", 150));
  const auto reload_every = std::chrono::seconds(envNumber("PORTICO_SOAK_RELOAD_SECONDS", 45));
  const auto sample_every = std::chrono::seconds(envNumber("PORTICO_SOAK_SAMPLE_SECONDS", 5));
  std::fprintf(stderr,
               "soak: %zu s, %zu clients, registry restart every %lld s, SIGHUP every %lld s\n",
               seconds, clients, static_cast<long long>(restart_every.count()),
               static_cast<long long>(reload_every.count()));

  TempDir dir("portico-soak");
  std::string root = dir.mkdir("root");
  auto registryConfig = [&](uint16_t port) {
    return dir.write("registry.yml",
                     "version: 0.1\nlog:\n  level: info\n  accesslog:\n    disabled: true\n"
                     "storage:\n  filesystem:\n    rootdirectory: " +
                         root +
                         "\n  delete:\n    enabled: true\n"
                         "  maintenance:\n    uploadpurging:\n      enabled: false\n"
                         "http:\n  addr: 127.0.0.1:" +
                         std::to_string(port) + "\n  draintimeout: 30s\n");
  };
  std::vector<std::string> failures;
  std::optional<ServerProcess> registry;
  registry.emplace(ServerProcess::start(registryBinary(), {"serve", registryConfig(0)}));
  uint16_t registry_port = registry->port();

  ProxySetup setup;
  setup.tls = true;
  setup.v2 = {"127.0.0.1:" + std::to_string(registry_port)};
  setup.workers = 2;
  RunningProxy proxy;
  startProxy(proxy, setup);
  Endpoint endpoint = proxy->endpoint();

  Recorder recorder;
  Interrupts interrupts;  // before the client threads: they inherit the blocked signals
  g_stop = false;
  const auto start = Clock::now();
  const auto deadline = start + std::chrono::seconds(seconds);
  std::vector<std::unique_ptr<SoakClient>> workers;
  std::mt19937_64 rng(std::random_device{}());
  for (size_t c = 0; c < clients; ++c) {
    workers.push_back(std::make_unique<SoakClient>(recorder, endpoint, c, rng(), deadline));
  }
  std::vector<std::thread> threads;
  for (auto& w : workers) threads.emplace_back([w = w.get()] { w->run(); });

  std::vector<Sample> samples;
  size_t restarts = 0, reloads = 0;
  auto next_sample = start;
  auto next_restart = start + restart_every;
  auto next_reload = start + reload_every;
  std::string registry_outputs;
  for (size_t tick = 0; tick < 1'000'000 && Clock::now() < deadline; ++tick) {
    auto now = Clock::now();
    if (now >= next_sample) {
      samples.push_back({std::chrono::duration<double>(now - start).count(), rssKiB(proxy->pid()),
                         openFds(proxy->pid()), rssKiB(registry->pid()), openFds(registry->pid()),
                         recorder.snapshot().requests});
      next_sample += sample_every;
    }
    if (now >= next_restart) {
      // Drain and stop, then a new process on the same root and port.
      int status = registry->stop(std::chrono::seconds(60));
      registry_outputs += registry->output();
      if (status != 0) failures.push_back("registry exit status " + std::to_string(status));
      registry.reset();
      try {
        registry.emplace(
            ServerProcess::start(registryBinary(), {"serve", registryConfig(registry_port)}));
      } catch (const std::exception& e) {
        // The port was taken meanwhile: any port, and the proxy follows by reload.
        registry.emplace(ServerProcess::start(registryBinary(), {"serve", registryConfig(0)}));
        registry_port = registry->port();
        setup.v2 = {"127.0.0.1:" + std::to_string(registry_port)};
        next_reload = now;
      }
      ++restarts;
      next_restart += restart_every;
    }
    if (now >= next_reload) {
      setup.v2_extra = reloads % 2 == 0 ? "timeouts: {read: 61s}" : "timeouts: {read: 60s}";
      proxy.dir.write("proxy.yml", proxyYaml(setup));
      size_t from = proxy->output().size();
      proxy->signal(SIGHUP);
      if (!proxy->waitForOutput("reloaded", std::chrono::seconds(30), from)) {
        failures.push_back("the proxy did not report a reload: " + proxy->output().substr(from));
      }
      ++reloads;
      next_reload += reload_every;
    }
    auto wake = std::min({next_sample, next_restart, next_reload, deadline});
    // A schedule, not synchronisation; Ctrl-C ends the run here, cleanly.
    if (interrupts.wait(std::chrono::duration_cast<std::chrono::milliseconds>(
            std::max(wake - Clock::now(), Clock::duration::zero())))) {
      g_stop = true;
      failures.push_back("interrupted (SIGINT/SIGTERM)");
      break;
    }
  }
  for (auto& t : threads) t.join();
  samples.push_back({std::chrono::duration<double>(Clock::now() - start).count(),
                     rssKiB(proxy->pid()), openFds(proxy->pid()), rssKiB(registry->pid()),
                     openFds(registry->pid()), recorder.snapshot().requests});

  int registry_status = registry->stop(std::chrono::seconds(60));
  registry_outputs += registry->output();
  int proxy_status = proxy->stop(std::chrono::seconds(60));
  if (registry_status != 0) failures.push_back("registry exit " + std::to_string(registry_status));
  if (proxy_status != 0) failures.push_back("proxy exit " + std::to_string(proxy_status));
  if (sanitizerReport(registry_outputs)) failures.push_back("registry: sanitizer report");
  if (sanitizerReport(proxy->output())) failures.push_back("proxy: sanitizer report");

  // The report.
  Tally tally = recorder.snapshot();
  std::fprintf(stderr, "\n%-22s %s\n", "operation", "outcomes");
  for (const auto& [op, outcomes] : tally.by_op) {
    std::string line;
    for (const auto& [outcome, n] : outcomes) line += " " + outcome + ":" + std::to_string(n);
    std::fprintf(stderr, "%-22s%s\n", op.c_str(), line.c_str());
  }
  std::fprintf(stderr, "requests %zu, lost %zu, registry restarts %zu, proxy reloads %zu\n",
               tally.requests, tally.lost_count, restarts, reloads);
  std::fprintf(stderr, "\n%8s %10s %6s %10s %6s %9s\n", "t (s)", "proxy KiB", "fds", "reg. KiB",
               "fds", "requests");
  size_t step = std::max<size_t>(1, samples.size() / 30);  // about 30 rows
  for (size_t i = 0; i < samples.size(); i += step) {
    const Sample& s = samples[i];
    std::fprintf(stderr, "%8.0f %10ld %6ld %10ld %6ld %9zu\n", s.seconds, s.proxy_rss, s.proxy_fds,
                 s.registry_rss, s.registry_fds, s.requests);
  }
  std::string text;
  std::fprintf(stderr, "rule: median of the last quarter <= second quarter's + 10%% + slack\n");
  bool proxy_rss_flat = flat(samples, &Sample::proxy_rss, 4096, text);
  std::fprintf(stderr, "proxy RSS KiB     %s\n", text.c_str());
  bool proxy_fds_flat = flat(samples, &Sample::proxy_fds, 16, text);
  std::fprintf(stderr, "proxy fds         %s\n", text.c_str());
  bool registry_rss_flat = flat(samples, &Sample::registry_rss, 4096, text);
  std::fprintf(stderr, "registry RSS KiB  %s\n", text.c_str());
  bool registry_fds_flat = flat(samples, &Sample::registry_fds, 16, text);
  std::fprintf(stderr, "registry fds      %s\n", text.c_str());
  for (const auto& lost : tally.lost) std::fprintf(stderr, "lost: %s\n", lost.c_str());
  for (const auto& f : failures) std::fprintf(stderr, "failure: %s\n", f.c_str());

  CHECK(tally.lost_count == 0);
  CHECK(failures.empty());
  CHECK(proxy_rss_flat);
  CHECK(proxy_fds_flat);
  CHECK(registry_rss_flat);
  CHECK(registry_fds_flat);
}
