#pragma once
// Internal to manifests/: the per-media-type parsers that manifest.cc dispatches to. Each
// validates the already-parsed JSON document and fills a ParsedManifest (digest excepted for
// all but schema1, whose digest covers a payload only it can extract).

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "backend/registry/manifests/manifest.h"
#include "common/error.h"

namespace portico::registry::manifests::detail {

// ErrorCode::ManifestInvalid with `message`.
Error invalid(std::string message);

// Parses `text` as exactly one JSON value, optionally surrounded by JSON whitespace (RFC 8259
// §2), as Go's encoding/json does: no byte order mark, no NUL (nlohmann stops reading at one,
// which would let bytes after it through), nothing after the value, and nesting no deeper than
// kMaxManifestDepth (checked before parsing). ManifestInvalid naming `what` otherwise.
Result<nlohmann::json> parseJson(std::string_view text, std::string_view what);

// Checks that `doc` has `"schemaVersion": expected` (an integer).
Result<void> checkSchemaVersion(const nlohmann::json& doc, int expected);

// The OCI 1.1 members an image manifest and an index share (image-spec 1.1): `artifactType`
// (a string) and `subject` (a descriptor), both optional; fills them into `parsed`.
Result<void> parseArtifactTypeAndSubject(const nlohmann::json& doc, ParsedManifest& parsed);

// Docker schema2 or OCI image manifest (`media_type` says which).
Result<ParsedManifest> parseImageManifest(const nlohmann::json& doc, std::string_view media_type);

// Docker manifest list or OCI image index (`media_type` says which).
Result<ParsedManifest> parseIndex(const nlohmann::json& doc, std::string_view media_type);

// Docker schema1; `body` is needed to cut the JWS payload out of a signed manifest.
// `signed_type` true for +prettyjws (signatures required); false for v1+json (signatures
// optional, stripped for the digest when present).
Result<ParsedManifest> parseSchema1(const nlohmann::json& doc, std::string_view body,
                                    bool signed_type, crypto::DigestAlgorithm algorithm);

}  // namespace portico::registry::manifests::detail
