#include "backend/registry/local_services.h"

#include <event2/buffer.h>

#include <string>
#include <utility>
#include <vector>

namespace portico::registry {
namespace {

// Everything a repository's services need: the stores, the executor and the name.
struct Shared {
  LocalStores& stores;
  storage::StorageExecutor& executor;
  Repository name;

  template <typename T, typename Work>
  void run(const Context& ctx, Work&& work, Done<T> done) {
    executor.template run<T>(ctx ? ctx->worker : nullptr, std::forward<Work>(work),
                             std::move(done));
  }
  // For work that only reads: answered on the worker when the driver can do it without waiting
  // (StorageExecutor::read). `work` may run twice.
  template <typename T, typename Work>
  void read(const Context& ctx, Work&& work, Done<T> done) {
    executor.template read<T>(ctx ? ctx->worker : nullptr, stores.driver.supportsNoWait(),
                              std::forward<Work>(work), std::move(done));
  }
};

// Reads a FileReader's next bytes on the executor. The reader is shared with the read in
// flight, so the BlobReader may go (client gone) while a read runs.
class LocalBlobReader : public BlobReader {
 public:
  LocalBlobReader(storage::StorageExecutor& executor, std::unique_ptr<storage::FileReader> reader)
      : executor_(executor), reader_(std::move(reader)) {}

  void read(const Context& ctx, size_t max, Done<std::string> done) override {
    executor_.run<std::string>(
        ctx ? ctx->worker : nullptr,
        [reader = reader_, max]() -> Result<std::string> {
          std::string buffer(max, '\0');
          auto got = reader->read(buffer.data(), max);
          if (!got) return got.error();
          buffer.resize(*got);
          return buffer;
        },
        std::move(done));
  }

 private:
  storage::StorageExecutor& executor_;
  std::shared_ptr<storage::FileReader> reader_;
};

// Appends to an UploadWriter on the executor, one write at a time. The UploadWriter is shared
// with the write in flight: when this writer goes first (client gone), the write in flight
// finishes and the UploadWriter is released on the storage thread; otherwise the release
// (closing one file) happens here.
class LocalBlobWriter : public BlobWriter {
 public:
  LocalBlobWriter(storage::StorageExecutor& executor, UploadStore& store,
                  const UploadSession& session, std::unique_ptr<UploadWriter> writer)
      : executor_(executor),
        store_(store),
        repository_(session.repository),
        id_(session.id),
        writer_(std::move(writer)),
        offset_(std::make_shared<uint64_t>(writer_->offset())) {}

  uint64_t offset() const override { return *offset_; }

  void write(const Context& ctx, net::EvbufferPtr data, Done<void> done) override {
    // Shared with the completion, which may run after this writer is gone.
    auto offset = offset_;
    executor_.run<uint64_t>(
        ctx ? ctx->worker : nullptr,
        [writer = writer_,
         data = std::shared_ptr<evbuffer>(std::move(data))]() -> Result<uint64_t> {
          auto written = writer->write(*data);
          if (!written) return written.error();
          return writer->offset();
        },
        Done<uint64_t>([offset, done = std::move(done)](Result<uint64_t> result) {
          if (!result) return done(result.error());
          *offset = *result;
          done(ok());
        }));
  }

  void close(const Context& ctx, Done<void> done) override {
    executor_.run<void>(
        ctx ? ctx->worker : nullptr, [writer = std::move(writer_)] { return writer->close(); },
        std::move(done));
  }

  void commit(const Context& ctx, crypto::Digest digest, std::optional<uint64_t> size,
              Done<Descriptor> done) override {
    // The commit takes the UploadWriter's file and lock; no write is in flight (one at a time,
    // and the caller commits after the last one completed).
    executor_.run<Descriptor>(
        ctx ? ctx->worker : nullptr,
        [&store = store_, repository = repository_, id = id_, writer = std::move(writer_),
         digest = std::move(digest),
         size] { return store.commit(repository, id, digest, size, writer.get()); },
        std::move(done));
  }

 private:
  storage::StorageExecutor& executor_;
  UploadStore& store_;
  Repository repository_;
  std::string id_;
  std::shared_ptr<UploadWriter> writer_;
  std::shared_ptr<uint64_t> offset_;
};

class LocalBlobs : public BlobService {
 public:
  explicit LocalBlobs(Shared& shared) : s_(shared) {}

