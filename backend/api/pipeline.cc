#include "backend/api/pipeline.h"

#include <utility>

#include "backend/api/handlers.h"

namespace portico::api {

std::optional<Error> refusedByPolicy(const ApiOptions& options, const Route& route,
                                     std::string_view method) {
  const bool write = method != "GET" && method != "HEAD";
  if (!write) return std::nullopt;
  const bool deletes_content =
      method == "DELETE" && (route.kind == RouteKind::Blob || route.kind == RouteKind::Manifest);
  if (deletes_content && !options.delete_enabled) {
    return Error{registry::ErrorCode::Unsupported, "deletes are disabled",
                 "storage.delete.enabled is false"};
  }
  if (options.read_only) {
    return Error{registry::ErrorCode::Unsupported, "read-only mode",
                 "the registry is in read-only mode (storage.maintenance.readonly)"};
  }
  return std::nullopt;
}

void runPipeline(Pending& pending, AccessController& access) {
  auto& request = pending.request();
  auto required = requiredAccess(request.route, request.request());
  // The decision may come later (a token service): guarded like any completion.
  auto decided = pending.then<AccessDecision>([](Pending& p, Result<AccessDecision> decision) {
    auto& request = p.request();
    if (!decision->allowed) {
      http::HeaderMap headers;
      for (const auto& [name, value] : decision->headers) headers.add(name, value);
      return request.respondError(decision->error, headers);
    }
    request.actor = std::move(decision->user);
    if (auto refused =
            refusedByPolicy(request.options(), request.route, request.request().method)) {
      return request.respondError(*refused);
    }
    dispatch(p);
  });
  access.authorize(request.request(), required, request.worker(),
                   [decided = std::move(decided)](AccessDecision decision) mutable {
                     decided(std::move(decision));
                   });
}

void dispatch(Pending& pending) {
  switch (pending.request().route.kind) {
    case RouteKind::Base:
      return handleBase(pending);
    case RouteKind::Catalog:
      return handleCatalog(pending);
    case RouteKind::Tags:
      return handleTags(pending);
    case RouteKind::Blob:
      return handleBlob(pending);
    case RouteKind::UploadStart:
      return handleUploadStart(pending);
    case RouteKind::Upload:
      return handleUpload(pending);
    case RouteKind::Manifest:
      return handleManifest(pending);
    case RouteKind::Referrers:
      return handleReferrers(pending);
  }
}

}  // namespace portico::api
