#pragma once
// Storage calls that never wait: a read answered from memory on the worker's own thread.
//
// Most registry reads are a link file and a small manifest that sit in the page cache; sending
// such a read to a storage thread and its answer back costs more than the read (two thread
// hand-offs against a few microseconds of open/read/close). So the storage executor first tries
// a read-only call on the asking worker inside a NoWaitScope (StorageExecutor::read). In that
// scope a driver call must either answer without waiting for a disk or a network, or throw
// WouldBlock before it waits; the executor then runs the whole call again on a storage thread.
// The filesystem driver keeps the promise with openat2(RESOLVE_CACHED) (the path must be in the
// kernel's lookup cache) and preadv2(RWF_NOWAIT) (the bytes must be in the page cache); every
// call it cannot make that way (writes, listings, walks) throws at once. A driver that does not
// keep the promise says so (StorageDriver::supportsNoWait() is false, the default) and is never
// called in a scope.
//
// What this does not do: make a call that waits cheaper (it still goes to a storage thread,
// after a wasted attempt that took no I/O), or apply to writes (they always run on a storage
// thread: an attempt could not be undone).

namespace portico::storage {

// Thrown by a driver call inside a NoWaitScope that would have to wait. Deliberately not a
// std::exception: a `catch (const std::exception&)` between the driver and the executor must
// not turn it into an error.
struct WouldBlock {};

// Marks this thread's driver calls as "must not wait" while alive. Nests.
class NoWaitScope {
 public:
  NoWaitScope() : previous_(active_) { active_ = true; }
  ~NoWaitScope() { active_ = previous_; }
  NoWaitScope(const NoWaitScope&) = delete;
  NoWaitScope& operator=(const NoWaitScope&) = delete;

  // True on a thread inside a scope.
  static bool active() { return active_; }
  // Throws WouldBlock inside a scope (for a driver call that can only wait).
  static void refuseIfActive() {
    if (active_) throw WouldBlock();
  }

 private:
  static thread_local bool active_;
  bool previous_;
};

}  // namespace portico::storage
