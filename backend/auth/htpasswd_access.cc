#include "backend/auth/htpasswd_access.h"

#include <openssl/crypto.h>
#include <spdlog/spdlog.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "backend/auth/auth_error.h"
#include "backend/registry/error_code.h"
#include "common/http/message.h"

namespace portico::auth {
namespace {

int base64Value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

// Standard base64 with padding (RFC 4648 §4), strictly: length a multiple of 4, `=` only at
// the end, no whitespace.
std::optional<std::string> decodeBase64(std::string_view in) {
  if (in.empty() || in.size() % 4 != 0) return std::nullopt;
  size_t padding = 0;
  if (in.back() == '=') ++padding;
  if (in.size() >= 2 && in[in.size() - 2] == '=') ++padding;
  std::string out;
  out.reserve(in.size() / 4 * 3);
  for (size_t i = 0; i < in.size(); i += 4) {
    const bool last = i + 4 == in.size();
    int v[4];
    for (size_t k = 0; k < 4; ++k) {
      if (last && k >= 4 - padding) {
        if (in[i + k] != '=') return std::nullopt;
        v[k] = 0;
        continue;
      }
      v[k] = base64Value(in[i + k]);
      if (v[k] < 0) return std::nullopt;
    }
    uint32_t n = (static_cast<uint32_t>(v[0]) << 18) | (static_cast<uint32_t>(v[1]) << 12) |
                 (static_cast<uint32_t>(v[2]) << 6) | static_cast<uint32_t>(v[3]);
    out.push_back(static_cast<char>(n >> 16));
    if (!last || padding < 2) out.push_back(static_cast<char>((n >> 8) & 0xff));
    if (!last || padding < 1) out.push_back(static_cast<char>(n & 0xff));
  }
  return out;
}

bool equalsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

std::string describe(const api::Access& a) {
  return a.type + ":" + a.name + ":" + a.action;
}

int64_t nanos(CredentialCache::Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

}  // namespace

std::optional<BasicCredentials> parseBasicAuthorization(std::string_view value) {
  if (value.size() > kMaxAuthorizationSize) return std::nullopt;
  size_t space = value.find(' ');
  if (space == std::string_view::npos || !equalsIgnoreCase(value.substr(0, space), "basic")) {
    return std::nullopt;
  }
  std::string_view encoded = value.substr(space + 1);
  while (!encoded.empty() && encoded.front() == ' ') encoded.remove_prefix(1);
  while (!encoded.empty() && encoded.back() == ' ') encoded.remove_suffix(1);
  auto decoded = decodeBase64(encoded);
  if (!decoded) return std::nullopt;
  size_t colon = decoded->find(':');
  if (colon == std::string::npos) {
    OPENSSL_cleanse(decoded->data(), decoded->size());
    return std::nullopt;
  }
  BasicCredentials credentials{decoded->substr(0, colon), decoded->substr(colon + 1)};
  OPENSSL_cleanse(decoded->data(), decoded->size());
  return credentials;
}

HtpasswdAccess::HtpasswdAccess(HtpasswdSettings settings, storage::StorageExecutor& executor)
    : settings_(std::move(settings)),
      executor_(executor),
      challenge_("Basic realm=" + http::quotedString(settings_.realm)),
      cache_(settings_.cache_capacity, settings_.cache_ttl) {}

Result<std::unique_ptr<HtpasswdAccess>> HtpasswdAccess::open(HtpasswdSettings settings,
                                                             storage::StorageExecutor& executor) {
  struct stat st {};
  if (::stat(settings.path.c_str(), &st) != 0 && errno == ENOENT) {
    auto password = createHtpasswdFile(settings.path);
    if (!password) return password.error();
    spdlog::warn(
        "htpasswd file {} was missing: created it with user \"docker\" and password \"{}\" "
        "(shown once; change it with htpasswd -B)",
        settings.path, *password);
    OPENSSL_cleanse(password->data(), password->size());
  }
  std::unique_ptr<HtpasswdAccess> access(new HtpasswdAccess(std::move(settings), executor));
  if (auto loaded = access->load(); !loaded) return loaded.error();
  return access;
}

Result<void> HtpasswdAccess::load() {
  struct stat st {};
  if (::stat(settings_.path.c_str(), &st) != 0) {
    return Error{AuthErrc::InvalidFile, "cannot read htpasswd file " + settings_.path,
                 std::strerror(errno)};
  }
  Stamp stamp{st.st_dev, st.st_ino, st.st_mtim, st.st_size};
  std::ifstream in(settings_.path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  if (!in) {
    return Error{AuthErrc::InvalidFile, "cannot read htpasswd file " + settings_.path,
                 std::strerror(errno)};
  }
  auto parsed = HtpasswdFile::parse(text.str(), settings_.path);
  if (!parsed) return parsed.error();
  for (const auto& unusable : (*parsed)->unusable()) {
    spdlog::warn("htpasswd {}:{}: user \"{}\" can never log in: {}", settings_.path, unusable.line,
                 unusable.user, unusable.reason);
  }
  spdlog::info("htpasswd {}: {} users (bcrypt only, cost at most {}; {} unusable)", settings_.path,
               (*parsed)->users(), kMaxBcryptCost, (*parsed)->unusable().size());
  {
    std::lock_guard lock(mutex_);
    file_ = std::move(*parsed);
    stamp_ = stamp;
  }
  cache_.clear();  // after the swap: see authorize()
  return {};
}

std::shared_ptr<const HtpasswdFile> HtpasswdAccess::file() {
  std::lock_guard lock(mutex_);
  return file_;
}

void HtpasswdAccess::reloadIfChanged() {
  struct stat st {};
  if (::stat(settings_.path.c_str(), &st) != 0) {
    spdlog::error("htpasswd {}: {}; keeping the users read before", settings_.path,
                  std::strerror(errno));
    return;
  }
  Stamp stamp{st.st_dev, st.st_ino, st.st_mtim, st.st_size};
  {
    std::lock_guard lock(mutex_);
    if (stamp_ && *stamp_ == stamp) return;
  }
  if (auto loaded = load(); !loaded) {
    spdlog::error("htpasswd reload failed, keeping the users read before: {} {}",
                  loaded.error().message(), loaded.error().detail());
    std::lock_guard lock(mutex_);
    stamp_ = stamp;  // do not retry a bad file on every request; the next change retries
  }
}

void HtpasswdAccess::recheckSoon(CredentialCache::Clock::time_point now) {
  int64_t due = next_recheck_.load(std::memory_order_relaxed);
  if (nanos(now) < due) return;
  int64_t next = nanos(now + settings_.recheck);
  if (!next_recheck_.compare_exchange_strong(due, next)) return;  // another worker does it
  executor_.submit([this] { reloadIfChanged(); });
}

api::AccessDecision HtpasswdAccess::challenge(std::string detail) const {
  api::AccessDecision decision;
  decision.allowed = false;
  decision.error =
      Error{registry::ErrorCode::Unauthorized, "authentication required", std::move(detail)};
  decision.headers.emplace_back("WWW-Authenticate", challenge_);
  return decision;
}

api::AccessDecision HtpasswdAccess::decide(const std::string& user,
                                           const std::vector<api::Access>& access) const {
  api::AccessDecision decision;
  decision.user = user;
  if (!settings_.policy) return decision;
  std::string denied;
  for (const auto& record : access) {
    if (settings_.policy->allows(user, record)) continue;
    denied += (denied.empty() ? "" : " ") + describe(record);
  }
  if (denied.empty()) return decision;
  decision.allowed = false;
  decision.error = Error{registry::ErrorCode::Denied, "requested access to the resource is denied",
                         "user " + user + " may not " + denied};
  return decision;
}

void HtpasswdAccess::anonymous(const std::vector<api::Access>& access,
                               const std::function<void(api::AccessDecision)>& done) const {
  // /v2/ (no access needed) is always challenged: a client learns the scheme there.
  bool allowed = !access.empty() && settings_.policy != nullptr;
  for (const auto& record : access) {
    allowed = allowed && settings_.policy->allows("", record);
  }
  if (allowed) return done(api::AccessDecision{});
  done(challenge("credentials required"));
}

void HtpasswdAccess::authorize(const http::RequestHead& head,
                               const std::vector<api::Access>& access, net::Worker* worker,
                               std::function<void(api::AccessDecision)> done) {
  auto header = head.headers.get("Authorization");
  if (!header) return anonymous(access, done);
  auto credentials = parseBasicAuthorization(*header);
  if (!credentials) return done(challenge("malformed or unsupported Authorization header"));
  if (credentials->user.empty() && credentials->password.empty()) {
    return anonymous(access, done);
  }
  auto now = CredentialCache::Clock::now();
  if (cache_.contains(credentials->user, credentials->password, now)) {
    recheckSoon(now);
    OPENSSL_cleanse(credentials->password.data(), credentials->password.size());
    return done(decide(credentials->user, access));
  }
  // A bcrypt (milliseconds to a second of CPU): on a storage thread, never on the loop.
  auto shared = std::make_shared<BasicCredentials>(std::move(*credentials));
  executor_.run<bool>(
      worker,
      [this, shared]() -> Result<bool> {
        reloadIfChanged();
        // The generation before the file: a reload between them makes insert() a no-op.
        uint64_t generation = cache_.generation();
        bool ok = file()->verify(shared->user, shared->password);
        if (ok) {
          cache_.insert(shared->user, shared->password, generation, CredentialCache::Clock::now());
        }
        OPENSSL_cleanse(shared->password.data(), shared->password.size());
        return ok;
      },
      storage::Done<bool>([this, shared, access, done = std::move(done)](Result<bool> ok) {
        if (ok && *ok) return done(decide(shared->user, access));
        spdlog::info("htpasswd: authentication failed for user \"{}\"", shared->user);
        done(challenge("invalid username or password"));
      }));
}

}  // namespace portico::auth
