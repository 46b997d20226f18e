#pragma once
// ReferrerIndex: the OCI 1.1 referrers of a subject manifest (distribution-spec "Listing
// Referrers"). Distribution 2.8 has no referrers API and no referrers layout, so nothing new
// is written to disk: list() scans the repository's _manifests/revisions links and reads each
// manifest's `subject`. What it learns per manifest digest is cached in memory (content is
// immutable per digest, so the cache never goes stale; a deleted revision simply stops being
// listed because its link is gone). Manifests pushed by distribution on the same storage are
// found the same way.
//
// Thread-safe (one mutex around the cache).

#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "backend/registry/manifests/descriptor.h"
#include "backend/registry/reference.h"
#include "backend/storage/storage_driver.h"
#include "common/crypto/digest.h"
#include "common/result.h"

namespace portico::registry {

class ReferrerIndex {
 public:
  explicit ReferrerIndex(storage::StorageDriver& driver) : driver_(driver) {}

  // Descriptors (mediaType, digest, size, artifactType, annotations) of the manifests in
  // `repo` whose subject is `subject`, sorted by digest; only those whose artifactType equals
  // `artifact_type` when given. Unknown subject or repository → empty list, not an error.
  [[nodiscard]] Result<std::vector<manifests::Descriptor>> list(
      const Repository& repo, const crypto::Digest& subject,
      std::optional<std::string_view> artifact_type = std::nullopt);

  // The referrers response body: an OCI image index holding `descriptors`.
  static std::string renderIndex(const std::vector<manifests::Descriptor>& descriptors);

 private:
  struct Entry {
    std::optional<crypto::Digest> subject;
    manifests::Descriptor descriptor;
  };
  Result<Entry> load(const crypto::Digest& digest);

  storage::StorageDriver& driver_;
  std::mutex mutex_;
  std::map<crypto::Digest, Entry> cache_;
};

}  // namespace portico::registry
