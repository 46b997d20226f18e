#pragma once
// The one error table of the registry API: registry::ErrorCode → the spec's code string,
// message and HTTP status (distribution's registry/api/errcode/register.go and
// registry/api/v2/errors.go, including its surprises: MANIFEST_BLOB_UNKNOWN is 400,
// BLOB_UPLOAD_INVALID is 404, RANGE_INVALID is 416, UNSUPPORTED is 405), and the JSON body
// `{"errors":[{"code":..,"message":..,"detail":..}]}` of OCI Distribution Spec §"Error Codes".
// Only this file knows status codes of errors; handlers hand it an Error.

#include <string>
#include <string_view>

#include "backend/registry/error_code.h"
#include "common/error.h"

namespace portico::api {

// One row of the table.
struct ErrorDescriptor {
  registry::ErrorCode code;
  std::string_view value;    // "BLOB_UNKNOWN"
  std::string_view message;  // "blob unknown to registry"
  int status;                // 404
};

// The row of `code` (every enumerator has one; unknown values get the Internal row).
const ErrorDescriptor& describe(registry::ErrorCode code);

// The registry code an Error stands for: its own code in the registry domain, Internal
// (UNKNOWN, 500) for anything else.
registry::ErrorCode registryCode(const Error& error);

// The JSON body for one error. `detail` is the Error's detail, or its message when the detail
// is empty; it is omitted when both are empty.
std::string renderErrorBody(registry::ErrorCode code, std::string_view detail);

// Status and body for any Error, ready to send with Content-Type: application/json.
struct ErrorResponse {
  int status;
  std::string body;
};
ErrorResponse errorResponse(const Error& error);

// A path that is no API route: 404 with the same JSON shape (code NOT_FOUND, as the OCI
// conformance suite expects a JSON error body on every 4xx).
ErrorResponse routeNotFound(std::string_view path);

inline constexpr std::string_view kJsonContentType = "application/json; charset=utf-8";

}  // namespace portico::api
