#include "proxy/proxy_config.h"

#include <filesystem>
#include <set>

#include "common/config/yaml_document.h"

namespace portico::proxy {
namespace {

using config::Node;

// "host:port", ":port", "[v6]:port" or "unix:/absolute/path"; returns a problem or "".
std::string checkAddress(const std::string& address) {
  if (address.rfind("unix:", 0) == 0) {
    const std::string path = address.substr(5);
    if (path.empty() || path.front() != '/') return "unix socket path must be absolute";
    return "";
  }
  std::string host;
  std::string port;
  if (!address.empty() && address.front() == '[') {
    const size_t close = address.find(']');
    if (close == std::string::npos || close + 1 >= address.size() || address[close + 1] != ':')
      return "expected [ipv6]:port";
    host = address.substr(1, close - 1);
    port = address.substr(close + 2);
    if (host.empty()) return "empty IPv6 address";
  } else {
    const size_t colon = address.rfind(':');
    if (colon == std::string::npos) return "expected host:port or unix:/path";
    host = address.substr(0, colon);
    port = address.substr(colon + 1);
    if (host.find(':') != std::string::npos) return "IPv6 addresses need brackets: [::1]:5000";
  }
  if (port.empty() || port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos)
    return "invalid port \"" + port + "\"";
  if (std::stoi(port) > 65535) return "port out of range: " + port;
  return "";
}

std::string addressOf(const Node& node) {
  std::string address = node.asString();
  if (std::string problem = checkAddress(address); !problem.empty())
    node.fail("invalid address \"" + address + "\": " + problem);
  return address;
}

std::string tlsVersionOf(const Node& node) {
  std::string version = node.asString();
  if (version.rfind("TLSv", 0) == 0) version = version.substr(4);
  if (version == "1.2" || version == "1.3") return version;
  if (version == "1.0" || version == "1.1" || version == "1" || version.rfind("SSL", 0) == 0)
    node.fail("TLS versions below 1.2 are not allowed (got \"" + node.asString() + "\")");
  node.fail("expected \"1.2\" or \"1.3\", got \"" + node.asString() + "\"");
}

std::vector<std::string> stringList(const Node& node) {
  std::vector<std::string> out;
  for (const Node& item : node.itemsOrScalar()) out.push_back(item.asString());
  return out;
}

net::TlsServerOptions parseServerTls(const Node& tls) {
  tls.requireMap();
  tls.checkKeys({"certificates", "client_ca", "client_auth", "min_version", "ciphers",
                 "ciphersuites", "alpn"});
  net::TlsServerOptions options;
  const Node certificates = tls["certificates"];
  if (!certificates.defined()) certificates.fail("is required: at least one {certificate, key}");
  for (const Node& item : certificates.items()) {
    item.requireMap();
    item.checkKeys({"certificate", "key"});
    options.certificates.push_back({item["certificate"].asString(), item["key"].asString()});
  }
  if (options.certificates.empty()) certificates.fail("needs at least one {certificate, key}");
  options.client_ca = tls.stringOr("client_ca", "");
  if (const Node auth = tls["client_auth"]; auth.defined()) {
    const std::string mode = auth.asString();
    if (mode == "none") {
      options.client_auth = net::ClientAuth::None;
    } else if (mode == "optional") {
      options.client_auth = net::ClientAuth::Optional;
    } else if (mode == "required") {
      options.client_auth = net::ClientAuth::Required;
    } else {
      auth.fail("expected none, optional or required, got \"" + mode + "\"");
    }
    if (options.client_auth != net::ClientAuth::None && options.client_ca.empty())
      auth.fail("client_auth " + mode + " needs client_ca");
  }
  if (const Node v = tls["min_version"]; v.defined()) options.min_version = tlsVersionOf(v);
  options.ciphers = tls.stringOr("ciphers", "");
  options.ciphersuites = tls.stringOr("ciphersuites", "");
  if (const Node alpn = tls["alpn"]; alpn.defined()) options.alpn = stringList(alpn);
  return options;
}

net::TlsClientOptions parseClientTls(const Node& tls) {
  net::TlsClientOptions options;
  if (tls.isScalar()) {
    if (!tls.asBool()) tls.fail("use a mapping or true to talk TLS to the servers");
    return options;
  }
  tls.requireMap();
  tls.checkKeys({"ca_file", "verify", "server_name", "certificate", "key", "min_version"});
  options.ca_file = tls.stringOr("ca_file", "");
  options.verify = tls.boolOr("verify", true);
  options.server_name = tls.stringOr("server_name", "");
  options.certificate = tls.stringOr("certificate", "");
  options.key = tls.stringOr("key", "");
  if (options.certificate.empty() != options.key.empty())
    tls.fail("certificate and key go together");
  if (const Node v = tls["min_version"]; v.defined()) options.min_version = tlsVersionOf(v);
  return options;
}

ListenConfig parseListen(const Node& node) {
  ListenConfig listen;
  if (node.isScalar()) {
    listen.address = addressOf(node);
    return listen;
  }
  node.requireMap();
  node.checkKeys({"address", "tls"});
  listen.address = addressOf(node["address"]);
  if (const Node tls = node["tls"]; tls.defined()) listen.tls = parseServerTls(tls);
  return listen;
}

bool validName(const std::string& name) {
  if (name.empty()) return false;
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_' || c == '.';
    if (!ok) return false;
  }
  return true;
}

UpstreamConfig parseUpstream(const std::string& name, const Node& node) {
  node.requireMap();
  node.checkKeys({"servers", "balance", "keepalive", "timeouts", "health_check", "passive", "tls"});
  UpstreamConfig upstream;
  upstream.name = name;
  const Node servers = node["servers"];
  if (!servers.defined()) servers.fail("is required: a list of host:port or unix:/path");
  for (const Node& server : servers.itemsOrScalar()) upstream.servers.push_back(addressOf(server));
  if (upstream.servers.empty()) servers.fail("needs at least one server");

  if (const Node balance = node["balance"]; balance.defined()) {
    const std::string mode = balance.asString();
    if (mode == "round_robin") {
      upstream.balance = Balance::RoundRobin;
    } else if (mode == "least_connections") {
      upstream.balance = Balance::LeastConnections;
    } else {
      balance.fail("expected round_robin or least_connections, got \"" + mode + "\"");
    }
  }
  upstream.keepalive = static_cast<size_t>(node.intOr("keepalive", 32, 0, 100000));

  if (const Node timeouts = node["timeouts"]; timeouts.defined()) {
    timeouts.requireMap();
    timeouts.checkKeys({"connect", "read", "write"});
    upstream.timeouts.connect = timeouts.durationOr("connect", upstream.timeouts.connect);
    upstream.timeouts.read = timeouts.durationOr("read", upstream.timeouts.read);
    upstream.timeouts.write = timeouts.durationOr("write", upstream.timeouts.write);
  }

  if (const Node health = node["health_check"]; health.defined()) {
    health.requireMap();
    health.checkKeys({"enabled", "path", "interval", "timeout", "expect", "fall", "rise"});
    HealthCheckOptions& h = upstream.health_check;
    h.enabled = health.boolOr("enabled", true);
    h.path = health.stringOr("path", h.path);
    if (h.path.empty() || h.path.front() != '/') health["path"].fail("must start with /");
    h.interval = health.durationOr("interval", h.interval);
    h.timeout = health.durationOr("timeout", h.timeout);
    if (h.interval.count() <= 0) health["interval"].fail("must be positive");
    if (h.timeout.count() <= 0) health["timeout"].fail("must be positive");
    if (const Node expect = health["expect"]; expect.defined()) {
      h.expect.clear();
      for (const Node& status : expect.itemsOrScalar())
        h.expect.push_back(static_cast<int>(status.asInt(100, 599)));
      if (h.expect.empty()) expect.fail("needs at least one status");
    }
    h.fall = static_cast<uint32_t>(health.intOr("fall", h.fall, 1, 1000));
    h.rise = static_cast<uint32_t>(health.intOr("rise", h.rise, 1, 1000));
  }

  if (const Node passive = node["passive"]; passive.defined()) {
    passive.requireMap();
    passive.checkKeys({"max_fails", "fail_timeout"});
    upstream.passive.max_fails =
        static_cast<uint32_t>(passive.intOr("max_fails", upstream.passive.max_fails, 0, 100000));
    upstream.passive.fail_timeout =
        passive.durationOr("fail_timeout", upstream.passive.fail_timeout);
  }

  if (const Node tls = node["tls"]; tls.defined()) {
    if (!(tls.isScalar() && !tls.asBool())) upstream.tls = parseClientTls(tls);
  }
  return upstream;
}

bool validMethod(const std::string& method) {
  if (method.empty()) return false;
  for (char c : method) {
    if (!((c >= 'A' && c <= 'Z') || c == '-' || c == '_')) return false;
  }
  return true;
}

UserAgentMatcher parseUserAgent(const Node& node) {
  node.requireMap();
  node.checkKeys({"docker_version", "legacy_go_client", "regex"});
  UserAgentMatcher matcher;
  if (const Node version = node["docker_version"]; version.defined()) {
    auto constraint = VersionConstraint::parse(version.asString());
    if (!constraint) version.fail(constraint.error().message());
    matcher.setDockerVersion(std::move(*constraint));
  }
  if (const Node go = node["legacy_go_client"]; go.defined())
    matcher.setLegacyGoClient(go.asBool());
  if (const Node regex = node["regex"]; regex.defined()) {
    auto compiled = Regex::compile(regex.asString());
    if (!compiled) regex.fail(compiled.error().message());
    matcher.setRegex(std::move(*compiled));
  }
  return matcher;
}

RouteMatch parseMatch(const Node& node) {
  node.requireMap();
  node.checkKeys({"path_prefix", "path_regex", "methods", "host", "hosts", "user_agent"});
  RouteMatch match;
  if (const Node prefix = node["path_prefix"]; prefix.defined()) {
    match.path_prefix = prefix.asString();
    if (match.path_prefix.empty() || match.path_prefix.front() != '/')
      prefix.fail("must start with /");
  }
  if (const Node regex = node["path_regex"]; regex.defined()) {
    auto compiled = Regex::compile(regex.asString());
    if (!compiled) regex.fail(compiled.error().message());
    match.path_regex = std::move(*compiled);
  }
  if (const Node methods = node["methods"]; methods.defined()) {
    for (const Node& item : methods.itemsOrScalar()) {
      std::string method = item.asString();
      if (!validMethod(method))
        item.fail("expected an upper-case method like GET, got \"" + method + "\"");
      match.methods.push_back(std::move(method));
    }
  }
  for (const char* key : {"host", "hosts"}) {
    if (const Node hosts = node[key]; hosts.defined()) {
      for (const Node& item : hosts.itemsOrScalar()) {
        std::string host = item.asString();
        if (host.empty()) item.fail("empty host");
        match.hosts.push_back(std::move(host));
      }
    }
  }
  if (const Node ua = node["user_agent"]; ua.defined()) match.user_agent = parseUserAgent(ua);
  return match;
}

RespondAction parseRespond(const Node& node) {
  node.requireMap();
  node.checkKeys({"status", "headers", "body"});
  RespondAction respond;
  respond.status = static_cast<int>(node.intOr("status", 404, 200, 599));
  if (const Node headers = node["headers"]; headers.defined()) {
    for (const auto& [name, value] : headers.entries()) {
      if (name.empty() || name.find_first_of(" \t\r\n:") != std::string::npos)
        value.fail("invalid header name");
      const std::string text = value.asString();
      if (text.find_first_of("\r\n") != std::string::npos) value.fail("header values are one line");
      respond.headers.add(name, text);
    }
  }
  respond.body = node.stringOr("body", "");
  return respond;
}

RouteRule parseRoute(const Node& node, size_t index) {
  node.requireMap();
  node.checkKeys({"name", "match", "forward", "respond"});
  RouteRule rule;
  rule.action.route = node.stringOr("name", "routes[" + std::to_string(index) + "]");
  if (const Node match = node["match"]; match.defined()) rule.match = parseMatch(match);
  const Node forward = node["forward"];
  const Node respond = node["respond"];
  if (forward.defined() == respond.defined())
    node.fail("needs exactly one action: forward: <upstream> or respond: {status, headers, body}");
  if (forward.defined()) {
    rule.action.kind = RouteAction::Kind::Forward;
    rule.action.upstream = forward.asString();
  } else {
    rule.action.kind = RouteAction::Kind::Respond;
    rule.action.respond = parseRespond(respond);
  }
  return rule;
}

RespondAction noV1Response() {
  RespondAction respond;
  respond.status = 404;
  respond.headers.add("Content-Type", "text/plain; charset=utf-8");
  respond.body = std::string(kNoV1Body);
  return respond;
}

// Checks every forward against the defined upstreams; applies the "no v1" rule.
void resolveForwards(std::vector<RouteRule>& rules, const std::vector<Node>& nodes,
                     const Node& routesNode, ProxyConfig& config) {
  for (size_t i = 0; i < rules.size(); ++i) {
    RouteAction& action = rules[i].action;
    if (action.kind != RouteAction::Kind::Forward || config.upstreams.count(action.upstream))
      continue;
    if (action.upstream == "v1") {
      action.kind = RouteAction::Kind::Respond;
      action.respond = noV1Response();
      config.warnings.push_back("route \"" + action.route +
                                "\" forwards to v1, but no v1 upstream is configured: it answers "
                                "404 \"no legacy v1 registry is configured\"");
      action.upstream.clear();
      continue;
    }
    const Node& at = i < nodes.size() ? nodes[i]["forward"] : routesNode;
    at.fail("route \"" + action.route + "\" forwards to upstream \"" + action.upstream +
            "\", which is not defined in upstreams");
  }
}

ProxyConfig parse(const config::YamlDocument& document) {
  ProxyConfig config;
  config.source = document.fileName();
  const Node root = document.root();
  if (root.defined()) {
    root.requireMap();
    root.checkKeys(
        {"listen", "upstreams", "routes", "limits", "access_log", "admin", "log", "workers"});
  }

  if (const Node listen = root["listen"]; listen.defined()) {
    for (const Node& item : listen.itemsOrScalar()) config.listen.push_back(parseListen(item));
    if (config.listen.empty()) listen.fail("needs at least one address");
  } else {
    config.listen.push_back(ListenConfig{"0.0.0.0:5000", std::nullopt});
  }

  if (const Node upstreams = root["upstreams"]; upstreams.defined()) {
    for (const auto& [name, node] : upstreams.entries()) {
      if (!validName(name)) node.fail("upstream names use letters, digits, - _ and .");
      config.upstreams.emplace(name, parseUpstream(name, node));
    }
  } else {
    UpstreamConfig v2;
    v2.name = "v2";
    v2.servers = {"127.0.0.1:5001"};
    config.upstreams.emplace("v2", std::move(v2));
  }

  std::vector<RouteRule> rules;
  std::vector<Node> routeNodes;
  const Node routes = root["routes"];
  if (routes.defined()) {
    routeNodes = routes.items();
    std::set<std::string> names;
    for (size_t i = 0; i < routeNodes.size(); ++i) {
      rules.push_back(parseRoute(routeNodes[i], i));
      if (!names.insert(rules.back().action.route).second)
        routeNodes[i]["name"].fail("duplicate route name \"" + rules.back().action.route + "\"");
    }
  } else {
    rules = Router::defaultRules();
  }
  resolveForwards(rules, routeNodes, routes, config);
  config.router = Router(std::move(rules));

  if (const Node limits = root["limits"]; limits.defined()) {
    limits.requireMap();
    limits.checkKeys({"header_bytes", "header_count", "request_line_bytes", "body_bytes",
                      "header_timeout", "idle_timeout", "body_timeout", "send_timeout"});
    http::ServerLimits& l = config.limits;
    l.header_bytes = limits.sizeOr("header_bytes", l.header_bytes);
    l.header_count = static_cast<uint32_t>(limits.intOr("header_count", l.header_count, 1, 100000));
    l.request_line_bytes = limits.sizeOr("request_line_bytes", l.request_line_bytes);
    l.body_bytes = limits.sizeOr("body_bytes", l.body_bytes);
    l.header_timeout = limits.durationOr("header_timeout", l.header_timeout);
    l.idle_timeout = limits.durationOr("idle_timeout", l.idle_timeout);
    l.body_timeout = limits.durationOr("body_timeout", l.body_timeout);
    l.send_timeout = limits.durationOr("send_timeout", l.send_timeout);
    if (l.header_bytes < 1024) limits["header_bytes"].fail("must be at least 1KiB");
    if (l.request_line_bytes < 256) limits["request_line_bytes"].fail("must be at least 256");
  }

  if (const Node accessLog = root["access_log"]; accessLog.defined()) {
    if (accessLog.isScalar()) {
      config.access_log.path = accessLog.asString();
    } else {
      accessLog.requireMap();
      accessLog.checkKeys({"path", "format", "buffer", "flush"});
      config.access_log.path = accessLog.stringOr("path", config.access_log.path);
      log::AccessLogOptions& options = config.access_log.options;
      if (const Node format = accessLog["format"]; format.defined()) {
        auto parsed = log::parseFormat(format.asString());
        if (!parsed) format.fail("expected text or json, got \"" + format.asString() + "\"");
        options.format = *parsed;
      }
      options.buffer_bytes = accessLog.sizeOr("buffer", options.buffer_bytes);
      options.flush_interval = accessLog.durationOr("flush", options.flush_interval);
      if (options.flush_interval.count() <= 0) accessLog["flush"].fail("must be positive");
    }
    if (config.access_log.path.empty()) accessLog.fail("empty path (use \"-\" or \"off\")");
  }

  if (const Node admin = root["admin"]; admin.defined()) {
    if (admin.isScalar()) {
      const std::string value = admin.asString();
      if (value != "off") admin.fail("expected {address: host:port} or off");
      config.admin.address.clear();
    } else {
      admin.requireMap();
      admin.checkKeys({"address"});
      const Node address = admin["address"];
      if (!address.defined() || address.asString() == "off" || address.asString().empty()) {
        config.admin.address.clear();
      } else {
        config.admin.address = addressOf(address);
      }
    }
  }

  if (const Node logNode = root["log"]; logNode.defined()) {
    logNode.requireMap();
    logNode.checkKeys({"level", "format", "async"});
    if (const Node level = logNode["level"]; level.defined()) {
      auto parsed = log::parseLevel(level.asString());
      if (!parsed) level.fail("expected trace, debug, info, warn, error, critical or off");
      config.log.level = *parsed;
    }
    if (const Node format = logNode["format"]; format.defined()) {
      auto parsed = log::parseFormat(format.asString());
      if (!parsed) format.fail("expected text or json, got \"" + format.asString() + "\"");
      config.log.format = *parsed;
    }
    config.log.async = logNode.boolOr("async", config.log.async);
  }

  if (const Node workers = root["workers"]; workers.defined()) {
    if (workers.isScalar() && workers.asString() == "auto") {
      config.workers = 0;
    } else {
      config.workers = static_cast<unsigned>(workers.asInt(0, 1024));
    }
  }
  return config;
}

}  // namespace

