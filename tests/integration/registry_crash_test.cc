// Crash consistency (issue 15 §4): SIGKILL of portico-registry while many clients push (blob
// uploads monolithic and chunked, manifest PUTs, tag moves, deletes), then a restart on the same
// storage root and a check of everything the clients were told:
//   - every acknowledged blob and manifest pulls back byte-identical (manifests by digest and by
//     tag), every acknowledged delete stays deleted; a tag names its last acknowledged manifest
//     or one whose PUT was in flight;
//   - every blobs/sha256/xx/<hex>/data under the root hashes to <hex>;
//   - every upload the client had a Location for and did not complete either resumes at its
//     Range (which lies between the bytes acknowledged and the bytes sent) and commits, or — only
//     if its final PUT was in flight — is 404 BLOB_UPLOAD_UNKNOWN.
// The kill comes when the clients together have had a random number of responses, so it lands
// at random points of their request sequences. State accumulates over the rounds: each round
// checks everything acknowledged since the first.
//
// PORTICO_CRASH_ROUNDS (default 3), PORTICO_CRASH_CLIENTS (default 50), PORTICO_CRASH_SEED
// (default: random, printed) size the run; `./run crash [ROUNDS]` runs 20 x 200. A table per
// round goes to stderr.

#include <sys/stat.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "tests/integration/registry_harness.h"

using namespace portico::testing;

namespace {

size_t envNumber(const char* name, size_t fallback) {
  const char* value = std::getenv(name);
  return value != nullptr && *value != '\0' ? std::stoull(value) : fallback;
}

// Deterministic content for (seed, size): unique per client, round and operation.
std::string content(uint64_t seed, size_t size) {
  return GeneratedBody::bytes(size, seed);
}

enum class State { Present, Deleted, Uncertain };  // Uncertain: a delete was in flight

struct BlobRecord {
  std::string repo;
  std::string digest;
  uint64_t size = 0;
  State state = State::Present;
  std::string how;  // how it was pushed (in failure messages)
};

struct ManifestRecord {
  std::string repo;
  std::string digest;
  std::string bytes;
  State state = State::Present;
};

struct TagRecord {
  std::string repo;
  std::optional<std::string> acked;  // the digest of the last acknowledged PUT
  std::set<std::string> pending;     // PUTs sent since, not acknowledged
};

// An upload the client had a Location for and did not see completed.
struct OpenUpload {
  std::string repo;
  std::string path;     // the Location's path
  std::string content;  // the whole blob
  uint64_t acked = 0;   // bytes the registry acknowledged (202 Range)
  uint64_t sent = 0;    // bytes written to a request that got no answer (>= acked)
  bool commit_in_flight = false;
};

struct RoundFigures {
  size_t requests_acked = 0;
  size_t pushes_acked = 0;  // manifests acknowledged (each an image push)
  size_t blobs_acked = 0;
  size_t deletes_acked = 0;
  size_t tag_moves = 0;
  size_t checked_blobs = 0, checked_manifests = 0, checked_tags = 0, data_files = 0;
  size_t resumed = 0, unknown = 0, temp_files = 0;
};

// Everything the clients were told, across rounds.
class Ledger {
 public:
  std::mutex mutex;
  std::vector<BlobRecord> blobs;
  std::vector<ManifestRecord> manifests;
  std::map<std::string, TagRecord> tags;  // key repo:tag
  std::vector<OpenUpload> open_uploads;   // of the round just killed

  size_t addBlob(BlobRecord record) {
    std::lock_guard lock(mutex);
    blobs.push_back(std::move(record));
    return blobs.size() - 1;
  }
  size_t addManifest(ManifestRecord record) {
    std::lock_guard lock(mutex);
    manifests.push_back(std::move(record));
    return manifests.size() - 1;
  }
};

// Counts responses; the round's killer waits for a target.
class Progress {
 public:
  void acked() {
    std::lock_guard lock(mutex_);
    ++count_;
    changed_.notify_all();
  }
  void clientDone() {
    std::lock_guard lock(mutex_);
    ++done_;
    changed_.notify_all();
  }
  // True when `target` responses came; false when every client stopped first or time ran out.
  bool waitFor(size_t target, size_t clients, std::chrono::seconds limit) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, limit, [&] { return count_ >= target || done_ >= clients; }) &&
           count_ >= target;
  }
  size_t count() {
    std::lock_guard lock(mutex_);
    return count_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  size_t count_ = 0;
  size_t done_ = 0;
};

