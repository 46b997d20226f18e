#pragma once
// Listening sockets. Every worker accepts on its own socket bound to the same address with
// SO_REUSEPORT, so the kernel spreads connections over workers without a shared accept lock.
// Unix sockets cannot share a port: one socket is bound and duplicated for each worker.
//
// An address is never shared with another program: the first socket is bound without
// SO_REUSEPORT, so the bind fails (NetErrc::AddressInUse) if any socket holds the address,
// with or without SO_REUSEPORT, Portico's or anyone's; only then is SO_REUSEPORT turned on
// for the workers' sockets to join it. (Not prevented: a process of the same user that binds
// the address with SO_REUSEPORT after Portico has started; the kernel lets it join.)

#include <cstddef>
#include <functional>
#include <vector>

#include "common/net/address.h"
#include "common/net/event_ptr.h"
#include "common/result.h"

namespace portico::net {

// `count` listening, non-blocking sockets for `address`, plus the address actually bound
// (port 0 becomes the port the kernel chose; every socket uses that same port). Fails with
// NetErrc::AddressInUse when another socket holds the address.
struct BoundSockets {
  std::vector<int> fds;
  Address bound;
};
Result<BoundSockets> bindListeningSockets(const Address& address, size_t count, int backlog = 4096);

// Accepts connections on one socket from one worker's event loop.
class Listener {
 public:
  // Called with the accepted (non-blocking, close-on-exec) socket and the peer address.
  using AcceptCallback = std::function<void(int fd, const sockaddr* peer, socklen_t peer_length)>;

  // Takes ownership of the listening socket `fd`; accepting starts at once.
  Listener(event_base& base, int fd, AcceptCallback callback);
  Listener(const Listener&) = delete;
  Listener& operator=(const Listener&) = delete;

  // Stops accepting (the socket stays open until destruction).
  void disable();

 private:
  static void onAccept(evconnlistener* listener, evutil_socket_t fd, sockaddr* peer, int length,
                       void* arg);
  static void onError(evconnlistener* listener, void* arg);
  static void onRetry(evutil_socket_t fd, short what, void* arg);

  AcceptCallback callback_;
  ListenerPtr listener_;
  EventPtr retry_;  // re-enables accepting after running out of descriptors
  bool disabled_ = false;
};

}  // namespace portico::net
