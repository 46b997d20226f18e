#pragma once
// Worker: one thread running its own libevent event_base. Everything attached to a worker
// (accepted connections, upstream pools, timers) is used only from its thread; other
// threads talk to it with post(). What this does not do: share an event_base between
// threads (libevent's locking is not enabled).

#include <atomic>
#include <cstddef>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "common/net/event_ptr.h"
#include "common/result.h"

namespace portico::net {

class Worker {
 public:
  // Creates the event_base; the thread starts with start().
  explicit Worker(size_t index);
  // Stops the loop if running and joins the thread.
  ~Worker();
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  // Starts the thread. SIGPIPE, SIGINT, SIGTERM and SIGHUP are blocked in it.
  Result<void> start();
  // Runs `task` on the worker's thread (thread-safe; tasks run in order). Tasks posted after
  // the loop has exited never run. From the worker's own thread the task runs later in the
  // same loop (libevent's active queue: no system call), never inside post().
  void post(std::function<void()> task);
  // Makes the loop exit (callable from any thread); does not wait.
  void requestStop();
  // Waits for the thread to end (callable from several threads).
  void join();

  event_base& base() { return *base_; }
  size_t index() const { return index_; }
  // True when called from this worker's thread.
  bool inThread() const { return std::this_thread::get_id() == thread_id_.load(); }

 private:
  void run();
  void runPosted();
  void runLocal();
  static void onWakeup(evutil_socket_t fd, short what, void* arg);
  static void onLocal(evutil_socket_t fd, short what, void* arg);

  size_t index_;
  EventBasePtr base_;
  int wakeup_fd_ = -1;
  EventPtr wakeup_event_;
  std::mutex mutex_;
  std::vector<std::function<void()>> tasks_;
  bool stop_requested_ = false;
  // Posted from the worker's own thread (no lock: only that thread touches them).
  std::vector<std::function<void()>> local_tasks_;
  EventPtr local_event_;
  std::thread thread_;
  std::atomic<std::thread::id> thread_id_;
  std::mutex join_mutex_;
};

}  // namespace portico::net
