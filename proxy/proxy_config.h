#pragma once
// portico-proxy's configuration (proxy.yml), parsed and validated once at start or reload.
// Every value is checked here: unknown keys, bad values, routes forwarding to undefined
// upstreams and unloadable regexes throw config::ConfigError naming file, line and key, e.g.
//   proxy.yml:14: routes[2].match.user_agent.docker_version: unknown operator "<<"
// The documented reference is conf/proxy.yml. Omitted keys take the nginx deployment's values:
// listen 0.0.0.0:5000 (TLS only when certificates are given), upstream v2 = 127.0.0.1:5001,
// read timeout 900s, no body size limit, the default routes (Router::defaultRules()).
//
// No v1 upstream: a route that forwards to `v1` while no `v1` upstream is defined is not an
// error. It becomes a respond action — 404, text/plain, "no legacy v1 registry is configured"
// — and a line in `warnings`. Forwarding to any other undefined upstream is an error.

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/http/server.h"
#include "common/log/access_log.h"
#include "common/log/log.h"
#include "common/net/tls_options.h"
#include "proxy/router.h"
#include "proxy/upstream_group.h"

namespace portico::proxy {

// One `listen:` entry.
struct ListenConfig {
  std::string address;                       // "host:port", ":port", "[v6]:port" or "unix:/path"
  std::optional<net::TlsServerOptions> tls;  // absent: plain HTTP
};

// One `upstreams:` entry (the name is the map key and also UpstreamConfig::name).
using UpstreamConfig = UpstreamGroupOptions;

struct AccessLogConfig {
  std::string path = "-";         // "-" = stdout; "off" = disabled
  log::AccessLogOptions options;  // format, buffer, flush interval
};

struct AdminConfig {
  std::string address = "127.0.0.1:5002";  // empty = no admin listener
};

// The body of the respond action that replaces `forward: v1` when no v1 is configured.
inline constexpr std::string_view kNoV1Body = "no legacy v1 registry is configured\n";

struct ProxyConfig {
  std::string source;  // file name the config came from (for messages)
  std::vector<ListenConfig> listen;
  std::map<std::string, UpstreamConfig> upstreams;
  Router router;
  http::ServerLimits limits;
  AccessLogConfig access_log;
  AdminConfig admin;
  log::Options log;                   // `log: {level, format, async}` for the process's own log
  unsigned workers = 0;               // 0 = one per CPU core
  std::vector<std::string> warnings;  // accepted but noteworthy (e.g. v1 replaced by a 404)

  // Reads and validates a file. Throws config::ConfigError. Relative paths of TLS files
  // (listen[].tls, upstreams.*.tls) are taken relative to the file's directory.
  static ProxyConfig load(const std::string& path);
  // Same from YAML text; `file_name` is used in error messages.
  static ProxyConfig loadString(std::string_view yaml, const std::string& file_name = "proxy.yml");
};

}  // namespace portico::proxy
