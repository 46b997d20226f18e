#include "backend/registry/upload_store.h"

#include <event2/buffer.h>
#include <openssl/rand.h>

#include <cstdio>
#include <random>
#include <utility>
#include <vector>

#include "backend/storage/layout.h"

namespace portico::registry {

namespace layout = storage::layout;
using storage::StorageErrc;

struct UploadWriter::HashState {
  crypto::DigestStream stream{crypto::DigestAlgorithm::Sha256};
  // The data file as it was when `stream` last covered it exactly (unset: a new, empty file).
  std::optional<storage::FileStamp> stamp;
};

namespace {

// A random (version 4) UUID, RFC 4122 §4.4, as github.com/google/uuid generates them.
std::string newUuid() {
  unsigned char bytes[16];
  if (RAND_bytes(bytes, sizeof(bytes)) != 1) {
    thread_local std::mt19937_64 rng{std::random_device{}()};
    for (auto& b : bytes) b = static_cast<unsigned char>(rng());
  }
  bytes[6] = static_cast<unsigned char>((bytes[6] & 0x0f) | 0x40);
  bytes[8] = static_cast<unsigned char>((bytes[8] & 0x3f) | 0x80);
  char text[37];
  std::snprintf(text, sizeof(text),
                "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", bytes[0],
                bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7], bytes[8],
                bytes[9], bytes[10], bytes[11], bytes[12], bytes[13], bytes[14], bytes[15]);
  return text;
}

Error uploadUnknown(std::string_view id) {
  return Error{ErrorCode::BlobUploadUnknown, "blob upload unknown", std::string(id)};
}

// Storage failures of an upload; NotFound means the upload vanished under us.
Error uploadStorageError(const Error& error, std::string_view id) {
  return fromStorageError(error, ErrorCode::BlobUploadUnknown, "upload " + std::string(id));
}

Error uploadBusy(std::string_view id) {
  return Error{ErrorCode::RangeInvalid, "another request is writing this upload",
               "upload " + std::string(id) + " has a request in flight; retry after it"};
}

}  // namespace

UploadWriter::UploadWriter(UploadStore& store, std::string key,
                           std::unique_ptr<storage::FileWriter> file,
                           std::unique_ptr<HashState> hash)
    : store_(store),
      key_(std::move(key)),
      file_(std::move(file)),
      chunk_start_(file_->size()),
      hash_(std::move(hash)) {}

UploadWriter::~UploadWriter() {
  if (file_) (void)close();
}

Result<void> UploadWriter::write(evbuffer& data) {
  if (!file_) return Error{ErrorCode::BlobUploadInvalid, "upload writer is closed"};
  if (hash_) hash_->stream.update(data);
  auto written = file_->write(data);
  if (!written) {
    evbuffer_drain(&data, evbuffer_get_length(&data));
    return failWrite(written.error());
  }
  return ok();
}

Result<void> UploadWriter::write(std::string_view data) {
  if (!file_) return Error{ErrorCode::BlobUploadInvalid, "upload writer is closed"};
  if (hash_) hash_->stream.update(data);
  auto written = file_->write(data.data(), data.size());
  if (!written) return failWrite(written.error());
  return ok();
}

Error UploadWriter::failWrite(const Error& error) {
  failed_ = true;
  hash_.reset();  // it has seen bytes that are not stored: commit re-hashes the file
  // Cut the partial chunk off; if even that fails, commit's re-hash still sees the truth.
  (void)file_->truncate(chunk_start_);
  return uploadStorageError(error, id());
}

std::string_view UploadWriter::id() const {
  return std::string_view(key_).substr(key_.find('\n') + 1);
}

uint64_t UploadWriter::offset() const {
  return file_ ? file_->size() : 0;
}

bool UploadWriter::stampHash() {
  if (!hash_ || failed_) return false;
  auto stamp = file_->stamp();
  if (!stamp || hash_->stream.bytes() != stamp->size) return false;
  hash_->stamp = *stamp;
  return true;
}

