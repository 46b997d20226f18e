#pragma once
// HtpasswdAccess: auth.htpasswd, distribution's basic-auth access controller
// (registry/auth/htpasswd), with Portico's policy (policy.h) and without distribution's
// per-request bcrypt:
//
//   worker: Authorization: Basic?  ── none ──► anonymous: policy's `anonymous` or 401
//             │ user:password
//             ▼
//           CredentialCache hit? ── yes ──► policy → allowed / 403 DENIED        (no bcrypt)
//             │ miss
//             ▼ StorageExecutor (never the loop)
//           reload the file if its mtime changed; bcrypt verify; cache it
//             │ posted back to the worker
//             ▼
//           policy → allowed / 403 DENIED, or 401 UNAUTHORIZED
//
// Every 401 carries `WWW-Authenticate: Basic realm="<realm>"` (the pipeline adds
// Docker-Distribution-Api-Version), on every route including /v2/: /v2/ without credentials is
// always challenged, so that clients learn the scheme even when anonymous pulls are allowed.
// `Basic` with an empty user and password (what containers/image sends without credentials)
// counts as no credentials. Without a policy every authenticated user may do everything
// (distribution).
//
// The file: read at start (created with user `docker` and a random password, logged once at
// warning level, when missing, as distribution); re-read when its mtime, size or inode
// changes, checked before every verification and, for cached credentials, at most once per
// `recheck`; a reload drops the cache. A file that cannot be read or parsed at a reload is
// logged and the previous contents stay in force.

#include <atomic>
#include <chrono>
#include <cstddef>
#include <ctime>
#include <functional>
#include <vector>

#include <sys/stat.h>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "backend/api/access.h"
#include "backend/auth/credential_cache.h"
#include "backend/auth/htpasswd.h"
#include "backend/auth/policy.h"
#include "backend/storage/executor.h"
#include "common/result.h"

namespace portico::auth {

struct HtpasswdSettings {
  std::string realm;
  std::string path;
  std::shared_ptr<const Policy> policy;  // null: every authenticated user may do everything
  std::chrono::seconds cache_ttl{30};
  size_t cache_capacity = 4096;
  std::chrono::milliseconds recheck{1000};  // how often cached credentials re-stat the file
};

struct BasicCredentials {
  std::string user;
  std::string password;
};

// The longest Authorization value looked at; a longer one is refused without decoding.
inline constexpr size_t kMaxAuthorizationSize = 8192;

// An `Authorization: Basic <base64(user:password)>` value (RFC 7617; the scheme is
// case-insensitive). Nullopt for another scheme, malformed base64 (strict: padding required,
// nothing after it), no `:`, or a value longer than kMaxAuthorizationSize.
std::optional<BasicCredentials> parseBasicAuthorization(std::string_view value);

class HtpasswdAccess : public api::AccessController {
 public:
  // Reads (or creates) the file. Blocking: at startup. Fails on a file it cannot read or parse.
  // Verifications and reload checks run on `executor`, which must be drained (destroyed)
  // before this controller is (RegistryServer's teardown order).
  static Result<std::unique_ptr<HtpasswdAccess>> open(HtpasswdSettings settings,
                                                      storage::StorageExecutor& executor);

  // api::AccessController
  void authorize(const http::RequestHead& head, const std::vector<api::Access>& access,
                 net::Worker* worker, std::function<void(api::AccessDecision)> done) override;

  // Re-reads the file if it changed since the last read. Blocking: storage threads (or tests).
  void reloadIfChanged();
  CredentialCache& cache() { return cache_; }

 private:
  struct Stamp {
    dev_t device = 0;
    ino_t inode = 0;
    timespec mtime{};
    off_t size = 0;
    bool operator==(const Stamp& o) const {
      return device == o.device && inode == o.inode && mtime.tv_sec == o.mtime.tv_sec &&
             mtime.tv_nsec == o.mtime.tv_nsec && size == o.size;
    }
  };

  HtpasswdAccess(HtpasswdSettings settings, storage::StorageExecutor& executor);
  // Reads and parses the file and logs what it found; the stamp is taken before reading.
  Result<void> load();
  std::shared_ptr<const HtpasswdFile> file();
  void recheckSoon(CredentialCache::Clock::time_point now);
  void anonymous(const std::vector<api::Access>& access,
                 const std::function<void(api::AccessDecision)>& done) const;
  api::AccessDecision decide(const std::string& user, const std::vector<api::Access>& access) const;
  api::AccessDecision challenge(std::string detail) const;

  HtpasswdSettings settings_;
  storage::StorageExecutor& executor_;
  std::string challenge_;  // the WWW-Authenticate value
  CredentialCache cache_;
  std::mutex mutex_;  // file_ and stamp_
  std::shared_ptr<const HtpasswdFile> file_;
  std::optional<Stamp> stamp_;
  std::atomic<int64_t> next_recheck_{0};  // steady-clock ns
};

}  // namespace portico::auth
