#include "backend/api/error_response.h"

#include <nlohmann/json.hpp>

namespace portico::api {
namespace {

using registry::ErrorCode;

// Values from distribution 2.8 (registry/api/v2/errors.go, registry/api/errcode/register.go).
constexpr ErrorDescriptor kErrorTable[] = {
    {ErrorCode::BlobUnknown, "BLOB_UNKNOWN", "blob unknown to registry", 404},
    {ErrorCode::BlobUploadInvalid, "BLOB_UPLOAD_INVALID", "blob upload invalid", 404},
    {ErrorCode::BlobUploadUnknown, "BLOB_UPLOAD_UNKNOWN", "blob upload unknown to registry", 404},
    {ErrorCode::DigestInvalid, "DIGEST_INVALID", "provided digest did not match uploaded content",
     400},
    {ErrorCode::ManifestBlobUnknown, "MANIFEST_BLOB_UNKNOWN", "blob unknown to registry", 400},
    {ErrorCode::ManifestInvalid, "MANIFEST_INVALID", "manifest invalid", 400},
    {ErrorCode::ManifestUnknown, "MANIFEST_UNKNOWN", "manifest unknown", 404},
    {ErrorCode::ManifestUnverified, "MANIFEST_UNVERIFIED", "manifest failed signature verification",
     400},
    {ErrorCode::NameInvalid, "NAME_INVALID", "invalid repository name", 400},
    {ErrorCode::NameUnknown, "NAME_UNKNOWN", "repository name not known to registry", 404},
    {ErrorCode::SizeInvalid, "SIZE_INVALID", "provided length did not match content length", 400},
    {ErrorCode::TagInvalid, "TAG_INVALID", "manifest tag did not match URI", 400},
    {ErrorCode::Unauthorized, "UNAUTHORIZED", "authentication required", 401},
    {ErrorCode::Denied, "DENIED", "requested access to the resource is denied", 403},
    {ErrorCode::Unsupported, "UNSUPPORTED", "The operation is unsupported.", 405},
    {ErrorCode::TooManyRequests, "TOOMANYREQUESTS", "too many requests", 429},
    {ErrorCode::RangeInvalid, "RANGE_INVALID", "invalid content range", 416},
    {ErrorCode::PaginationNumberInvalid, "PAGINATION_NUMBER_INVALID",
     "invalid number of results requested", 400},
    {ErrorCode::Unavailable, "UNAVAILABLE", "service unavailable", 503},
    {ErrorCode::Internal, "UNKNOWN", "unknown error", 500},
};

// The table is indexed by the enum's value: ErrorCode starts at 1 and has no gaps.
constexpr bool tableMatchesEnum() {
  for (size_t i = 0; i < std::size(kErrorTable); ++i) {
    if (static_cast<size_t>(kErrorTable[i].code) != i + 1) return false;
  }
  return true;
}
static_assert(tableMatchesEnum(), "kErrorTable must list ErrorCode in declaration order");

std::string render(std::string_view code, std::string_view message, std::string_view detail) {
  nlohmann::json entry = {{"code", code}, {"message", message}};
  if (!detail.empty()) entry["detail"] = detail;
  nlohmann::json body = {{"errors", nlohmann::json::array({entry})}};
  return body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace

const ErrorDescriptor& describe(ErrorCode code) {
  auto index = static_cast<size_t>(code);
  if (index == 0 || index > std::size(kErrorTable))
    index = static_cast<size_t>(ErrorCode::Internal);
  return kErrorTable[index - 1];
}

ErrorCode registryCode(const Error& error) {
  if (error.inDomain<ErrorCode>()) return describe(error.code<ErrorCode>()).code;
  return ErrorCode::Internal;
}

std::string renderErrorBody(ErrorCode code, std::string_view detail) {
  const ErrorDescriptor& row = describe(code);
  return render(row.value, row.message, detail);
}

ErrorResponse errorResponse(const Error& error) {
  ErrorCode code = registryCode(error);
  // An error from another layer (storage, parser) is UNKNOWN with no detail: its message and
  // detail may name storage paths, which are logged, never sent.
  std::string_view detail;
  if (error.inDomain<ErrorCode>())
    detail = error.detail().empty() ? error.message() : error.detail();
  return {describe(code).status, renderErrorBody(code, detail)};
}

ErrorResponse routeNotFound(std::string_view path) {
  return {404, render("NOT_FOUND", "the requested path is not a registry API route", path)};
}

}  // namespace portico::api