  void stat(const Context& ctx, const crypto::Digest& digest, Done<Descriptor> done) override {
    s_.read<Descriptor>(
        ctx,
        [&store = s_.stores.layers, name = s_.name, digest] { return store.stat(name, digest); },
        std::move(done));
  }
  void open(const Context& ctx, const crypto::Digest& digest, uint64_t offset,
            Done<BlobContent> done) override {
    s_.read<BlobContent>(
        ctx,
        [&store = s_.stores.layers, &executor = s_.executor, name = s_.name, digest,
         offset]() -> Result<BlobContent> {
          auto reader = store.open(name, digest, offset);
          if (!reader) return reader.error();
          // The reader knows the size: no second link read and stat (BlobStore::stat).
          BlobContent content;
          content.descriptor = Descriptor{digest, (*reader)->size(), std::string(kOctetStream)};
          content.fd = (*reader)->releaseFd();
          if (content.fd < 0) {
            // A driver without descriptors: reopen (releaseFd made the reader unusable).
            auto again = store.open(name, digest, offset);
            if (!again) return again.error();
            content.reader = std::make_unique<LocalBlobReader>(executor, std::move(*again));
          }
          return content;
        },
        std::move(done));
  }
  void mount(const Context& ctx, const Repository& from, const crypto::Digest& digest,
             Done<Descriptor> done) override {
    s_.run<Descriptor>(
        ctx,
        [&store = s_.stores.layers, from, name = s_.name, digest] {
          return store.mount(from, name, digest);
        },
        std::move(done));
  }
  void remove(const Context& ctx, const crypto::Digest& digest, Done<void> done) override {
    s_.run<void>(
        ctx,
        [&store = s_.stores.layers, name = s_.name, digest] { return store.remove(name, digest); },
        std::move(done));
  }

 private:
  Shared& s_;
};

class LocalUploads : public UploadService {
 public:
  explicit LocalUploads(Shared& shared) : s_(shared) {}

  void start(const Context& ctx, Done<UploadSession> done) override {
    s_.run<UploadSession>(
        ctx, [&store = s_.stores.uploads, name = s_.name] { return store.start(name); },
        std::move(done));
  }
  void resume(const Context& ctx, std::string id, Done<UploadSession> done) override {
    s_.run<UploadSession>(
        ctx,
        [&store = s_.stores.uploads, name = s_.name, id = std::move(id)] {
          return store.resume(name, id);
        },
        std::move(done));
  }
  void append(const Context& ctx, UploadSession session, std::optional<uint64_t> range_start,
              Done<std::unique_ptr<BlobWriter>> done) override {
    s_.run<std::unique_ptr<BlobWriter>>(
        ctx,
        [&store = s_.stores.uploads, &executor = s_.executor, session = std::move(session),
         range_start]() -> Result<std::unique_ptr<BlobWriter>> {
          auto writer = store.append(session, range_start);
          if (!writer) return writer.error();
          return std::unique_ptr<BlobWriter>(
              std::make_unique<LocalBlobWriter>(executor, store, session, std::move(*writer)));
        },
        std::move(done));
  }
  void commit(const Context& ctx, std::string id, crypto::Digest digest,
              std::optional<uint64_t> size, Done<Descriptor> done) override {
    s_.run<Descriptor>(
        ctx,
        [&store = s_.stores.uploads, name = s_.name, id = std::move(id), digest, size] {
          return store.commit(name, id, digest, size);
        },
        std::move(done));
  }
  void cancel(const Context& ctx, std::string id, Done<void> done) override {
    s_.run<void>(
        ctx,
        [&store = s_.stores.uploads, name = s_.name, id = std::move(id)] {
          return store.cancel(name, id);
        },
        std::move(done));
  }

 private:
  Shared& s_;
};

class LocalManifests : public ManifestService {
 public:
  explicit LocalManifests(Shared& shared) : s_(shared) {}

