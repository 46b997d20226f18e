#include "backend/registry/gc.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <map>
#include <mutex>
#include <set>
#include <utility>

#include "backend/registry/error_code.h"
#include "backend/registry/manifests/manifest.h"
#include "backend/storage/filesystem_driver.h"
#include "backend/storage/layout.h"

namespace portico::registry {

namespace layout = storage::layout;
using crypto::Digest;
using storage::StorageErrc;
using TimePoint = std::chrono::system_clock::time_point;

namespace {

bool notFound(const Error& error) {
  return error.is(StorageErrc::NotFound);
}

Error gcError(const Error& error, std::string_view what) {
  return Error(ErrorCode::Internal, std::string(what) + ": " + std::string(error.message()),
               std::string(error.detail()));
}

// The children of `dir` (NotFound = none).
Result<std::vector<storage::DirEntry>> children(storage::StorageDriver& driver,
                                                const std::string& dir) {
  auto entries = driver.listEntries(dir);
  if (!entries) {
    if (notFound(entries.error())) return std::vector<storage::DirEntry>{};
    return gcError(entries.error(), "list " + dir);
  }
  return std::move(*entries);
}

// The digests of a link set with their link's modification time; entries without a link file
// are skipped.
Result<std::vector<std::pair<Digest, TimePoint>>> linkSet(storage::StorageDriver& driver,
                                                          const std::string& dir) {
  auto entries = linkDirs(driver, dir);
  if (!entries) return entries.error();
  std::vector<std::pair<Digest, TimePoint>> out;
  for (auto& entry : *entries) {
    auto link = driver.stat(entry.link_path);
    if (!link) {
      if (notFound(link.error())) continue;
      return gcError(link.error(), "stat link");
    }
    out.emplace_back(std::move(entry.digest), link->mod_time);
  }
  return out;
}

}  // namespace

Result<std::vector<LinkDir>> linkDirs(storage::StorageDriver& driver, const std::string& dir) {
  std::vector<LinkDir> out;
  auto algorithms = children(driver, dir);
  if (!algorithms) return algorithms.error();
  for (const auto& alg : *algorithms) {
    if (!alg.is_dir) continue;
    auto hexes = children(driver, dir + "/" + alg.name);
    if (!hexes) return hexes.error();
    for (const auto& hex : *hexes) {
      if (!hex.is_dir) continue;
      auto digest = Digest::parse(alg.name + ":" + hex.name);
      if (!digest) continue;
      out.push_back({std::move(*digest), dir + "/" + alg.name + "/" + hex.name + "/link"});
    }
  }
  return out;
}

Result<std::vector<std::string>> storedRepositories(storage::StorageDriver& driver) {
  std::vector<std::string> names;
  std::set<std::string> seen;
  const std::string root = layout::repositoriesRoot();
  auto walked = driver.walk(root, [&](const storage::FileInfo& info) {
    if (!info.is_dir) return storage::WalkControl::Continue;
    const std::string_view base = storage::baseName(info.path);
    if (!base.empty() && base.front() == '_') {
      if (base == "_layers" || base == "_manifests") {
        std::string parent(storage::parentPath(info.path));
        if (parent.size() > root.size() && seen.insert(parent).second) {
          names.push_back(parent.substr(root.size() + 1));
        }
      }
      return storage::WalkControl::SkipDir;
    }
    return storage::WalkControl::Continue;
  });
  if (!walked && !notFound(walked.error())) return gcError(walked.error(), "walk repositories");
  return names;
}

Result<std::vector<StoredBlob>> storedBlobs(storage::StorageDriver& driver) {
  std::vector<StoredBlob> out;
  const std::string root = layout::blobsRoot();
  auto algorithms = children(driver, root);
  if (!algorithms) return algorithms.error();
  for (const auto& alg : *algorithms) {
    auto prefixes = children(driver, root + "/" + alg.name);
    if (!prefixes) return prefixes.error();
    for (const auto& prefix : *prefixes) {
      auto hexes = children(driver, root + "/" + alg.name + "/" + prefix.name);
      if (!hexes) return hexes.error();
      for (const auto& hex : *hexes) {
        auto digest = Digest::parse(alg.name + ":" + hex.name);
        if (!digest) continue;
        auto data = driver.stat(layout::blobData(*digest));
        if (!data) {
          if (notFound(data.error())) continue;
          return gcError(data.error(), "stat blob");
        }
        if (data->is_dir) continue;
        out.push_back(StoredBlob{std::move(*digest), data->size, data->mod_time});
      }
    }
  }
  return out;
}

namespace {

using Blob = StoredBlob;

Result<std::vector<std::string>> repositories(storage::StorageDriver& driver) {
  return storedRepositories(driver);
}

Result<std::vector<Blob>> blobs(storage::StorageDriver& driver) {
  return storedBlobs(driver);
}

// What a manifest references.
struct References {
  bool readable = false;  // false: the blob is missing (nothing known to mark)
  std::vector<Digest> blobs;
  std::vector<Digest> children;
  std::optional<Digest> subject;
};

struct Repo {
  std::string name;
  std::vector<std::pair<Digest, TimePoint>> revisions;
  std::vector<std::pair<Digest, TimePoint>> layers;
  std::set<Digest> tagged;        // current links
  std::vector<std::string> tags;  // tag names
  std::set<Digest> marked;        // manifests marked in this repository
};

class Marker {
 public:
  Marker(storage::StorageDriver& driver, const GcOptions& options, bool quiet)
      : driver_(driver), options_(options), quiet_(quiet) {}

