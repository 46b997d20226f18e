#pragma once
// The registry API handlers, one per route (HTTP only: parse the request, call a service,
// render the answer). Each takes the request's Pending (pending.h) once the pipeline has
// matched the route, authorized it and applied the policy; it calls the repository's services
// (request().repository()) with completions wrapped by Pending::then, and answers from them.
// Policy (read-only, deletes disabled) is not the handlers' business: pipeline.h.

#include "backend/api/pending.h"

namespace portico::api {

// GET/HEAD /v2/ → 200 {}.
void handleBase(Pending& pending);
// GET/HEAD /v2/_catalog?n=&last=.
void handleCatalog(Pending& pending);
// GET/HEAD /v2/<name>/tags/list?n=&last=.
void handleTags(Pending& pending);
// HEAD/GET (Range) and DELETE /v2/<name>/blobs/<digest>.
void handleBlob(Pending& pending);
// POST /v2/<name>/blobs/uploads/ (start, monolithic ?digest=, mount ?mount=&from=).
void handleUploadStart(Pending& pending);
// GET/HEAD (status), PATCH (chunk), PUT (?digest=, complete), DELETE (cancel) of an upload.
void handleUpload(Pending& pending);
// HEAD/GET/PUT/DELETE /v2/<name>/manifests/<reference>.
void handleManifest(Pending& pending);
// GET/HEAD /v2/<name>/referrers/<digest>?artifactType=.
void handleReferrers(Pending& pending);

}  // namespace portico::api
