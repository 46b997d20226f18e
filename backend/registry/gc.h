#pragma once
// Garbage collection of a storage root on distribution's layout: mark everything a live
// manifest reaches, sweep the rest (distribution's registry/storage/garbagecollect.go, with
// its known defects fixed; see docs/ARCHITECTURE.md "Storage lifecycle").
//
// Mark, per repository: every manifest revision (with `delete_untagged`: only those a tag's
// current link names), and recursively from each marked manifest its config and layers (or
// schema1 fsLayers), its child manifests (an index keeps its children alive even when they
// are untagged), the signed copy of a schema1 manifest, and — with `delete_untagged` — every
// untagged manifest whose `subject` is a marked manifest of the repository (OCI 1.1
// referrers live as long as their subject).
// Sweep: the revision links and tag-index entries of unmarked manifests, the `_layers` links
// of unmarked blobs, then the unmarked blobs' data.
//
// Offline (no `grace`): the caller guarantees nothing writes to the store meanwhile
// (distribution's requirement). Online (`grace` set): see collectGarbage below.
//
// Output: `emit` receives distribution 2.8's lines, so scripts written for
// `registry garbage-collect` keep working:
//   <repo>
//   <repo>: marking manifest <digest>       (with a trailing space, as distribution prints it)
//   <repo>: marking blob <digest>
//   manifest eligible for deletion: <digest>
//   (empty line)
//   <N> blobs marked, <N> blobs and <N> manifests eligible for deletion
//   blob eligible for deletion: <digest>
//   <repo>: layer link eligible for deletion: <digest>    (distribution 3's wording)
//
// What this does not do: upload directories (the upload purger's job), tags (never removed:
// a tag is the user's), a manifest whose bytes cannot be read or parsed (the run fails rather
// than guess what it references; `portico-registry verify --repair` first).

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "backend/storage/storage_driver.h"
#include "common/crypto/digest.h"
#include "common/result.h"

namespace portico::registry {

// The online grace rules (storage.maintenance.gc.delay and the settle period).
struct GcGrace {
  // Nothing whose data, `_layers` link or revision link was written at or after this time is
  // deleted (T0 − delay, T0 on the storage's own clock).
  std::chrono::system_clock::time_point keep_newer_than;
  // Called between the link removal and the re-mark, and between moving data aside and the
  // final link check: waits the settle period; returns false to abandon the run (shutdown),
  // in which case everything set aside is put back.
  std::function<bool()> settle;
};

struct GcOptions {
  bool dry_run = false;
  bool delete_untagged = false;
  std::optional<GcGrace> grace;                // set: online collection
  std::function<void(std::string_view)> emit;  // one output line (no newline); may be empty
};

// What one run did (also what the metrics expose).
struct GcReport {
  uint64_t marked = 0;              // distinct digests marked (manifests and blobs)
  uint64_t blobs_eligible = 0;      // unmarked blobs (after the grace rules when online)
  uint64_t manifests_eligible = 0;  // unmarked manifest revisions
  uint64_t blobs_deleted = 0;
  uint64_t manifests_deleted = 0;              // revision links removed
  uint64_t layer_links_deleted = 0;            // `_layers` links removed
  uint64_t rescued = 0;                        // online: candidates re-referenced before deletion
  uint64_t bytes_freed = 0;                    // sizes of the deleted blobs' data
  std::vector<crypto::Digest> eligible_blobs;  // sorted
  std::chrono::milliseconds duration{0};
};

// Runs one collection. Offline: mark, then sweep (links first, then data). Online (grace):
//  1. mark; a blob is a candidate only if unmarked, its data older than keep_newer_than and
//     no `_layers` or revision link to it in any repository newer than that;
//  2. remove the unmarked manifests' revision links and the candidates' `_layers` links (a
//     manifest PUT checks those links, so from here no new manifest can reference them);
//  3. settle, then mark again: candidates now referenced are rescued (their links restored);
//  4. move each remaining candidate's data aside, settle, and delete it only if still no
//     `_layers` link to it exists anywhere (else put it back).
// Fails on a storage error or on a manifest that cannot be read or parsed (nothing is
// deleted then: marking completes before any sweep).
[[nodiscard]] Result<GcReport> collectGarbage(storage::StorageDriver& driver,
                                              const GcOptions& options);

// One GC at a time per store: an exclusive lock on <root>/docker/registry/v2/_portico/gc/lock
// (fcntl, so it also holds across NFS clients) for the filesystem driver; a per-driver lock
// inside this process for other drivers.
class GcLock {
 public:
  // The lock, or nullopt when another run holds it.
  static Result<std::optional<GcLock>> tryAcquire(storage::StorageDriver& driver);
  GcLock(GcLock&& other) noexcept;
  GcLock& operator=(GcLock&&) = delete;
  GcLock(const GcLock&) = delete;
  ~GcLock();

 private:
  GcLock(int fd, const void* key) : fd_(fd), key_(key) {}
  int fd_ = -1;
  const void* key_ = nullptr;
};

// Every repository: a directory under repositories/ holding `_layers` or `_manifests`
// (distribution's catalog asks for `_layers` only; a repository whose `_layers` is gone still
// has manifests). `_` directories are never descended into. Shared by GC and verify.
[[nodiscard]] Result<std::vector<std::string>> storedRepositories(storage::StorageDriver& driver);

// One entry of a link set: the digest its directories name and its link file's path.
struct LinkDir {
  crypto::Digest digest;
  std::string link_path;  // <dir>/<alg>/<hex>/link (it may be missing)
};

// <dir>/<alg>/<hex>: the entries of a link set (distribution's linkedBlobStore Enumerate),
// directories whose names are not a digest skipped. Shared by GC and verify.
[[nodiscard]] Result<std::vector<LinkDir>> linkDirs(storage::StorageDriver& driver,
                                                    const std::string& dir);

// One blob with data in the global store.
struct StoredBlob {
  crypto::Digest digest;
  uint64_t size = 0;
  std::chrono::system_clock::time_point mod_time;
};

// Every blob with data (distribution's blobStore.Enumerate); directories without data are
// skipped. Shared by GC and verify.
[[nodiscard]] Result<std::vector<StoredBlob>> storedBlobs(storage::StorageDriver& driver);

// T0 on the storage's own clock: writes the marker object (_portico/gc/started) and returns
// its modification time (a shared store's clock, not this host's).
[[nodiscard]] Result<std::chrono::system_clock::time_point> storageNow(
    storage::StorageDriver& driver);

}  // namespace portico::registry