constexpr const char* kOciManifest = "application/vnd.oci.image.manifest.v1+json";
constexpr int kRepos = 8;
constexpr size_t kMaxOpsPerClient = 400;  // bounds a round whose kill never comes

// One client's push loop (its own connection, repository and tag). Stops at the first
// transport failure (the registry died); anything unacknowledged is left in the ledger.
class Client {
 public:
  Client(Ledger& ledger, Progress& progress, RoundFigures& figures, std::mutex& figures_mutex,
         const Endpoint& endpoint, uint64_t seed, size_t index, size_t round)
      : ledger_(ledger),
        progress_(progress),
        figures_(figures),
        figures_mutex_(figures_mutex),
        http_(endpoint),
        rng_(seed),
        seed_base_(seed),
        repo_("crash/r" + std::to_string(index % kRepos)),
        tag_("c" + std::to_string(index)),
        round_(round) {}

  void run() {
    try {
      for (size_t op = 0; op < kMaxOpsPerClient; ++op) {
        unsigned pick = rng_() % 10;
        if (pick < 7) {
          pushImage();
        } else if (pick < 9) {
          deleteManifest();
        } else {
          pushAndDeleteBlob();
        }
      }
    } catch (const std::exception&) {
      // The registry went away mid-request: what was unacknowledged is in the ledger.
    }
    if (upload_) {
      std::lock_guard lock(ledger_.mutex);
      ledger_.open_uploads.push_back(*upload_);
    }
  }

 private:
  std::string nextContent(size_t size) { return content(seed_base_ * 1000003 + ++counter_, size); }

  size_t blobSize() {
    // Mostly small, some up to 768 KiB so that bodies are cut mid-way.
    switch (rng_() % 4) {
      case 0:
        return 1 + rng_() % 2048;
      case 1:
        return 1024 + rng_() % (64 * 1024);
      default:
        return 64 * 1024 + rng_() % (704 * 1024);
    }
  }

  Response send(std::string_view method, const std::string& target, const Headers& headers = {},
                std::string_view body = {}) {
    Response r = http_.request(method, target, headers, body);
    progress_.acked();
    return r;
  }

  void expect(const Response& r, int status, const std::string& what) {
    if (r.status != status) {
      failures_.push_back(what + ": " + std::to_string(r.status) + " " + r.body);
      throw std::runtime_error(failures_.back());
    }
  }

  void countFigure(size_t RoundFigures::*field) {
    std::lock_guard lock(figures_mutex_);
    ++(figures_.*field);
  }

