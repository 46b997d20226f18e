#pragma once
// TagStore: tag → manifest digest for one repository, on distribution's layout
// (registry/storage/tagstore.go):
//   _manifests/tags/<tag>/current/link                 the digest the tag points to now
//   _manifests/tags/<tag>/index/<alg>/<hex>/link       every digest it has pointed to
// Tags are not checked against the revisions here; ManifestStore does that.
//
// Errors: ManifestUnknown (tag not found), NameUnknown (list of a repository that has no
// tags directory), Unavailable/Internal for storage failures.

#include <string>
#include <vector>

#include "backend/registry/reference.h"
#include "backend/storage/storage_driver.h"
#include "common/crypto/digest.h"
#include "common/result.h"

namespace portico::registry {

class TagStore {
 public:
  explicit TagStore(storage::StorageDriver& driver) : driver_(driver) {}

  // Points `tag` at `digest`: writes the index entry, then current/link (each atomically).
  [[nodiscard]] Result<void> tag(const Repository& repo, const Tag& tag,
                                 const crypto::Digest& digest);
  // The digest `tag` points to (ManifestUnknown if the tag does not exist).
  [[nodiscard]] Result<crypto::Digest> resolve(const Repository& repo, const Tag& tag);
  // Removes the tag (its whole directory, as distribution's Untag); ManifestUnknown if absent.
  // The manifest stays (OCI 1.1 "Deleting tags").
  [[nodiscard]] Result<void> untag(const Repository& repo, const Tag& tag);
  // Every tag of the repository, sorted byte-wise (NameUnknown if the repository has no
  // _manifests/tags directory, as distribution's tagStore.All()).
  [[nodiscard]] Result<std::vector<std::string>> list(const Repository& repo);
  // The tags whose current link is `digest`, sorted (empty when none or no tags at all).
  [[nodiscard]] Result<std::vector<std::string>> lookup(const Repository& repo,
                                                        const crypto::Digest& digest);

 private:
  storage::StorageDriver& driver_;
};

}  // namespace portico::registry
