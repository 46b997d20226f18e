#include "backend/auth/policy.h"

#include <algorithm>
#include <optional>

namespace portico::auth {
namespace {

constexpr unsigned kPull = 1;
constexpr unsigned kPush = 2;
constexpr unsigned kDelete = 4;
constexpr unsigned kAll = kPull | kPush | kDelete;

unsigned actionBit(std::string_view action) {
  if (action == "pull") return kPull;
  if (action == "push") return kPush;
  if (action == "delete") return kDelete;
  if (action == "*") return kAll;
  return 0;
}

std::vector<config::Node> listOf(const config::Node& node) {
  if (!node.defined()) return {};
  if (!node.isSequence()) node.fail("must be a list");
  return node.items();
}

unsigned actions(const config::Node& node) {
  unsigned bits = 0;
  for (const auto& item : listOf(node)) {
    unsigned bit = actionBit(item.asString());
    if (bit == 0) item.fail("unknown action \"" + item.asString() + "\" (pull, push, delete, *)");
    bits |= bit;
  }
  return bits;
}

}  // namespace

std::optional<RepositoryGlob> RepositoryGlob::parse(std::string_view text) {
  if (text.empty() || text.find("***") != std::string_view::npos) return std::nullopt;
  for (char c : text) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
              c == '-' || c == '/' || c == '*';
    if (!ok) return std::nullopt;
  }
  RepositoryGlob glob;
  glob.text_ = std::string(text);
  return glob;
}

bool RepositoryGlob::matches(std::string_view name) const {
  // Dynamic programming over (pattern position, name position): linear in their product, so
  // no pattern backtracks exponentially.
  const std::string_view p = text_;
  const size_t n = name.size();
  std::vector<char> row(n + 1, 0), next(n + 1, 0);
  row[0] = 1;  // empty pattern prefix matches empty name prefix
  for (size_t i = 0; i < p.size();) {
    std::fill(next.begin(), next.end(), 0);
    if (p[i] == '*') {
      const bool across = i + 1 < p.size() && p[i + 1] == '*';
      // next[j]: some k <= j with row[k] and name[k, j) free of '/' (unless `**`).
      char reach = 0;
      for (size_t j = 0; j <= n; ++j) {
        if (j > 0 && !across && name[j - 1] == '/') reach = 0;
        reach = static_cast<char>(reach | row[j]);
        next[j] = reach;
      }
      i += across ? 2 : 1;
    } else {
      for (size_t j = 1; j <= n; ++j)
        next[j] = static_cast<char>(row[j - 1] && name[j - 1] == p[i]);
      i += 1;
    }
    row.swap(next);
  }
  return row[n] != 0;
}

Policy Policy::parse(const config::Node& node) {
  Policy policy;
  if (!node.isMap()) node.fail("must be a mapping (anonymous, groups, rules)");
  node.checkKeys({"anonymous", "groups", "rules"});
  policy.anonymous_ = actions(node["anonymous"]);

  std::map<std::string, std::vector<std::string>, std::less<>> groups;
  if (config::Node g = node["groups"]; g.defined()) {
    if (!g.isMap()) g.fail("must be a mapping of group name to users");
    for (const auto& [name, members] : g.entries()) {
      auto& list = groups[name];
      for (const auto& member : listOf(members)) list.push_back(member.asString());
    }
  }

  config::Node rules = node["rules"];
  if (!rules.defined()) rules.fail("required: a policy without rules denies every user");
  for (const auto& item : listOf(rules)) {
    if (!item.isMap())
      item.fail("must be a mapping (repositories, catalog, users, groups, actions)");
    item.checkKeys({"repositories", "catalog", "users", "groups", "actions"});
    Rule rule;
    for (const auto& pattern : listOf(item["repositories"])) {
      auto glob = RepositoryGlob::parse(pattern.asString());
      if (!glob) {
        pattern.fail("bad repository glob \"" + pattern.asString() +
                     "\" (lower-case name characters, * within a component, ** across)");
      }
      rule.repositories.push_back(std::move(*glob));
    }
    rule.catalog = item["catalog"].defined() && item["catalog"].asBool();
    for (const auto& user : listOf(item["users"])) {
      std::string name = user.asString();
      if (name.empty()) user.fail("empty user name");
      if (name == "*") {
        rule.any_user = true;
      } else {
        rule.users.push_back(std::move(name));
      }
    }
    for (const auto& group : listOf(item["groups"])) {
      auto found = groups.find(group.asString());
      if (found == groups.end()) group.fail("unknown group \"" + group.asString() + "\"");
      rule.users.insert(rule.users.end(), found->second.begin(), found->second.end());
    }
    rule.actions = actions(item["actions"]);
    if (rule.repositories.empty() && !rule.catalog) {
      item.fail("empty rule: give repositories or catalog: true");
    }
    if (!rule.any_user && rule.users.empty() && !item["groups"].defined()) {
      item.fail("empty rule: give users or groups");
    }
    if (!rule.repositories.empty() && rule.actions == 0) {
      item.fail("empty rule: give actions (pull, push, delete, *)");
    }
    policy.rules_.push_back(std::move(rule));
  }
  return policy;
}

bool Policy::allows(std::string_view user, const api::Access& access) const {
  const bool catalog = access.type == "registry" && access.name == "catalog";
  if (!catalog && access.type != "repository") return false;
  unsigned needed = catalog ? 0 : actionBit(access.action);
  if (!catalog && needed == 0) return false;
  // What anonymous requests may do, every user may do.
  if (!catalog && (anonymous_ & needed) == needed) return true;
  if (user.empty()) return false;
  for (const auto& rule : rules_) {
    bool subject =
        rule.any_user || std::find(rule.users.begin(), rule.users.end(), user) != rule.users.end();
    if (!subject) continue;
    if (catalog) {
      if (rule.catalog) return true;
      continue;
    }
    if ((rule.actions & needed) != needed) continue;
    for (const auto& glob : rule.repositories) {
      if (glob.matches(access.name)) return true;
    }
  }
  return false;
}

}  // namespace portico::auth