Result<void> UploadWriter::close() {
  if (!file_) return ok();
  // Still the upload's file? (A DELETE or purge may have removed the upload meanwhile.)
  auto still_there = file_->checkPath();
  if (still_there && stampHash()) store_.returnHashState(key_, std::move(hash_));
  hash_.reset();
  auto closed = file_->close();  // releases the upload's lock
  file_.reset();
  if (!still_there) return uploadStorageError(still_there.error(), id());
  if (!closed) return uploadStorageError(closed.error(), id());
  return ok();
}

UploadStore::UploadStore(storage::StorageDriver& driver, BlobStore& blobs)
    : driver_(driver), blobs_(blobs) {}

UploadStore::~UploadStore() = default;

std::string UploadStore::key(const Repository& repo, std::string_view id) {
  return repo.str() + "\n" + std::string(id);
}

std::unique_ptr<UploadWriter::HashState> UploadStore::takeHashState(const std::string& key) {
  std::lock_guard lock(mutex_);
  auto it = hash_states_.find(key);
  if (it == hash_states_.end()) return nullptr;
  auto state = std::move(it->second);
  hash_states_.erase(it);
  return state;
}

void UploadStore::returnHashState(const std::string& key,
                                  std::unique_ptr<UploadWriter::HashState> state) {
  std::lock_guard lock(mutex_);
  hash_states_[key] = std::move(state);
}

void UploadStore::dropHashState(const std::string& key) {
  std::lock_guard lock(mutex_);
  hash_states_.erase(key);
}

Result<UploadSession> UploadStore::start(const Repository& repo) {
  UploadSession session{repo, newUuid(), 0, std::chrono::system_clock::now()};
  // distribution writes startedat first, then opens (creates) the empty data file.
  if (auto written = driver_.putContent(layout::uploadStartedAt(repo.str(), session.id),
                                        layout::formatStartedAt(session.started_at));
      !written) {
    return uploadStorageError(written.error(), session.id);
  }
  auto data = driver_.writer(layout::uploadData(repo.str(), session.id), false);
  if (!data) return uploadStorageError(data.error(), session.id);
  auto state = std::make_unique<UploadWriter::HashState>();
  if (auto stamp = (*data)->stamp(); stamp) state->stamp = *stamp;
  if (auto closed = (*data)->close(); !closed)
    return uploadStorageError(closed.error(), session.id);
  returnHashState(key(repo, session.id), std::move(state));
  return session;
}

Result<UploadSession> UploadStore::resume(const Repository& repo, std::string_view id) {
  if (!isValidUploadId(id)) return uploadUnknown(id);
  auto started = driver_.getContent(layout::uploadStartedAt(repo.str(), id));
  if (!started) return uploadStorageError(started.error(), id);
  auto started_at = layout::parseStartedAt(*started);
  if (!started_at) {
    return Error{ErrorCode::BlobUploadInvalid, "upload has a malformed startedat file",
                 std::string(id)};
  }
  UploadSession session{repo, std::string(id), 0, *started_at};
  // start() creates the data file right after startedat, and only commit's move takes it away,
  // so an upload without one was committed: by a commit still running (it removes the directory
  // next) or cut by a crash after the move. Unknown, never "empty": its client was told a Range.
  auto data = driver_.stat(layout::uploadData(repo.str(), id));
  if (!data) return uploadStorageError(data.error(), id);
  session.offset = data->size;
  return session;
}

