#pragma once
// ApiOptions: the parts of the registry configuration the HTTP handlers need, compiled from
// RegistryConfig by main.cc (so backend/api does not depend on the YAML schema).

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

namespace portico::api {

struct ApiOptions {
  bool delete_enabled = false;  // storage.delete.enabled: DELETE of blobs and manifests
  bool read_only = false;       // storage.maintenance.readonly.enabled: writes → 405
  bool relative_urls = false;   // http.relativeurls: Location headers without scheme/host
  std::string host;             // http.host: fixed "https://name" for Location headers
  std::string prefix;           // http.prefix: routes live under it
  std::vector<std::pair<std::string, std::string>> headers;  // http.headers, on every response
  size_t max_manifest_bytes = size_t{4} * 1024 * 1024;       // larger PUTs → 400 SIZE_INVALID
  size_t max_page_size = 10'000;  // largest `n` of tags/list and _catalog
};

}  // namespace portico::api
