#include "backend/storage/executor.h"

#include <algorithm>

namespace portico::storage {

StorageExecutor::StorageExecutor(size_t threads) {
  threads = std::max<size_t>(threads, 1);
  threads_.reserve(threads);
  {
    // Every thread counts as awake until it first sleeps (loop() decrements).
    std::lock_guard lock(mutex_);
    awake_ = threads;
  }
  for (size_t i = 0; i < threads; ++i) threads_.emplace_back([this] { loop(); });
  monitor_ = std::thread([this] { monitor(); });
}

StorageExecutor::~StorageExecutor() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  watch_.notify_all();
  for (auto& thread : threads_) thread.join();
  monitor_.join();
}

void StorageExecutor::wakeOne() {
  --sleeping_;
  ++awake_;
  ++wakes_;
  wake_.notify_one();
}

void StorageExecutor::submit(std::function<void()> task) {
  std::lock_guard lock(mutex_);
  queue_.push_back(std::move(task));
  queued_.store(queue_.size(), std::memory_order_relaxed);
  // An awake thread takes the task when it is done (or at once, spinning); if it is blocked,
  // the monitor wakes another one.
  if (awake_ == 0 && sleeping_ > 0) wakeOne();
  if (monitor_waiting_) {
    monitor_waiting_ = false;
    watch_.notify_one();
  }
}

size_t StorageExecutor::queueLength() {
  std::lock_guard lock(mutex_);
  return queue_.size();
}

size_t StorageExecutor::defaultThreads() {
  size_t cores = std::max<size_t>(std::thread::hardware_concurrency(), 1);
  return std::max<size_t>(4 * cores, 8);
}

void StorageExecutor::monitor() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    // Asleep while every storage thread is: the next submit() wakes a thread and the monitor.
    // While any is awake, it ticks every kStall (no wake-up per task).
    if (awake_ == 0 && queue_.empty()) {
      monitor_waiting_ = true;
      watch_.wait(lock, [this] { return stopping_ || !monitor_waiting_; });
      continue;
    }
    const uint64_t mark = taken_;
    watch_.wait_for(lock, kStall, [this] { return stopping_.load(); });
    // Tasks waited a whole kStall and none was taken: every awake thread is blocked.
    if (!queue_.empty() && taken_ == mark && sleeping_ > 0) wakeOne();
  }
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
  while (true) {
    if (queue_.empty() && !stopping_ && !spinner_) {
      // Out of work: look for more for a moment before sleeping.
      spinner_ = true;
      lock.unlock();
      spin();
      lock.lock();
      spinner_ = false;
    }
    if (queue_.empty()) {
      if (stopping_) return;  // everything queued has run
      --awake_;
      ++sleeping_;
      wake_.wait(lock, [this] { return wakes_ > 0 || stopping_; });
      if (wakes_ > 0) {
        --wakes_;  // wakeOne() moved this thread from sleeping_ to awake_
      } else {
        --sleeping_;  // stopping
        ++awake_;
      }
      continue;
    }
    auto task = std::move(queue_.front());
    queue_.pop_front();
    queued_.store(queue_.size(), std::memory_order_relaxed);
    ++taken_;
    lock.unlock();
    task();
    task = nullptr;  // captured state goes before the lock is taken again
    lock.lock();
  }
}

}  // namespace portico::storage
