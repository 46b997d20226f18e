#pragma once
// EventQueue: one notification endpoint's durable FIFO of serialized events (issue 14,
// "durable, at least once"). A record is appended to `<dir>/events.log` (one line, the event's
// JSON, which never contains a raw newline) and fdatasync'ed before append() returns, so an
// event the registry reported survives kill -9. `<dir>/cursor` holds the byte offset of the
// first unacknowledged record, replaced atomically (temporary file, fsync, rename) by ack().
// On open, a torn last line (a crash in the middle of a write) is cut off, and the pending
// records are read back in order. The log is rewritten without its acknowledged prefix when
// that prefix is larger than the rest.
//
// Bounded: above max_events records or max_bytes bytes pending, the oldest are dropped
// (counted in dropped()); append() never blocks on a slow receiver.
// Thread-safe. Blocking (disk writes): call it from a storage thread or the sender's thread.
// What this does not do: deliver (the sender does), or share one directory between processes.

#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/result.h"

namespace portico::notify {

struct QueueLimits {
  uint64_t max_events = 10'000;
  uint64_t max_bytes = uint64_t{64} * 1024 * 1024;
};

class EventQueue {
 public:
  // Opens (creating) the queue in `dir`, recovering what a previous process left.
  static Result<std::unique_ptr<EventQueue>> open(std::string dir, QueueLimits limits);
  ~EventQueue();
  EventQueue(const EventQueue&) = delete;
  EventQueue& operator=(const EventQueue&) = delete;

  // Appends one record durably (it must not contain '\n'); may drop the oldest records.
  [[nodiscard]] Result<void> append(const std::string& record);
  // Up to `max_events` of the oldest pending records (at least one if any is pending), whose
  // sizes add up to at most `max_bytes`.
  std::vector<std::string> peek(size_t max_events, size_t max_bytes) const;
  // Acknowledges the `count` oldest records (delivered): they are never returned again.
  [[nodiscard]] Result<void> ack(size_t count);

  size_t pending() const;
  uint64_t pendingBytes() const;
  uint64_t dropped() const;

 private:
  EventQueue(std::string dir, QueueLimits limits);
  Result<void> writeCursor();
  Result<void> compact();
  void dropOldest();

  std::string dir_;
  QueueLimits limits_;
  mutable std::mutex mutex_;
  int log_fd_ = -1;
  uint64_t log_size_ = 0;  // bytes in events.log
  uint64_t cursor_ = 0;    // offset of the first pending record
  std::deque<std::string> pending_;
  uint64_t pending_bytes_ = 0;
  uint64_t dropped_ = 0;
};

}  // namespace portico::notify
