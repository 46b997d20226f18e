#pragma once
// The registry's request pipeline, one fixed sequence for every request (docs/ARCHITECTURE.md,
// "Request pipeline"); RegistryHandler::onRequest runs it:
//
//   route      RouteTable::match; no route → 404, wrong method → 405 UNSUPPORTED + Allow,
//              invalid name/tag/digest → its error
//   pending    the request moves into its Pending (the exchange's observer; lifetime rule)
//   authorize  requiredAccess(route) → AccessController; a denial renders its error (401
//              UNAUTHORIZED / 403 DENIED) with its headers (WWW-Authenticate)
//   policy     refusedByPolicy: read-only mode and disabled deletes, here and nowhere else
//   handler    handlers.h, by route kind
//   events     the handler's success points call ApiRequest::emit → EventSink
//
// A new policy (quota, rate limit, a maintenance window) goes into refusedByPolicy or a stage
// next to it; a new auth scheme is an AccessController; nothing in the handlers changes.

#include <optional>
#include <string_view>

#include "backend/api/access.h"
#include "backend/api/api_options.h"
#include "backend/api/pending.h"
#include "backend/api/route_table.h"
#include "common/error.h"

namespace portico::api {

// The error the configured policy answers `method` on `route` with, if any: storage.delete
// disabled refuses DELETE of blobs and manifests, read-only mode refuses every write; both are
// UNSUPPORTED (405), as in distribution.
std::optional<Error> refusedByPolicy(const ApiOptions& options, const Route& route,
                                     std::string_view method);

// Authorizes the routed request in `pending` with `access`, then applies the policy and runs
// the route's handler (or answers the denial / refusal).
void runPipeline(Pending& pending, AccessController& access);

// The route's handler (handlers.h).
void dispatch(Pending& pending);

}  // namespace portico::api
