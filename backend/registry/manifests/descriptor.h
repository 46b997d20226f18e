#pragma once
// Descriptor (OCI image-spec descriptor.md): a typed, sized reference to content by digest.
// Manifests reference blobs and child manifests through descriptors; the referrers API
// answers with descriptors of the referring manifests.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "common/crypto/digest.h"
#include "common/result.h"

namespace portico::registry::manifests {

struct Descriptor {
  std::string media_type;
  crypto::Digest digest;
  // -1 when the manifest does not say (schema1 fsLayers carry no size).
  int64_t size = -1;
  std::string artifact_type;                       // empty when absent
  std::map<std::string, std::string> annotations;  // empty when absent
  std::vector<std::string> urls;                   // empty when absent

  friend bool operator==(const Descriptor&, const Descriptor&) = default;
};

// Parses and validates one descriptor object: mediaType a non-empty string (unless
// `require_media_type` is false), digest a valid sha256/sha512 digest, size an integer >= 0,
// optional urls (strings), annotations (string → string) and artifactType (string).
// Failures are ErrorCode::ManifestInvalid naming `where` (e.g. "layers[2]").
Result<Descriptor> parseDescriptor(const nlohmann::json& object, const std::string& where,
                                   bool require_media_type = true);

// Parses an optional `annotations` member of `object` (absent → empty map).
Result<std::map<std::string, std::string>> parseAnnotations(const nlohmann::json& object,
                                                            const std::string& where);

// The descriptor as JSON (mediaType, digest, size, and artifactType/annotations/urls when
// set), as the referrers index and manifest lists render it.
nlohmann::json toJson(const Descriptor& descriptor);

}  // namespace portico::registry::manifests
