#pragma once
// registry::ErrorCode: the error codes of the Docker Registry HTTP API v2 and the OCI
// Distribution Spec 1.1 ("Error Codes"), plus Unavailable/Internal for storage failures.
// The registry services return Error{ErrorCode::..., message, detail}; backend/api maps each
// code to its spec string, message and HTTP status in one table (error_response.*). This
// header only names them.

namespace portico::registry {

enum class ErrorCode {
  BlobUnknown = 1,          // BLOB_UNKNOWN: blob unknown to registry
  BlobUploadInvalid,        // BLOB_UPLOAD_INVALID: blob upload invalid
  BlobUploadUnknown,        // BLOB_UPLOAD_UNKNOWN: blob upload unknown to registry
  DigestInvalid,            // DIGEST_INVALID: provided digest did not match uploaded content
  ManifestBlobUnknown,      // MANIFEST_BLOB_UNKNOWN: manifest references an unknown blob
  ManifestInvalid,          // MANIFEST_INVALID: manifest invalid
  ManifestUnknown,          // MANIFEST_UNKNOWN: manifest unknown
  ManifestUnverified,       // MANIFEST_UNVERIFIED: manifest failed signature verification
  NameInvalid,              // NAME_INVALID: invalid repository name
  NameUnknown,              // NAME_UNKNOWN: repository name not known to registry
  SizeInvalid,              // SIZE_INVALID: provided length did not match content length
  TagInvalid,               // TAG_INVALID: manifest tag did not match URI
  Unauthorized,             // UNAUTHORIZED: authentication required
  Denied,                   // DENIED: requested access to the resource is denied
  Unsupported,              // UNSUPPORTED: the operation is unsupported
  TooManyRequests,          // TOOMANYREQUESTS: too many requests
  RangeInvalid,             // RANGE_INVALID: invalid content range (distribution's, 416)
  PaginationNumberInvalid,  // PAGINATION_NUMBER_INVALID: invalid number of results requested
  Unavailable,              // UNAVAILABLE: storage full or unreachable (503)
  Internal,                 // UNKNOWN: any other internal failure (500)
};

}  // namespace portico::registry