Result<std::unique_ptr<storage::FileWriter>> UploadStore::lockUpload(const Repository& repo,
                                                                     std::string_view id) {
  if (!isValidUploadId(id)) return uploadUnknown(id);
  const std::string started_at = layout::uploadStartedAt(repo.str(), id);
  // Never re-create a cancelled or committed upload (no startedat, or no data file: see
  // resume()); the writer below would create a new, empty data file.
  if (auto started = driver_.stat(started_at); !started) {
    return uploadStorageError(started.error(), id);
  }
  if (auto data = driver_.stat(layout::uploadData(repo.str(), id)); !data) {
    return uploadStorageError(data.error(), id);
  }
  auto file = driver_.writer(layout::uploadData(repo.str(), id), true);
  if (!file) return uploadStorageError(file.error(), id);
  if (auto locked = (*file)->lockExclusive(); !locked) {
    if (locked.error().is(StorageErrc::Busy)) return uploadBusy(id);
    return uploadStorageError(locked.error(), id);
  }
  // Committed or cancelled between the check above and the lock: the open() may have made a
  // new, empty data file in a directory that is going away. Leave it to that request.
  if (auto started = driver_.stat(started_at); !started) {
    return uploadStorageError(started.error(), id);
  }
  return file;
}

std::unique_ptr<UploadWriter::HashState> UploadStore::takeValidHashState(
    const std::string& key, storage::FileWriter& file) {
  auto hash = takeHashState(key);
  if (!hash) return nullptr;
  auto stamp = file.stamp();
  // The state covers the file only if nobody wrote it since the state was brought up to date:
  // same file, same size, same modification and change times (the lock keeps it so now).
  if (!stamp || hash->stream.bytes() != stamp->size ||
      (hash->stamp ? *hash->stamp != *stamp : stamp->size != 0)) {
    return nullptr;
  }
  return hash;
}

Result<std::unique_ptr<UploadWriter>> UploadStore::append(const UploadSession& session,
                                                          std::optional<uint64_t> range_start) {
  auto file = lockUpload(session.repository, session.id);
  if (!file) return file.error();
  const uint64_t size = (*file)->size();
  if (range_start && *range_start != size) {
    (void)(*file)->close();
    return Error{ErrorCode::RangeInvalid, "chunk does not start at the end of the upload",
                 "upload is at " + std::to_string(size) + ", chunk starts at " +
                     std::to_string(*range_start)};
  }
  std::string k = key(session.repository, session.id);
  auto hash = takeValidHashState(k, **file);  // null: bytes we did not see, re-hash at commit
  return std::unique_ptr<UploadWriter>(
      new UploadWriter(*this, std::move(k), std::move(*file), std::move(hash)));
}

Result<crypto::Digest> UploadStore::rehash(const std::string& path,
                                           crypto::DigestAlgorithm algorithm) {
  crypto::DigestStream stream(algorithm);
  auto reader = driver_.reader(path, 0);
  if (!reader) {
    if (reader.error().is(StorageErrc::NotFound)) return stream.finish();
    return reader.error();
  }
  std::vector<char> buffer(1 << 20);
  for (;;) {
    auto n = (*reader)->read(buffer.data(), buffer.size());
    if (!n) return n.error();
    if (*n == 0) break;
    stream.update(buffer.data(), *n);
  }
  return stream.finish();
}