  void get(const Context& ctx, Reference reference, Done<StoredManifest> done) override {
    s_.read<StoredManifest>(
        ctx,
        [&store = s_.stores.manifests, name = s_.name, reference = std::move(reference)] {
          return store.get(name, reference);
        },
        std::move(done));
  }
  void stat(const Context& ctx, Reference reference, Done<ManifestInfo> done) override {
    s_.read<ManifestInfo>(
        ctx,
        [&store = s_.stores.manifests, name = s_.name, reference = std::move(reference)] {
          return store.stat(name, reference);
        },
        std::move(done));
  }
  void put(const Context& ctx, Reference reference, std::string media_type, std::string bytes,
           Done<PutManifestResult> done) override {
    s_.run<PutManifestResult>(
        ctx,
        [&store = s_.stores.manifests, name = s_.name, reference = std::move(reference),
         media_type = std::move(media_type),
         bytes = std::move(bytes)] { return store.put(name, reference, media_type, bytes); },
        std::move(done));
  }
  void remove(const Context& ctx, crypto::Digest digest, Done<void> done) override {
    s_.run<void>(
        ctx,
        [&store = s_.stores.manifests, name = s_.name, digest = std::move(digest)] {
          return store.remove(name, digest);
        },
        std::move(done));
  }
  void referrers(const Context& ctx, crypto::Digest subject,
                 std::optional<std::string> artifact_type,
                 Done<std::vector<manifests::Descriptor>> done) override {
    s_.run<std::vector<manifests::Descriptor>>(
        ctx,
        [&index = s_.stores.referrers, name = s_.name, subject = std::move(subject),
         artifact_type = std::move(artifact_type)] {
          std::optional<std::string_view> filter;
          if (artifact_type) filter = *artifact_type;
          return index.list(name, subject, filter);
        },
        std::move(done));
  }

 private:
  Shared& s_;
};

class LocalTags : public TagService {
 public:
  explicit LocalTags(Shared& shared) : s_(shared) {}

  void resolve(const Context& ctx, Tag tag, Done<crypto::Digest> done) override {
    s_.read<crypto::Digest>(
        ctx,
        [&store = s_.stores.tags, name = s_.name, tag = std::move(tag)] {
          return store.resolve(name, tag);
        },
        std::move(done));
  }
  void untag(const Context& ctx, Tag tag, Done<void> done) override {
    s_.run<void>(
        ctx,
        [&store = s_.stores.tags, name = s_.name, tag = std::move(tag)] {
          return store.untag(name, tag);
        },
        std::move(done));
  }
  void list(const Context& ctx, Done<std::shared_ptr<const TagStore::TagList>> done) override {
    s_.read<std::shared_ptr<const TagStore::TagList>>(
        ctx, [&store = s_.stores.tags, name = s_.name] { return store.sortedTags(name); },
        std::move(done));
  }
  void lookup(const Context& ctx, crypto::Digest digest,
              Done<std::vector<std::string>> done) override {
    s_.run<std::vector<std::string>>(
        ctx,
        [&store = s_.stores.tags, name = s_.name, digest = std::move(digest)] {
          return store.lookup(name, digest);
        },
        std::move(done));
  }

 private:
  Shared& s_;
};

class LocalRepository : public RepositoryService {
 public:
  LocalRepository(LocalStores& stores, storage::StorageExecutor& executor, Repository name)
      : shared_{stores, executor, std::move(name)},
        blobs_(shared_),
        uploads_(shared_),
        manifests_(shared_),
        tags_(shared_) {}

  const Repository& name() const override { return shared_.name; }
  BlobService& blobs() override { return blobs_; }
  UploadService& uploads() override { return uploads_; }
  ManifestService& manifests() override { return manifests_; }
  TagService& tags() override { return tags_; }

 private:
  Shared shared_;
  LocalBlobs blobs_;
  LocalUploads uploads_;
  LocalManifests manifests_;
  LocalTags tags_;
};

}  // namespace

LocalNamespace::LocalNamespace(storage::StorageDriver& driver, storage::StorageExecutor& executor)
    : stores_(driver), executor_(executor) {}

std::unique_ptr<RepositoryService> LocalNamespace::repository(const Repository& name) {
  return std::make_unique<LocalRepository>(stores_, executor_, name);
}

void LocalNamespace::catalog(const Context& ctx, std::optional<size_t> n, std::string last,
                             Done<Page> done) {
  executor_.run<Page>(
      ctx ? ctx->worker : nullptr,
      [&catalog = stores_.catalog, n, last = std::move(last)] { return catalog.list(n, last); },
      std::move(done));
}

}  // namespace portico::registry