  // Pushes one blob by one of four methods; returns once it is acknowledged.
  void pushBlob(const std::string& data) {
    std::string digest = sha256Digest(data);
    std::string uploads = "/v2/" + repo_ + "/blobs/uploads/";
    Headers octet{{"Content-Type", "application/octet-stream"}};
    std::string how = "monolithic POST";
    switch (rng_() % 4) {
      case 0: {  // monolithic POST ?digest=
        expect(send("POST", uploads + "?digest=" + digest, octet, data), 201, "monolithic POST");
        break;
      }
      default: {  // POST, then PATCH chunks, then PUT (with the last chunk, or without a body)
        unsigned style = rng_() % 3;  // 0: one PUT with everything, 1: PATCHes + empty PUT,
                                      // 2: PATCHes + PUT with the last chunk
        Response started = send("POST", uploads);
        expect(started, 202, "POST upload");
        upload_ = OpenUpload{repo_, locationPath(started), data, 0, 0, false};
        how = std::array{"POST+PUT", "POST+PATCH+PUT", "POST+PATCH+PUT(last chunk)"}[style];
        size_t chunk = 16 * 1024 + rng_() % (256 * 1024);
        size_t offset = 0;
        size_t keep = style == 2 ? std::min(data.size(), chunk) : 0;
        if (style != 0) {
          while (offset + keep < data.size()) {
            size_t n = std::min(chunk, data.size() - keep - offset);
            upload_->sent = offset + n;
            Headers h = octet;
            h.add("Content-Range", std::to_string(offset) + "-" + std::to_string(offset + n - 1));
            Response r = send("PATCH", upload_->path, h, std::string_view(data).substr(offset, n));
            expect(r, 202, "PATCH");
            upload_->path = locationPath(r);
            offset += n;
            upload_->acked = offset;
          }
        }
        std::string_view last = std::string_view(data).substr(offset);
        upload_->sent = data.size();
        upload_->commit_in_flight = true;
        std::string sep = upload_->path.find('?') == std::string::npos ? "?" : "&";
        expect(send("PUT", upload_->path + sep + "digest=" + digest, octet, last), 201,
               "PUT commit");
        upload_.reset();
        break;
      }
    }
    ledger_.addBlob({repo_, digest, data.size(), State::Present, how});
    countFigure(&RoundFigures::blobs_acked);
  }

  void pushImage() {
    std::string config =
        "{\"architecture\":\"amd64\",\"os\":\"linux\",\"round\":" + std::to_string(round_) +
        ",\"n\":" + std::to_string(++counter_) + ",\"seed\":" + std::to_string(seed_base_) + "}";
    pushBlob(config);
    nlohmann::json manifest = {{"schemaVersion", 2}, {"mediaType", kOciManifest}};
    manifest["config"] = descriptor("application/vnd.oci.image.config.v1+json", config);
    manifest["layers"] = nlohmann::json::array();
    size_t layers = 1 + rng_() % 2;
    for (size_t i = 0; i < layers; ++i) {
      std::string layer = nextContent(blobSize());
      pushBlob(layer);
      manifest["layers"].push_back(
          descriptor("application/vnd.oci.image.layer.v1.tar+gzip", layer));
    }
    std::string bytes = manifest.dump();
    std::string digest = sha256Digest(bytes);
    bool by_tag = rng_() % 4 != 0;
    std::string key = repo_ + ":" + tag_;
    if (by_tag) {
      std::lock_guard lock(ledger_.mutex);
      auto& tag = ledger_.tags[key];
      tag.repo = repo_;
      tag.pending.insert(digest);
    }
    Response r = send("PUT", "/v2/" + repo_ + "/manifests/" + (by_tag ? tag_ : digest),
                      {{"Content-Type", kOciManifest}}, bytes);
    expect(r, 201, "manifest PUT");
    if (r.headers.get("Docker-Content-Digest") != digest) {
      failures_.push_back("manifest digest " + r.headers.get("Docker-Content-Digest"));
    }
    size_t index = ledger_.addManifest({repo_, digest, bytes, State::Present});
    mine_.push_back(index);
    if (by_tag) {
      std::lock_guard lock(ledger_.mutex);
      auto& tag = ledger_.tags[key];
      if (tag.acked) countFigure(&RoundFigures::tag_moves);
      tag.acked = digest;
      tag.pending.clear();
      current_ = index;
    }
    countFigure(&RoundFigures::pushes_acked);
  }

