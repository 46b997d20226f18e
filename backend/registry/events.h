#pragma once
// EventSink: where the registry reports what happened (distribution's notifications: push,
// pull, mount, delete), after the operation succeeded. The handlers emit (ApiRequest::emit) and
// respond in the continuation; a sink delivers. NullEventSink drops everything (no
// `notifications` endpoints configured); notify::Notifier queues durably, then continues.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
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
  // Manifest push and pull, only when the sink wantsReferences(): the manifest's bytes, from
  // which the sink reads target.references (off the worker loop).
  std::shared_ptr<const std::string> manifest;
};

class EventSink {
 public:
  virtual ~EventSink() = default;
  // Records `event` made on behalf of `ctx` (request and actor), then runs `done` on
  // ctx.worker (on the calling thread when nothing needs writing; on a storage thread when
  // ctx.worker is null) once the event is durable: the caller responds in `done`, so a client
  // never sees a success whose event could still be lost. Must not block the caller.
  virtual void emit(const RequestContext& ctx, Event event, std::function<void()> done) = 0;
  // True when manifest events should carry the manifest (Event::manifest).
  virtual bool wantsReferences() const { return false; }
};

class NullEventSink : public EventSink {
 public:
  void emit(const RequestContext& /*ctx*/, Event /*event*/, std::function<void()> done) override {
    done();
  }
};

}  // namespace portico::registry