  Result<void> loadRepository(Repo& repo) {
    auto revisions = linkSet(driver_, layout::manifestRevisionsDir(repo.name));
    if (!revisions) return revisions.error();
    repo.revisions = std::move(*revisions);
    auto layers = linkSet(driver_, layout::layersDir(repo.name));
    if (!layers) return layers.error();
    repo.layers = std::move(*layers);
    auto tags = children(driver_, layout::tagsDir(repo.name));
    if (!tags) return tags.error();
    for (const auto& tag : *tags) {
      if (!tag.is_dir) continue;
      repo.tags.push_back(tag.name);
      auto link = driver_.getContent(layout::tagCurrentLink(repo.name, tag.name));
      if (!link) {
        if (notFound(link.error())) continue;
        return gcError(link.error(), "read tag");
      }
      if (auto digest = layout::parseLinkContent(*link)) repo.tagged.insert(*digest);
    }
    return ok();
  }

  // Marks the repository. `extra_revisions`: manifests also counted as revisions when an index
  // names them (the online re-mark: revisions whose links this run removed).
  Result<void> markRepository(Repo& repo, const std::set<Digest>& extra_revisions = {}) {
    std::set<Digest> revisions = extra_revisions;
    for (const auto& [digest, time] : repo.revisions) revisions.insert(digest);
    const bool untagged = options_.delete_untagged;
    for (const auto& [digest, time] : repo.revisions) {
      const bool root = !untagged || repo.tagged.count(digest) > 0 ||
                        (options_.grace && time >= options_.grace->keep_newer_than);
      if (!root) continue;
      if (auto r = markManifest(repo, digest, revisions); !r) return r;
    }
    if (!untagged) return ok();
    // Referrers live as long as their subject: repeat until no untagged manifest's subject
    // is newly marked.
    for (bool changed = true; changed;) {
      changed = false;
      for (const auto& [digest, time] : repo.revisions) {
        if (repo.marked.count(digest)) continue;
        auto refs = references(repo, digest);
        if (!refs) return refs.error();
        if (refs->subject && repo.marked.count(*refs->subject)) {
          if (auto r = markManifest(repo, digest, revisions); !r) return r;
          changed = true;
        }
      }
    }
    return ok();
  }

  std::set<Digest>& marked() { return marked_; }
  std::vector<std::string>& warnings() { return warnings_; }

 private:
  void emit(const std::string& line) {
    if (!quiet_ && options_.emit) options_.emit(line);
  }

  void markBlob(const Repo& repo, const Digest& digest) {
    if (marked_.insert(digest).second) emit(repo.name + ": marking blob " + digest.str());
  }

