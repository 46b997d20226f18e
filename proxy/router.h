#pragma once
// The proxy's router: an ordered list of rules compiled once from proxy.yml `routes:`; the
// first rule whose every condition matches decides the action (forward to a named upstream
// or respond directly). Matching allocates nothing and takes no lock.
//
// Conditions of a rule (all optional; a rule without any matches every request):
//   path_prefix  request path (percent-encoded, as sent) starts with it
//   path_regex   PCRE2 pattern found in the request path
//   methods      request method is one of these (exact, case-sensitive per RFC 9110 §9.1)
//   hosts        Host header, without port, equals one (case-insensitive); "*.example.com"
//                matches any subdomain
//   user_agent   see UserAgentMatcher (user_agent.h)

#include <optional>
#include <string>
#include <vector>

#include "common/http/message.h"
#include "proxy/regex.h"
#include "proxy/user_agent.h"

namespace portico::proxy {

// A response the proxy gives itself (legacy 404s, "no v1 registry" answers).
struct RespondAction {
  int status = 404;
  http::HeaderMap headers;
  std::string body;
};

// What a matching rule does.
struct RouteAction {
  std::string route;  // the rule's name (access log, metrics)
  enum class Kind { Forward, Respond } kind = Kind::Respond;
  std::string upstream;   // Kind::Forward: name of the upstream group
  RespondAction respond;  // Kind::Respond
};

struct RouteMatch {
  std::string path_prefix;  // empty: any path
  std::optional<Regex> path_regex;
  std::vector<std::string> methods;  // empty: any method
  std::vector<std::string> hosts;    // empty: any host
  std::optional<UserAgentMatcher> user_agent;

  bool matches(const http::RequestHead& request) const;
};

struct RouteRule {
  RouteMatch match;
  RouteAction action;
};

class Router {
 public:
  Router() = default;
  explicit Router(std::vector<RouteRule> rules) : rules_(std::move(rules)) {}

  // The first matching rule's action; nullptr when no rule matches (the caller answers 404).
  const RouteAction* match(const http::RequestHead& request) const;
  const std::vector<RouteRule>& rules() const { return rules_; }

  // The nginx deployment's rules: legacy Docker (< 1.6) and the legacy Go client on /v2/ get
  // a bare 404 (so they fall back to v1); /v2/ forwards to `v2`; everything else forwards to
  // `v1`. Same as the `routes:` of conf/proxy.yml and the default when `routes:` is omitted.
  static std::vector<RouteRule> defaultRules();

 private:
  std::vector<RouteRule> rules_;
};

}  // namespace portico::proxy
