// Fuzz target: the proxy's User-Agent parsing and version matcher (proxy/user_agent.h):
// UserAgent::parse, DockerVersion::parse, VersionConstraint::parse and holds(), and the
// effective Docker version / legacy Go client checks the default routes use.
// Input: a constraint, NUL, then the User-Agent header.

#include "proxy/user_agent.h"
#include "tests/fuzz/fuzz.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  portico::fuzz::Input input(data, size);
  std::string_view constraint_text = input.field();
  std::string_view header = input.rest();

  using namespace portico::proxy;
  UserAgent agent = UserAgent::parse(header);
  (void)agent.productVersion("docker");
  (void)agent.productVersion("Go-http-client");
  auto docker = agent.dockerVersion();
  (void)DockerVersion::parse(header);
  (void)DockerVersion::parse(constraint_text);
  auto effective = UserAgentMatcher::effectiveDockerVersion(header);
  (void)UserAgentMatcher::isLegacyGoClient(header);

  auto constraint = VersionConstraint::parse(constraint_text);
  if (constraint) {
    if (docker) (void)constraint->holds(*docker);
    if (effective) (void)constraint->holds(*effective);
    UserAgentMatcher matcher;
    matcher.setDockerVersion(*constraint);
    matcher.setLegacyGoClient(header.size() % 2 == 0);
    (void)matcher.matches(header);
  }
  return 0;
}