  Result<void> markManifest(Repo& repo, const Digest& digest, const std::set<Digest>& revisions) {
    if (!repo.marked.insert(digest).second) return ok();
    marked_.insert(digest);
    emit(repo.name + ": marking manifest " + digest.str() + " ");
    auto refs = references(repo, digest);
    if (!refs) return refs.error();
    for (const auto& blob : refs->blobs) markBlob(repo, blob);
    // The signed copy of a schema1 revision.
    auto signatures = linkSetOfSignatures(repo, digest);
    if (!signatures) return signatures.error();
    for (const auto& copy : *signatures) markBlob(repo, copy);
    for (const auto& child : refs->children) {
      markBlob(repo, child);
      if (revisions.count(child)) {
        if (auto r = markManifest(repo, child, revisions); !r) return r;
      }
    }
    return ok();
  }

  Result<std::vector<Digest>> linkSetOfSignatures(const Repo& repo, const Digest& digest) {
    std::vector<Digest> out;
    auto links = linkSet(driver_, layout::manifestSignaturesDir(repo.name, digest));
    if (!links) return links.error();
    for (const auto& [link_digest, time] : *links) {
      auto content = driver_.getContent(layout::manifestSignaturesDir(repo.name, digest) + "/" +
                                        std::string(link_digest.algorithmName()) + "/" +
                                        std::string(link_digest.hex()) + "/link");
      if (!content) continue;
      if (auto copy = layout::parseLinkContent(*content)) out.push_back(*copy);
    }
    return out;
  }

  Result<References> references(const Repo& repo, const Digest& digest) {
    if (auto it = cache_.find(digest); it != cache_.end()) return it->second;
    References refs;
    auto bytes = driver_.getContent(layout::blobData(digest));
    if (!bytes) {
      if (!notFound(bytes.error())) return gcError(bytes.error(), "read manifest " + digest.str());
      warnings_.push_back(repo.name + ": manifest " + digest.str() +
                          " has a revision link but no data; nothing to mark");
      cache_[digest] = refs;
      return refs;
    }
    const std::string media_type = manifests::storedMediaType(*bytes);
    if (media_type.empty()) {
      return Error(ErrorCode::Internal, "stored manifest is not JSON",
                   repo.name + "@" + digest.str());
    }
    auto parsed = manifests::parse(media_type, *bytes, digest.algorithm());
    if (!parsed) {
      return Error(ErrorCode::Internal,
                   "stored manifest does not parse: " + std::string(parsed.error().message()),
                   repo.name + "@" + digest.str());
    }
    refs.readable = true;
    for (const auto& blob : parsed->blobs) refs.blobs.push_back(blob.digest);
    for (const auto& child : parsed->manifests) refs.children.push_back(child.digest);
    if (parsed->subject) refs.subject = parsed->subject->digest;
    cache_[digest] = refs;
    return refs;
  }

