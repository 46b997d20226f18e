#pragma once
// Policy: Portico's per-repository permissions for htpasswd users (auth.policy, a Portico
// extension; docs/securing.md). registry:2's htpasswd is all-or-nothing; this adds read-only
// users, teams and anonymous pulls without a token server:
//
//   auth:
//     htpasswd: {realm: portico, path: /etc/portico/htpasswd}
//     policy:
//       anonymous: [pull]            # what a request without credentials may do everywhere
//       groups: {ci: [builder], admins: [alice]}
//       rules:
//         - {repositories: ["library/*", "base/**"], users: ["*"], actions: [pull]}
//         - {repositories: ["team-a/**"], groups: [ci], actions: [pull, push]}
//         - {repositories: ["**"], groups: [admins], actions: [pull, push, delete]}
//         - {catalog: true, users: ["*"]}
//
// A rule matches an access record when one of its repository globs matches the name (or, for
// registry:catalog:*, it says `catalog: true`), the user is one of its users (`*`: any
// authenticated user) or in one of its groups, and the action is one of its actions (`*`: all).
// The first matching rule grants the record; a record no rule matches is denied. Rules only
// grant, so their order never changes a decision (it names the rule in debug logs).
// What `anonymous` allows, every authenticated user may do too.
// Globs: `*` matches within one path component, `**` across components (`base/**` matches
// base/x and base/x/y, not base).
//
// What this does not do: authenticate (HtpasswdAccess does), or apply to bearer tokens (a
// token carries its own grants).

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "backend/api/access.h"
#include "common/config/yaml_document.h"

namespace portico::auth {

// A repository glob (see above), validated when made.
class RepositoryGlob {
 public:
  // Empty text, characters outside a repository name's and `*`, or `***` make no glob.
  static std::optional<RepositoryGlob> parse(std::string_view text);
  bool matches(std::string_view name) const;
  const std::string& str() const { return text_; }

 private:
  std::string text_;
};

class Policy {
 public:
  // Reads auth.policy; throws config::ConfigError naming file:line:key (unknown key, unknown
  // group, unknown action, empty rule, bad glob).
  static Policy parse(const config::Node& node);

  // True when `user` (empty: a request without credentials) may have `access`.
  bool allows(std::string_view user, const api::Access& access) const;
  // What a request without credentials may do (`anonymous:`); false when nothing.
  bool allowsAnonymousAnything() const { return anonymous_ != 0; }

 private:
  struct Rule {
    std::vector<RepositoryGlob> repositories;
    bool catalog = false;
    bool any_user = false;
    std::vector<std::string> users;  // with the members of the rule's groups
    unsigned actions = 0;
  };
  unsigned anonymous_ = 0;
  std::vector<Rule> rules_;
};

}  // namespace portico::auth
