#pragma once
// UploadStore: resumable blob uploads, as distribution's blobWriter/linkedBlobStore.Create
// (registry/storage/blobwriter.go). An upload is the directory
// repositories/<name>/_uploads/<id>/ with `startedat` (written at start) and `data` (the bytes
// received so far, appended chunk by chunk).
//
// One writer per upload. Every request that writes an upload's data file or commits it (PATCH,
// PUT, monolithic POST) first takes the upload's lock (lockUpload(), the one seam that decides
// who may write: today an flock on the data file, so it holds across processes on one storage
// root) and keeps it until its body is written and, for a commit, until the file has been
// moved. A second writer meanwhile gets RangeInvalid ("another request in flight"). After
// taking the lock a writer checks that its open file is still the one the upload's path names,
// so a file already moved into blobs/ is never written again.
//
// Commit, under the lock: verifies the client's size and digest against the file's bytes (the
// in-memory hash state when it provably covers exactly those bytes, else a re-hash), fsyncs,
// renames the file over blobs/<alg>/<xx>/<hex>/data (replacing whatever was there: a verified
// copy heals a corrupt blob), links it into the repository's _layers and removes the upload
// directory. A blob is therefore never stored under a digest its bytes do not have.
//
// Hashing: a SHA-256 DigestStream per upload is kept in memory while the process lives (a
// per-process map id → state and the file's stamp when the state was last brought up to date).
// A state whose stamp differs from the file's (another process wrote, a restart, a failed
// write, sha512, an upload started by distribution) is dropped and commit re-hashes the file.
//
// Errors: BlobUploadUnknown (no such upload, or it was cancelled or committed while a chunk
// was written), RangeInvalid (a chunk that does not start at the current size, or another
// request in flight), DigestInvalid, SizeInvalid, BlobUploadInvalid, Unavailable (volume full),
// Internal. Thread-safe.
// What this does not do: fence writers that do not take the lock (distribution itself).

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "backend/registry/blob_store.h"
#include "backend/registry/reference.h"
#include "backend/storage/storage_driver.h"
#include "common/crypto/digest.h"
#include "common/result.h"

struct evbuffer;

namespace portico::registry {

// One upload, as the API reports it (Docker-Upload-UUID, Range: 0-<offset-1>).
struct UploadSession {
  Repository repository;
  std::string id;       // a UUID v4 for uploads we start
  uint64_t offset = 0;  // bytes received so far
  std::chrono::system_clock::time_point started_at;
};

class UploadStore;

// Appends one chunk's bytes to an upload, hashing them as they are written. Obtained from
// UploadStore::append(); feed it from the streaming request body, then close() it. A write
// that fails (a full volume, an I/O error) cuts the upload back to where this chunk began: the
// chunk failed as a whole, the upload's Range still says where to resume, and the space the
// partial chunk held is given back.
class UploadWriter {
 public:
  ~UploadWriter();
  UploadWriter(const UploadWriter&) = delete;
  UploadWriter& operator=(const UploadWriter&) = delete;

  // Hashes and appends all of `data`, draining it. On failure the chunk is cut off (above).
  [[nodiscard]] Result<void> write(evbuffer& data);
  // Hashes and appends `data` (small bodies, tests).
  [[nodiscard]] Result<void> write(std::string_view data);
  // Size of the upload so far (the next chunk's start).
  uint64_t offset() const;
  // Ends this chunk: hands the hash state back to the store and releases the file and the
  // upload's lock. BlobUploadUnknown if the upload was cancelled (or purged) meanwhile. Without
  // a close() (client went away) the bytes stay and the next commit re-hashes them.
  [[nodiscard]] Result<void> close();

 private:
  friend class UploadStore;
  struct HashState;
  UploadWriter(UploadStore& store, std::string key, std::unique_ptr<storage::FileWriter> file,
               std::unique_ptr<HashState> hash);
  // The upload id (the key without its repository).
  std::string_view id() const;
  // Brings the hash state's stamp up to date (false: the state cannot be trusted).
  bool stampHash();

