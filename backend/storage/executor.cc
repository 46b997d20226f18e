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
  bool wake = false;
  {
    std::lock_guard lock(mutex_);
    queue_.push_back(std::move(task));
    queued_.store(queue_.size(), std::memory_order_relaxed);
    // The woken thread counts as searching from here, so the next submit of this burst does
    // not wake another one for a task this one will take.
    if (sleeping_ > 0 && queue_.size() > searching_) {
      --sleeping_;
      ++searching_;
      ++wakes_;
      wake = true;
    }
  }
  if (wake) wake_.notify_one();
}

size_t StorageExecutor::queueLength() {
  std::lock_guard lock(mutex_);
  return queue_.size();
}

size_t StorageExecutor::defaultThreads() {
  size_t cores = std::max<size_t>(std::thread::hardware_concurrency(), 1);
  return std::max<size_t>(4 * cores, 8);
}

void StorageExecutor::spin() {
  auto until = std::chrono::steady_clock::now() + kSpin;
  for (unsigned i = 1;; ++i) {
    if (queued_.load(std::memory_order_relaxed) > 0 || stopping_.load(std::memory_order_relaxed))
      return;
    if (i % 16 == 0) {
      if (std::chrono::steady_clock::now() >= until) return;
      std::this_thread::yield();  // a worker that is ready to run goes first
    }
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
  }
}

void StorageExecutor::loop() {
  std::unique_lock lock(mutex_);
  bool searching = false;  // this thread is counted in searching_
  while (true) {
    if (queue_.empty() && !stopping_ && !spinner_) {
      // Out of work: look for more for a moment before sleeping.
      spinner_ = true;
      if (!searching) ++searching_;
      searching = true;
      lock.unlock();
      spin();
      lock.lock();
      spinner_ = false;
    }
    if (queue_.empty()) {
      if (stopping_) return;  // everything queued has run
      if (searching) --searching_;
      searching = false;
      ++sleeping_;
      wake_.wait(lock, [this] { return wakes_ > 0 || stopping_; });
      if (wakes_ > 0) {
        --wakes_;  // submit() moved this thread from sleeping_ to searching_
        searching = true;
      } else {
        --sleeping_;  // stopping
      }
      continue;
    }
    auto task = std::move(queue_.front());
    queue_.pop_front();
    queued_.store(queue_.size(), std::memory_order_relaxed);
    if (searching) --searching_;
    searching = false;
    lock.unlock();
    task();
    task = nullptr;  // captured state goes before the lock is taken again
    lock.lock();
  }
}

}  // namespace portico::storage
