#pragma once
// UploadPurger: runs UploadStore::purge every storage.maintenance.uploadpurging.interval (the
// first run at start), like distribution's upload purger, on its own thread (a directory walk
// of every repository: never on a worker). Stops promptly when destroyed.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>

#include "backend/registry/upload_store.h"

namespace portico::backend {

struct UploadPurgeSettings {
  std::chrono::seconds age{std::chrono::hours(168)};
  std::chrono::seconds interval{std::chrono::hours(24)};
  bool dry_run = false;
  std::atomic<uint64_t>* runs = nullptr;  // counted after each run (metrics); may be null
};

class UploadPurger {
 public:
  UploadPurger(registry::UploadStore& uploads, UploadPurgeSettings settings);
  ~UploadPurger();
  UploadPurger(const UploadPurger&) = delete;
  UploadPurger& operator=(const UploadPurger&) = delete;

 private:
  void run();
  void purgeOnce();

  registry::UploadStore& uploads_;
  UploadPurgeSettings settings_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace portico::backend
