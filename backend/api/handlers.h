#pragma once
// The registry API handlers, one per route (HTTP only: parse the request, call a service,
// render the answer). Each takes an ApiRequest whose route is matched and validated, and
// either answers before returning or attaches an observer to the exchange that answers later
// (streamed bodies). RegistryHandler dispatches to them.

#include "backend/api/api_request.h"

namespace portico::api {

// GET/HEAD /v2/ → 200 {}.
void handleBase(ApiRequest request);
// GET/HEAD /v2/_catalog?n=&last=.
void handleCatalog(ApiRequest request);
// GET/HEAD /v2/<name>/tags/list?n=&last=.
void handleTags(ApiRequest request);
// HEAD/GET (Range) and DELETE /v2/<name>/blobs/<digest>.
void handleBlob(ApiRequest request);
// POST /v2/<name>/blobs/uploads/ (start, monolithic ?digest=, mount ?mount=&from=).
void handleUploadStart(ApiRequest request);
// GET/HEAD (status), PATCH (chunk), PUT (?digest=, complete), DELETE (cancel) of an upload.
void handleUpload(ApiRequest request);
// HEAD/GET/PUT/DELETE /v2/<name>/manifests/<reference>.
void handleManifest(ApiRequest request);
// GET/HEAD /v2/<name>/referrers/<digest>?artifactType=.
void handleReferrers(ApiRequest request);

}  // namespace portico::api
