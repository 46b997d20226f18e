#pragma once
// Manifest parsing and validation, one parser per media type (no storage access):
//   Docker schema1 (signed `+prettyjws` and unsigned `v1+json`)   schema1.cc
//   Docker image manifest v2 schema 2                               image_manifest.cc
//   OCI image manifest (images and artifacts, image-spec 1.1)       image_manifest.cc
//   Docker manifest list / OCI image index                          index.cc
// parse() picks the parser from the request's Content-Type and the JSON's own `mediaType`
// (they must agree when both are present) and reports what the manifest references, so that
// ManifestStore can check that every blob and child manifest exists in the repository.
// What this does not do: verify schema1 JWS signatures (only their structure is checked).

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "backend/registry/manifests/descriptor.h"
#include "backend/registry/manifests/media_types.h"
#include "common/crypto/digest.h"
#include "common/result.h"

namespace portico::registry::manifests {

// Largest manifest body accepted (distribution's and the OCI spec's customary 4 MiB); the
// HTTP layer enforces it before buffering a PUT body.
inline constexpr size_t kMaxManifestBytes = size_t{4} * 1024 * 1024;

// Deepest nesting of arrays and objects accepted in a manifest (real ones nest 4 or 5 deep).
// Checked by a scan before any tree is built, so a deeply nested body costs no memory.
inline constexpr size_t kMaxManifestDepth = 64;

struct ParsedManifest {
  // One of the media types in media_types.h (for schema1: kDockerSchema1Signed when signed,
  // kDockerSchema1 when not).
  std::string media_type;
  int schema_version = 0;
  // Digest of the canonical bytes: the body itself, except for signed schema1 where it is the
  // JWS payload with the signatures removed (libtrust formatLength/formatTail rules).
  crypto::Digest digest;
  // Canonical bytes for signed schema1 (the payload); empty for every other type, whose
  // canonical bytes are the body as received.
  std::string schema1_payload;
  // Blobs the manifest needs: config then layers (schema1: fsLayers blobSums, deduplicated).
  std::vector<Descriptor> blobs;
  // Child manifests of a manifest list / image index.
  std::vector<Descriptor> manifests;
  // OCI 1.1 `subject` (image manifest or index).
  std::optional<Descriptor> subject;
  // The referrers API's artifactType: the explicit `artifactType`, else for OCI image
  // manifests the config media type, else empty (distribution-spec "Listing Referrers").
  std::string artifact_type;
  std::map<std::string, std::string> annotations;
  // Schema1 only: `name` and `tag` members.
  std::string schema1_name;
  std::string schema1_tag;
};

// Parses and validates `body` sent with Content-Type `content_type` (may be empty or carry
// parameters). When the Content-Type is a manifest type, the JSON's `mediaType` (if any) must
// equal it; OCI manifests and indexes without `mediaType` are accepted then. When it is empty
// or generic (application/json, application/octet-stream, text/plain), the type is inferred
// from the JSON (mediaType; schemaVersion 1 → schema1; `manifests` → OCI index; else OCI
// manifest). The digest is computed with `algorithm`.
// Errors: ErrorCode::ManifestInvalid (bad JSON, wrong schemaVersion, malformed descriptor,
// media type mismatch, unknown media type), with a message saying what is wrong.
Result<ParsedManifest> parse(std::string_view content_type, std::string_view body,
                             crypto::DigestAlgorithm algorithm = crypto::DigestAlgorithm::Sha256);

// The media type of a manifest already stored (trusted bytes), decided as distribution's
// manifestStore.Get does: the JSON's mediaType; without one, schemaVersion 1 → schema1
// (signed if it has `signatures`), an object with `manifests` → OCI index, else OCI
// manifest. Empty when the bytes are not a JSON object.
std::string storedMediaType(std::string_view body);

}  // namespace portico::registry::manifests