  storage::StorageDriver& driver_;
  const GcOptions& options_;
  const bool quiet_;
  std::set<Digest> marked_;
  std::map<Digest, References> cache_;
  std::vector<std::string> warnings_;
};

struct Plan {
  std::vector<Repo> repos;
  std::set<Digest> marked;
  std::vector<std::pair<std::string, Digest>> manifests;  // (repo, digest) to unlink
  std::vector<std::pair<std::string, Digest>> layer_links;
  std::vector<Blob> candidates;
  std::vector<std::string> warnings;
};

Result<Plan> mark(storage::StorageDriver& driver, const GcOptions& options, bool quiet,
                  const std::map<std::string, std::set<Digest>>& extra_revisions = {}) {
  Plan plan;
  Marker marker(driver, options, quiet);
  auto names = repositories(driver);
  if (!names) return names.error();
  auto emit = [&](const std::string& line) {
    if (!quiet && options.emit) options.emit(line);
  };
  for (auto& name : *names) {
    Repo repo;
    repo.name = name;
    emit(name);
    if (auto r = marker.loadRepository(repo); !r) return r.error();
    auto extra = extra_revisions.find(name);
    if (auto r = marker.markRepository(
            repo, extra == extra_revisions.end() ? std::set<Digest>{} : extra->second);
        !r) {
      return r.error();
    }
    if (options.delete_untagged) {
      for (const auto& [digest, time] : repo.revisions) {
        if (repo.marked.count(digest)) continue;
        emit("manifest eligible for deletion: " + digest.str());
        plan.manifests.emplace_back(name, digest);
      }
    }
    plan.repos.push_back(std::move(repo));
  }
  plan.marked = std::move(marker.marked());
  plan.warnings = std::move(marker.warnings());
  return plan;
}

Result<void> removeIfPresent(storage::StorageDriver& driver, const std::string& path) {
  if (auto r = driver.remove(path); !r && !notFound(r.error())) return gcError(r.error(), "remove");
  return ok();
}

bool exists(storage::StorageDriver& driver, const std::string& path) {
  return static_cast<bool>(driver.stat(path));
}

// True if any repository links `digest` as a layer or a manifest revision now.
Result<bool> linkedAnywhere(storage::StorageDriver& driver, const Digest& digest) {
  auto names = repositories(driver);
  if (!names) return names.error();
  for (const auto& name : *names) {
    if (exists(driver, layout::layerLink(name, digest)) ||
        exists(driver, layout::manifestRevisionLink(name, digest))) {
      return true;
    }
  }
  return false;
}

// Puts back blob data a run set aside and did not finish deleting (a crash, a shutdown).
Result<void> recoverTrash(storage::StorageDriver& driver) {
  auto entries = children(driver, layout::gcDir() + "/trash");
  if (!entries) return entries.error();
  for (const auto& entry : *entries) {
    const auto dash = entry.name.find('-');
    if (dash == std::string::npos) continue;
    auto digest = Digest::parse(entry.name.substr(0, dash) + ":" + entry.name.substr(dash + 1));
    if (!digest) continue;
    if (exists(driver, layout::blobData(*digest))) {
      if (auto r = removeIfPresent(driver, layout::gcTrash(*digest)); !r) return r;
    } else if (auto r = driver.move(layout::gcTrash(*digest), layout::blobData(*digest)); !r) {
      return gcError(r.error(), "restore " + digest->str());
    }
  }
  return ok();
}

}  // namespace

Result<GcReport> collectGarbage(storage::StorageDriver& driver, const GcOptions& options) {
  const auto started = std::chrono::steady_clock::now();
  GcReport report;
  auto emit = [&](const std::string& line) {
    if (options.emit) options.emit(line);
  };
  const bool online = options.grace.has_value();
  if (online && !options.dry_run) {
    if (auto r = recoverTrash(driver); !r) return r.error();
  }

  auto planned = mark(driver, options, false);
  if (!planned) return planned.error();
  Plan& plan = *planned;
  for (const auto& warning : plan.warnings) emit("warning: " + warning);

  // Newest link (layer or revision, any repository) per digest.
  std::map<Digest, TimePoint> newest_link;
  for (const auto& repo : plan.repos) {
    for (const auto* set : {&repo.layers, &repo.revisions}) {
      for (const auto& [digest, time] : *set) {
        auto& newest = newest_link[digest];
        newest = std::max(newest, time);
      }
    }
  }
  auto old = [&](const Digest& digest, TimePoint data_time) {
    if (!online) return true;
    const auto cutoff = options.grace->keep_newer_than;
    auto link = newest_link.find(digest);
    return data_time < cutoff && (link == newest_link.end() || link->second < cutoff);
  };

  auto all_blobs = blobs(driver);
  if (!all_blobs) return all_blobs.error();
  std::set<Digest> with_data;
  for (auto& blob : *all_blobs) {
    with_data.insert(blob.digest);
    if (plan.marked.count(blob.digest) || !old(blob.digest, blob.mod_time)) continue;
    plan.candidates.push_back(blob);
  }
  std::sort(plan.candidates.begin(), plan.candidates.end(),
            [](const Blob& a, const Blob& b) { return a.digest < b.digest; });
  std::set<Digest> candidate_set;
  for (const auto& blob : plan.candidates) candidate_set.insert(blob.digest);
  for (const auto& repo : plan.repos) {
    for (const auto& [digest, time] : repo.layers) {
      if (plan.marked.count(digest)) continue;
      // A link to an unmarked blob goes with it; a dangling link (no data) when it is old.
      if (candidate_set.count(digest) || (!with_data.count(digest) && old(digest, time))) {
        plan.layer_links.emplace_back(repo.name, digest);
      }
    }
  }

  report.marked = plan.marked.size();
  report.blobs_eligible = plan.candidates.size();
  report.manifests_eligible = plan.manifests.size();
  for (const auto& blob : plan.candidates) report.eligible_blobs.push_back(blob.digest);
  emit("");
  emit(std::to_string(report.marked) + " blobs marked, " + std::to_string(report.blobs_eligible) +
       " blobs and " + std::to_string(report.manifests_eligible) +
       " manifests eligible for deletion");
  for (const auto& blob : plan.candidates) emit("blob eligible for deletion: " + blob.digest.str());
  for (const auto& [repo, digest] : plan.layer_links) {
    emit(repo + ": layer link eligible for deletion: " + digest.str());
  }
  auto finish = [&]() -> Result<GcReport> {
    report.duration = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - started);
    return report;
  };
  if (options.dry_run) return finish();

