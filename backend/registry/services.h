#pragma once
// The registry's services as interfaces, in CNCF distribution's model (registry.go:
// Namespace → Repository → BlobStore / ManifestService / TagService, plus the upload writer):
//
//   Namespace            repository(name), catalog(n, last)
//     └─ RepositoryService   one repository, made per request (cheap: references only)
//          ├─ BlobService       stat, open (fd | redirect URL | async reader), mount, remove
//          ├─ UploadService     start, resume, append → BlobWriter, commit, cancel
//          ├─ ManifestService   get, stat, put, remove, referrers
//          └─ TagService        resolve, tag, untag, list, lookup
//
// Every call is asynchronous: it returns at once and calls `done` exactly once, later, on the
// worker named by the call's Context (never inside the call itself, so a caller may hold no
// state on its stack across it). The implementation behind them (registry/local_services.*)
// runs today's synchronous stores (BlobStore, UploadStore, ManifestStore, TagStore,
// ReferrerIndex, Catalog) on the storage::StorageExecutor, so no worker ever blocks on the
// disk; a network driver (S3) plugs in below the same stores.
//
// Cross-cutting features are decorators of these interfaces, not edits of the stores: a
// descriptor cache wraps BlobService::stat, notifications wrap the writes and reads they
// report (using the Context's request and actor), a pull-through cache wraps the whole
// Namespace. A decorator forwards what it does not change (see ForwardingNamespace and
// friends below, which forward everything) and must keep the "done once, on ctx.worker"
// rule.
//
// Lifetime: a completion may arrive after the client went away. Callers in backend/api wrap
// every completion with api::Pending::then (a weak handle on the exchange's observer), which
// drops it once the exchange ended; an implementation may therefore run `done` at any time
// after the call returns, and must own (not borrow from the caller) what its work uses.
//
// Errors are registry::ErrorCode errors, as the stores return them.

#include <unistd.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "backend/registry/blob_store.h"
#include "backend/registry/catalog.h"
#include "backend/registry/manifest_store.h"
#include "backend/registry/manifests/descriptor.h"
#include "backend/registry/reference.h"
#include "backend/registry/tag_store.h"
#include "backend/registry/upload_store.h"
#include "backend/storage/executor.h"
#include "common/crypto/digest.h"
#include "common/net/event_ptr.h"
#include "common/result.h"

namespace portico::net {
class Worker;
}

namespace portico::registry {

using storage::Done;

// Who asks, on whose behalf, and where the answer goes. Made once per request by the API
// pipeline and shared by every call the request makes.
struct RequestContext {
  net::Worker* worker = nullptr;  // completions run here; null: on the storage thread
  std::string request_id;         // the X-Request-Id the access log and events carry
  std::string remote_addr;        // client address (events' request.addr)
  std::string host;               // Host header (events' request.host)
  std::string method;             // HTTP method
  std::string user_agent;         // User-Agent
  std::string actor;              // authenticated user name; empty when anonymous
};
using Context = std::shared_ptr<const RequestContext>;

// Reads a blob's bytes in pieces, off the loop.
class BlobReader {
 public:
  virtual ~BlobReader() = default;
  // Up to `max` next bytes; an empty string at the end of the blob.
  virtual void read(const Context& ctx, size_t max, Done<std::string> done) = 0;
};

// How a blob's bytes reach the client: exactly one of the three is set. Owns `fd`: a content
// dropped unused (its request went away before the completion ran) closes it.
struct BlobContent {
  BlobContent() = default;
  BlobContent(BlobContent&& other) noexcept
      : descriptor(std::move(other.descriptor)),
        fd(std::exchange(other.fd, -1)),
        redirect_url(std::move(other.redirect_url)),
        reader(std::move(other.reader)) {}
  BlobContent& operator=(BlobContent&& other) noexcept {
    if (this != &other) {
      closeFd();
      descriptor = std::move(other.descriptor);
      fd = std::exchange(other.fd, -1);
      redirect_url = std::move(other.redirect_url);
      reader = std::move(other.reader);
    }
    return *this;
  }
  ~BlobContent() { closeFd(); }
  void closeFd() {
    if (fd >= 0) ::close(fd);
    fd = -1;
  }

