// Fuzz target: every manifest parser (backend/registry/manifests): manifests::parse with the
// Content-Type chosen by the first byte (schema1, schema1 signed, schema2, manifest list, OCI
// manifest, OCI index, generic JSON, none, with parameters), and storedMediaType.
// Artifacts are OCI manifests with an artifactType / config.mediaType (the seed corpus has
// them).

#include <array>

#include "backend/registry/manifests/manifest.h"
#include "backend/registry/manifests/media_types.h"
#include "tests/fuzz/fuzz.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace m = portico::registry::manifests;
  static const std::array<std::string, 10> kContentTypes = {
      std::string(m::kDockerSchema1),
      std::string(m::kDockerSchema1Signed),
      std::string(m::kDockerSchema2),
      std::string(m::kDockerManifestList),
      std::string(m::kOciManifest),
      std::string(m::kOciIndex),
      "application/json",
      "",
      std::string(m::kOciManifest) + "; charset=utf-8",
      "text/plain",
  };
  portico::fuzz::Input input(data, size);
  const std::string& content_type = kContentTypes[input.byte() % kContentTypes.size()];
  std::string body(input.rest());  // exact size: ASan sees reads past the end
  (void)m::parse(content_type, body);
  (void)m::storedMediaType(body);
  return 0;
}
