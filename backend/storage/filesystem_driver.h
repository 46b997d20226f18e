#pragma once
// FilesystemDriver: StorageDriver on a local directory, compatible with distribution's
// "filesystem" driver (registry/storage/driver/filesystem/driver.go): logical path P is the file
// <root>P; directories 0777 and files 0666 before the umask, as distribution creates them.
// putContent() is atomic (a ".portico-tmp-*" file in the same directory, fsync, rename, fsync of
// the directory); list() and walk() never show those temporary names.

#include <string>

#include "backend/storage/storage_driver.h"

namespace portico::storage {

class FilesystemDriver final : public StorageDriver {
 public:
  // `root` is distribution's storage.filesystem.rootdirectory; created if missing on first write.
  explicit FilesystemDriver(std::string root);

  const std::string& rootDirectory() const { return root_; }

  // StorageDriver
  std::string_view name() const override { return "filesystem"; }
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
};

}  // namespace portico::storage
