#include "proxy/router.h"

namespace portico::proxy {
namespace {

// The Host header's host part, without the port ("[::1]:5000" → "[::1]").
std::string_view hostWithoutPort(std::string_view host) {
  if (!host.empty() && host.front() == '[') {
    const size_t close = host.find(']');
    return close == std::string_view::npos ? host : host.substr(0, close + 1);
  }
  const size_t colon = host.rfind(':');
  return colon == std::string_view::npos ? host : host.substr(0, colon);
}

bool hostMatches(std::string_view pattern, std::string_view host) {
  if (pattern.size() > 2 && pattern.substr(0, 2) == "*.") {
    const std::string_view suffix = pattern.substr(1);  // ".example.com"
    return host.size() > suffix.size() &&
           http::equalsIgnoreCase(host.substr(host.size() - suffix.size()), suffix);
  }
  return http::equalsIgnoreCase(pattern, host);
}

// A rule answering a bare `status` to requests under `path_prefix` from the clients that
// `user_agent` picks out.
RouteRule respondRule(std::string route, std::string path_prefix, UserAgentMatcher user_agent,
                      int status) {
  RouteRule rule;
  rule.match.path_prefix = std::move(path_prefix);
  rule.match.user_agent = std::move(user_agent);
  rule.action.route = std::move(route);
  rule.action.kind = RouteAction::Kind::Respond;
  rule.action.respond.status = status;
  return rule;
}

// A rule forwarding every request under `path_prefix` to the upstream group `upstream`.
RouteRule forwardRule(std::string route, std::string path_prefix, std::string upstream) {
  RouteRule rule;
  rule.match.path_prefix = std::move(path_prefix);
  rule.action.route = std::move(route);
  rule.action.kind = RouteAction::Kind::Forward;
  rule.action.upstream = std::move(upstream);
  return rule;
}

}  // namespace

bool RouteMatch::matches(const http::RequestHead& request) const {
  if (!path_prefix.empty() && request.path.compare(0, path_prefix.size(), path_prefix) != 0)
    return false;
  if (!methods.empty()) {
    bool found = false;
    for (const std::string& m : methods) found = found || m == request.method;
    if (!found) return false;
  }
  if (!hosts.empty()) {
    const std::string_view host = hostWithoutPort(request.headers.get("Host").value_or(""));
    bool found = false;
    for (const std::string& h : hosts) found = found || hostMatches(h, host);
    if (!found) return false;
  }
  if (path_regex && !path_regex->matches(request.path)) return false;
  if (user_agent && !user_agent->matches(request.headers.get("User-Agent").value_or("")))
    return false;
  return true;
}

const RouteAction* Router::match(const http::RequestHead& request) const {
  for (const RouteRule& rule : rules_) {
    if (rule.match.matches(request)) return &rule.action;
  }
  return nullptr;
}

std::vector<RouteRule> Router::defaultRules() {
  UserAgentMatcher legacy_docker;
  legacy_docker.setDockerVersion(VersionConstraint::parse("< 1.6").value());
  UserAgentMatcher legacy_go;
  legacy_go.setLegacyGoClient(true);

  std::vector<RouteRule> rules;
  rules.push_back(respondRule("legacy-docker-v2", "/v2/", std::move(legacy_docker), 404));
  rules.push_back(respondRule("legacy-go-ping", "/v2/", std::move(legacy_go), 404));
  rules.push_back(forwardRule("v2", "/v2/", "v2"));
  rules.push_back(forwardRule("v1", "/", "v1"));
  return rules;
}

}  // namespace portico::proxy