  // Links first: the unmarked manifests' revisions (and their tag-index entries), then the
  // layer links. From here a manifest PUT naming one of them fails its reference check.
  std::map<std::string, std::set<Digest>> removed_revisions;
  std::map<std::string, const Repo*> repo_by_name;
  for (const auto& repo : plan.repos) repo_by_name[repo.name] = &repo;
  for (const auto& [name, digest] : plan.manifests) {
    if (auto r = removeIfPresent(driver, layout::manifestRevisionDir(name, digest)); !r) {
      return r.error();
    }
    for (const auto& tag : repo_by_name[name]->tags) {
      if (auto r = removeIfPresent(driver, layout::tagIndexEntryDir(name, tag, digest)); !r) {
        return r.error();
      }
    }
    removed_revisions[name].insert(digest);
    ++report.manifests_deleted;
  }
  for (const auto& [name, digest] : plan.layer_links) {
    if (auto r = removeIfPresent(driver, layout::layerLinkDir(name, digest)); !r) return r.error();
    ++report.layer_links_deleted;
  }

  if (!online) {
    for (const auto& blob : plan.candidates) {
      if (auto r = removeIfPresent(driver, layout::blobDir(blob.digest)); !r) return r.error();
      ++report.blobs_deleted;
      report.bytes_freed += blob.size;
    }
    return finish();
  }

  // Online: settle, then mark again; what is referenced now is rescued and its links restored.
  auto restoreLinks = [&](const Digest& digest) -> Result<void> {
    for (const auto& [name, removed] : plan.layer_links) {
      if (removed != digest) continue;
      if (auto r = driver.putContent(layout::layerLink(name, digest), layout::linkContent(digest));
          !r) {
        return gcError(r.error(), "restore link");
      }
      --report.layer_links_deleted;
    }
    return ok();
  };
  auto restoreRevisions = [&](const std::set<Digest>& live) -> Result<void> {
    for (const auto& [name, digests] : removed_revisions) {
      for (const auto& digest : digests) {
        if (!live.count(digest)) continue;
        if (auto r = driver.putContent(layout::manifestRevisionLink(name, digest),
                                       layout::linkContent(digest));
            !r) {
          return gcError(r.error(), "restore revision");
        }
        --report.manifests_deleted;
      }
    }
    return ok();
  };
  auto abandon = [&]() -> Result<GcReport> {
    std::set<Digest> all;
    for (const auto& blob : plan.candidates) {
      if (auto r = restoreLinks(blob.digest); !r) return r.error();
      all.insert(blob.digest);
    }
    for (const auto& [name, digests] : removed_revisions)
      all.insert(digests.begin(), digests.end());
    if (auto r = restoreRevisions(all); !r) return r.error();
    if (auto r = recoverTrash(driver); !r) return r.error();
    report.blobs_deleted = 0;
    report.bytes_freed = 0;
    return finish();
  };
  if (options.grace->settle && !options.grace->settle()) return abandon();
  auto again = mark(driver, options, true, removed_revisions);
  if (!again) return again.error();
  if (auto r = restoreRevisions(again->marked); !r) return r.error();
  std::vector<Blob> doomed;
  for (const auto& blob : plan.candidates) {
    if (again->marked.count(blob.digest)) {
      if (auto r = restoreLinks(blob.digest); !r) return r.error();
      ++report.rescued;
      continue;
    }
    doomed.push_back(blob);
  }