  // Deletes one of this client's manifests that its tag does not name (a delete by digest also
  // removes the tags that name it, which would blur the tag check).
  void deleteManifest() {
    std::vector<size_t> candidates;
    {
      std::lock_guard lock(ledger_.mutex);
      for (size_t i : mine_) {
        if (ledger_.manifests[i].state == State::Present && current_ != i) candidates.push_back(i);
      }
    }
    if (candidates.empty()) return pushImage();
    size_t index = candidates[rng_() % candidates.size()];
    std::string digest;
    {
      std::lock_guard lock(ledger_.mutex);
      ledger_.manifests[index].state = State::Uncertain;
      digest = ledger_.manifests[index].digest;
    }
    expect(send("DELETE", "/v2/" + repo_ + "/manifests/" + digest), 202, "manifest DELETE");
    {
      std::lock_guard lock(ledger_.mutex);
      ledger_.manifests[index].state = State::Deleted;
    }
    countFigure(&RoundFigures::deletes_acked);
  }

  // A blob no manifest references, pushed and deleted again.
  void pushAndDeleteBlob() {
    std::string data = nextContent(blobSize());
    pushBlob(data);
    size_t index;
    {
      std::lock_guard lock(ledger_.mutex);
      index = ledger_.blobs.size() - 1;
      while (ledger_.blobs[index].digest != sha256Digest(data) ||
             ledger_.blobs[index].repo != repo_) {
        --index;  // other clients may have appended meanwhile
      }
      ledger_.blobs[index].state = State::Uncertain;
    }
    expect(send("DELETE", "/v2/" + repo_ + "/blobs/" + sha256Digest(data)), 202, "blob DELETE");
    {
      std::lock_guard lock(ledger_.mutex);
      ledger_.blobs[index].state = State::Deleted;
    }
    countFigure(&RoundFigures::deletes_acked);
  }

 public:
  std::vector<std::string> failures_;  // protocol failures (not transport ones)

 private:
  Ledger& ledger_;
  Progress& progress_;
  RoundFigures& figures_;
  std::mutex& figures_mutex_;
  HttpClient http_;
  std::mt19937_64 rng_;
  uint64_t seed_base_;
  uint64_t counter_ = 0;
  std::string repo_;
  std::string tag_;
  size_t round_;
  std::optional<OpenUpload> upload_;
  std::vector<size_t> mine_;
  std::optional<size_t> current_;
};

// Hashes every blob data file below the root; files already checked (same inode, size, mtime)
// are skipped. Returns the paths whose bytes do not hash to their directory's name.
std::vector<std::string> wrongDigests(const std::string& root,
                                      std::map<std::string, std::string>& seen, size_t& files,
                                      size_t& temps) {
  namespace fs = std::filesystem;
  std::vector<std::string> wrong;
  fs::path blobs = fs::path(root) / "docker/registry/v2/blobs/sha256";
  files = 0;
  temps = 0;
  if (!fs::exists(blobs)) return wrong;
  for (const auto& entry : fs::recursive_directory_iterator(fs::path(root) / "docker")) {
    if (entry.is_regular_file() && entry.path().filename().string().starts_with(".portico-tmp")) {
      ++temps;
    }
  }
  for (const auto& entry : fs::recursive_directory_iterator(blobs)) {
    if (!entry.is_regular_file() || entry.path().filename() != "data") continue;
    ++files;
    struct stat st {};
    if (::stat(entry.path().c_str(), &st) != 0) continue;
    std::string stamp = std::to_string(st.st_ino) + "/" + std::to_string(st.st_size) + "/" +
                        std::to_string(st.st_mtim.tv_sec) + "." +
                        std::to_string(st.st_mtim.tv_nsec);
    auto& known = seen[entry.path().string()];
    if (known == stamp) continue;
    std::ifstream in(entry.path(), std::ios::binary);
    Sha256 hash;
    std::vector<char> buffer(1 << 16);
    while (in.read(buffer.data(), static_cast<std::streamsize>(buffer.size())) || in.gcount() > 0) {
      hash.update(buffer.data(), static_cast<size_t>(in.gcount()));
    }
    std::string hex = entry.path().parent_path().filename().string();
    if (hash.finishHex() != hex) {
      wrong.push_back(entry.path().string());
    } else {
      known = stamp;
    }
  }
  return wrong;
}

