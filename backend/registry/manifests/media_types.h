#pragma once
// Manifest and descriptor media types that the registry understands (OCI image-spec
// media-types.md, Docker image manifest v2 schema 1 and 2).

#include <string>
#include <string_view>

namespace portico::registry::manifests {

inline constexpr std::string_view kDockerSchema1 =
    "application/vnd.docker.distribution.manifest.v1+json";
inline constexpr std::string_view kDockerSchema1Signed =
    "application/vnd.docker.distribution.manifest.v1+prettyjws";
inline constexpr std::string_view kDockerSchema2 =
    "application/vnd.docker.distribution.manifest.v2+json";
inline constexpr std::string_view kDockerManifestList =
    "application/vnd.docker.distribution.manifest.list.v2+json";
inline constexpr std::string_view kOciManifest = "application/vnd.oci.image.manifest.v1+json";
inline constexpr std::string_view kOciIndex = "application/vnd.oci.image.index.v1+json";

// The empty descriptor of image-spec 1.1 (manifest.md "Guidance for an Empty Descriptor"):
// config of artifacts that have no configuration; its content is the two bytes `{}`.
inline constexpr std::string_view kOciEmpty = "application/vnd.oci.empty.v1+json";
inline constexpr std::string_view kOciEmptyDigest =
    "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a";

// Layers that clients fetch from their `urls`, not from the registry; a manifest may reference
// them without the blob being present (distribution's schema2/ocischema handlers).
inline constexpr std::string_view kDockerForeignLayer =
    "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip";
inline constexpr std::string_view kOciNondistributablePrefix =
    "application/vnd.oci.image.layer.nondistributable.";

// The media type of schema1 layers as distribution reports them (schema1 References()).
inline constexpr std::string_view kDockerSchema1Layer =
    "application/vnd.docker.container.image.rootfs.diff+x-gtar";

// The media type part of a Content-Type value: parameters dropped, whitespace trimmed,
// lower-cased ("application/vnd.oci.image.manifest.v1+json; charset=utf-8" → the type).
std::string normalizeMediaType(std::string_view content_type);

// True for the five manifest media types above that have a parser (schema1 both forms).
bool isManifestMediaType(std::string_view media_type);

// True for layers that may be absent from the registry (foreign / non-distributable).
bool isForeignLayer(std::string_view media_type);

}  // namespace portico::registry::manifests
