#include "backend/auth/policy.h"

#include <catch2/catch.hpp>
#include <string>

#include "common/config/yaml_document.h"

using portico::api::Access;
using portico::auth::Policy;
using portico::auth::RepositoryGlob;
using portico::config::ConfigError;
using portico::config::YamlDocument;

namespace {

Policy parse(const std::string& yaml) {
  auto doc = YamlDocument::loadString(yaml, "registry.yml");
  return Policy::parse(doc.root()["auth"]["policy"]);
}

std::string errorOf(const std::string& yaml) {
  try {
    parse(yaml);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "no error";
}

bool matches(const std::string& glob, const std::string& name) {
  auto g = RepositoryGlob::parse(glob);
  REQUIRE(g);
  return g->matches(name);
}

const std::string kExample = R"(auth:
  policy:
    anonymous: [pull]
    groups: {ci: [builder], admins: [alice]}
    rules:
      - {repositories: ["library/*", "base/**"], users: ["*"], actions: [pull]}
      - {repositories: ["team-a/**"], groups: [ci], actions: [pull, push]}
      - {repositories: ["**"], groups: [admins], actions: [pull, push, delete]}
      - {catalog: true, users: ["*"]}
)";

Access repo(const std::string& name, const std::string& action) {
  return {"repository", name, action};
}
const Access kCatalog{"registry", "catalog", "*"};

}  // namespace

TEST_CASE("globs: * stays within a component, ** crosses them", "[policy]") {
  CHECK(matches("library/*", "library/alpine"));
  CHECK_FALSE(matches("library/*", "library/a/b"));
  CHECK_FALSE(matches("library/*", "library"));
  CHECK(matches("base/**", "base/x"));
  CHECK(matches("base/**", "base/x/y/z"));
  CHECK_FALSE(matches("base/**", "base"));
  CHECK_FALSE(matches("base/**", "basement/x"));
  CHECK(matches("**", "a/b/c"));
  CHECK(matches("*/app", "team/app"));
  CHECK_FALSE(matches("*/app", "a/team/app"));
  CHECK(matches("**/app", "a/team/app"));
  CHECK(matches("team-*/**", "team-a/x/y"));
  CHECK(matches("exact/name", "exact/name"));
  CHECK_FALSE(matches("exact/name", "exact/names"));
  // No exponential backtracking: 40 stars against a long name that does not match.
  std::string stars;
  for (int i = 0; i < 40; ++i) stars += "a*";
  CHECK_FALSE(matches(stars + "b", std::string(255, 'a')));
}

TEST_CASE("bad globs are refused", "[policy]") {
  CHECK_FALSE(RepositoryGlob::parse(""));
  CHECK_FALSE(RepositoryGlob::parse("***"));
  CHECK_FALSE(RepositoryGlob::parse("Library/*"));
  CHECK_FALSE(RepositoryGlob::parse("lib?"));
  CHECK(RepositoryGlob::parse("a.b_c-d/**"));
}

TEST_CASE("the issue's example policy: users, groups, anonymous, catalog", "[policy]") {
  Policy policy = parse(kExample);
  // Anonymous: pull everywhere, nothing else, no catalog.
  CHECK(policy.allows("", repo("anything/here", "pull")));
  CHECK_FALSE(policy.allows("", repo("library/alpine", "push")));
  CHECK_FALSE(policy.allows("", kCatalog));
  // Any user: pull library/* (and everything anonymous may), the catalog.
  CHECK(policy.allows("bob", repo("library/alpine", "pull")));
  CHECK_FALSE(policy.allows("bob", repo("library/alpine", "push")));
  CHECK(policy.allows("bob", kCatalog));
  // ci (builder): push team-a/**, not elsewhere.
  CHECK(policy.allows("builder", repo("team-a/app", "push")));
  CHECK(policy.allows("builder", repo("team-a/x/y", "push")));
  CHECK_FALSE(policy.allows("builder", repo("team-b/app", "push")));
  CHECK_FALSE(policy.allows("builder", repo("team-a/app", "delete")));
  // admins: everything, also where an earlier rule gave others only pull.
  CHECK(policy.allows("alice", repo("library/alpine", "push")));
  CHECK(policy.allows("alice", repo("x", "delete")));
}

TEST_CASE("without anonymous, requests without credentials get nothing", "[policy]") {
  Policy policy = parse(
      "auth:\n  policy:\n    rules:\n      - {repositories: ['**'], users: ['*'], "
      "actions: ['*']}\n");
  CHECK_FALSE(policy.allowsAnonymousAnything());
  CHECK_FALSE(policy.allows("", repo("a", "pull")));
  CHECK(policy.allows("bob", repo("a", "delete")));
  CHECK_FALSE(policy.allows("bob", kCatalog));  // no catalog rule: denied
}

TEST_CASE("policy errors name file, line and key", "[policy]") {
  CHECK(errorOf("auth:\n  policy:\n    rules:\n      - {repositories: [a], groups: [ci], actions: "
                "[pull]}\n") ==
        "registry.yml:4: auth.policy.rules[0].groups[0]: unknown group \"ci\"");
  CHECK(errorOf("auth:\n  policy:\n    rules:\n      - {users: [bob], actions: [pull]}\n") ==
        "registry.yml:4: auth.policy.rules[0]: empty rule: give repositories or catalog: true");
  CHECK(errorOf("auth:\n  policy:\n    rules:\n      - {repositories: [a], actions: [pull]}\n") ==
        "registry.yml:4: auth.policy.rules[0]: empty rule: give users or groups");
  CHECK(errorOf("auth:\n  policy:\n    rules:\n      - {repositories: [a], users: [b]}\n") ==
        "registry.yml:4: auth.policy.rules[0]: empty rule: give actions (pull, push, delete, *)");
  CHECK(
      errorOf("auth:\n  policy:\n    rules:\n      - repositories: [\"A/*\"]\n        users: [b]\n"
              "        actions: [pull]\n")
          .starts_with(
              "registry.yml:4: auth.policy.rules[0].repositories[0]: bad repository glob"));
  CHECK(errorOf("auth:\n  policy:\n    rules:\n      - {repositories: [a], users: [b], actions: "
                "[write]}\n") ==
        "registry.yml:4: auth.policy.rules[0].actions[0]: unknown action \"write\" (pull, push, "
        "delete, *)");
  CHECK(errorOf("auth:\n  policy:\n    anonymous: [pull]\n") ==
        "registry.yml:2: auth.policy.rules: required: a policy without rules denies every user");
  CHECK(errorOf("auth:\n  policy:\n    rule: []\n")
            .starts_with("registry.yml:3: auth.policy.rule: unknown key"));
}
