#pragma once
// ManifestStore: manifests of one repository, on distribution's layout
// (registry/storage/manifeststore.go + linkedblobstore.go):
//   blobs/<alg>/<xx>/<hex>/data                         the manifest's canonical bytes
//   repositories/<name>/_manifests/revisions/<alg>/<hex>/link
// plus, for signed schema1 only, the bytes as pushed (with their JWS signatures) in a second
// blob linked from _manifests/revisions/<alg>/<hex>/signatures/<alg>/<signed hex>/link, so
// that GET serves the signatures the client made (distribution stores only the payload and
// re-signs with its own key; a schema1 manifest whose signed copy is gone is served as the
// unsigned payload, `application/vnd.docker.distribution.manifest.v1+json`).
//
// put() validates (manifests::parse), checks that every referenced blob is linked in the
// repository (_layers) and every child manifest of a list/index is a revision of the
// repository, stores, and tags when the reference is a tag.
//
// Blobs are reached only through two BlobStores, as distribution's manifestStore goes through
// linked blob stores: the revisions link set (the manifest's bytes and its revision link) and
// the layers link set (reference checks). Only the schema1 signature links, a set with one
// directory per revision, are written here (paths from storage/layout).
//
// Errors: ManifestInvalid, DigestInvalid (digest reference ≠ content), ManifestBlobUnknown
// (detail: the missing digest), ManifestUnknown, Unavailable/Internal for storage failures.
// What this does not do: name checks against schema1's `name`, signature verification.

#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "backend/registry/blob_store.h"
#include "backend/registry/manifests/manifest.h"
#include "backend/registry/reference.h"
#include "backend/registry/tag_store.h"
#include "backend/storage/storage_driver.h"
#include "common/crypto/digest.h"
#include "common/result.h"

namespace portico::registry {

struct PutManifestResult {
  crypto::Digest digest;
  // The manifest's subject (OCI 1.1): the API answers with `OCI-Subject: <digest>`.
  std::optional<crypto::Digest> subject;
  std::string media_type;
};

// A manifest as stored: what GET returns.
struct StoredManifest {
  crypto::Digest digest;
  // Content-Type to serve (manifests::storedMediaType rules; see the top of this file).
  std::string media_type;
  std::string bytes;
};

// HEAD: digest, media type and size without the body.
struct ManifestInfo {
  crypto::Digest digest;
  std::string media_type;
  uint64_t size = 0;
};

class ManifestStore {
 public:
  ManifestStore(storage::StorageDriver& driver, TagStore& tags);

  // Validates and stores `bytes` (Content-Type `media_type`) under `reference`: a tag is
  // (re)pointed at the manifest; a digest must equal the manifest's digest (DigestInvalid).
  [[nodiscard]] Result<PutManifestResult> put(const Repository& repo, const Reference& reference,
                                              std::string_view media_type, std::string_view bytes);
  // The manifest by tag or digest (ManifestUnknown if the tag or revision is missing).
  [[nodiscard]] Result<StoredManifest> get(const Repository& repo, const Reference& reference);
  // Like get() without returning the body.
  [[nodiscard]] Result<ManifestInfo> stat(const Repository& repo, const Reference& reference);
  // True if `digest` is a revision of `repo` (its link exists and its blob data exists).
  bool exists(const Repository& repo, const crypto::Digest& digest);
  // Deletes the revision link and every tag whose current link is `digest` (distribution's
  // DeleteManifest); ManifestUnknown if it is not a revision. Blob data stays for GC.
  [[nodiscard]] Result<void> remove(const Repository& repo, const crypto::Digest& digest);

  TagStore& tags() { return tags_; }

 private:
  Result<crypto::Digest> resolve(const Repository& repo, const Reference& reference);
  Result<void> checkReferences(const Repository& repo, const manifests::ParsedManifest& parsed);
  Result<void> storeSignedCopy(const Repository& repo, const crypto::Digest& revision,
                               std::string_view bytes, crypto::DigestAlgorithm algorithm);
  std::optional<std::string> signedCopy(const Repository& repo, const crypto::Digest& revision);
  // storedMediaType(bytes), remembered per digest: the bytes under a digest never change, and
  // parsing the JSON was a tenth of a manifest GET's CPU.
  std::string mediaTypeOf(const crypto::Digest& digest, std::string_view bytes);

  // Bounded: cleared when it holds this many digests (manifests, not layers: few per image).
  static constexpr size_t kMediaTypeCacheEntries = 16'384;

  storage::StorageDriver& driver_;
  TagStore& tags_;
  BlobStore layers_;     // _layers: the blobs a manifest references
  BlobStore revisions_;  // _manifests/revisions: the manifests
  std::mutex media_types_mutex_;
  std::unordered_map<std::string, std::string> media_types_;  // digest → stored media type
};

}  // namespace portico::registry
