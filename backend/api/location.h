#pragma once
// Location headers (OCI Distribution Spec: uploads answer with the URL to continue at). Like
// distribution's urls.go: http.host when configured; else the scheme from X-Forwarded-Proto
// (or the connection's TLS) and the host from X-Forwarded-Host (or Host), first list element
// each, so that uploads work through portico-proxy; nothing at all with http.relativeurls.

#include <string>
#include <string_view>

#include "backend/api/api_options.h"
#include "common/http/message.h"

namespace portico::api {

// "https://registry.example.com" or "" (relative URLs, or no Host to build from).
std::string urlBase(const http::RequestHead& request, bool tls, const ApiOptions& options);

// urlBase() + path.
std::string locationFor(const http::RequestHead& request, bool tls, const ApiOptions& options,
                        std::string_view path);

}  // namespace portico::api
