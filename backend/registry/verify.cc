#include "backend/registry/verify.h"

#include <algorithm>
#include <atomic>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "backend/registry/error_code.h"
#include "backend/registry/gc.h"
#include "backend/registry/manifests/manifest.h"
#include "backend/registry/manifests/media_types.h"
#include "backend/storage/layout.h"
#include "common/crypto/digest.h"

namespace portico::registry {

namespace layout = storage::layout;
using crypto::Digest;
using storage::StorageErrc;

namespace {

constexpr size_t kHashBuffer = size_t{1} << 20;  // per hashing thread

Error verifyError(const Error& error, std::string_view what) {
  return Error(ErrorCode::Internal, std::string(what) + ": " + std::string(error.message()),
               std::string(error.detail()));
}

std::string describe(const Error& error) {
  std::string text(error.message());
  if (!error.detail().empty()) text += " (" + std::string(error.detail()) + ")";
  return text;
}

// nullopt when the data hashes to `digest`, else the finding.
std::optional<std::string> checkBlob(storage::StorageDriver& driver, const Digest& digest,
                                     std::vector<char>& buffer) {
  auto reader = driver.reader(layout::blobData(digest), 0);
  if (!reader) return "blob " + digest.str() + ": cannot read: " + describe(reader.error());
  crypto::DigestStream stream(digest.algorithm());
  while (true) {
    auto n = (*reader)->read(buffer.data(), buffer.size());
    if (!n) return "blob " + digest.str() + ": cannot read: " + describe(n.error());
    if (*n == 0) break;
    stream.update(buffer.data(), *n);
  }
  const Digest actual = stream.finish();
  if (actual == digest) return std::nullopt;
  return "blob " + digest.str() + ": content does not match its digest (hashes to " + actual.str() +
         ")";
}

struct BlobCheck {
  std::string finding;
  bool corrupt = false;  // read fine, hashes to another digest
};

// Hashes every blob on `threads` threads; the problems by index into `blobs` (only those:
// memory grows with the findings, not with the store).
std::map<size_t, BlobCheck> hashBlobs(storage::StorageDriver& driver,
                                      const std::vector<StoredBlob>& blobs, size_t threads) {
  std::map<size_t, BlobCheck> problems;
  std::mutex mutex;
  std::atomic<size_t> next{0};
  auto work = [&] {
    std::vector<char> buffer(kHashBuffer);
    for (size_t i = next++; i < blobs.size(); i = next++) {
      auto finding = checkBlob(driver, blobs[i].digest, buffer);
      if (!finding) continue;
      const bool corrupt = finding->find(": content does not match") != std::string::npos;
      std::lock_guard lock(mutex);
      problems[i] = BlobCheck{std::move(*finding), corrupt};
    }
  };
  const size_t count = std::max<size_t>(1, std::min(threads, blobs.size()));
  std::vector<std::thread> pool;
  pool.reserve(count - 1);
  for (size_t i = 1; i < count; ++i) pool.emplace_back(work);
  work();
  for (auto& thread : pool) thread.join();
  return problems;
}

// The children of `dir` (NotFound = none).
Result<std::vector<storage::DirEntry>> children(storage::StorageDriver& driver,
                                                const std::string& dir) {
  auto entries = driver.listEntries(dir);
  if (!entries) {
    if (entries.error().is(StorageErrc::NotFound)) return std::vector<storage::DirEntry>{};
    return verifyError(entries.error(), "list " + dir);
  }
  return std::move(*entries);
}

struct Link {
  Digest digest;                 // from the directory names
  std::optional<Digest> target;  // from the link file (nullopt: unreadable or not a digest)
  std::string content;
};

// <dir>/<alg>/<hex>/link of a link set; directories without a link file are skipped (GC
// leaves none, and they point at nothing).
Result<std::vector<Link>> links(storage::StorageDriver& driver, const std::string& dir) {
  auto entries = linkDirs(driver, dir);
  if (!entries) return entries.error();
  std::vector<Link> out;
  for (auto& entry : *entries) {
    auto content = driver.getContent(entry.link_path);
    if (!content && content.error().is(StorageErrc::NotFound)) continue;
    Link link{std::move(entry.digest), std::nullopt, {}};
    if (content) {
      link.content = *content;
      if (auto target = layout::parseLinkContent(*content)) link.target = std::move(*target);
    } else {
      link.content = "(unreadable: " + describe(content.error()) + ")";
    }
    out.push_back(std::move(link));
  }
  return out;
}

class Verifier {
 public:
  Verifier(storage::StorageDriver& driver, const VerifyOptions& options)
      : driver_(driver), options_(options) {}

