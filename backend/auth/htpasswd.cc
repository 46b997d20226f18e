#include "backend/auth/htpasswd.h"

#include <crypt.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "backend/auth/auth_error.h"

namespace portico::auth {
namespace {

constexpr std::string_view kBcryptAlphabet =
    "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

// A bcrypt salt setting ("$2b$NN$" + 22 characters) from OpenSSL's random bytes.
Result<std::string> bcryptSetting(int cost) {
  unsigned char random[16];
  if (RAND_bytes(random, sizeof(random)) != 1) {
    return Error{AuthErrc::Internal, "RAND_bytes failed"};
  }
  char setting[CRYPT_GENSALT_OUTPUT_SIZE];
  if (crypt_gensalt_rn("$2b$", static_cast<unsigned long>(cost),
                       reinterpret_cast<const char*>(random), sizeof(random), setting,
                       sizeof(setting)) == nullptr) {
    return Error{AuthErrc::Internal, "crypt_gensalt_rn failed", std::strerror(errno)};
  }
  return std::string(setting);
}

// crypt_r of `password` with `setting`; empty when libxcrypt refuses the setting.
std::string bcrypt(std::string_view password, const std::string& setting) {
  if (password.find('\0') != std::string_view::npos) return {};
  std::string pw(password);
  auto data = std::make_unique<crypt_data>();
  const char* out = crypt_r(pw.c_str(), setting.c_str(), data.get());
  std::string result = (out == nullptr || out[0] == '*') ? std::string() : std::string(out);
  OPENSSL_cleanse(pw.data(), pw.size());
  OPENSSL_cleanse(data.get(), sizeof(crypt_data));
  return result;
}

}  // namespace

int bcryptCost(std::string_view hash) {
  if (hash.size() != 60) return -1;
  if (!(hash.starts_with("$2a$") || hash.starts_with("$2b$") || hash.starts_with("$2y$"))) {
    return -1;
  }
  if (!std::isdigit(static_cast<unsigned char>(hash[4])) ||
      !std::isdigit(static_cast<unsigned char>(hash[5])) || hash[6] != '$') {
    return -1;
  }
  for (char c : hash.substr(7)) {
    if (kBcryptAlphabet.find(c) == std::string_view::npos) return -1;
  }
  int cost = (hash[4] - '0') * 10 + (hash[5] - '0');
  return cost >= 4 && cost <= 31 ? cost : -1;
}

bool bcryptMatches(std::string_view password, const std::string& setting, std::string_view hash) {
  std::string computed = bcrypt(password, setting);
  // Equal lengths are compared in constant time; a length difference tells nothing secret
  // (every bcrypt hash is 60 characters; the dummy setting is shorter and never matches).
  if (computed.empty() || computed.size() != hash.size()) return false;
  return CRYPTO_memcmp(computed.data(), hash.data(), hash.size()) == 0;
}

Result<std::string> bcryptHash(std::string_view password, int cost) {
  auto setting = bcryptSetting(cost);
  if (!setting) return setting.error();
  std::string hash = bcrypt(password, *setting);
  if (hash.empty()) return Error{AuthErrc::Internal, "crypt_r refused the bcrypt setting"};
  return hash;
}

Result<std::shared_ptr<const HtpasswdFile>> HtpasswdFile::parse(std::string_view text,
                                                                const std::string& source) {
  auto file = std::make_shared<HtpasswdFile>();
  std::map<int, int> costs;  // cost → entries
  int number = 0;
  while (!text.empty()) {
    size_t end = text.find('\n');
    std::string_view raw = text.substr(0, end);
    text = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
    ++number;
    std::string_view line = trim(raw);
    if (line.empty() || line.front() == '#') continue;
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) {
      return Error{AuthErrc::InvalidFile,
                   source + ":" + std::to_string(number) + ": invalid htpasswd entry (no ':')"};
    }
    std::string user(line.substr(0, colon));
    Entry entry{std::string(line.substr(colon + 1)), false};
    int cost = bcryptCost(entry.hash);
    if (cost < 0) {
      file->unusable_.push_back(
          {user, number, "unsupported hash type (only bcrypt $2y$/$2b$/$2a$ authenticates)"});
    } else if (cost > kMaxBcryptCost) {
      file->unusable_.push_back({user, number,
                                 "bcrypt cost " + std::to_string(cost) + " is above the accepted " +
                                     std::to_string(kMaxBcryptCost)});
    } else {
      entry.usable = true;
      ++costs[cost];
    }
    // As distribution (a map assignment per line): a later line for the same user wins.
    file->entries_.insert_or_assign(std::move(user), std::move(entry));
  }
  int best = 0;
  for (const auto& [cost, count] : costs) {
    if (count > best) {
      best = count;
      file->dummy_cost_ = cost;
    }
  }
  auto setting = bcryptSetting(file->dummy_cost_);
  if (!setting) return setting.error();
  file->dummy_setting_ = std::move(*setting);
  return std::shared_ptr<const HtpasswdFile>(std::move(file));
}

bool HtpasswdFile::verify(std::string_view user, std::string_view password) const {
  auto it = entries_.find(user);
  if (it == entries_.end() || !it->second.usable) {
    // The same work as a wrong password: who exists is not told by the response time.
    (void)bcryptMatches(password, dummy_setting_, dummy_setting_);
    return false;
  }
  return bcryptMatches(password, it->second.hash, it->second.hash);
}

Result<std::string> createHtpasswdFile(const std::string& path) {
  // As distribution's os.MkdirAll(dir, 0700): missing parents are made 0700, existing ones
  // are left as they are.
  std::filesystem::path parent = std::filesystem::path(path).parent_path();
  std::filesystem::path made;
  for (const auto& part : parent) {
    made /= part;
    if (::mkdir(made.c_str(), 0700) != 0 && errno != EEXIST) {
      return Error{AuthErrc::InvalidFile, "cannot create " + made.string(), std::strerror(errno)};
    }
  }
  unsigned char random[24];
  if (RAND_bytes(random, sizeof(random)) != 1) {
    return Error{AuthErrc::Internal, "RAND_bytes failed"};
  }
  std::string password;
  for (unsigned char byte : random) password += kBcryptAlphabet[byte % 64];
  auto hash = bcryptHash(password, kDefaultBcryptCost);
  if (!hash) return hash.error();
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return Error{AuthErrc::InvalidFile, "cannot create " + path, std::strerror(errno)};
  std::string line = "docker:" + *hash + "\n";
  bool ok = ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size());
  ok = ::close(fd) == 0 && ok;
  if (!ok) return Error{AuthErrc::InvalidFile, "cannot write " + path, std::strerror(errno)};
  return password;
}

}  // namespace portico::auth