ProxyConfig ProxyConfig::load(const std::string& path) {
  ProxyConfig config = parse(config::YamlDocument::load(path));
  // Relative file paths are relative to the file's directory (nginx: to its prefix), so that
  // `check-config conf/proxy.yml` finds conf/certs/ from any working directory.
  const std::filesystem::path dir = std::filesystem::path(path).parent_path();
  auto resolve = [&dir](std::string& file) {
    if (!file.empty() && file.front() != '/') file = (dir / file).lexically_normal().string();
  };
  for (auto& listen : config.listen) {
    if (!listen.tls) continue;
    for (auto& pair : listen.tls->certificates) {
      resolve(pair.certificate);
      resolve(pair.key);
    }
    resolve(listen.tls->client_ca);
    for (auto& ca : listen.tls->more_client_cas) resolve(ca);
  }
  for (auto& [name, upstream] : config.upstreams) {
    if (!upstream.tls) continue;
    resolve(upstream.tls->ca_file);
    resolve(upstream.tls->certificate);
    resolve(upstream.tls->key);
  }
  return config;
}

ProxyConfig ProxyConfig::loadString(std::string_view yaml, const std::string& file_name) {
  return parse(config::YamlDocument::loadString(yaml, file_name));
}

}  // namespace portico::proxy