  Result<VerifyReport> run() {
    auto blobs = storedBlobs(driver_);
    if (!blobs) return blobs.error();
    std::sort(blobs->begin(), blobs->end(),
              [](const StoredBlob& a, const StoredBlob& b) { return a.digest < b.digest; });
    auto problems = hashBlobs(driver_, *blobs, options_.threads);
    for (const auto& blob : *blobs) {
      ++report_.blobs;
      report_.bytes += blob.size;
      with_data_.insert(blob.digest);
    }
    for (const auto& [i, check] : problems) {
      const auto& blob = (*blobs)[i];
      finding(check.finding);
      if (!options_.repair || !check.corrupt) continue;
      if (auto r = driver_.remove(layout::blobDir(blob.digest));
          !r && !r.error().is(StorageErrc::NotFound)) {
        return verifyError(r.error(), "remove blob " + blob.digest.str());
      }
      with_data_.erase(blob.digest);
      removed("blob " + blob.digest.str());
    }

    auto names = storedRepositories(driver_);
    if (!names) return names.error();
    for (const auto& name : *names) {
      ++report_.repositories;
      if (auto r = verifyRepository(name); !r) return r.error();
    }
    std::string summary =
        "verified " + std::to_string(report_.blobs) + " blobs (" + std::to_string(report_.bytes) +
        " bytes), " + std::to_string(report_.links) + " links, " +
        std::to_string(report_.manifests) + " manifests, " + std::to_string(report_.tags) +
        " tags in " + std::to_string(report_.repositories) +
        " repositories: " + std::to_string(report_.problems) + " problems";
    if (options_.repair) summary += ", " + std::to_string(report_.removed) + " removed";
    emit(summary);
    return report_;
  }

 private:
  void emit(const std::string& line) {
    if (options_.emit) options_.emit(line);
  }
  void finding(const std::string& line) {
    ++report_.problems;
    emit(line);
  }
  void removed(const std::string& what) {
    ++report_.removed;
    emit("removed " + what);
  }

  // Checks one link set; returns the digests whose links remain (valid or not).
  Result<std::set<Digest>> verifyLinks(const std::string& repo, const std::string& dir,
                                       std::string_view kind, bool layers) {
    std::set<Digest> remaining;
    auto set = links(driver_, dir);
    if (!set) return set.error();
    for (const auto& link : *set) {
      ++report_.links;
      const std::string what = repo + ": " + std::string(kind) + " " + link.digest.str();
      if (!link.target || *link.target != link.digest) {
        finding(what + ": link names " + link.content);
        remaining.insert(link.digest);
        continue;
      }
      if (with_data_.count(link.digest)) {
        remaining.insert(link.digest);
        continue;
      }
      finding(what + ": no blob data");
      if (!options_.repair) {
        remaining.insert(link.digest);
        continue;
      }
      const std::string link_dir = layers ? layout::layerLinkDir(repo, link.digest)
                                          : layout::manifestRevisionDir(repo, link.digest);
      if (auto r = driver_.remove(link_dir); !r && !r.error().is(StorageErrc::NotFound)) {
        return verifyError(r.error(), "remove " + what);
      }
      removed(what);
    }
    return remaining;
  }

  Result<void> verifyRepository(const std::string& repo) {
    auto layers = verifyLinks(repo, layout::layersDir(repo), "layer link", true);
    if (!layers) return layers.error();
    auto revisions =
        verifyLinks(repo, layout::manifestRevisionsDir(repo), "manifest revision", false);
    if (!revisions) return revisions.error();

    for (const auto& digest : *revisions) {
      if (!with_data_.count(digest)) continue;
      verifyManifest(repo, digest, *layers, *revisions);
    }

    auto tags = children(driver_, layout::tagsDir(repo));
    if (!tags) return tags.error();
    for (const auto& tag : *tags) {
      if (!tag.is_dir) continue;
      ++report_.tags;
      const std::string what = repo + ": tag " + tag.name;
      auto content = driver_.getContent(layout::tagCurrentLink(repo, tag.name));
      if (!content) {
        finding(what + (content.error().is(StorageErrc::NotFound)
                            ? std::string(": no current link")
                            : ": cannot read its current link: " + describe(content.error())));
        continue;
      }
      auto target = layout::parseLinkContent(*content);
      if (!target) {
        finding(what + ": current link is not a digest");
        continue;
      }
      if (!revisions->count(*target)) {
        finding(what + ": points at " + target->str() + ", which is not a revision");
      }
    }
    return ok();
  }

  void verifyManifest(const std::string& repo, const Digest& digest, const std::set<Digest>& layers,
                      const std::set<Digest>& revisions) {
    ++report_.manifests;
    const std::string what = repo + ": manifest " + digest.str();
    auto bytes = driver_.getContent(layout::blobData(digest));
    if (!bytes) {
      finding(what + ": cannot read: " + describe(bytes.error()));
      return;
    }
    const std::string media_type = manifests::storedMediaType(*bytes);
    if (media_type.empty()) {
      finding(what + ": does not parse: not a JSON object");
      return;
    }
    auto parsed = manifests::parse(media_type, *bytes, digest.algorithm());
    if (!parsed) {
      finding(what + ": does not parse: " + std::string(parsed.error().message()));
      return;
    }
    for (const auto& blob : parsed->blobs) {
      if (manifests::isForeignLayer(blob.media_type) && !blob.urls.empty()) continue;
      if (!layers.count(blob.digest)) {
        finding(what + ": references blob " + blob.digest.str() +
                " that is not linked in the repository");
      } else if (!with_data_.count(blob.digest)) {
        finding(what + ": references blob " + blob.digest.str() + " that has no data");
      }
    }
    for (const auto& child : parsed->manifests) {
      if (!revisions.count(child.digest)) {
        finding(what + ": references manifest " + child.digest.str() + " that is not a revision");
      }
    }
  }

  storage::StorageDriver& driver_;
  const VerifyOptions& options_;
  VerifyReport report_;
  std::set<Digest> with_data_;
};

}  // namespace

Result<VerifyReport> verifyStore(storage::StorageDriver& driver, const VerifyOptions& options) {
  return Verifier(driver, options).run();
}

}  // namespace portico::registry
