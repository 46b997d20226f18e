#include "backend/registry/manifest_store.h"

#include <cassert>
#include <optional>
#include <string>
#include <utility>

#include "backend/storage/layout.h"

namespace portico::registry {

namespace layout = storage::layout;

namespace {

Error storageError(const Error& error, std::string_view subject) {
  return fromStorageError(error, ErrorCode::ManifestUnknown, subject);
}

// The revisions BlobStore's "unknown" (its detail is a storage path) as the manifest store
// has always reported it: the digest as detail.
Error revisionError(const Error& error, const crypto::Digest& digest) {
  if (error.is(ErrorCode::ManifestUnknown)) {
    return Error(ErrorCode::ManifestUnknown, "manifest unknown", digest.str());
  }
  return error;
}

}  // namespace

ManifestStore::ManifestStore(storage::StorageDriver& driver, TagStore& tags)
    : driver_(driver),
      tags_(tags),
      layers_(driver, BlobStore::LinkSet::Layers),
      revisions_(driver, BlobStore::LinkSet::ManifestRevisions) {}

Result<void> ManifestStore::checkReferences(const Repository& repo,
                                            const manifests::ParsedManifest& parsed) {
  for (const auto& blob : parsed.blobs) {
    // Foreign / non-distributable layers are fetched from their urls (distribution's
    // schema2 and ocischema handlers skip them).
    if (manifests::isForeignLayer(blob.media_type) && !blob.urls.empty()) continue;
    auto found = layers_.stat(repo, blob.digest);
    if (found) continue;
    if (found.error().is(ErrorCode::BlobUnknown)) {
      return Error(ErrorCode::ManifestBlobUnknown, "manifest references an unknown blob",
                   blob.digest.str());
    }
    return found.error();
  }
  for (const auto& child : parsed.manifests) {
    if (!exists(repo, child.digest)) {
      return Error(ErrorCode::ManifestBlobUnknown, "index references an unknown manifest",
                   child.digest.str());
    }
  }
  return ok();
}

// Keeps exactly one signed copy per revision: the latest push (see manifest_store.h).
Result<void> ManifestStore::storeSignedCopy(const Repository& repo, const crypto::Digest& revision,
                                            std::string_view bytes,
                                            crypto::DigestAlgorithm algorithm) {
  auto stored = revisions_.putGlobal(bytes, algorithm);
  if (!stored) return stored.error();
  if (auto r = driver_.remove(layout::manifestSignaturesDir(repo.str(), revision));
      !r && !r.error().is(storage::StorageErrc::NotFound)) {
    return storageError(r.error(), revision.str());
  }
  if (auto r =
          driver_.putContent(layout::manifestSignatureLink(repo.str(), revision, stored->digest),
                             layout::linkContent(stored->digest));
      !r) {
    return storageError(r.error(), revision.str());
  }
  return ok();
}

// The signed copy of a schema1 revision, if one is linked and its blob is intact.
std::optional<std::string> ManifestStore::signedCopy(const Repository& repo,
                                                     const crypto::Digest& revision) {
  auto algorithms = driver_.list(layout::manifestSignaturesDir(repo.str(), revision));
  if (!algorithms) return std::nullopt;
  for (const auto& algorithm_dir : *algorithms) {
    auto entries = driver_.list(algorithm_dir);
    if (!entries || entries->empty()) continue;
    auto signature = layout::digestFromLinkDir(entries->front());
    if (!signature) continue;
    auto link = driver_.getContent(layout::manifestSignatureLink(repo.str(), revision, *signature));
    if (!link) continue;
    auto signed_digest = layout::parseLinkContent(*link);
    if (!signed_digest) continue;
    auto signed_bytes = revisions_.getGlobal(*signed_digest);
    if (!signed_bytes ||
        crypto::Digest::of(*signed_bytes, signed_digest->algorithm()) != *signed_digest) {
      continue;
    }
    return std::move(*signed_bytes);
  }
  return std::nullopt;
}

Result<PutManifestResult> ManifestStore::put(const Repository& repo, const Reference& reference,
                                             std::string_view media_type, std::string_view bytes) {
  const auto algorithm =
      reference.isDigest() ? reference.digest().algorithm() : crypto::DigestAlgorithm::Sha256;
  auto parsed = manifests::parse(media_type, bytes, algorithm);
  if (!parsed) return parsed.error();
  if (reference.isDigest() && reference.digest() != parsed->digest) {
    return Error(ErrorCode::DigestInvalid, "manifest digest does not match the reference",
                 parsed->digest.str());
  }
  if (auto r = checkReferences(repo, *parsed); !r) return r.error();

  // The signed copy and its link first, then the canonical bytes and their revision link:
  // a revision is never visible before what GET serves for it.
  const bool signed_schema1 = !parsed->schema1_payload.empty();
  if (signed_schema1) {
    if (auto r = storeSignedCopy(repo, parsed->digest, bytes, algorithm); !r) return r.error();
  }
  const std::string_view canonical = signed_schema1 ? parsed->schema1_payload : bytes;
  auto stored = revisions_.put(repo, canonical, algorithm);
  if (!stored) return stored.error();
  assert(stored->digest == parsed->digest);

  if (reference.isTag()) {
    if (auto r = tags_.tag(repo, reference.tag(), parsed->digest); !r) return r.error();
  }

  PutManifestResult result;
  result.digest = parsed->digest;
  if (parsed->subject) result.subject = parsed->subject->digest;
  result.media_type = parsed->media_type;
  return result;
}

Result<crypto::Digest> ManifestStore::resolve(const Repository& repo, const Reference& reference) {
  if (reference.isTag()) return tags_.resolve(repo, reference.tag());
  return reference.digest();
}

bool ManifestStore::exists(const Repository& repo, const crypto::Digest& digest) {
  return revisions_.stat(repo, digest).has_value();
}

Result<StoredManifest> ManifestStore::get(const Repository& repo, const Reference& reference) {
  auto digest = resolve(repo, reference);
  if (!digest) return digest.error();
  auto bytes = revisions_.get(repo, *digest);
  if (!bytes) return revisionError(bytes.error(), *digest);

  StoredManifest stored;
  stored.digest = *digest;
  stored.media_type = mediaTypeOf(*digest, *bytes);
  if (stored.media_type == manifests::kDockerSchema1) {
    // Serve the signed copy when we have it (see the top of manifest_store.h).
    if (auto signed_bytes = signedCopy(repo, *digest)) {
      stored.media_type = std::string(manifests::kDockerSchema1Signed);
      stored.bytes = std::move(*signed_bytes);
      return stored;
    }
  }
  if (stored.media_type.empty()) {
    return Error(ErrorCode::Internal, "stored manifest is not JSON", digest->str());
  }
  stored.bytes = std::move(*bytes);
  return stored;
}

std::string ManifestStore::mediaTypeOf(const crypto::Digest& digest, std::string_view bytes) {
  {
    std::lock_guard lock(media_types_mutex_);
    if (auto it = media_types_.find(digest.str()); it != media_types_.end()) return it->second;
  }
  std::string media_type = manifests::storedMediaType(bytes);
  if (media_type.empty()) return media_type;  // not JSON: reported, never remembered
  std::lock_guard lock(media_types_mutex_);
  if (media_types_.size() >= kMediaTypeCacheEntries) media_types_.clear();
  media_types_.emplace(digest.str(), media_type);
  return media_type;
}

Result<ManifestInfo> ManifestStore::stat(const Repository& repo, const Reference& reference) {
  // The media type lives only in the content (distribution keeps no separate record), so a
  // HEAD reads the manifest too; manifests are small.
  auto stored = get(repo, reference);
  if (!stored) return stored.error();
  ManifestInfo info;
  info.digest = stored->digest;
  info.media_type = std::move(stored->media_type);
  info.size = stored->bytes.size();
  return info;
}

Result<void> ManifestStore::remove(const Repository& repo, const crypto::Digest& digest) {
  // distribution's DeleteManifest: the revision link goes (its blob stays for GC), then the tags.
  if (auto r = revisions_.remove(repo, digest); !r) return revisionError(r.error(), digest);
  auto tags = tags_.lookup(repo, digest);
  if (!tags) return tags.error();
  for (const auto& name : *tags) {
    auto tag = Tag::parse(name);
    if (!tag) continue;
    if (auto r = tags_.untag(repo, *tag); !r && !r.error().is(ErrorCode::ManifestUnknown)) {
      return r.error();
    }
  }
  return ok();
}

}  // namespace portico::registry
