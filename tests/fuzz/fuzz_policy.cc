// Fuzz target: the auth.policy parser (backend/auth/policy.h): the YAML of `policy:` through
// Policy::parse, then allows() for a few users and access records, and RepositoryGlob on the
// raw input. A configuration error is config::ConfigError; any other exception escapes and is
// a finding. Input: a repository name, NUL, then the policy YAML.

#include <string>

#include "backend/auth/policy.h"
#include "tests/fuzz/fuzz.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  portico::fuzz::Input input(data, size);
  std::string name(input.field());
  std::string_view yaml = input.rest();
  if (auto glob = portico::auth::RepositoryGlob::parse(yaml)) (void)glob->matches(name);
  try {
    auto document = portico::config::YamlDocument::loadString(yaml, "policy.yml");
    auto policy = portico::auth::Policy::parse(document.root());
    for (const char* user : {"", "alice", "ci"}) {
      for (const char* action : {"pull", "push", "delete", "*"}) {
        (void)policy.allows(user, portico::api::Access{"repository", name, action});
      }
      (void)policy.allows(user, portico::api::Access{"registry", "catalog", "*"});
    }
  } catch (const portico::config::ConfigError&) {
  }
  return 0;
}