// Runs fn(i) for i in [0, n) on `threads` threads.
template <typename Fn>
void parallelFor(size_t n, size_t threads, Fn fn) {
  std::atomic<size_t> next{0};
  std::vector<std::thread> pool;
  for (size_t t = 0; t < threads; ++t) {
    pool.emplace_back([&] {
      for (size_t i = next++; i < n; i = next++) fn(i);
    });
  }
  for (auto& thread : pool) thread.join();
}

// The first byte after an upload's Range ("0-<last>", "0-0" when empty or one byte).
uint64_t rangeEnd(const std::string& range) {
  size_t dash = range.find('-');
  if (dash == std::string::npos) throw std::runtime_error("bad Range " + range);
  return std::stoull(range.substr(dash + 1)) + 1;
}

}  // namespace

TEST_CASE("SIGKILL during concurrent pushes loses nothing acknowledged", "[crash]") {
  const size_t rounds = envNumber("PORTICO_CRASH_ROUNDS", 3);
  const size_t clients = envNumber("PORTICO_CRASH_CLIENTS", 50);
  const uint64_t seed = envNumber("PORTICO_CRASH_SEED", std::random_device{}());
  std::fprintf(stderr, "crash: %zu rounds x %zu clients, PORTICO_CRASH_SEED=%llu\n", rounds,
               clients, static_cast<unsigned long long>(seed));
  std::fprintf(stderr, "%5s %8s %7s %6s %7s %5s | %6s %6s %5s %6s | %7s %7s %5s\n", "round",
               "requests", "pushes", "blobs", "deletes", "moves", "blobs", "manif", "tags", "files",
               "resumed", "unknown", "tmp");
  std::mt19937_64 rng(seed);
  Ledger ledger;
  RegistryServer registry(RegistrySetup{.access_log = false});
  std::map<std::string, std::string> hashed;
  std::vector<RoundFigures> all;
  Interrupts interrupts;  // Ctrl-C ends the run after the round, through the destructors

  for (size_t round = 0; round < rounds; ++round) {
    RoundFigures figures;
    std::mutex figures_mutex;
    Progress progress;
    // Kill after 3..12 responses per client on average: at random points of the sequences.
    size_t target = clients * 3 + rng() % (clients * 9);
    std::vector<std::unique_ptr<Client>> workers;
    Endpoint endpoint = registry.process().endpoint();
    for (size_t c = 0; c < clients; ++c) {
      workers.push_back(std::make_unique<Client>(ledger, progress, figures, figures_mutex, endpoint,
                                                 rng(), c, round));
    }
    std::vector<std::thread> threads;
    for (auto& worker : workers) {
      threads.emplace_back([&progress, w = worker.get()] {
        w->run();
        progress.clientDone();
      });
    }
    bool reached = progress.waitFor(target, clients, std::chrono::seconds(300));
    registry.process().signal(SIGKILL);
    for (auto& thread : threads) thread.join();  // before a new registry could get the port
    registry.restart();                          // a new process on the same root
    figures.requests_acked = progress.count();
    INFO("round " << round << ", seed " << seed);
    CHECK(reached);  // the clients kept going until the kill
    for (auto& worker : workers) {
      for (const auto& failure : worker->failures_) FAIL_CHECK("protocol: " << failure);
    }

    // 1. Nothing under a wrong digest.
    size_t temps = 0;
    auto wrong = wrongDigests(registry.root(), hashed, figures.data_files, temps);
    figures.temp_files = temps;
    for (const auto& path : wrong) FAIL_CHECK("stored under a wrong digest: " << path);

    // 2. Unacknowledged uploads resume at their Range or are unknown.
    std::vector<OpenUpload> uploads;
    {
      std::lock_guard lock(ledger.mutex);
      uploads.swap(ledger.open_uploads);
    }
    std::mutex check_mutex;
    std::vector<std::string> problems;
    auto problem = [&](std::string text) {
      std::lock_guard lock(check_mutex);
      problems.push_back(std::move(text));
    };
    std::atomic<size_t> resumed{0}, unknown{0};
    parallelFor(uploads.size(), 8, [&](size_t i) {
      const OpenUpload& u = uploads[i];
      HttpClient http = registry.client();
      Response status = http.get(u.path);
      std::string digest = sha256Digest(u.content);
      if (status.status == 404) {
        if (errorCode(status) != "BLOB_UPLOAD_UNKNOWN") {
          problem(u.path + ": 404 " + status.body);
        } else if (!u.commit_in_flight) {
          problem(u.path + ": upload lost although no commit was in flight (acked " +
                  std::to_string(u.acked) + ")");
        } else {
          ++unknown;
          // The commit may have happened: then the blob is whole.
          Response blob = http.requestDiscardingBody("GET", "/v2/" + u.repo + "/blobs/" + digest);
          if (blob.status == 200) {
            if (blob.bodyDigest() != digest) problem(u.path + ": committed blob differs");
            ledger.addBlob({u.repo, digest, u.content.size(), State::Present, "commit in flight"});
          }
        }
        return;
      }
      if (status.status != 204)
        return problem(u.path + ": status " + std::to_string(status.status));
      uint64_t offset = rangeEnd(status.headers.get("Range"));
      if (offset == 1 && u.sent == 0) offset = 0;  // "0-0": empty
      if (offset > u.sent || offset < u.acked) {
        return problem(u.path + ": Range " + status.headers.get("Range") + " outside acked " +
                       std::to_string(u.acked) + " .. sent " + std::to_string(u.sent));
      }
      std::string path = locationPath(status).empty() ? u.path : locationPath(status);
      std::string sep = path.find('?') == std::string::npos ? "?" : "&";
      auto commit = [&](uint64_t from) {
        Headers h{{"Content-Type", "application/octet-stream"}};
        std::string_view rest = std::string_view(u.content).substr(from);
        if (!rest.empty()) {
          Response r = http.request("PATCH", path,
                                    {{"Content-Type", "application/octet-stream"},
                                     {"Content-Range", std::to_string(from) + "-" +
                                                           std::to_string(u.content.size() - 1)}},
                                    rest);
          if (r.status != 202) return r;
          path = locationPath(r);
        }
        return http.request("PUT", path + sep + "digest=" + digest, h);
      };
      Response done = commit(offset);
      if (done.status == 416 && offset == 1) done = commit(0);  // "0-0" meant empty
      if (done.status != 201) {
        return problem(u.path + ": resume at " + std::to_string(offset) + ": " +
                       std::to_string(done.status) + " " + done.body);
      }
      ++resumed;
      ledger.addBlob({u.repo, digest, u.content.size(), State::Present,
                      "resumed at " + std::to_string(offset)});
    });
    figures.resumed = resumed;
    figures.unknown = unknown;

    // 3. Every acknowledged blob, manifest and tag.
    std::vector<BlobRecord> blobs;
    std::vector<ManifestRecord> manifests;
    std::vector<TagRecord> tags;
    std::vector<std::string> tag_names;
    std::map<std::string, std::string> manifest_bytes;
    {
      std::lock_guard lock(ledger.mutex);
      blobs = ledger.blobs;
      manifests = ledger.manifests;
      for (const auto& [key, tag] : ledger.tags) {
        tags.push_back(tag);
        tag_names.push_back(key.substr(key.find(':') + 1));
      }
    }
    for (const auto& m : manifests) manifest_bytes[m.digest] = m.bytes;
    parallelFor(blobs.size(), 8, [&](size_t i) {
      thread_local std::unique_ptr<HttpClient> http;
      if (!http || http->port() != registry.process().endpoint().port) {
        http = std::make_unique<HttpClient>(registry.process().endpoint());
      }
      const BlobRecord& b = blobs[i];
      Response r = http->requestDiscardingBody("GET", "/v2/" + b.repo + "/blobs/" + b.digest);
      bool present = r.status == 200 && r.bodyDigest() == b.digest && r.body_size == b.size;
      bool absent = r.status == 404;  // (the body was discarded: no error code to read)
      if ((b.state == State::Present && !present) || (b.state == State::Deleted && !absent) ||
          (b.state == State::Uncertain && !present && !absent)) {
        problem("blob " + b.repo + "@" + b.digest + " (" + b.how + ", " + std::to_string(b.size) +
                " bytes, state " + std::to_string(int(b.state)) + "): " + std::to_string(r.status));
      }
    });
    parallelFor(manifests.size(), 8, [&](size_t i) {
      thread_local std::unique_ptr<HttpClient> http;
      if (!http || http->port() != registry.process().endpoint().port) {
        http = std::make_unique<HttpClient>(registry.process().endpoint());
      }
      const ManifestRecord& m = manifests[i];
      Response r =
          http->get("/v2/" + m.repo + "/manifests/" + m.digest, {{"Accept", kOciManifest}});
      bool present = r.status == 200 && r.body == m.bytes;
      bool absent = r.status == 404 && errorCode(r) == "MANIFEST_UNKNOWN";
      if ((m.state == State::Present && !present) || (m.state == State::Deleted && !absent) ||
          (m.state == State::Uncertain && !present && !absent)) {
        problem("manifest " + m.repo + "@" + m.digest + ": " + std::to_string(r.status));
      }
    });
    parallelFor(tags.size(), 8, [&](size_t i) {
      thread_local std::unique_ptr<HttpClient> http;
      if (!http || http->port() != registry.process().endpoint().port) {
        http = std::make_unique<HttpClient>(registry.process().endpoint());
      }
      const TagRecord& t = tags[i];
      Response r =
          http->get("/v2/" + t.repo + "/manifests/" + tag_names[i], {{"Accept", kOciManifest}});
      std::string name = t.repo + ":" + tag_names[i];
      if (r.status == 404) {
        if (t.acked) problem("tag " + name + " lost (was " + *t.acked + ")");
        return;
      }
      std::string digest = sha256Digest(r.body);
      bool expected = (t.acked && digest == *t.acked) || t.pending.count(digest) > 0;
      if (r.status != 200 || !expected) {
        problem("tag " + name + ": " + std::to_string(r.status) + " " + digest);
      } else if (manifest_bytes.count(digest) > 0 && manifest_bytes[digest] != r.body) {
        problem("tag " + name + ": bytes differ");
      }
    });
    figures.checked_blobs = blobs.size();
    figures.checked_manifests = manifests.size();
    figures.checked_tags = tags.size();
    for (const auto& p : problems) FAIL_CHECK(p);
    // The next round starts from the verified state: settle the tags' pending sets.
    {
      std::lock_guard lock(ledger.mutex);
      HttpClient http = registry.client();
      for (auto& [key, tag] : ledger.tags) {
        if (tag.pending.empty()) continue;
        Response r = http.get("/v2/" + tag.repo + "/manifests/" + key.substr(key.find(':') + 1),
                              {{"Accept", kOciManifest}});
        if (r.status == 200 && sha256Digest(r.body) != tag.acked) {
          // A PUT in flight at the kill took effect: its manifest is now known to be stored.
          tag.acked = sha256Digest(r.body);
          ledger.manifests.push_back({tag.repo, *tag.acked, r.body, State::Present});
        }
        tag.pending.clear();
      }
      for (auto& m : ledger.manifests) {
        if (m.state != State::Uncertain) continue;
        Response r =
            http.get("/v2/" + m.repo + "/manifests/" + m.digest, {{"Accept", kOciManifest}});
        m.state = r.status == 200 ? State::Present : State::Deleted;
      }
      for (auto& b : ledger.blobs) {
        if (b.state != State::Uncertain) continue;
        Response r = http.requestDiscardingBody("HEAD", "/v2/" + b.repo + "/blobs/" + b.digest);
        b.state = r.status == 200 ? State::Present : State::Deleted;
      }
    }
    std::fprintf(stderr, "%5zu %8zu %7zu %6zu %7zu %5zu | %6zu %6zu %5zu %6zu | %7zu %7zu %5zu\n",
                 round + 1, figures.requests_acked, figures.pushes_acked, figures.blobs_acked,
                 figures.deletes_acked, figures.tag_moves, figures.checked_blobs,
                 figures.checked_manifests, figures.checked_tags, figures.data_files,
                 figures.resumed, figures.unknown, figures.temp_files);
    all.push_back(figures);
    if (!problems.empty() || !wrong.empty()) break;  // keep the evidence of the first round
    if (interrupts.caught()) {
      FAIL_CHECK("interrupted (SIGINT/SIGTERM) after round " << round + 1);
      break;
    }
  }
  size_t pushes = 0, resumed = 0, unknown = 0;
  for (const auto& f : all) {
    pushes += f.pushes_acked;
    resumed += f.resumed;
    unknown += f.unknown;
  }
  std::fprintf(stderr,
               "crash: %zu rounds, %zu pushes acknowledged, all verified above; uploads "
               "resumed %zu, unknown %zu\n",
               all.size(), pushes, resumed, unknown);
}

