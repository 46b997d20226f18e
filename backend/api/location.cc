#include "backend/api/location.h"

namespace portico::api {
namespace {

// The first element of a comma-separated header list, trimmed.
std::string_view firstElement(std::string_view value) {
  value = value.substr(0, value.find(','));
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
  return value;
}

// A host[:port] safe to echo into a header: no whitespace, controls, '/', '@' or quotes.
bool plausibleHost(std::string_view host) {
  if (host.empty() || host.size() > 255) return false;
  for (char c : host) {
    auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7f || c == '/' || c == '@' || c == '"' || c == '\\' || c == '?' ||
        c == '#') {
      return false;
    }
  }
  return true;
}

}  // namespace

std::string urlBase(const http::RequestHead& request, bool tls, const ApiOptions& options) {
  if (options.relative_urls) return "";
  if (!options.host.empty()) return options.host;
  std::string_view scheme = tls ? "https" : "http";
  if (auto proto = request.headers.get("X-Forwarded-Proto")) {
    std::string_view first = firstElement(*proto);
    if (http::equalsIgnoreCase(first, "https")) scheme = "https";
    if (http::equalsIgnoreCase(first, "http")) scheme = "http";
  }
  std::string_view host;
  if (auto forwarded = request.headers.get("X-Forwarded-Host")) host = firstElement(*forwarded);
  if (!plausibleHost(host)) {
    host = {};
    if (auto h = request.headers.get("Host")) host = firstElement(*h);
  }
  if (!plausibleHost(host)) return "";
  return std::string(scheme) + "://" + std::string(host);
}

std::string locationFor(const http::RequestHead& request, bool tls, const ApiOptions& options,
                        std::string_view path) {
  return urlBase(request, tls, options) + std::string(path);
}

}  // namespace portico::api
