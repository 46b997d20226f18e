#pragma once
// EventSink: where the registry reports what happened (distribution's notifications: push,
// pull, mount, delete), after the operation succeeded. The pipeline and the service
// decorators emit; a sink delivers. NullEventSink drops everything (no `notifications`
// endpoints configured); the notifications issue adds a durable, queued sink.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "backend/registry/services.h"

namespace portico::registry {

// One event, with distribution's fields (notifications/event.go).
struct Event {
  enum class Action { Push, Pull, Mount, Delete };
  Action action = Action::Push;
  std::chrono::system_clock::time_point timestamp;
  // target
  std::string media_type;
  uint64_t size = 0;
  std::optional<crypto::Digest> digest;
  std::string repository;
  std::string from_repository;  // mount
  std::string url;
  std::string tag;
  std::vector<crypto::Digest> references;  // includereferences
};

class EventSink {
 public:
  virtual ~EventSink() = default;
  // Records `event` made on behalf of `ctx` (request and actor). Must not block the caller:
  // a sink that writes or sends does it on its own thread or queues durably first.
  virtual void emit(const RequestContext& ctx, Event event) = 0;
};

class NullEventSink : public EventSink {
 public:
  void emit(const RequestContext& /*ctx*/, Event /*event*/) override {}
};

}  // namespace portico::registry
