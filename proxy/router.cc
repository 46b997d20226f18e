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
  std::vector<RouteRule> rules;

  RouteRule legacyDocker;
  legacyDocker.match.path_prefix = "/v2/";
  legacyDocker.match.user_agent.emplace();
  legacyDocker.match.user_agent->setDockerVersion(VersionConstraint::parse("< 1.6").value());
  legacyDocker.action.route = "legacy-docker-v2";
  legacyDocker.action.kind = RouteAction::Kind::Respond;
  legacyDocker.action.respond.status = 404;
  rules.push_back(std::move(legacyDocker));

  RouteRule legacyGo;
  legacyGo.match.path_prefix = "/v2/";
  legacyGo.match.user_agent.emplace();
  legacyGo.match.user_agent->setLegacyGoClient(true);
  legacyGo.action.route = "legacy-go-ping";
  legacyGo.action.kind = RouteAction::Kind::Respond;
  legacyGo.action.respond.status = 404;
  rules.push_back(std::move(legacyGo));

  RouteRule v2;
  v2.match.path_prefix = "/v2/";
  v2.action.route = "v2";
  v2.action.kind = RouteAction::Kind::Forward;
  v2.action.upstream = "v2";
  rules.push_back(std::move(v2));

  RouteRule v1;
  v1.match.path_prefix = "/";
  v1.action.route = "v1";
  v1.action.kind = RouteAction::Kind::Forward;
  v1.action.upstream = "v1";
  rules.push_back(std::move(v1));
  return rules;
}

}  // namespace portico::proxy
