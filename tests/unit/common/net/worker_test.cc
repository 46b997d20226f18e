#include "common/net/worker.h"

#include <catch2/catch.hpp>
#include <future>
#include <thread>
#include <vector>

using portico::net::Worker;

TEST_CASE("posted tasks run on the worker's thread, in order", "[worker]") {
  Worker worker(3);
  CHECK(worker.index() == 3);
  REQUIRE(worker.start());
  std::vector<int> order;
  std::promise<std::thread::id> ran_on;
  for (int i = 0; i < 5; ++i) worker.post([&order, i] { order.push_back(i); });
  worker.post([&] {
    CHECK(worker.inThread());
    ran_on.set_value(std::this_thread::get_id());
  });
  auto id = ran_on.get_future().get();
  CHECK(id != std::this_thread::get_id());
  CHECK_FALSE(worker.inThread());
  worker.requestStop();
  worker.join();
  CHECK(order == std::vector<int>{0, 1, 2, 3, 4});
}

TEST_CASE("tasks posted before requestStop still run, and join returns", "[worker]") {
  { Worker never_started(0); }
  Worker worker(1);
  REQUIRE(worker.start());
  bool ran = false;
  worker.post([&ran] { ran = true; });
  worker.requestStop();
  worker.join();
  worker.join();  // a second join is harmless
  CHECK(ran);
}
