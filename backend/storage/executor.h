#pragma once
// StorageExecutor: the registry's storage threads. Every call that can block on a disk or a
// network (driver calls, hashing, fsync, directory walks) runs here, never on a worker's
// event loop; the result comes back to the worker that asked, through net::Worker::post, and
// the completion runs there (so completions need no locks, like everything on a worker).
//
//   worker thread                       storage thread
//   run(worker, work, done) ──queue──►  r = work()
//                                       worker->post(done(r))
//   done(r)  ◄─────────────eventfd──────┘
//
// With a null worker (command-line tools, tests without a loop) `done` runs on the storage
// thread right after `work`. The pool is a fixed set of threads over one FIFO queue; size it
// with storage.filesystem.maxthreads (distribution's key; the default is defaultThreads()).
//
// Waking a sleeping thread costs a futex wake and two context switches, more than a small
// request's stat itself (measured: half the registry's CPU on a blob HEAD load went to it).
// Most storage calls are short (a link read from the page cache), so one awake thread keeps
// up with a worker; threads beyond it matter only when calls block (fsync, a slow disk, a
// network). So:
//   - submit() wakes a sleeping thread only when no thread is awake (running a task, or
//     spinning: a thread that runs out of work spins up to kSpin before it sleeps);
//   - a monitor thread, while tasks wait, wakes one more thread every kStall in which no task
//     was taken from the queue (every awake thread is blocked in a call).
// So a call stuck behind a blocked one waits at most about kStall (the registry_loop test's
// 2-second driver call does not hold up other repositories). Invariant: a queued task always
// has an awake thread that will look at the queue, or the monitor watching it.
//
// Reads first try the worker itself (read()): a read-only call whose driver keeps the
// NoWaitScope promise (storage/nowait.h) runs on the asking worker's thread and answers there
// when all it needs is in memory; only a call that would wait goes to a storage thread.
// What this does not do: cancel queued work (a completion whose request has gone checks that
// itself, see api::Pending), or order calls (two calls may finish in either order).

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include "backend/storage/nowait.h"
#include "common/net/worker.h"
#include "common/result.h"

namespace portico::storage {

// A completion: runs on the worker that started the call.
template <typename T>
using Done = std::function<void(Result<T>)>;

class StorageExecutor {
 public:
  // Starts `threads` storage threads (at least one).
  explicit StorageExecutor(size_t threads = defaultThreads());
  // Runs what is queued, then joins the threads.
  ~StorageExecutor();
  StorageExecutor(const StorageExecutor&) = delete;
  StorageExecutor& operator=(const StorageExecutor&) = delete;

  // Runs `work` on a storage thread, then `done(result)` on `worker` (see the top of this file).
  template <typename T, typename Work>
  void run(net::Worker* worker, Work&& work, Done<T> done) {
    submit([worker, work = std::forward<Work>(work), done = std::move(done)]() mutable {
      auto result = std::make_shared<Result<T>>(work());
      // What the work holds (an upload's file and its lock, say) is released before the
      // completion can run: a client answered by it may come back for the lock at once.
      { [[maybe_unused]] auto spent = std::move(work); }
      if (worker == nullptr) return done(std::move(*result));
      worker->post([done = std::move(done), result]() mutable { done(std::move(*result)); });
    });
  }

  // Like run(), for work that only reads. With `try_here` (the driver keeps the NoWaitScope
  // promise, see storage/nowait.h) and when called on `worker`'s own thread, `work` runs first
  // right here in a NoWaitScope; if it returns, `done` is posted to the worker (it never runs
  // inside this call); if a driver call in it throws WouldBlock, `work` runs again from the
  // start on a storage thread, as run() does. So `work` must be safe to run twice: read only,
  // nothing moved out of its captures.
  template <typename T, typename Work>
  void read(net::Worker* worker, bool try_here, Work&& work, Done<T> done) {
    if (try_here && worker != nullptr && worker->inThread()) {
      std::shared_ptr<Result<T>> result;  // shared: a Result may hold a move-only value
      try {
        NoWaitScope scope;
        result = std::make_shared<Result<T>>(work());
      } catch (const WouldBlock&) {
        answered_here_refused_.fetch_add(1, std::memory_order_relaxed);
      }
      if (result) {
        answered_here_.fetch_add(1, std::memory_order_relaxed);
        worker->post([done = std::move(done), result]() mutable { done(std::move(*result)); });
        return;
      }
    }
    run<T>(worker, std::forward<Work>(work), std::move(done));
  }

  // Runs `task` on a storage thread (no completion).
  void submit(std::function<void()> task);

  // Reads answered on the asking worker (read()), and reads that tried and went to a storage
  // thread because a driver call would have waited (metrics).
  uint64_t answeredHere() const { return answered_here_.load(std::memory_order_relaxed); }
  uint64_t answeredHereRefused() const {
    return answered_here_refused_.load(std::memory_order_relaxed);
  }

  // Tasks queued and not yet started (metrics).
  size_t queueLength();
  size_t threads() const { return threads_.size(); }

  // distribution's default for storage.filesystem.maxthreads is 100 (it bounds goroutines
  // blocked in syscalls); threads here are real, so the default is 4 per core, at least 8.
  static size_t defaultThreads();

 private:
  void loop();
  void monitor();
  // Spins (lock released) until a task is queued, the executor stops or kSpin passed.
  void spin();
  // Wakes one sleeping thread (lock held).
  void wakeOne();

  // How long an idle thread spins before it sleeps: about the time a worker takes to parse the
  // next small request, so a steady load keeps one thread awake.
  static constexpr std::chrono::microseconds kSpin{50};
  // How long queued tasks wait for a blocked thread before another one is woken.
  static constexpr std::chrono::milliseconds kStall{1};

  std::mutex mutex_;
  std::condition_variable wake_;   // sleeping storage threads
  std::condition_variable watch_;  // the monitor
  std::deque<std::function<void()>> queue_;
  std::atomic<size_t> queued_{0};  // queue_.size(), read by a spinning thread without the lock
  std::atomic<bool> stopping_{false};
  std::atomic<uint64_t> answered_here_{0};
  std::atomic<uint64_t> answered_here_refused_{0};
  size_t sleeping_ = 0;           // threads waiting on wake_ without a wake meant for them
  size_t awake_ = 0;              // threads running a task, spinning, or woken for one
  size_t wakes_ = 0;              // wakes sent and not yet taken by a sleeping thread
  uint64_t taken_ = 0;            // tasks taken from the queue so far (the monitor's progress mark)
  bool spinner_ = false;          // one thread spins at a time
  bool monitor_waiting_ = false;  // the monitor sleeps until the next submit()
  std::vector<std::thread> threads_;
  std::thread monitor_;
};

}  // namespace portico::storage
