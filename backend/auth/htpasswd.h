#pragma once
// An htpasswd file as CNCF distribution reads it (registry/auth/htpasswd/htpasswd.go): lines
// trimmed, empty lines and `#` comments skipped, each other line split on its first `:` into
// user and hash (a line without `:` makes the file invalid). Only bcrypt hashes (`$2y$`, `$2b$`,
// `$2a$`, as `htpasswd -B` writes them) authenticate; they are verified with libxcrypt's
// crypt_r. Other hash types (MD5 `$apr1$`, SHA `{SHA}`, crypt, plain) and bcrypt costs above
// kMaxBcryptCost never authenticate: each is reported once per load (user and line) so that
// the operator can fix it.
//
// verify() costs the same for an unknown user, an unusable entry and a wrong password: all
// three run one bcrypt of the file's usual cost (against a dummy setting for the first two),
// and the final comparison is constant-time.
//
// What this does not do: cache (credential_cache.h), watch the file (HtpasswdAccess), or run
// anywhere but the storage executor at request time (a bcrypt takes milliseconds to seconds).

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace portico::auth {

// The highest bcrypt cost accepted (2^14 rounds: about a second of CPU). A higher cost in the
// file would let anyone who knows the user name stall a storage thread for minutes (cost 31:
// days), so such entries never authenticate.
inline constexpr int kMaxBcryptCost = 14;

// bcrypt's cost when the file has none to copy (Go's bcrypt.DefaultCost, distribution's).
inline constexpr int kDefaultBcryptCost = 10;

// The cost of a well-formed bcrypt hash ($2a$/$2b$/$2y$, two-digit cost, 53 characters of
// salt and hash from bcrypt's alphabet), or -1.
int bcryptCost(std::string_view hash);

// Runs bcrypt of `password` with `setting` (a hash or a salt) and compares the result with
// `hash` in constant time. False for a password containing NUL (crypt_r would stop there).
bool bcryptMatches(std::string_view password, const std::string& setting, std::string_view hash);

// A new bcrypt hash of `password` ($2b$, `cost`, a random salt from OpenSSL).
Result<std::string> bcryptHash(std::string_view password, int cost);

class HtpasswdFile {
 public:
  // One line that cannot authenticate, for the load-time log.
  struct Unusable {
    std::string user;
    int line = 0;
    std::string reason;  // "unsupported hash type (only bcrypt ...)", "bcrypt cost 31 above 14"
  };

  // Parses `text` (`source` names it in the error). Fails on a line without `:`.
  static Result<std::shared_ptr<const HtpasswdFile>> parse(std::string_view text,
                                                           const std::string& source);

  // True when `user`'s entry is a usable bcrypt hash that `password` matches. Runs bcrypt once
  // whatever the outcome (see the top of this file). Blocking: storage threads only.
  bool verify(std::string_view user, std::string_view password) const;

  bool hasUser(std::string_view user) const { return entries_.count(std::string(user)) > 0; }
  size_t users() const { return entries_.size(); }
  const std::vector<Unusable>& unusable() const { return unusable_; }
  // The cost the dummy verification runs at (the most common accepted cost in the file).
  int dummyCost() const { return dummy_cost_; }

 private:
  struct Entry {
    std::string hash;
    bool usable = false;
  };
  std::map<std::string, Entry, std::less<>> entries_;
  std::vector<Unusable> unusable_;
  std::string dummy_setting_;  // a bcrypt salt setting: matches no password
  int dummy_cost_ = kDefaultBcryptCost;
};

// distribution's first-start behaviour: creates `path` (mode 0600; missing parents 0700) with
// the user `docker` and a random password, which it returns (the caller logs it once). Fails
// if the file exists.
Result<std::string> createHtpasswdFile(const std::string& path);

}  // namespace portico::auth
