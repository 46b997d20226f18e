// Fuzz target: portico-proxy's configuration loader (proxy/proxy_config.h), the path
// `check-config` takes before it loads the certificate files: ProxyConfig::loadString. A
// configuration error is config::ConfigError; any other exception escapes and is a finding.
// A configuration that loads has its routes applied to one request.

#include "common/config/yaml_document.h"
#include "proxy/proxy_config.h"
#include "tests/fuzz/fuzz.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view yaml(reinterpret_cast<const char*>(data), size);
  try {
    auto config = portico::proxy::ProxyConfig::loadString(yaml);
    portico::http::RequestHead head;
    head.method = "GET";
    head.target = head.path = "/v2/library/alpine/manifests/latest";
    head.headers.add("Host", "registry.example");
    head.headers.add("User-Agent", "docker/20.10.7 go/go1.13.15 git-commit/b0f5bc3");
    (void)config.router.match(head);
  } catch (const portico::config::ConfigError&) {
  }
  return 0;
}
