#pragma once
// MemoryDriver: StorageDriver in process memory, for tests (distribution's "inmemory" driver).
// Same semantics as FilesystemDriver: directories exist once something was created under them
// and stay until removed. Readers see the content as it was when they were opened; releaseFd()
// copies the content into a memfd.

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>

#include "backend/storage/storage_driver.h"

namespace portico::storage {

class MemoryDriver final : public StorageDriver {
 public:
  MemoryDriver();
  ~MemoryDriver() override;

  // StorageDriver
  std::string_view name() const override { return "inmemory"; }
  Result<std::string> getContent(std::string_view path) override;
  Result<void> putContent(std::string_view path, std::string_view data) override;
  Result<std::unique_ptr<FileReader>> reader(std::string_view path, uint64_t offset) override;
  Result<std::unique_ptr<FileWriter>> writer(std::string_view path, bool append) override;
  Result<FileInfo> stat(std::string_view path) override;
  Result<std::vector<std::string>> list(std::string_view path) override;
  Result<void> move(std::string_view src, std::string_view dst) override;
  Result<void> remove(std::string_view path) override;
  Result<void> walk(std::string_view path, const WalkCallback& callback) override;

  struct File {
    std::string data;
    std::chrono::system_clock::time_point mod_time;
    uint64_t writes = 0;  // bumped by every write and truncate (the stamp's "mtime")
    bool locked = false;  // a writer holds lockExclusive()
  };

 private:
  friend class MemoryWriter;
  // All with mutex_ held.
  void addParents(std::string_view path);
  bool isDirectory(std::string_view path) const;

  std::mutex mutex_;
  std::map<std::string, std::shared_ptr<File>, std::less<>> files_;
  std::set<std::string, std::less<>> directories_;  // always holds "/"
};

}  // namespace portico::storage
