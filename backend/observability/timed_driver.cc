#include "backend/observability/timed_driver.h"

#include <chrono>
#include <utility>

namespace portico::observability {

TimedDriver::TimedDriver(std::unique_ptr<storage::StorageDriver> inner, RegistryMetrics& metrics)
    : inner_(std::move(inner)), metrics_(metrics) {
  metrics_.setDriverName(std::string(inner_->name()));
}

template <typename F>
auto TimedDriver::timed(StorageAction action, F&& call) {
  auto started = std::chrono::steady_clock::now();
  auto result = call();
  metrics_.storageAction(
      action, std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
  return result;
}

Result<std::string> TimedDriver::getContent(std::string_view path) {
  return timed(StorageAction::GetContent, [&] { return inner_->getContent(path); });
}

Result<void> TimedDriver::putContent(std::string_view path, std::string_view data) {
  return timed(StorageAction::PutContent, [&] { return inner_->putContent(path, data); });
}

Result<std::unique_ptr<storage::FileReader>> TimedDriver::reader(std::string_view path,
                                                                 uint64_t offset) {
  return timed(StorageAction::Reader, [&] { return inner_->reader(path, offset); });
}

Result<std::unique_ptr<storage::FileWriter>> TimedDriver::writer(std::string_view path,
                                                                 bool append) {
  return timed(StorageAction::Writer, [&] { return inner_->writer(path, append); });
}

Result<storage::FileInfo> TimedDriver::stat(std::string_view path) {
  return timed(StorageAction::Stat, [&] { return inner_->stat(path); });
}

Result<std::vector<std::string>> TimedDriver::list(std::string_view path) {
  return timed(StorageAction::List, [&] { return inner_->list(path); });
}

Result<std::vector<storage::DirEntry>> TimedDriver::listEntries(std::string_view path) {
  return timed(StorageAction::ListEntries, [&] { return inner_->listEntries(path); });
}

Result<std::optional<storage::ListingVersion>> TimedDriver::listingVersion(std::string_view path) {
  return timed(StorageAction::ListingVersion, [&] { return inner_->listingVersion(path); });
}

Result<void> TimedDriver::move(std::string_view src, std::string_view dst) {
  return timed(StorageAction::Move, [&] { return inner_->move(src, dst); });
}

Result<void> TimedDriver::remove(std::string_view path) {
  return timed(StorageAction::Delete, [&] { return inner_->remove(path); });
}

Result<void> TimedDriver::walk(std::string_view path, const storage::WalkCallback& callback) {
  return timed(StorageAction::Walk, [&] { return inner_->walk(path, callback); });
}

}  // namespace portico::observability
