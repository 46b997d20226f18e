#pragma once
// BlobStore: the content-addressed blob store plus per-repository links, as distribution's
// blobStore + linkedBlobStore (registry/storage/blobstore.go, linkedblobstore.go). Blob data
// lives once under blobs/<alg>/<xx>/<hex>/data; a repository can see a blob only through a
// link file in its link set. One BlobStore serves one link set: `_layers` (blobs pushed by
// upload, mounted, referenced by manifests) or `_manifests/revisions` (manifests), exactly as
// distribution builds one linkedBlobStore per set.
//
// Errors: BlobUnknown (or ManifestUnknown for the revisions set) when the link or the data is
// missing, NameInvalid never (Repository is valid by construction), Unavailable when the
// volume is full, Internal for other storage failures.
// What this does not do: uploads (UploadStore), deletion of blob data (garbage collection).

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "backend/registry/reference.h"
#include "backend/storage/storage_driver.h"
#include "common/crypto/digest.h"
#include "common/result.h"

namespace portico::registry {

// An OCI descriptor, reduced to what the blob store knows.
struct Descriptor {
  crypto::Digest digest;
  uint64_t size = 0;
  // The global store keeps no media types: always "application/octet-stream", as in
  // distribution; manifest stores override it with the manifest's own.
  std::string media_type;
};

inline constexpr std::string_view kOctetStream = "application/octet-stream";

// Translates a storage error into the registry's codes: NotFound → `not_found`, NoSpace →
// Unavailable, anything else → Internal. The detail (sent to the client) names `subject` (a
// digest, tag, repository or upload id), never a storage path; the path and the storage
// message go into the message, which is only logged.
Error fromStorageError(const Error& error, ErrorCode not_found, std::string_view subject);

class BlobStore {
 public:
  enum class LinkSet {
    Layers,             // repositories/<name>/_layers/<alg>/<hex>/link
    ManifestRevisions,  // repositories/<name>/_manifests/revisions/<alg>/<hex>/link
  };

  explicit BlobStore(storage::StorageDriver& driver, LinkSet link_set = LinkSet::Layers);

  // The blob as `repo` sees it: its link exists AND its data exists.
  [[nodiscard]] Result<Descriptor> stat(const Repository& repo, const crypto::Digest& digest);
  // The blob in the global store, regardless of links.
  [[nodiscard]] Result<Descriptor> statGlobal(const crypto::Digest& digest);
  // True if the global store has the blob's data.
  bool existsGlobally(const crypto::Digest& digest);

  // A reader over the blob's data from `offset` (after the same check as stat()). Offsets
  // past the end fail with RangeInvalid.
  [[nodiscard]] Result<std::unique_ptr<storage::FileReader>> open(const Repository& repo,
                                                                  const crypto::Digest& digest,
                                                                  uint64_t offset = 0);
  // The whole content of a small blob (manifests, configs), at most storage::kMaxContentSize.
  [[nodiscard]] Result<std::string> get(const Repository& repo, const crypto::Digest& digest);
  // The whole content of a small blob in the global store, regardless of links (distribution's
  // blobStore.Get).
  [[nodiscard]] Result<std::string> getGlobal(const crypto::Digest& digest);

  // Stores small content (a manifest) under its digest (`algorithm`), atomically, unless exactly
  // these bytes are already there (other bytes under the digest are replaced), and links it
  // into `repo`.
  [[nodiscard]] Result<Descriptor> put(
      const Repository& repo, std::string_view bytes,
      crypto::DigestAlgorithm algorithm = crypto::DigestAlgorithm::Sha256);
  // put() without the link: the data only (distribution's blobStore.Put), for content linked
  // from elsewhere (a schema1 manifest's signed copy).
  [[nodiscard]] Result<Descriptor> putGlobal(
      std::string_view bytes, crypto::DigestAlgorithm algorithm = crypto::DigestAlgorithm::Sha256);

  // Links an existing global blob into `repo` (BlobUnknown if the data is missing).
  [[nodiscard]] Result<void> link(const Repository& repo, const crypto::Digest& digest);
  // Cross-repository mount: links `digest` into `to` if `from` can see it (else BlobUnknown).
  [[nodiscard]] Result<Descriptor> mount(const Repository& from, const Repository& to,
                                         const crypto::Digest& digest);
  // Unlinks the blob from `repo` (BlobUnknown if it is not linked); the data stays for the
  // garbage collector, as in distribution.
  [[nodiscard]] Result<void> remove(const Repository& repo, const crypto::Digest& digest);

  // Path of the link file for `digest` in `repo` for this store's link set.
  std::string linkPath(const Repository& repo, const crypto::Digest& digest) const;
  storage::StorageDriver& driver() { return driver_; }
  LinkSet linkSet() const { return link_set_; }

 private:
  ErrorCode unknownCode() const;

  storage::StorageDriver& driver_;
  LinkSet link_set_;
};

}  // namespace portico::registry
