// GET /v2/, /v2/_catalog and /v2/<name>/tags/list (OCI Distribution Spec "Listing Tags",
// Docker Registry API "Catalog"), and GET /v2/<name>/referrers/<digest> (OCI 1.1
// "Listing Referrers").

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "backend/api/error_response.h"
#include "backend/api/handlers.h"
#include "backend/registry/catalog.h"
#include "backend/registry/manifests/media_types.h"

namespace portico::api {
namespace {

// `Link: <path?n=N&last=X>; rel="next"` (RFC 8288), relative like distribution's.
std::string nextLink(const std::string& path, size_t n, const std::string& last) {
  return "<" + path + "?n=" + std::to_string(n) + "&last=" + http::percentEncode(last) +
         ">; rel=\"next\"";
}

void respondJson(ApiRequest& request, const nlohmann::json& body, http::HeaderMap headers) {
  headers.set("Content-Type", std::string(kJsonContentType));
  request.respond(200, std::move(headers), body.dump());
}

// The `n` and `last` query parameters; false after answering PAGINATION_NUMBER_INVALID.
bool pagination(ApiRequest& request, std::optional<size_t>& n, std::string& last) {
  std::string n_text = request.request().queryParam("n").value_or("");
  auto parsed = registry::parsePaginationNumber(n_text, request.options().max_page_size);
  if (!parsed) {
    request.respondError(parsed.error());
    return false;
  }
  n = *parsed;
  last = request.request().queryParam("last").value_or("");
  return true;
}

}  // namespace

void handleBase(ApiRequest request) {
  http::HeaderMap headers = request.baseHeaders();
  headers.set("Content-Type", std::string(kJsonContentType));
  request.respond(200, std::move(headers), "{}");
}

void handleCatalog(ApiRequest request) {
  std::optional<size_t> n;
  std::string last;
  if (!pagination(request, n, last)) return;
  size_t page_size = n.value_or(registry::kDefaultPageSize);
  auto page = request.services().catalog.list(page_size, last);
  if (!page) return request.respondError(page.error());
  http::HeaderMap headers = request.baseHeaders();
  if (page->next_last) {
    headers.set("Link", nextLink(request.routes().catalogPath(), page_size, *page->next_last));
  }
  respondJson(request, {{"repositories", page->entries}}, std::move(headers));
}

void handleTags(ApiRequest request) {
  std::optional<size_t> n;
  std::string last;
  if (!pagination(request, n, last)) return;
  const auto& repo = request.route.repository;
  auto tags = request.services().tags.list(repo);
  if (!tags) return request.respondError(tags.error());
  registry::Page page = registry::paginate(*tags, n, last);
  http::HeaderMap headers = request.baseHeaders();
  if (page.next_last && n) {
    headers.set("Link", nextLink(request.routes().tagsPath(repo), *n, *page.next_last));
  }
  respondJson(request, {{"name", repo.str()}, {"tags", page.entries}}, std::move(headers));
}

void handleReferrers(ApiRequest request) {
  std::optional<std::string> artifact_type = request.request().queryParam("artifactType");
  if (artifact_type && artifact_type->empty()) artifact_type.reset();
  std::optional<std::string_view> filter;
  if (artifact_type) filter = *artifact_type;
  auto referrers =
      request.services().referrers.list(request.route.repository, request.route.digest, filter);
  if (!referrers) return request.respondError(referrers.error());
  http::HeaderMap headers = request.baseHeaders();
  headers.set("Content-Type", std::string(registry::manifests::kOciIndex));
  if (artifact_type) headers.set("OCI-Filters-Applied", "artifactType");
  request.respond(200, std::move(headers), registry::ReferrerIndex::renderIndex(*referrers));
}

}  // namespace portico::api
