#pragma once
// The on-disk layout: CNCF distribution 2.x's (registry/storage/paths.go), byte for byte, so
// that distribution and portico-registry can share one storage directory. Only this module
// knows paths; everything else asks it.
//
//   <root>/docker/registry/v2
//     -> blobs/<algorithm>/<first two hex digits>/<hex digest>/data      the content
//     -> repositories/<name>/
//          -> _layers/<algorithm>/<hex digest>/link                       blob linked in repo
//          -> _manifests/
//               revisions/<algorithm>/<hex digest>/link                   manifest in repo
//               revisions/<algorithm>/<hex digest>/signatures/            schema1 signed copy
//                 <algorithm>/<hex digest>/link                           (distribution ≤ 2.2)
//               tags/<tag>/current/link                                   tag → manifest
//               tags/<tag>/index/<algorithm>/<hex digest>/link            every manifest the
//                                                                         tag ever pointed to
//          -> _uploads/<id>/
//               data                                                      bytes received
//               startedat                                                 RFC 3339, UTC
//               hashstates/<algorithm>/<offset>                           distribution's
//                                                                         resumable hash state
//
// File formats (distribution's, exactly):
//   link       the digest string, "sha256:<hex>", with no trailing newline
//   startedat  time.Now().UTC().Format(time.RFC3339), e.g. "2026-11-27T03:29:19Z"
//   data       the raw bytes
// We never write hashstates/ (OpenSSL cannot export a hash state); we know the path so that
// cancel/purge remove distribution's files with the rest of the upload directory.
//
// <name> is a repository name that passed registry::Repository::parse (its '/' separators
// become directories); <tag> passed registry::Tag::parse; <id> passed isValidUploadId. These
// functions do not validate: callers pass parsed values only.
//
// Each function names the path spec of distribution's paths.go it computes (2.2's for the
// signatures, which 2.8 no longer writes and its revision enumeration skips).

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "common/crypto/digest.h"

