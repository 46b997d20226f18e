#pragma once
// "This object may be destroyed inside this callback": the one rule and the one tool.
//
// An object that calls out (a callback, a sink, a pool's acquire completion, a timer) must
// assume the code it calls may destroy it. The engine handles that in one of two ways:
//  - Never destroyed inside its own callbacks: ServerConnection leaves through
//    ConnectionSet::retire(), and the set frees it from the event loop. Nothing to check.
//  - Everything else holds a Liveness and checks a Watch after each out-call that may
//    destroy it (synchronously: Http1ClientConnection::callOut) or before touching itself
//    in a callback that may run after it is gone (asynchronously: ProxySession's and the
//    health checker's ClientPool::acquire completions).
//
//   auto watch = liveness_.watch();
//   callbacks_->onResponseHead(head);   // may delete this
//   if (!watch.alive()) return;         // do not touch members after this point
//
// A Watch is a weak reference to a token the Liveness owns; the token goes away with the
// object, so every Watch taken before, however nested, reports it. Single-threaded use only
// (one worker's event loop).

#include <memory>

namespace portico {

class Liveness {
 public:
  class Watch {
   public:
    // False once the object that handed out this Watch was destroyed.
    bool alive() const { return !token_.expired(); }

   private:
    friend class Liveness;
    explicit Watch(std::weak_ptr<const char> token) : token_(std::move(token)) {}
    std::weak_ptr<const char> token_;
  };

  Liveness() = default;
  Liveness(const Liveness&) = delete;
  Liveness& operator=(const Liveness&) = delete;

  Watch watch() const { return Watch(token_); }

 private:
  std::shared_ptr<const char> token_ = std::make_shared<const char>('\0');
};

}  // namespace portico
