#include "backend/registry/manifest_store.h"

#include <set>

#include "backend/storage/layout.h"

namespace portico::registry {

namespace layout = storage::layout;

namespace {

Error storageError(const Error& error, std::string_view subject) {
  return fromStorageError(error, ErrorCode::ManifestUnknown, subject);
}

}  // namespace

ManifestStore::ManifestStore(storage::StorageDriver& driver, TagStore& tags)
    : driver_(driver), tags_(tags), layers_(driver, BlobStore::LinkSet::Layers) {}

Result<void> ManifestStore::storeBlob(const crypto::Digest& digest, std::string_view bytes) {
  const std::string path = layout::blobData(digest);
  auto existing = driver_.stat(path);
  if (existing && !existing->is_dir && existing->size == bytes.size()) return ok();
  if (auto r = driver_.putContent(path, bytes); !r) return storageError(r.error(), digest.str());
  return ok();
}

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

  const bool signed_schema1 = !parsed->schema1_payload.empty();
  const std::string_view canonical = signed_schema1 ? parsed->schema1_payload : bytes;
  if (auto r = storeBlob(parsed->digest, canonical); !r) return r.error();

  if (signed_schema1) {
    // Keep exactly one signed copy per revision: the latest push.
    const auto signed_digest = crypto::Digest::of(bytes, algorithm);
    if (auto r = storeBlob(signed_digest, bytes); !r) return r.error();
    if (auto r = driver_.remove(layout::manifestSignaturesDir(repo.str(), parsed->digest));
        !r && !r.error().is(storage::StorageErrc::NotFound)) {
      return storageError(r.error(), parsed->digest.str());
    }
    if (auto r = driver_.putContent(
            layout::manifestSignatureLink(repo.str(), parsed->digest, signed_digest),
            layout::linkContent(signed_digest));
        !r) {
      return storageError(r.error(), parsed->digest.str());
    }
  }

  if (auto r = driver_.putContent(layout::manifestRevisionLink(repo.str(), parsed->digest),
                                  layout::linkContent(parsed->digest));
      !r) {
    return storageError(r.error(), parsed->digest.str());
  }

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
  auto link = driver_.getContent(layout::manifestRevisionLink(repo.str(), digest));
  if (!link) return false;
  auto linked = layout::parseLinkContent(*link);
  if (!linked || *linked != digest) return false;
  auto data = driver_.stat(layout::blobData(digest));
  return data && !data->is_dir;
}

Result<StoredManifest> ManifestStore::get(const Repository& repo, const Reference& reference) {
  auto digest = resolve(repo, reference);
  if (!digest) return digest.error();
  if (!exists(repo, *digest)) {
    return Error(ErrorCode::ManifestUnknown, "manifest unknown", digest->str());
  }
  auto bytes = driver_.getContent(layout::blobData(*digest));
  if (!bytes) return storageError(bytes.error(), digest->str());

  StoredManifest stored;
  stored.digest = *digest;
  stored.media_type = manifests::storedMediaType(*bytes);
  if (stored.media_type == manifests::kDockerSchema1) {
    // Serve the signed copy when we have it (see the top of manifest_store.h).
    auto signatures = driver_.list(layout::manifestSignaturesDir(repo.str(), *digest));
    if (signatures) {
      for (const auto& alg_dir : *signatures) {
        auto entries = driver_.list(alg_dir);
        if (!entries || entries->empty()) continue;
        auto signature = layout::digestFromLinkDir(entries->front());
        if (!signature) continue;
        auto link =
            driver_.getContent(layout::manifestSignatureLink(repo.str(), *digest, *signature));
        if (!link) continue;
        auto signed_digest = layout::parseLinkContent(*link);
        if (!signed_digest) continue;
        auto signed_bytes = driver_.getContent(layout::blobData(*signed_digest));
        if (!signed_bytes ||
            crypto::Digest::of(*signed_bytes, signed_digest->algorithm()) != *signed_digest) {
          continue;
        }
        stored.media_type = std::string(manifests::kDockerSchema1Signed);
        stored.bytes = std::move(*signed_bytes);
        return stored;
      }
    }
  }
  if (stored.media_type.empty()) {
    return Error(ErrorCode::Internal, "stored manifest is not JSON", digest->str());
  }
  stored.bytes = std::move(*bytes);
  return stored;
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
  if (!exists(repo, digest)) {
    return Error(ErrorCode::ManifestUnknown, "manifest unknown", digest.str());
  }
  if (auto r = driver_.remove(layout::manifestRevisionLink(repo.str(), digest)); !r) {
    return storageError(r.error(), digest.str());
  }
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
