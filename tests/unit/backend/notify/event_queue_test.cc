// EventQueue: the durable per-endpoint FIFO behind notifications.

#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "backend/notify/event_queue.h"

using portico::notify::EventQueue;
using portico::notify::QueueLimits;

namespace {

struct Dir {
  Dir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "queue-XXXXXX").string();
    path = ::mkdtemp(pattern.data());
  }
  ~Dir() { std::filesystem::remove_all(path); }
  std::string path;
};

std::unique_ptr<EventQueue> open(const std::string& dir, QueueLimits limits = {}) {
  auto queue = EventQueue::open(dir, limits);
  REQUIRE(queue);
  return std::move(*queue);
}

}  // namespace

TEST_CASE("records come back in order and an ack removes them", "[notify]") {
  Dir dir;
  auto queue = open(dir.path);
  for (int i = 0; i < 5; ++i) REQUIRE(queue->append("{\"n\":" + std::to_string(i) + "}"));
  CHECK(queue->pending() == 5);
  auto batch = queue->peek(3, 1 << 20);
  REQUIRE(batch.size() == 3);
  CHECK(batch[0] == "{\"n\":0}");
  CHECK(batch[2] == "{\"n\":2}");
  REQUIRE(queue->ack(2));
  CHECK(queue->peek(10, 1 << 20).front() == "{\"n\":2}");
  CHECK(queue->pending() == 3);
}

TEST_CASE("pending records survive a reopen (a new process), acknowledged ones do not",
          "[notify]") {
  Dir dir;
  {
    auto queue = open(dir.path);
    for (int i = 0; i < 10; ++i) REQUIRE(queue->append("e" + std::to_string(i)));
    REQUIRE(queue->ack(4));
  }  // no orderly shutdown is needed: every append and ack is on disk when it returns
  auto queue = open(dir.path);
  auto all = queue->peek(100, 1 << 20);
  REQUIRE(all.size() == 6);
  CHECK(all.front() == "e4");
  CHECK(all.back() == "e9");
  REQUIRE(queue->append("e10"));
  CHECK(queue->peek(100, 1 << 20).back() == "e10");
}

TEST_CASE("a torn last line (crash mid-write) is cut off on open", "[notify]") {
  Dir dir;
  {
    auto queue = open(dir.path);
    REQUIRE(queue->append("first"));
  }
  std::ofstream(dir.path + "/events.log", std::ios::app) << "{\"half";
  auto queue = open(dir.path);
  auto all = queue->peek(100, 1 << 20);
  REQUIRE(all.size() == 1);
  CHECK(all[0] == "first");
  REQUIRE(queue->append("second"));
  auto reopened = open(dir.path);
  CHECK(reopened->peek(100, 1 << 20) == std::vector<std::string>{"first", "second"});
}

TEST_CASE("the queue is bounded: the oldest records are dropped and counted", "[notify]") {
  Dir dir;
  auto queue = open(dir.path, QueueLimits{.max_events = 3, .max_bytes = 1 << 20});
  for (int i = 0; i < 5; ++i) REQUIRE(queue->append("e" + std::to_string(i)));
  CHECK(queue->dropped() == 2);
  CHECK(queue->peek(100, 1 << 20) == std::vector<std::string>{"e2", "e3", "e4"});
  auto reopened = open(dir.path, QueueLimits{.max_events = 3, .max_bytes = 1 << 20});
  CHECK(reopened->peek(100, 1 << 20) == std::vector<std::string>{"e2", "e3", "e4"});

  Dir bytes;
  auto small = open(bytes.path, QueueLimits{.max_events = 100, .max_bytes = 10});
  for (int i = 0; i < 4; ++i) REQUIRE(small->append("abcd"));  // 5 bytes with the newline
  CHECK(small->pending() == 2);
  CHECK(small->dropped() == 2);
}

TEST_CASE("peek batches up to the byte limit but always returns one record", "[notify]") {
  Dir dir;
  auto queue = open(dir.path);
  REQUIRE(queue->append(std::string(100, 'a')));
  REQUIRE(queue->append(std::string(100, 'b')));
  CHECK(queue->peek(10, 50).size() == 1);
  CHECK(queue->peek(10, 200).size() == 2);
  CHECK(queue->peek(1, 1000).size() == 1);
}

TEST_CASE("acknowledging most of a long log compacts it and keeps the rest in order", "[notify]") {
  Dir dir;
  auto queue = open(dir.path);
  for (int i = 0; i < 100; ++i) REQUIRE(queue->append("event-" + std::to_string(i)));
  REQUIRE(queue->ack(90));
  CHECK(std::filesystem::file_size(dir.path + "/events.log") ==
        10 * std::string("event-90\n").size());
  auto reopened = open(dir.path);
  auto all = reopened->peek(100, 1 << 20);
  REQUIRE(all.size() == 10);
  CHECK(all.front() == "event-90");
  CHECK(all.back() == "event-99");
}