  [[nodiscard]] Error failWrite(const Error& error);

  UploadStore& store_;
  std::string key_;
  std::unique_ptr<storage::FileWriter> file_;
  uint64_t chunk_start_;             // the upload's size when this chunk began
  std::unique_ptr<HashState> hash_;  // null when the bytes before this chunk were not hashed
  bool failed_ = false;
};

class UploadStore {
 public:
  // `blobs` must use LinkSet::Layers; commit links into it.
  UploadStore(storage::StorageDriver& driver, BlobStore& blobs);
  ~UploadStore();

  // Starts an upload: a new UUID v4 and its startedat file.
  [[nodiscard]] Result<UploadSession> start(const Repository& repo);
  // An existing upload (also one started before a restart, or by distribution): the data
  // file's size is the offset. BlobUploadUnknown if there is no startedat file or the id is
  // not a valid upload id.
  [[nodiscard]] Result<UploadSession> resume(const Repository& repo, std::string_view id);
  // A writer appending to the upload. `range_start` is the first byte of Content-Range when
  // the client sent one: it must equal the current size (else RangeInvalid).
  [[nodiscard]] Result<std::unique_ptr<UploadWriter>> append(
      const UploadSession& session, std::optional<uint64_t> range_start = std::nullopt);
  // Verifies and moves the upload into the blob store (see the top of this file). On a digest
  // or size mismatch the upload is removed and nothing is stored under either digest.
  // `writer`: the final chunk's writer (PUT with a body, monolithic POST), whose file and lock
  // the commit takes over (the writer is spent afterwards), so that no other request can come
  // between the last byte and the commit; without it, commit takes the lock itself
  // (RangeInvalid while another request writes).
  [[nodiscard]] Result<Descriptor> commit(const Repository& repo, std::string_view id,
                                          const crypto::Digest& expected,
                                          std::optional<uint64_t> expected_size = std::nullopt,
                                          UploadWriter* writer = nullptr);
  // Removes the upload directory (BlobUploadUnknown if there is none).
  [[nodiscard]] Result<void> cancel(const Repository& repo, std::string_view id);
  // Removes every upload whose startedat is before `older_than` (and upload directories with
  // no readable startedat), across all repositories, as distribution's uploadpurging does.
  // Returns the number of uploads removed.
  [[nodiscard]] Result<size_t> purge(std::chrono::system_clock::time_point older_than);

 private:
  friend class UploadWriter;
  static std::string key(const Repository& repo, std::string_view id);
  // The one-writer seam: opens the upload's data file for appending and takes the upload's
  // exclusive lock (today FileWriter::lockExclusive, an flock on the data file; on an object
  // store it would be a lease beside a multipart upload). RangeInvalid if another request
  // holds it, BlobUploadUnknown if the upload is gone (never re-creates it).
  [[nodiscard]] Result<std::unique_ptr<storage::FileWriter>> lockUpload(const Repository& repo,
                                                                        std::string_view id);
  // The hash state for the upload if it covers exactly the locked file's bytes, else null.
  std::unique_ptr<UploadWriter::HashState> takeValidHashState(const std::string& key,
                                                              storage::FileWriter& file);
  std::unique_ptr<UploadWriter::HashState> takeHashState(const std::string& key);
  void returnHashState(const std::string& key, std::unique_ptr<UploadWriter::HashState> state);
  void dropHashState(const std::string& key);
  [[nodiscard]] Result<crypto::Digest> rehash(const std::string& path,
                                              crypto::DigestAlgorithm algorithm);

  storage::StorageDriver& driver_;
  BlobStore& blobs_;
  std::mutex mutex_;
  std::unordered_map<std::string, std::unique_ptr<UploadWriter::HashState>> hash_states_;
};

}  // namespace portico::registry
