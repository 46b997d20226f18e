#include "backend/registry/blob_store.h"

#include <string>
#include <utility>

#include "backend/storage/layout.h"

namespace portico::registry {

namespace layout = storage::layout;
using storage::StorageErrc;

Error fromStorageError(const Error& error, ErrorCode not_found, std::string_view subject) {
  if (error.inDomain<ErrorCode>()) return error;
  // The storage path (the storage error's detail) goes into the message, which is logged but
  // never sent; the client's detail names the subject, as distribution's does.
  if (error.is(StorageErrc::NotFound)) {
    return Error{not_found, std::string(subject) + " unknown", std::string(subject)};
  }
  if (error.is(StorageErrc::NoSpace)) {
    return Error{ErrorCode::Unavailable, "storage is full: " + error.detail(),
                 "the storage volume is full"};
  }
  return Error{ErrorCode::Internal, "storage error: " + error.message() + " at " + error.detail(),
               std::string(subject)};
}

BlobStore::BlobStore(storage::StorageDriver& driver, LinkSet link_set)
    : driver_(driver), link_set_(link_set) {}

ErrorCode BlobStore::unknownCode() const {
  return link_set_ == LinkSet::Layers ? ErrorCode::BlobUnknown : ErrorCode::ManifestUnknown;
}

std::string BlobStore::linkPath(const Repository& repo, const crypto::Digest& digest) const {
  return link_set_ == LinkSet::Layers ? layout::layerLink(repo.str(), digest)
                                      : layout::manifestRevisionLink(repo.str(), digest);
}

Result<Descriptor> BlobStore::statGlobal(const crypto::Digest& digest) {
  auto info = driver_.stat(layout::blobData(digest));
  if (!info) return fromStorageError(info.error(), unknownCode(), digest.str());
  if (info->is_dir) {
    return Error{ErrorCode::Internal, "blob data path is a directory", digest.str()};
  }
  return Descriptor{digest, info->size, std::string(kOctetStream)};
}

bool BlobStore::existsGlobally(const crypto::Digest& digest) {
  return statGlobal(digest).has_value();
}

Result<Descriptor> BlobStore::stat(const Repository& repo, const crypto::Digest& digest) {
  auto content = driver_.getContent(linkPath(repo, digest));
  if (!content) return fromStorageError(content.error(), unknownCode(), digest.str());
  // distribution follows the link's target (it may name another algorithm's digest).
  auto target = layout::parseLinkContent(*content);
  if (!target) {
    return Error{ErrorCode::Internal, "corrupt link file " + linkPath(repo, digest), digest.str()};
  }
  auto descriptor = statGlobal(*target);
  if (!descriptor) return descriptor.error();
  descriptor->digest = digest;
  return descriptor;
}

Result<std::unique_ptr<storage::FileReader>> BlobStore::open(const Repository& repo,
                                                             const crypto::Digest& digest,
                                                             uint64_t offset) {
  auto content = driver_.getContent(linkPath(repo, digest));
  if (!content) return fromStorageError(content.error(), unknownCode(), digest.str());
  auto target = layout::parseLinkContent(*content);
  if (!target) {
    return Error{ErrorCode::Internal, "corrupt link file " + linkPath(repo, digest), digest.str()};
  }
  auto reader = driver_.reader(layout::blobData(*target), offset);
  if (!reader) {
    if (reader.error().is(StorageErrc::InvalidOffset)) {
      return Error{ErrorCode::RangeInvalid, "range start past the end of the blob", digest.str()};
    }
    return fromStorageError(reader.error(), unknownCode(), digest.str());
  }
  return reader;
}

Result<std::string> BlobStore::get(const Repository& repo, const crypto::Digest& digest) {
  auto content = driver_.getContent(linkPath(repo, digest));
  if (!content) return fromStorageError(content.error(), unknownCode(), digest.str());
  auto target = layout::parseLinkContent(*content);
  if (!target) {
    return Error{ErrorCode::Internal, "corrupt link file " + linkPath(repo, digest), digest.str()};
  }
  auto data = driver_.getContent(layout::blobData(*target));
  if (!data) return fromStorageError(data.error(), unknownCode(), digest.str());
  return data;
}

Result<std::string> BlobStore::getGlobal(const crypto::Digest& digest) {
  auto data = driver_.getContent(layout::blobData(digest));
  if (!data) return fromStorageError(data.error(), unknownCode(), digest.str());
  return data;
}

Result<Descriptor> BlobStore::putGlobal(std::string_view bytes, crypto::DigestAlgorithm algorithm) {
  const crypto::Digest digest = crypto::Digest::of(bytes, algorithm);
  // An existing blob is kept only if it holds exactly these bytes; otherwise (missing, or left
  // corrupt or torn by another program) they replace it. putContent is atomic: the data path
  // never holds a partial or foreign content.
  auto existing = driver_.getContent(layout::blobData(digest));
  if (!existing && !existing.error().is(StorageErrc::NotFound) &&
      !existing.error().is(StorageErrc::Io)) {
    return fromStorageError(existing.error(), unknownCode(), digest.str());
  }
  if (!existing || *existing != bytes) {
    if (auto stored = driver_.putContent(layout::blobData(digest), bytes); !stored) {
      return fromStorageError(stored.error(), unknownCode(), digest.str());
    }
  }
  return Descriptor{digest, bytes.size(), std::string(kOctetStream)};
}

Result<Descriptor> BlobStore::put(const Repository& repo, std::string_view bytes,
                                  crypto::DigestAlgorithm algorithm) {
  auto stored = putGlobal(bytes, algorithm);
  if (!stored) return stored;
  if (auto linked =
          driver_.putContent(linkPath(repo, stored->digest), layout::linkContent(stored->digest));
      !linked) {
    return fromStorageError(linked.error(), unknownCode(), stored->digest.str());
  }
  return stored;
}

Result<void> BlobStore::link(const Repository& repo, const crypto::Digest& digest) {
  if (auto global = statGlobal(digest); !global) return global.error();
  if (auto linked = driver_.putContent(linkPath(repo, digest), layout::linkContent(digest));
      !linked) {
    return fromStorageError(linked.error(), unknownCode(), digest.str());
  }
  return ok();
}

Result<Descriptor> BlobStore::mount(const Repository& from, const Repository& to,
                                    const crypto::Digest& digest) {
  auto source = stat(from, digest);
  if (!source) return source.error();
  if (auto linked = driver_.putContent(linkPath(to, digest), layout::linkContent(digest));
      !linked) {
    return fromStorageError(linked.error(), unknownCode(), digest.str());
  }
  return source;
}

Result<void> BlobStore::remove(const Repository& repo, const crypto::Digest& digest) {
  // distribution's linkedBlobStatter.Clear deletes the link file only.
  if (auto linked = stat(repo, digest); !linked) return linked.error();
  if (auto removed = driver_.remove(linkPath(repo, digest)); !removed) {
    return fromStorageError(removed.error(), unknownCode(), digest.str());
  }
  return ok();
}

}  // namespace portico::registry
