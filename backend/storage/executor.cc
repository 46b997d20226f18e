#include "backend/storage/executor.h"

#include <algorithm>

namespace portico::storage {

StorageExecutor::StorageExecutor(size_t threads) {
  threads = std::max<size_t>(threads, 1);
  threads_.reserve(threads);
  for (size_t i = 0; i < threads; ++i) threads_.emplace_back([this] { loop(); });
}

StorageExecutor::~StorageExecutor() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  for (auto& thread : threads_) thread.join();
}

void StorageExecutor::submit(std::function<void()> task) {
  {
    std::lock_guard lock(mutex_);
    queue_.push_back(std::move(task));
  }
  wake_.notify_one();
}

size_t StorageExecutor::queueLength() {
  std::lock_guard lock(mutex_);
  return queue_.size();
}

size_t StorageExecutor::defaultThreads() {
  size_t cores = std::max<size_t>(std::thread::hardware_concurrency(), 1);
  return std::max<size_t>(4 * cores, 8);
}

void StorageExecutor::loop() {
  std::unique_lock lock(mutex_);
  while (true) {
    wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
    if (queue_.empty()) return;  // stopping, and everything queued has run
    auto task = std::move(queue_.front());
    queue_.pop_front();
    lock.unlock();
    task();
    task = nullptr;  // captured state goes before the lock is taken again
    lock.lock();
  }
}

}  // namespace portico::storage