  Descriptor descriptor;
  int fd = -1;                         // owned; take it with std::exchange(fd, -1)
  std::string redirect_url;            // the client fetches it there (S3 presigned URL, later)
  std::unique_ptr<BlobReader> reader;  // otherwise: streamed through the storage executor
};

class BlobService {
 public:
  virtual ~BlobService() = default;
  // The blob as this repository sees it (linked, data present). BlobUnknown otherwise.
  virtual void stat(const Context& ctx, const crypto::Digest& digest, Done<Descriptor> done) = 0;
  // The blob's bytes from `offset` (after the same check as stat). RangeInvalid past the end.
  virtual void open(const Context& ctx, const crypto::Digest& digest, uint64_t offset,
                    Done<BlobContent> done) = 0;
  // Links `digest` into this repository if `from` can see it (else BlobUnknown).
  virtual void mount(const Context& ctx, const Repository& from, const crypto::Digest& digest,
                     Done<Descriptor> done) = 0;
  // Unlinks the blob from this repository; the data stays for garbage collection.
  virtual void remove(const Context& ctx, const crypto::Digest& digest, Done<void> done) = 0;
};

// Appends one request's body to an upload. One write in flight at a time; the writer holds
// the upload's single-writer lock until close() (see UploadStore).
class BlobWriter {
 public:
  virtual ~BlobWriter() = default;
  // Size of the upload after every completed write (the next byte's offset).
  virtual uint64_t offset() const = 0;
  // Hashes and appends all of `data` (the writer owns it from here). A failed write cuts the
  // chunk off again (UploadWriter's rule): the upload stays resumable at its Range.
  virtual void write(const Context& ctx, net::EvbufferPtr data, Done<void> done) = 0;
  // Ends the chunk: releases the file, the lock and hands the hash state back.
  virtual void close(const Context& ctx, Done<void> done) = 0;
  // Ends the body and commits the upload with the lock this writer holds, so that nothing can
  // come between the last byte and the commit (UploadService::commit's checks otherwise). The
  // writer is spent afterwards. On an object store this is completing the multipart upload.
  virtual void commit(const Context& ctx, crypto::Digest digest, std::optional<uint64_t> size,
                      Done<Descriptor> done) = 0;
};

class UploadService {
 public:
  virtual ~UploadService() = default;
  virtual void start(const Context& ctx, Done<UploadSession> done) = 0;
  virtual void resume(const Context& ctx, std::string id, Done<UploadSession> done) = 0;
  // A writer appending to `session`; `range_start` (Content-Range's first byte) must equal
  // the upload's size.
  virtual void append(const Context& ctx, UploadSession session,
                      std::optional<uint64_t> range_start,
                      Done<std::unique_ptr<BlobWriter>> done) = 0;
  // Verifies the bytes against `digest` (and `size`) and moves them into the blob store.
  virtual void commit(const Context& ctx, std::string id, crypto::Digest digest,
                      std::optional<uint64_t> size, Done<Descriptor> done) = 0;
  virtual void cancel(const Context& ctx, std::string id, Done<void> done) = 0;
};

class ManifestService {
 public:
  virtual ~ManifestService() = default;
  virtual void get(const Context& ctx, Reference reference, Done<StoredManifest> done) = 0;
  virtual void stat(const Context& ctx, Reference reference, Done<ManifestInfo> done) = 0;
  // Validates and stores; a tag reference (re)points the tag.
  virtual void put(const Context& ctx, Reference reference, std::string media_type,
                   std::string bytes, Done<PutManifestResult> done) = 0;
  // Deletes the revision and every tag pointing at it.
  virtual void remove(const Context& ctx, crypto::Digest digest, Done<void> done) = 0;
  // The manifests whose subject is `subject` (OCI 1.1 referrers), sorted by digest.
  virtual void referrers(const Context& ctx, crypto::Digest subject,
                         std::optional<std::string> artifact_type,
                         Done<std::vector<manifests::Descriptor>> done) = 0;
};

class TagService {
 public:
  virtual ~TagService() = default;
  virtual void resolve(const Context& ctx, Tag tag, Done<crypto::Digest> done) = 0;
  // Removes the tag only (OCI 1.1 delete by tag).
  virtual void untag(const Context& ctx, Tag tag, Done<void> done) = 0;
  // Every tag, sorted byte-wise (NameUnknown when the repository has none).
  virtual void list(const Context& ctx, Done<std::shared_ptr<const TagStore::TagList>> done) = 0;
  // The tags whose current link is `digest`.
  virtual void lookup(const Context& ctx, crypto::Digest digest,
                      Done<std::vector<std::string>> done) = 0;
};

// One repository's services. Made per request by Namespace::repository; the references it
// hands out live as long as it does.
class RepositoryService {
 public:
  virtual ~RepositoryService() = default;
  virtual const Repository& name() const = 0;
  virtual BlobService& blobs() = 0;
  virtual UploadService& uploads() = 0;
  virtual ManifestService& manifests() = 0;
  virtual TagService& tags() = 0;
};

class Namespace {
 public:
  virtual ~Namespace() = default;
  virtual std::unique_ptr<RepositoryService> repository(const Repository& name) = 0;
  // Up to `n` repository names after `last` (Catalog::list's rules).
  virtual void catalog(const Context& ctx, std::optional<size_t> n, std::string last,
                       Done<Page> done) = 0;
};

// ---------------------------------------------------------------------------------------
// Forwarding decorators: each forwards every call to an inner service, so a decorator
// derives from one and overrides only what it changes (e.g. a cache overrides
// ForwardingBlobService::stat). The inner service must outlive the decorator, except for
// ForwardingRepositoryService, which owns its inner repository (both are made per request).

class ForwardingBlobService : public BlobService {
 public:
  explicit ForwardingBlobService(BlobService& inner) : inner_(inner) {}
  void stat(const Context& ctx, const crypto::Digest& digest, Done<Descriptor> done) override {
    inner_.stat(ctx, digest, std::move(done));
  }
  void open(const Context& ctx, const crypto::Digest& digest, uint64_t offset,
            Done<BlobContent> done) override {
    inner_.open(ctx, digest, offset, std::move(done));
  }
  void mount(const Context& ctx, const Repository& from, const crypto::Digest& digest,
             Done<Descriptor> done) override {
    inner_.mount(ctx, from, digest, std::move(done));
  }
  void remove(const Context& ctx, const crypto::Digest& digest, Done<void> done) override {
    inner_.remove(ctx, digest, std::move(done));
  }

