#pragma once
// FilesystemDriver: StorageDriver on a local directory, compatible with distribution's
// "filesystem" driver (registry/storage/driver/filesystem/driver.go): logical path P is the file
// <root>P; directories 0777 and files 0666 before the umask, as distribution creates them.
// putContent() is atomic (a ".portico-tmp-*" file in the same directory, fsync, rename, fsync of
// the directory); list() and walk() never show those temporary names. Small reads can run on a
// worker without waiting (storage/nowait.h).

#include <cstddef>
#include <string>

#include "backend/storage/storage_driver.h"

namespace portico::storage {

class FilesystemDriver final : public StorageDriver {
 public:
  // distribution 2.8's defaults for storage.filesystem (driver.go): rootdirectory, maxthreads,
  // and the least maxthreads it accepts (smaller values are raised to it).
  static constexpr std::string_view kDefaultRootDirectory = "/var/lib/registry";
  static constexpr size_t kDefaultMaxThreads = 100;
  static constexpr size_t kMinMaxThreads = 25;

  // `root` is distribution's storage.filesystem.rootdirectory; created if missing on first write.
  // `max_threads` is only reported (maxThreads()), for the storage executor.
  explicit FilesystemDriver(std::string root, size_t max_threads = kDefaultMaxThreads);

  // distribution's FromParameters: `rootdirectory` (default kDefaultRootDirectory; must not be
  // empty) and `maxthreads` (default kDefaultMaxThreads, also for an empty value, which is how
  // a YAML null arrives; at least kMinMaxThreads; see parseMaxThreads). Other keys are ignored, as
  // distribution does. InvalidParameter on a malformed value, naming the key.
  [[nodiscard]] static Result<std::unique_ptr<StorageDriver>> fromParameters(
      const DriverParameters& parameters);
  // The maxthreads parameter as distribution 2.8 reads it (base.GetLimitFromParameter): a
  // YAML integer ≤ 0 (text "-5", "0") gives kMinMaxThreads; other text is parsed as Go's
  // strconv.ParseUint(text, 0, 64) (decimal, 0x hex, 0o or leading-0 octal, 0b binary);
  // anything below kMinMaxThreads is raised to it. nullopt when malformed.
  static std::optional<size_t> parseMaxThreads(std::string_view text);

  const std::string& rootDirectory() const { return root_; }

  // StorageDriver
  std::string_view name() const override { return "filesystem"; }
  std::optional<size_t> maxThreads() const override { return max_threads_; }
  // getContent, reader, stat and listingVersion answer in a NoWaitScope from the kernel's
  // caches (openat2 RESOLVE_CACHED, preadv2 RWF_NOWAIT); every other call throws WouldBlock
  // there. False once the kernel refused openat2 (before Linux 5.12, or a seccomp filter).
  bool supportsNoWait() const override;
  Result<std::string> getContent(std::string_view path) override;
  Result<void> putContent(std::string_view path, std::string_view data) override;
  Result<std::unique_ptr<FileReader>> reader(std::string_view path, uint64_t offset) override;
  Result<std::unique_ptr<FileWriter>> writer(std::string_view path, bool append) override;
  Result<FileInfo> stat(std::string_view path) override;
  Result<std::vector<std::string>> list(std::string_view path) override;
  Result<std::vector<DirEntry>> listEntries(std::string_view path) override;
  Result<std::optional<ListingVersion>> listingVersion(std::string_view path) override;
  Result<void> move(std::string_view src, std::string_view dst) override;
  Result<void> remove(std::string_view path) override;
  Result<void> walk(std::string_view path, const WalkCallback& callback) override;

  // True for the names of putContent()'s temporary files.
  static bool isTemporaryName(std::string_view name);

 private:
  std::string fullPath(std::string_view path) const;
  Result<void> makeParents(std::string_view path);
  Result<void> walkDir(const std::string& path, const WalkCallback& callback, bool& stop);

  std::string root_;
  size_t max_threads_;
};

}  // namespace portico::storage
