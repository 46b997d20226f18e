#include "backend/upload_purger.h"

#include <spdlog/spdlog.h>

namespace portico::backend {

UploadPurger::UploadPurger(registry::UploadStore& uploads, UploadPurgeSettings settings)
    : uploads_(uploads), settings_(settings), thread_([this] { run(); }) {}

UploadPurger::~UploadPurger() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

void UploadPurger::run() {
  std::unique_lock lock(mutex_);
  while (!stop_) {
    lock.unlock();
    purgeOnce();
    if (settings_.runs != nullptr) settings_.runs->fetch_add(1, std::memory_order_relaxed);
    lock.lock();
    wake_.wait_for(lock, settings_.interval, [this] { return stop_; });
  }
}

void UploadPurger::purgeOnce() {
  auto cutoff = std::chrono::system_clock::now() - settings_.age;
  if (settings_.dry_run) {
    spdlog::info("upload purging: dry run, uploads older than {}s would be removed",
                 settings_.age.count());
    return;
  }
  auto purged = uploads_.purge(cutoff);
  if (!purged) {
    spdlog::error("upload purging failed: {} {}", purged.error().message(),
                  purged.error().detail());
  } else if (*purged > 0) {
    spdlog::info("upload purging: removed {} stale upload(s)", *purged);
  }
}

}  // namespace portico::backend
