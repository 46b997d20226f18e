// Docker image manifest v2 schema 2 and OCI image manifest (image-spec manifest.md): a config
// descriptor and an array of layer descriptors; OCI adds artifactType, subject and
// annotations (image-spec 1.1).

#include <nlohmann/json.hpp>

#include "backend/registry/manifests/parsers.h"

namespace portico::registry::manifests::detail {

using nlohmann::json;

Result<ParsedManifest> parseImageManifest(const json& doc, std::string_view media_type) {
  const bool oci = media_type == kOciManifest;
  if (auto version = checkSchemaVersion(doc, 2); !version) return version.error();

  ParsedManifest parsed;
  parsed.media_type = std::string(media_type);
  parsed.schema_version = 2;

  auto config = doc.find("config");
  if (config == doc.end()) return invalid("config is required");
  auto config_descriptor = parseDescriptor(*config, "config");
  if (!config_descriptor) return config_descriptor.error();
  parsed.blobs.push_back(std::move(*config_descriptor));

  auto layers = doc.find("layers");
  if (layers == doc.end() || !layers->is_array()) return invalid("layers must be an array");
  for (size_t i = 0; i < layers->size(); ++i) {
    auto layer = parseDescriptor((*layers)[i], "layers[" + std::to_string(i) + "]");
    if (!layer) return layer.error();
    parsed.blobs.push_back(std::move(*layer));
  }

  if (auto manifests = doc.find("manifests"); manifests != doc.end()) {
    return invalid("an image manifest has no manifests member (is this an index?)");
  }

  if (oci) {
    if (auto members = parseArtifactTypeAndSubject(doc, parsed); !members) return members.error();
    // distribution-spec 1.1 "Listing Referrers": without artifactType, an image manifest's
    // artifact type is its config's media type.
    if (parsed.artifact_type.empty()) parsed.artifact_type = parsed.blobs.front().media_type;
  }

  auto annotations = parseAnnotations(doc, "manifest");
  if (!annotations) return annotations.error();
  parsed.annotations = std::move(*annotations);
  return parsed;
}

}  // namespace portico::registry::manifests::detail
