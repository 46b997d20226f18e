// Docker manifest list and OCI image index (image-spec image-index.md): an array of manifest
// descriptors; OCI adds artifactType, subject and annotations (image-spec 1.1).

#include <nlohmann/json.hpp>

#include "backend/registry/manifests/parsers.h"

namespace portico::registry::manifests::detail {

using nlohmann::json;

Result<ParsedManifest> parseIndex(const json& doc, std::string_view media_type) {
  const bool oci = media_type == kOciIndex;
  if (auto version = checkSchemaVersion(doc, 2); !version) return version.error();

  ParsedManifest parsed;
  parsed.media_type = std::string(media_type);
  parsed.schema_version = 2;

  auto manifests = doc.find("manifests");
  if (manifests == doc.end() || !manifests->is_array()) {
    return invalid("manifests must be an array");
  }
  for (size_t i = 0; i < manifests->size(); ++i) {
    auto child = parseDescriptor((*manifests)[i], "manifests[" + std::to_string(i) + "]");
    if (!child) return child.error();
    parsed.manifests.push_back(std::move(*child));
  }

  if (doc.contains("layers") || doc.contains("config")) {
    return invalid("an index has no config or layers (is this an image manifest?)");
  }

  if (oci) {
    if (auto members = parseArtifactTypeAndSubject(doc, parsed); !members) return members.error();
  }

  auto annotations = parseAnnotations(doc, "index");
  if (!annotations) return annotations.error();
  parsed.annotations = std::move(*annotations);
  return parsed;
}

}  // namespace portico::registry::manifests::detail