// The deterministic case behind a failure the rounds above found: a commit renames the upload's
// data into blobs/, links it, then removes the upload directory. Killed between the rename and
// the removal, the upload directory stays with its startedat and no data file; the restarted
// registry answered GET with 204 "Range: 0-0" (the client had been told 1000 bytes) and a PATCH
// without Content-Range re-created the data file and appended at 0.
TEST_CASE("an upload whose commit was cut after the rename is unknown, not empty", "[crash]") {
  namespace fs = std::filesystem;
  RegistryServer registry;
  HttpClient http = registry.client();
  std::string data = GeneratedBody::bytes(1000, 7);
  std::string digest = sha256Digest(data);
  Response started = http.request("POST", "/v2/crash/one/blobs/uploads/");
  REQUIRE(started.status == 202);
  std::string location = locationPath(started);
  std::string id = started.headers.get("Docker-Upload-UUID");
  Response patched = http.request(
      "PATCH", location, {{"Content-Type", "application/octet-stream"}, {"Content-Range", "0-999"}},
      data);
  REQUIRE(patched.status == 202);
  REQUIRE(patched.headers.get("Range") == "0-999");
  location = locationPath(patched);

  // The state a kill leaves between UploadStore::commit's move and its removal.
  fs::path v2 = fs::path(registry.root()) / "docker/registry/v2";
  fs::path upload = v2 / "repositories/crash/one/_uploads" / id;
  REQUIRE(fs::exists(upload / "data"));
  fs::path blob = v2 / "blobs/sha256" / digest.substr(7, 2) / digest.substr(7) / "data";
  fs::create_directories(blob.parent_path());
  fs::rename(upload / "data", blob);
  REQUIRE(fs::exists(upload / "startedat"));
  registry.restart();
  http.close();
  HttpClient after = registry.client();

  Response status = after.get(location);
  CHECK(status.status == 404);  // was 204 "Range: 0-0": 1000 acknowledged bytes forgotten
  CHECK(errorCode(status) == "BLOB_UPLOAD_UNKNOWN");
  Response appended =
      after.request("PATCH", location, {{"Content-Type", "application/octet-stream"}}, "more");
  CHECK(appended.status == 404);  // was 202 "Range: 0-3": a new data file at offset 0
  CHECK(errorCode(appended) == "BLOB_UPLOAD_UNKNOWN");
  CHECK_FALSE(fs::exists(upload / "data"));
  Response committed = after.request(
      "PUT", location + (location.find('?') == std::string::npos ? "?" : "&") + "digest=" + digest);
  CHECK(committed.status == 404);
  // The blob the cut commit stored is intact, and a new push of it completes.
  CHECK(Sha256::hex(readFile(blob.string())) == digest.substr(7));
  CHECK(pushBlob(after, "crash/one", data) == digest);
}
