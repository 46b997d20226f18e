#pragma once
// UploadStore: resumable blob uploads, as distribution's blobWriter/linkedBlobStore.Create
// (registry/storage/blobwriter.go). An upload is the directory
// repositories/<name>/_uploads/<id>/ with `startedat` (written at start) and `data` (the bytes
// received so far, appended chunk by chunk). Commit verifies the client's digest and size,
// fsyncs, renames `data` into blobs/<alg>/<xx>/<hex>/data (keeping an existing blob), links
// it into the repository's _layers and removes the upload directory. A blob is therefore never
// visible under a digest its bytes do not have.
//
// Hashing: a SHA-256 DigestStream per upload is kept in memory while the process lives (a
// per-process map id → state, locked briefly when a writer opens and closes). After a restart,
// for a sha512 digest, or after a failed write, commit re-hashes the stored bytes instead.
//
// Errors: BlobUploadUnknown (no such upload), RangeInvalid (a chunk that does not start at the
// current size), DigestInvalid, SizeInvalid, BlobUploadInvalid (writing to an upload that
// vanished), Unavailable (volume full), Internal.
// Thread-safe; one writer per upload at a time is the caller's (HTTP layer's) contract.

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
  // Ends this chunk: releases the file and hands the hash state back to the store. Without a
  // close() (client went away) the bytes stay and the next commit re-hashes them.
  [[nodiscard]] Result<void> close();

 private:
  friend class UploadStore;
  struct HashState;
  UploadWriter(UploadStore& store, std::string key, std::unique_ptr<storage::FileWriter> file,
               std::unique_ptr<HashState> hash);

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
  [[nodiscard]] Result<Descriptor> commit(const Repository& repo, std::string_view id,
                                          const crypto::Digest& expected,
                                          std::optional<uint64_t> expected_size = std::nullopt);
  // Removes the upload directory (BlobUploadUnknown if there is none).
  [[nodiscard]] Result<void> cancel(const Repository& repo, std::string_view id);
  // Removes every upload whose startedat is before `older_than` (and upload directories with
  // no readable startedat), across all repositories, as distribution's uploadpurging does.
  // Returns the number of uploads removed.
  [[nodiscard]] Result<size_t> purge(std::chrono::system_clock::time_point older_than);

 private:
  friend class UploadWriter;
  static std::string key(const Repository& repo, std::string_view id);
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