  // Data last: set aside, settle, and delete only what nothing links now. An upload commit
  // that found the data before it was set aside has written its link by then.
  std::vector<Blob> set_aside;
  for (const auto& blob : doomed) {
    auto moved = driver.move(layout::blobData(blob.digest), layout::gcTrash(blob.digest));
    if (!moved) {
      if (notFound(moved.error())) continue;
      return gcError(moved.error(), "set aside " + blob.digest.str());
    }
    set_aside.push_back(blob);
  }
  if (!set_aside.empty() && options.grace->settle && !options.grace->settle()) return abandon();
  for (const auto& blob : set_aside) {
    auto linked = linkedAnywhere(driver, blob.digest);
    if (!linked) return linked.error();
    if (*linked) {
      if (exists(driver, layout::blobData(blob.digest))) {
        if (auto r = removeIfPresent(driver, layout::gcTrash(blob.digest)); !r) return r.error();
      } else if (auto r = driver.move(layout::gcTrash(blob.digest), layout::blobData(blob.digest));
                 !r) {
        return gcError(r.error(), "restore " + blob.digest.str());
      }
      ++report.rescued;
      continue;
    }
    if (auto r = removeIfPresent(driver, layout::gcTrash(blob.digest)); !r) return r.error();
    ++report.blobs_deleted;
    report.bytes_freed += blob.size;
  }
  return finish();
}

namespace {

std::mutex& localLocksMutex() {
  static std::mutex mutex;
  return mutex;
}
std::set<const void*>& localLocks() {
  static std::set<const void*> locks;
  return locks;
}

}  // namespace

Result<std::optional<GcLock>> GcLock::tryAcquire(storage::StorageDriver& driver) {
  if (auto* filesystem = dynamic_cast<storage::FilesystemDriver*>(&driver)) {
    const std::filesystem::path path = filesystem->rootDirectory() + layout::gcLock();
    std::error_code ec;
    std::filesystem::create_directories(path.parent_path(), ec);
    const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0666);
    if (fd < 0) {
      return Error(ErrorCode::Internal, std::string("open gc lock: ") + std::strerror(errno),
                   path.string());
    }
    struct flock lock {};
    lock.l_type = F_WRLCK;
    lock.l_whence = SEEK_SET;
    // An open file description lock: held per open file, so two runs in one process exclude
    // each other too (a classic fcntl lock is per process).
    if (::fcntl(fd, F_OFD_SETLK, &lock) != 0) {
      const int error = errno;
      ::close(fd);
      if (error == EAGAIN || error == EACCES) return std::optional<GcLock>();
      return Error(ErrorCode::Internal, std::string("lock gc lock: ") + std::strerror(error),
                   path.string());
    }
    return std::optional<GcLock>(GcLock(fd, nullptr));
  }
  std::lock_guard guard(localLocksMutex());
  if (!localLocks().insert(&driver).second) return std::optional<GcLock>();
  return std::optional<GcLock>(GcLock(-1, &driver));
}

GcLock::GcLock(GcLock&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)), key_(std::exchange(other.key_, nullptr)) {}

GcLock::~GcLock() {
  if (fd_ >= 0) ::close(fd_);
  if (key_ != nullptr) {
    std::lock_guard guard(localLocksMutex());
    localLocks().erase(key_);
  }
}

Result<TimePoint> storageNow(storage::StorageDriver& driver) {
  const std::string marker = layout::gcStartMarker();
  if (auto r = driver.putContent(marker, layout::formatStartedAt(std::chrono::system_clock::now()));
      !r) {
    return gcError(r.error(), "write gc marker");
  }
  auto info = driver.stat(marker);
  if (!info) return gcError(info.error(), "stat gc marker");
  return info->mod_time;
}

}  // namespace portico::registry