Result<Descriptor> UploadStore::commit(const Repository& repo, std::string_view id,
                                       const crypto::Digest& expected,
                                       std::optional<uint64_t> expected_size,
                                       UploadWriter* writer) {
  if (!isValidUploadId(id)) return uploadUnknown(id);
  const std::string data_path = layout::uploadData(repo.str(), id);
  const std::string k = key(repo, id);

  // The locked data file and, when it provably covers exactly its bytes, the hash state.
  std::unique_ptr<storage::FileWriter> file;
  std::unique_ptr<UploadWriter::HashState> hash;
  if (writer && writer->file_) {
    if (writer->stampHash()) hash = std::move(writer->hash_);
    file = std::move(writer->file_);
    if (auto still_there = file->checkPath(); !still_there) {
      return uploadStorageError(still_there.error(), id);
    }
  } else {
    auto locked = lockUpload(repo, id);
    if (!locked) return locked.error();
    file = std::move(*locked);
    hash = takeValidHashState(k, *file);
  }
  const uint64_t size = file->size();

  auto discard = [&](Error error) -> Error {
    // Nothing may be stored under either digest: the upload goes away (distribution cancels).
    (void)driver_.remove(layout::uploadDir(repo.str(), id));
    dropHashState(k);
    return error;
  };

  if (expected_size && *expected_size != size) {
    return discard(
        Error{ErrorCode::SizeInvalid, "provided length did not match content length",
              "expected " + std::to_string(*expected_size) + ", received " + std::to_string(size)});
  }

  crypto::Digest actual;
  if (hash && expected.algorithm() == hash->stream.algorithm()) {
    actual = hash->stream.finish();
  } else {
    // Under the lock nobody writes the file, and its path names the locked file.
    auto rehashed = rehash(data_path, expected.algorithm());
    if (!rehashed) return uploadStorageError(rehashed.error(), id);
    actual = std::move(*rehashed);
  }
  if (actual != expected) {
    return discard(Error{ErrorCode::DigestInvalid, "provided digest did not match uploaded content",
                         "expected " + expected.str() + ", computed " + actual.str()});
  }

  // Durable before it becomes visible under its digest. The verified file replaces whatever is
  // there (rename is atomic: readers see the old or the new file), so a push heals a blob that
  // does not have its digest's bytes; an intact one is replaced by equal bytes.
  if (auto synced = file->sync(); !synced) return uploadStorageError(synced.error(), id);
  if (auto moved = driver_.move(data_path, layout::blobData(expected)); !moved) {
    return uploadStorageError(moved.error(), id);
  }
  (void)file->close();  // the lock goes with it; a writer waiting for it finds no file at the path
  dropHashState(k);

  if (auto linked = blobs_.link(repo, expected); !linked) return linked.error();
  if (auto removed = driver_.remove(layout::uploadDir(repo.str(), id));
      !removed && !removed.error().is(StorageErrc::NotFound)) {
    return uploadStorageError(removed.error(), id);
  }
  return Descriptor{expected, size, std::string(kOctetStream)};
}

Result<void> UploadStore::cancel(const Repository& repo, std::string_view id) {
  if (!isValidUploadId(id)) return uploadUnknown(id);
  dropHashState(key(repo, id));
  if (auto removed = driver_.remove(layout::uploadDir(repo.str(), id)); !removed) {
    return uploadStorageError(removed.error(), id);
  }
  return ok();
}

Result<size_t> UploadStore::purge(std::chrono::system_clock::time_point older_than) {
  std::vector<std::string> uploads_dirs;
  auto walked = driver_.walk(layout::repositoriesRoot(), [&](const storage::FileInfo& info) {
    if (!info.is_dir) return storage::WalkControl::Continue;
    const std::string_view name = storage::baseName(info.path);
    if (name == "_uploads") {
      uploads_dirs.push_back(info.path);
      return storage::WalkControl::SkipDir;
    }
    if (layout::isRepositoryDataDir(name)) return storage::WalkControl::SkipDir;
    return storage::WalkControl::Continue;
  });
  if (!walked) {
    if (walked.error().is(StorageErrc::NotFound)) return size_t{0};
    return fromStorageError(walked.error(), ErrorCode::Internal, "repositories");
  }

  size_t removed = 0;
  for (const std::string& dir : uploads_dirs) {
    auto uploads = driver_.list(dir);
    if (!uploads) continue;
    for (const std::string& upload : *uploads) {
      bool stale = false;
      if (auto started = driver_.getContent(upload + "/startedat"); started) {
        auto time = layout::parseStartedAt(*started);
        stale = !time || *time < older_than;
      } else if (auto info = driver_.stat(upload); info) {
        // No startedat (a crash between mkdir and write, or debris): judge by the directory.
        stale = info->mod_time < older_than;
      }
      if (stale && driver_.remove(upload)) ++removed;
    }
  }
  if (removed > 0) {
    std::lock_guard lock(mutex_);
    for (auto it = hash_states_.begin(); it != hash_states_.end();) {
      const size_t newline = it->first.find('\n');
      auto started = driver_.stat(
          layout::uploadStartedAt(it->first.substr(0, newline), it->first.substr(newline + 1)));
      it = started ? std::next(it) : hash_states_.erase(it);
    }
  }
  return removed;
}

}  // namespace portico::registry