namespace portico::storage::layout {

using crypto::Digest;
using crypto::DigestAlgorithm;

// "/docker/registry/v2": the root of everything distribution stores.
std::string root();
// "/docker/registry/v2/blobs"
std::string blobsRoot();
// "/docker/registry/v2/blobs/<alg>/<hex[0:2]>/<hex>" (blobPathSpec)
std::string blobDir(const Digest& digest);
// "/docker/registry/v2/blobs/<alg>/<hex[0:2]>/<hex>/data" (blobDataPathSpec)
std::string blobData(const Digest& digest);

// "/docker/registry/v2/repositories" (repositoriesRootPathSpec)
std::string repositoriesRoot();
// "/docker/registry/v2/repositories/<name>"
std::string repositoryDir(std::string_view name);

// ".../<name>/_layers"
std::string layersDir(std::string_view name);
// ".../<name>/_layers/<alg>/<hex>/link" (layerLinkPathSpec)
std::string layerLink(std::string_view name, const Digest& digest);

// ".../<name>/_manifests"
std::string manifestsDir(std::string_view name);
// ".../<name>/_manifests/revisions"
std::string manifestRevisionsDir(std::string_view name);
// ".../<name>/_manifests/revisions/<alg>/<hex>" (manifestRevisionPathSpec)
std::string manifestRevisionDir(std::string_view name, const Digest& digest);
// ".../<name>/_manifests/revisions/<alg>/<hex>/link" (manifestRevisionLinkPathSpec)
std::string manifestRevisionLink(std::string_view name, const Digest& digest);
// ".../<name>/_manifests/revisions/<alg>/<hex>/signatures" (manifestSignaturesPathSpec)
std::string manifestSignaturesDir(std::string_view name, const Digest& revision);
// ".../signatures/<signature alg>/<signature hex>/link" under manifestSignaturesDir
// (manifestSignatureLinkPathSpec)
std::string manifestSignatureLink(std::string_view name, const Digest& revision,
                                  const Digest& signature);

// ".../<name>/_manifests/tags" (manifestTagsPathSpec)
std::string tagsDir(std::string_view name);
// ".../<name>/_manifests/tags/<tag>" (manifestTagPathSpec)
std::string tagDir(std::string_view name, std::string_view tag);
// ".../<name>/_manifests/tags/<tag>/current/link" (manifestTagCurrentPathSpec)
std::string tagCurrentLink(std::string_view name, std::string_view tag);
// ".../<name>/_manifests/tags/<tag>/index" (manifestTagIndexPathSpec)
std::string tagIndexDir(std::string_view name, std::string_view tag);
// ".../<name>/_manifests/tags/<tag>/index/<alg>/<hex>/link" (manifestTagIndexEntryLinkPathSpec)
std::string tagIndexEntryLink(std::string_view name, std::string_view tag, const Digest& digest);

// ".../<name>/_uploads"
std::string uploadsDir(std::string_view name);
// ".../<name>/_uploads/<id>"
std::string uploadDir(std::string_view name, std::string_view id);
// ".../<name>/_uploads/<id>/data" (uploadDataPathSpec)
std::string uploadData(std::string_view name, std::string_view id);
// ".../<name>/_uploads/<id>/startedat" (uploadStartedAtPathSpec)
std::string uploadStartedAt(std::string_view name, std::string_view id);
// ".../<name>/_uploads/<id>/hashstates/<alg>/<offset>" (uploadHashStatePathSpec)
std::string uploadHashState(std::string_view name, std::string_view id, DigestAlgorithm algorithm,
                            uint64_t offset);

// The digest a link directory ".../<alg>/<hex>" stands for, from its last two components
// (distribution's digestFromPath), for enumerating a link set (revisions, signatures) listed
// with StorageDriver::list; nullopt when they are not a valid digest. Its link file is then
// the function of the set above (manifestRevisionLink, ...), not `dir + "/link"`.
std::optional<Digest> digestFromLinkDir(std::string_view dir);

// Content of a link file for `digest` (no trailing newline).
std::string linkContent(const Digest& digest);
// Parses a link file's content (distribution tolerates nothing else: a bare digest).
Result<Digest> parseLinkContent(std::string_view content);

// startedat content for `time`: RFC 3339 in UTC, whole seconds ("2006-01-02T15:04:05Z").
std::string formatStartedAt(std::chrono::system_clock::time_point time);
// Parses RFC 3339 as Go's time.Parse(time.RFC3339) accepts it (fractional seconds and numeric
// offsets included); nullopt when malformed.
std::optional<std::chrono::system_clock::time_point> parseStartedAt(std::string_view text);

// The data directories inside a repository directory. A directory holding kLayersDirName is a
// repository (distribution's catalog); none of them is part of a repository's name.
inline constexpr std::string_view kLayersDirName = "_layers";
inline constexpr std::string_view kManifestsDirName = "_manifests";
inline constexpr std::string_view kUploadsDirName = "_uploads";
// True for kLayersDirName, kManifestsDirName and kUploadsDirName (distribution's catalog
// stops at them).
bool isRepositoryDataDir(std::string_view component);

// Garbage collection and verify (backend/registry/gc.*, verify.*). Portico's own objects live
// under /docker/registry/v2/_portico, which distribution never walks (its catalog reads
// repositories/, its blob enumeration blobs/).

// ".../<name>/_layers/<alg>/<hex>": the directory of one layer link.
std::string layerLinkDir(std::string_view name, const Digest& digest);
// ".../<name>/_manifests/tags/<tag>/index/<alg>/<hex>": one tag-index entry's directory.
std::string tagIndexEntryDir(std::string_view name, std::string_view tag, const Digest& digest);
// "/docker/registry/v2/_portico/gc"
std::string gcDir();
// "/docker/registry/v2/_portico/gc/lock": held while a collection runs.
std::string gcLock();
// "/docker/registry/v2/_portico/gc/started": rewritten at each start; its mtime is T0.
std::string gcStartMarker();
// "/docker/registry/v2/_portico/gc/trash/<alg>-<hex>": blob data set aside before deletion.
std::string gcTrash(const Digest& digest);

}  // namespace portico::storage::layout
