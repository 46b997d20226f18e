// StorageExecutor: work runs on storage threads, completions on the worker that asked.

#include "backend/storage/executor.h"

#include <catch2/catch.hpp>

#include <atomic>
#include <future>
#include <memory>
#include <thread>
#include <utility>
#include <vector>

#include "common/net/worker.h"

using portico::Error;
using portico::Result;
using portico::net::Worker;
using portico::storage::StorageExecutor;

TEST_CASE("work runs on a storage thread and its completion on the worker that asked",
          "[executor]") {
  // What the threads touch is declared before them: the executor and the worker join their
  // threads when they go, before it does.
  std::promise<std::pair<bool, bool>> where;  // {work off the worker, done on the worker}
  std::atomic<bool> work_in_worker{true};
  Worker worker(0);
  REQUIRE(worker.start());
  StorageExecutor executor(2);
  worker.post([&] {
    executor.run<int>(
        &worker,
        [&] {
          work_in_worker = worker.inThread();
          return Result<int>(42);
        },
        [&](Result<int> result) {
          REQUIRE(result);
          CHECK(*result == 42);
          where.set_value({!work_in_worker.load(), worker.inThread()});
        });
  });
  auto [off_loop, on_worker] = where.get_future().get();
  CHECK(off_loop);
  CHECK(on_worker);
}

TEST_CASE("errors travel to the completion unchanged", "[executor]") {
  std::promise<std::string> message;
  StorageExecutor executor(1);
  executor.run<void>(
      nullptr, [] { return Result<void>(Error(std::errc::io_error, "disk on fire")); },
      [&](const Result<void>& result) {
        message.set_value(result ? "" : result.error().message());
      });
  CHECK(message.get_future().get() == "disk on fire");
}

TEST_CASE("a blocked storage thread does not hold back work queued behind it on another thread",
          "[executor]") {
  std::promise<void> release;
  std::promise<void> blocked_started;
  std::promise<int> other;
  StorageExecutor executor(2);
  executor.submit([&blocked_started, released = release.get_future().share()] {
    blocked_started.set_value();
    released.wait();
  });
  blocked_started.get_future().wait();
  executor.run<int>(
      nullptr, [] { return Result<int>(7); },
      [&](Result<int> result) { other.set_value(*result); });
  CHECK(other.get_future().get() == 7);  // answered while the first thread is still blocked
  release.set_value();
}

TEST_CASE("destruction runs what is queued", "[executor]") {
  std::atomic<int> ran{0};
  {
    StorageExecutor executor(1);
    for (int i = 0; i < 100; ++i) executor.submit([&] { ++ran; });
  }
  CHECK(ran == 100);
}

TEST_CASE("what the work captured is released before its completion runs", "[executor]") {
  // An upload's writer (its file and flock) travels in the work; the completion answers the
  // client, who may come back for the lock at once (a PUT after a failed PATCH).
  std::promise<bool> released;
  StorageExecutor executor(1);
  auto held = std::make_shared<int>(1);
  std::weak_ptr<int> watch = held;
  executor.run<int>(
      nullptr, [held = std::move(held)] { return Result<int>(*held); },
      [&](const Result<int>& result) {
        REQUIRE(result);
        released.set_value(watch.expired());
      });
  CHECK(released.get_future().get());
}

// --- read(): answered on the worker when nothing would wait (storage/nowait.h) ----------------

namespace {

// Where a read's work ran and its completion: for each try, whether it was on the worker and in
// a NoWaitScope; then whether `done` ran on the worker, and whether it ran inside read().
struct ReadTrace {
  std::vector<std::pair<bool, bool>> tries;  // {on the worker, in a NoWaitScope}
  bool done_on_worker = false;
  bool done_inside_call = false;
  bool in_call = false;  // true while read() runs
  int value = 0;
};

// Calls executor.read() on the worker; the work throws WouldBlock on its first `refusals` tries.
ReadTrace traceRead(StorageExecutor& executor, Worker& worker, bool try_here, int refusals) {
  std::promise<ReadTrace> finished;
  auto trace = std::make_shared<ReadTrace>();
  worker.post([&, trace] {
    trace->in_call = true;
    executor.read<int>(
        &worker, try_here,
        [&worker, trace, refusals] {
          trace->tries.emplace_back(worker.inThread(), portico::storage::NoWaitScope::active());
          if (static_cast<int>(trace->tries.size()) <= refusals) {
            throw portico::storage::WouldBlock();
          }
          return Result<int>(7);
        },
        [&, trace](Result<int> result) {
          trace->done_on_worker = worker.inThread();
          trace->done_inside_call = trace->in_call;
          trace->value = result ? *result : -1;
          finished.set_value(*trace);
        });
    trace->in_call = false;
  });
  return finished.get_future().get();
}

}  // namespace

TEST_CASE("a read runs on the asking worker when its driver can answer without waiting",
          "[executor][nowait]") {
  struct Case {
    const char* what;
    bool try_here;                             // the driver keeps the NoWaitScope promise
    int refusals;                              // tries that throw WouldBlock
    std::vector<std::pair<bool, bool>> tries;  // {on the worker, in a scope} per try
    uint64_t answered_here;
    uint64_t refused;
  };
  const Case c = GENERATE(values<Case>({
      {"answered on the worker, in a scope", true, 0, {{true, true}}, 1, 0},
      {"would block: again from the start on a storage thread, outside a scope",
       true,
       1,
       {{true, true}, {false, false}},
       0,
       1},
      {"no promise: straight to a storage thread", false, 0, {{false, false}}, 0, 0},
  }));
  CAPTURE(c.what);
  Worker worker(0);
  REQUIRE(worker.start());
  StorageExecutor executor(1);
  auto trace = traceRead(executor, worker, c.try_here, c.refusals);
  CHECK(trace.tries == c.tries);
  CHECK(trace.value == 7);
  CHECK(trace.done_on_worker);
  CHECK_FALSE(trace.done_inside_call);  // posted, as every completion is
  CHECK(executor.answeredHere() == c.answered_here);
  CHECK(executor.answeredHereRefused() == c.refused);
}

TEST_CASE("a read off the worker's thread never runs on the caller", "[executor][nowait]") {
  Worker worker(0);
  REQUIRE(worker.start());
  StorageExecutor executor(1);
  // Called from this test's thread (a tool, a storage thread's own follow-up), not the worker's.
  std::promise<std::pair<bool, bool>> where;  // {work on this thread, in a scope}
  const auto caller = std::this_thread::get_id();
  executor.read<int>(
      &worker, true,
      [&] {
        where.set_value(
            {std::this_thread::get_id() == caller, portico::storage::NoWaitScope::active()});
        return Result<int>(1);
      },
      [](const Result<int>&) {});
  CHECK(where.get_future().get() == std::make_pair(false, false));
}
