#include "common/net/worker.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <csignal>
#include <cstdint>
#include <system_error>

#include "common/net/net_error.h"

namespace portico::net {

namespace {

// One event_base per worker thread. EPOLL_USE_CHANGELIST defers epoll_ctl to the next
// epoll_wait and merges the changes of one loop pass per descriptor, so a read interest
// dropped and taken again in the same pass costs no system call (safe here: descriptors are
// never dup'ed).
event_base* newWorkerBase() {
  event_config* config = event_config_new();
  if (config == nullptr) return event_base_new();
  event_config_set_flag(config, EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST);
  event_base* base = event_base_new_with_config(config);
  event_config_free(config);
  return base != nullptr ? base : event_base_new();
}

}  // namespace

Worker::Worker(size_t index) : index_(index), base_(newWorkerBase()) {
  wakeup_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  wakeup_event_.reset(
      event_new(base_.get(), wakeup_fd_, EV_READ | EV_PERSIST, &Worker::onWakeup, this));
  event_add(wakeup_event_.get(), nullptr);
  local_event_.reset(event_new(base_.get(), -1, 0, &Worker::onLocal, this));
}

Worker::~Worker() {
  requestStop();
  join();
  local_event_.reset();
  wakeup_event_.reset();
  if (wakeup_fd_ >= 0) close(wakeup_fd_);
}

Result<void> Worker::start() {
  sigset_t block;
  sigset_t previous;
  sigemptyset(&block);
  sigaddset(&block, SIGINT);
  sigaddset(&block, SIGTERM);
  sigaddset(&block, SIGHUP);
  sigaddset(&block, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &block, &previous);
  try {
    thread_ = std::thread([this] { run(); });
  } catch (const std::system_error& e) {
    pthread_sigmask(SIG_SETMASK, &previous, nullptr);
    return Error(NetErrc::Thread, std::string("cannot start worker thread: ") + e.what());
  }
  pthread_sigmask(SIG_SETMASK, &previous, nullptr);
  return ok();
}

void Worker::post(std::function<void()> task) {
  if (inThread()) {
    local_tasks_.push_back(std::move(task));
    if (local_tasks_.size() == 1) event_active(local_event_.get(), EV_TIMEOUT, 0);
    return;
  }
  bool first = false;
  {
    std::lock_guard lock(mutex_);
    first = tasks_.empty();
    tasks_.push_back(std::move(task));
  }
  // Tasks already queued have woken the loop, and runPosted() reads the eventfd before it takes
  // the queue: only the first task of a batch needs the system call.
  if (!first) return;
  uint64_t one = 1;
  [[maybe_unused]] ssize_t n = write(wakeup_fd_, &one, sizeof(one));
}

void Worker::requestStop() {
  {
    std::lock_guard lock(mutex_);
    stop_requested_ = true;
  }
  uint64_t one = 1;
  [[maybe_unused]] ssize_t n = write(wakeup_fd_, &one, sizeof(one));
}

void Worker::join() {
  std::lock_guard lock(join_mutex_);
  if (thread_.joinable()) thread_.join();
}

void Worker::run() {
  thread_id_ = std::this_thread::get_id();
  event_base_loop(base_.get(), EVLOOP_NO_EXIT_ON_EMPTY);
  thread_id_ = std::thread::id();
}

void Worker::runPosted() {
  uint64_t count = 0;
  [[maybe_unused]] ssize_t n = read(wakeup_fd_, &count, sizeof(count));
  std::vector<std::function<void()>> tasks;
  bool stop = false;
  {
    std::lock_guard lock(mutex_);
    tasks.swap(tasks_);
    stop = stop_requested_;
  }
  for (auto& task : tasks) task();
  if (stop) event_base_loopbreak(base_.get());
}

void Worker::runLocal() {
  std::vector<std::function<void()>> tasks;
  tasks.swap(local_tasks_);
  for (auto& task : tasks) task();
}

void Worker::onLocal(evutil_socket_t /*fd*/, short /*what*/, void* arg) {
  static_cast<Worker*>(arg)->runLocal();
}

void Worker::onWakeup(evutil_socket_t /*fd*/, short /*what*/, void* arg) {
  static_cast<Worker*>(arg)->runPosted();
}

}  // namespace portico::net
