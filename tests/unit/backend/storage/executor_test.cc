// StorageExecutor: work runs on storage threads, completions on the worker that asked.

#include "backend/storage/executor.h"

#include <catch2/catch.hpp>

#include <atomic>
#include <future>
#include <memory>
#include <thread>

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
      [&](Result<void> result) { message.set_value(result ? "" : result.error().message()); });
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
      [&](Result<int> result) {
        REQUIRE(result);
        released.set_value(watch.expired());
      });
  CHECK(released.get_future().get());
}
