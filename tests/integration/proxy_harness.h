#pragma once
// Shared by the proxy integration tests: writes a proxy.yml for a test (127.0.0.1:0
// listeners, generated certificates, FakeUpstream servers) and starts the real
// portico-proxy binary ($PORTICO_PROXY_BIN) with it.

#include <cstdlib>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "tests/fixtures/fixtures.h"

namespace portico::testing {

inline std::string proxyBinary() {
  const char* path = std::getenv("PORTICO_PROXY_BIN");
  if (path == nullptr) throw std::runtime_error("PORTICO_PROXY_BIN is not set");
  return path;
}

struct ProxySetup {
  bool tls = false;
  std::string tls_extra;  // more keys of listen[0].tls, e.g. "client_auth: required"
  bool second_certificate = false;
  std::vector<std::string> v2;  // v2 servers
  std::vector<std::string> v1;  // v1 servers (none: no v1 upstream)
  std::string v2_extra;  // more keys of upstreams.v2 (flow style, e.g. "timeouts: {read: 1s}")
  std::string upstreams_extra;  // more upstreams, e.g. "  token: {servers: [\"h:p\"]}\n"
  std::string access_log_path;  // empty: off
  std::string access_log_format = "json";
  unsigned workers = 2;
  std::string extra;  // appended at the top level
};

inline std::string quotedList(const std::vector<std::string>& items) {
  std::string out = "[";
  for (size_t i = 0; i < items.size(); ++i) out += (i ? ", \"" : "\"") + items[i] + "\"";
  return out + "]";
}

inline std::string proxyYaml(const ProxySetup& setup) {
  const auto& certs = TestCertificates::shared();
  std::string yaml = "listen:\n  - address: \"127.0.0.1:0\"\n";
  if (setup.tls) {
    yaml += "    tls:\n      certificates:\n";
    yaml += "        - {certificate: \"" + certs.serverCert() + "\", key: \"" + certs.serverKey() +
            "\"}\n";
    if (setup.second_certificate) {
      yaml += "        - {certificate: \"" + certs.otherCert() + "\", key: \"" + certs.otherKey() +
              "\"}\n";
    }
    if (!setup.tls_extra.empty()) yaml += "      " + setup.tls_extra + "\n";
  }
  yaml += "upstreams:\n";
  yaml += "  v2: {servers: " + quotedList(setup.v2) +
          (setup.v2_extra.empty() ? "" : ", " + setup.v2_extra) + "}\n";
  if (!setup.v1.empty()) yaml += "  v1: {servers: " + quotedList(setup.v1) + "}\n";
  yaml += setup.upstreams_extra;
  yaml += "admin: {address: \"127.0.0.1:0\"}\n";
  if (setup.access_log_path.empty()) {
    yaml += "access_log: {path: \"off\"}\n";
  } else {
    yaml += "access_log: {path: \"" + setup.access_log_path +
            "\", format: " + setup.access_log_format + "}\n";
  }
  yaml += "log: {async: false}\n";
  yaml += "workers: " + std::to_string(setup.workers) + "\n";
  yaml += setup.extra;
  return yaml;
}

// A running portico-proxy with its config directory.
struct RunningProxy {
  TempDir dir{"portico-proxy-test"};
  std::string config_path;
  std::optional<ServerProcess> process;

  ServerProcess& operator*() { return *process; }
  ServerProcess* operator->() { return &*process; }
};

inline void startProxy(RunningProxy& proxy, const ProxySetup& setup) {
  proxy.config_path = proxy.dir.write("proxy.yml", proxyYaml(setup));
  proxy.process.emplace(ServerProcess::start(proxyBinary(), {"--config", proxy.config_path}));
}

inline TlsClientOptions trustingTestCa() {
  TlsClientOptions tls;
  tls.ca_file = TestCertificates::shared().caCert();
  return tls;
}

}  // namespace portico::testing
