#pragma once
// Verify (scrub) a storage root on distribution's layout: `portico-registry verify [--repair]`.
// Checks, in this order:
//   1. every blob's data hashes to its digest (streamed, on `threads` threads, one buffer each:
//      memory does not grow with blob sizes);
//   2. per repository: every `_layers` link and manifest revision link names its own digest
//      and points at a blob with data; every manifest revision parses and what it references
//      exists (config and layers linked in the repository with data, child manifests linked
//      as revisions); every tag's current link points at a revision of the repository.
// Each problem is one finding line (see verifyStore); a summary line ends the output.
//
// Repair removes only what is provably broken: the data of a blob whose content does not match
// its digest, and then every `_layers` or revision link to a blob without data (including those
// the first removal left dangling). Everything else (a manifest that does not parse, a tag to
// a missing revision, a link whose content names another digest) is reported, never touched:
// deciding about them is the operator's call (push again, delete the tag).
//
// What this does not do: lock out writers (run it with the registry stopped or read-only, as
// garbage-collect; a push during the run can show up as a false finding), fix anything beyond
// the two cases above, or check upload directories (the upload purger's job).

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string_view>

#include "backend/storage/storage_driver.h"
#include "common/result.h"

namespace portico::registry {

struct VerifyOptions {
  bool repair = false;
  size_t threads = 4;                          // blobs hashed at once (at least one)
  std::function<void(std::string_view)> emit;  // one output line (no newline); may be empty
};

struct VerifyReport {
  uint64_t blobs = 0;  // blobs with data hashed
  uint64_t bytes = 0;  // their total size
  uint64_t repositories = 0;
  uint64_t links = 0;      // `_layers` and revision links checked
  uint64_t manifests = 0;  // revisions parsed
  uint64_t tags = 0;
  uint64_t problems = 0;  // finding lines
  uint64_t removed = 0;   // with repair: blobs and links removed
};

// Walks the store and reports each problem through `emit`, one line each:
//   blob <digest>: content does not match its digest (hashes to <digest>)
//   blob <digest>: cannot read: <error>
//   <repo>: layer link <digest>: no blob data
//   <repo>: layer link <digest>: link names <content>
//   <repo>: manifest revision <digest>: no blob data
//   <repo>: manifest revision <digest>: link names <content>
//   <repo>: manifest <digest>: does not parse: <why>
//   <repo>: manifest <digest>: references blob <digest> that is not linked in the repository
//   <repo>: manifest <digest>: references blob <digest> that has no data
//   <repo>: manifest <digest>: references manifest <digest> that is not a revision
//   <repo>: tag <tag>: no current link / current link is not a digest
//   <repo>: tag <tag>: points at <digest>, which is not a revision
// With repair, each removal is one line: `removed blob <digest>` / `removed <repo>: layer
// link <digest>` / `removed <repo>: manifest revision <digest>`. Last, the summary:
//   verified <N> blobs (<B> bytes), <N> links, <N> manifests, <N> tags in <N> repositories:
//   <P> problems[, <R> removed]
// Fails only on a storage error that stops the walk (a listing that fails).
[[nodiscard]] Result<VerifyReport> verifyStore(storage::StorageDriver& driver,
                                               const VerifyOptions& options);

}  // namespace portico::registry
