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
// "/docker/registry/v2/blobs/<alg>/<hex[0:2]>/<hex>"
std::string blobDir(const Digest& digest);
// "/docker/registry/v2/blobs/<alg>/<hex[0:2]>/<hex>/data"
std::string blobData(const Digest& digest);

// "/docker/registry/v2/repositories"
std::string repositoriesRoot();
// "/docker/registry/v2/repositories/<name>"
std::string repositoryDir(std::string_view name);

// ".../<name>/_layers"
std::string layersDir(std::string_view name);
// ".../<name>/_layers/<alg>/<hex>/link"
std::string layerLink(std::string_view name, const Digest& digest);

// ".../<name>/_manifests"
std::string manifestsDir(std::string_view name);
// ".../<name>/_manifests/revisions"
std::string manifestRevisionsDir(std::string_view name);
// ".../<name>/_manifests/revisions/<alg>/<hex>"
std::string manifestRevisionDir(std::string_view name, const Digest& digest);
// ".../<name>/_manifests/revisions/<alg>/<hex>/link"
std::string manifestRevisionLink(std::string_view name, const Digest& digest);

// ".../<name>/_manifests/tags"
std::string tagsDir(std::string_view name);
// ".../<name>/_manifests/tags/<tag>"
std::string tagDir(std::string_view name, std::string_view tag);
// ".../<name>/_manifests/tags/<tag>/current/link"
std::string tagCurrentLink(std::string_view name, std::string_view tag);
// ".../<name>/_manifests/tags/<tag>/index"
std::string tagIndexDir(std::string_view name, std::string_view tag);
// ".../<name>/_manifests/tags/<tag>/index/<alg>/<hex>/link"
std::string tagIndexEntryLink(std::string_view name, std::string_view tag, const Digest& digest);

// ".../<name>/_uploads"
std::string uploadsDir(std::string_view name);
// ".../<name>/_uploads/<id>"
std::string uploadDir(std::string_view name, std::string_view id);
// ".../<name>/_uploads/<id>/data"
std::string uploadData(std::string_view name, std::string_view id);
// ".../<name>/_uploads/<id>/startedat"
std::string uploadStartedAt(std::string_view name, std::string_view id);
// ".../<name>/_uploads/<id>/hashstates/<alg>/<offset>"
std::string uploadHashState(std::string_view name, std::string_view id, DigestAlgorithm algorithm,
                            uint64_t offset);

// Content of a link file for `digest` (no trailing newline).
std::string linkContent(const Digest& digest);
// Parses a link file's content (distribution tolerates nothing else: a bare digest).
Result<Digest> parseLinkContent(std::string_view content);

// startedat content for `time`: RFC 3339 in UTC, whole seconds ("2006-01-02T15:04:05Z").
std::string formatStartedAt(std::chrono::system_clock::time_point time);
// Parses RFC 3339 as Go's time.Parse(time.RFC3339) accepts it (fractional seconds and numeric
// offsets included); nullopt when malformed.
std::optional<std::chrono::system_clock::time_point> parseStartedAt(std::string_view text);

// Directory names inside a repository directory that are not part of the repository's name
// (distribution's catalog stops at them): "_layers", "_manifests", "_uploads".
bool isRepositoryDataDir(std::string_view component);

// Garbage collection and verify (backend/registry/gc.*, verify.*). Portico's own objects live
// under /docker/registry/v2/_portico, which distribution never walks (its catalog reads
// repositories/, its blob enumeration blobs/).

// ".../<name>/_layers/<alg>/<hex>": the directory of one layer link.
std::string layerLinkDir(std::string_view name, const Digest& digest);
// ".../<name>/_manifests/revisions/<alg>/<hex>/signatures": the signed copies of a schema1
// revision (see registry/manifest_store.h).
std::string manifestSignaturesDir(std::string_view name, const Digest& digest);
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
