#pragma once
// TimedDriver: a StorageDriver decorator that times every driver call into
// registry_storage_action_seconds{driver,action} (distribution's base driver does the same).
// Readers and writers are timed when they are opened, not per read or write (as distribution).

#include <memory>

#include "backend/observability/registry_metrics.h"
#include "backend/storage/storage_driver.h"

namespace portico::observability {

class TimedDriver : public storage::StorageDriver {
 public:
  TimedDriver(std::unique_ptr<storage::StorageDriver> inner, RegistryMetrics& metrics);

  storage::StorageDriver& inner() { return *inner_; }

  // storage::StorageDriver
  std::string_view name() const override { return inner_->name(); }
  std::optional<size_t> maxThreads() const override { return inner_->maxThreads(); }
  // Timing waits for nothing: the inner driver's answer.
  bool supportsNoWait() const override { return inner_->supportsNoWait(); }
  Result<std::string> getContent(std::string_view path) override;
  Result<void> putContent(std::string_view path, std::string_view data) override;
  Result<std::unique_ptr<storage::FileReader>> reader(std::string_view path,
                                                      uint64_t offset) override;
  Result<std::unique_ptr<storage::FileWriter>> writer(std::string_view path, bool append) override;
  Result<storage::FileInfo> stat(std::string_view path) override;
  Result<std::vector<std::string>> list(std::string_view path) override;
  Result<std::vector<storage::DirEntry>> listEntries(std::string_view path) override;
  Result<std::optional<storage::ListingVersion>> listingVersion(std::string_view path) override;
  Result<void> move(std::string_view src, std::string_view dst) override;
  Result<void> remove(std::string_view path) override;
  Result<void> walk(std::string_view path, const storage::WalkCallback& callback) override;

 private:
  template <typename F>
  auto timed(StorageAction action, F&& call);

  std::unique_ptr<storage::StorageDriver> inner_;
  RegistryMetrics& metrics_;
};

}  // namespace portico::observability