 protected:
  BlobService& inner_;
};

class ForwardingUploadService : public UploadService {
 public:
  explicit ForwardingUploadService(UploadService& inner) : inner_(inner) {}
  void start(const Context& ctx, Done<UploadSession> done) override {
    inner_.start(ctx, std::move(done));
  }
  void resume(const Context& ctx, std::string id, Done<UploadSession> done) override {
    inner_.resume(ctx, std::move(id), std::move(done));
  }
  void append(const Context& ctx, UploadSession session, std::optional<uint64_t> range_start,
              Done<std::unique_ptr<BlobWriter>> done) override {
    inner_.append(ctx, std::move(session), range_start, std::move(done));
  }
  void commit(const Context& ctx, std::string id, crypto::Digest digest,
              std::optional<uint64_t> size, Done<Descriptor> done) override {
    inner_.commit(ctx, std::move(id), std::move(digest), size, std::move(done));
  }
  void cancel(const Context& ctx, std::string id, Done<void> done) override {
    inner_.cancel(ctx, std::move(id), std::move(done));
  }

 protected:
  UploadService& inner_;
};

class ForwardingManifestService : public ManifestService {
 public:
  explicit ForwardingManifestService(ManifestService& inner) : inner_(inner) {}
  void get(const Context& ctx, Reference reference, Done<StoredManifest> done) override {
    inner_.get(ctx, std::move(reference), std::move(done));
  }
  void stat(const Context& ctx, Reference reference, Done<ManifestInfo> done) override {
    inner_.stat(ctx, std::move(reference), std::move(done));
  }
  void put(const Context& ctx, Reference reference, std::string media_type, std::string bytes,
           Done<PutManifestResult> done) override {
    inner_.put(ctx, std::move(reference), std::move(media_type), std::move(bytes), std::move(done));
  }
  void remove(const Context& ctx, crypto::Digest digest, Done<void> done) override {
    inner_.remove(ctx, std::move(digest), std::move(done));
  }
  void referrers(const Context& ctx, crypto::Digest subject,
                 std::optional<std::string> artifact_type,
                 Done<std::vector<manifests::Descriptor>> done) override {
    inner_.referrers(ctx, std::move(subject), std::move(artifact_type), std::move(done));
  }

 protected:
  ManifestService& inner_;
};

class ForwardingTagService : public TagService {
 public:
  explicit ForwardingTagService(TagService& inner) : inner_(inner) {}
  void resolve(const Context& ctx, Tag tag, Done<crypto::Digest> done) override {
    inner_.resolve(ctx, std::move(tag), std::move(done));
  }
  void untag(const Context& ctx, Tag tag, Done<void> done) override {
    inner_.untag(ctx, std::move(tag), std::move(done));
  }
  void list(const Context& ctx, Done<std::shared_ptr<const TagStore::TagList>> done) override {
    inner_.list(ctx, std::move(done));
  }
  void lookup(const Context& ctx, crypto::Digest digest,
              Done<std::vector<std::string>> done) override {
    inner_.lookup(ctx, std::move(digest), std::move(done));
  }

 protected:
  TagService& inner_;
};

// Owns the inner repository; forwards the four services (override one to decorate it).
class ForwardingRepositoryService : public RepositoryService {
 public:
  explicit ForwardingRepositoryService(std::unique_ptr<RepositoryService> inner)
      : inner_(std::move(inner)) {}
  const Repository& name() const override { return inner_->name(); }
  BlobService& blobs() override { return inner_->blobs(); }
  UploadService& uploads() override { return inner_->uploads(); }
  ManifestService& manifests() override { return inner_->manifests(); }
  TagService& tags() override { return inner_->tags(); }

 protected:
  std::unique_ptr<RepositoryService> inner_;
};

class ForwardingNamespace : public Namespace {
 public:
  explicit ForwardingNamespace(Namespace& inner) : inner_(inner) {}
  std::unique_ptr<RepositoryService> repository(const Repository& name) override {
    return inner_.repository(name);
  }
  void catalog(const Context& ctx, std::optional<size_t> n, std::string last,
               Done<Page> done) override {
    inner_.catalog(ctx, n, std::move(last), std::move(done));
  }

 protected:
  Namespace& inner_;
};

}  // namespace portico::registry
