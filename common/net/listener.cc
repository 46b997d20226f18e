#include "common/net/listener.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <spdlog/spdlog.h>

#include "common/net/net_error.h"

namespace portico::net {
namespace {

Error socketError(const Address& address, const char* what) {
  return Error(NetErrc::Socket, std::string(what) + " " + address.str() + ": " + strerror(errno));
}

void closeAll(std::vector<int>& fds) {
  for (int fd : fds) close(fd);
  fds.clear();
}

// How a socket joins the address: the first one alone (the address must be free), the
// workers' ones beside it.
enum class Bind { Exclusive, Shared };

// Binds and listens one socket. Exclusive: bound without SO_REUSEPORT, so that the bind fails
// if any other socket holds the address, then given SO_REUSEPORT before listen() when workers'
// sockets are to join it (`share`). Shared: bound with SO_REUSEPORT beside that first socket.
Result<int> bindOne(const Address& address, const SocketAddress& sa, int backlog, Bind how,
                    bool share) {
  int fd = socket(sa.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return socketError(address, "socket");
  int one = 1;
  if (sa.family() != AF_UNIX) {
    // SO_REUSEADDR only lets a restart bind past connections of the previous run (TIME_WAIT).
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (how == Bind::Shared) setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
    if (sa.family() == AF_INET6) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
  }
  if (bind(fd, sa.get(), sa.length) != 0) {
    auto error = errno == EADDRINUSE
                     ? Error(NetErrc::AddressInUse,
                             "address already in use: another socket holds " + address.str())
                     : socketError(address, "bind");
    close(fd);
    return error;
  }
  if (how == Bind::Exclusive && share && sa.family() != AF_UNIX) {
    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
  }
  if (listen(fd, backlog) != 0) {
    auto error = socketError(address, "listen");
    close(fd);
    return error;
  }
  return fd;
}

}  // namespace

Result<BoundSockets> bindListeningSockets(const Address& address, size_t count, int backlog) {
  BoundSockets result;
  auto resolved = address.resolve();
  if (!resolved) return resolved.error();
  SocketAddress sa = *resolved;
  if (address.isUnix()) unlink(address.path().c_str());
  auto first = bindOne(address, sa, backlog, Bind::Exclusive, count > 1);
  if (!first) return first.error();
  result.fds.push_back(*first);

  sockaddr_storage actual{};
  socklen_t actual_length = sizeof(actual);
  getsockname(*first, reinterpret_cast<sockaddr*>(&actual), &actual_length);
  result.bound = address.isUnix()
                     ? address
                     : Address::fromSockaddr(reinterpret_cast<sockaddr*>(&actual), actual_length);
  // A port chosen by the kernel must be the same for every worker's socket.
  if (!address.isUnix() && sa.family() == AF_INET) {
    reinterpret_cast<sockaddr_in*>(&sa.storage)->sin_port = htons(result.bound.port());
  } else if (!address.isUnix() && sa.family() == AF_INET6) {
    reinterpret_cast<sockaddr_in6*>(&sa.storage)->sin6_port = htons(result.bound.port());
  }

  for (size_t i = 1; i < count; ++i) {
    Result<int> more = address.isUnix() ? Result<int>(fcntl(*first, F_DUPFD_CLOEXEC, 0))
                                        : bindOne(address, sa, backlog, Bind::Shared, true);
    if (more && *more < 0) more = socketError(address, "dup");
    if (!more) {
      closeAll(result.fds);
      return more.error();
    }
    result.fds.push_back(*more);
  }
  return result;
}

Listener::Listener(event_base& base, int fd, AcceptCallback callback)
    : callback_(std::move(callback)),
      listener_(evconnlistener_new(&base, &Listener::onAccept, this,
                                   LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, 0, fd)) {
  evconnlistener_set_error_cb(listener_.get(), &Listener::onError);
  retry_.reset(evtimer_new(&base, &Listener::onRetry, this));
}

void Listener::disable() {
  disabled_ = true;
  if (listener_) evconnlistener_disable(listener_.get());
  if (retry_) event_del(retry_.get());
}

void Listener::onAccept(evconnlistener* /*listener*/, evutil_socket_t fd, sockaddr* peer,
                        int length, void* arg) {
  auto* self = static_cast<Listener*>(arg);
  // Already non-blocking and close-on-exec: evconnlistener accepts with accept4(SOCK_NONBLOCK |
  // SOCK_CLOEXEC) (LEV_OPT_CLOSE_ON_EXEC, no LEV_OPT_LEAVE_SOCKETS_BLOCKING).
  if (peer->sa_family == AF_INET || peer->sa_family == AF_INET6) {
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  }
  self->callback_(fd, peer, static_cast<socklen_t>(length));
}

void Listener::onError(evconnlistener* /*listener*/, void* arg) {
  auto* self = static_cast<Listener*>(arg);
  int error = errno;
  spdlog::warn("accept failed: {}", strerror(error));
  if (error == EMFILE || error == ENFILE || error == ENOBUFS || error == ENOMEM) {
    // The pending connection stays queued and would wake us at once: back off briefly.
    evconnlistener_disable(self->listener_.get());
    timeval tv{0, 100 * 1000};
    evtimer_add(self->retry_.get(), &tv);
  }
}

void Listener::onRetry(evutil_socket_t /*fd*/, short /*what*/, void* arg) {
  auto* self = static_cast<Listener*>(arg);
  if (!self->disabled_) evconnlistener_enable(self->listener_.get());
}

}  // namespace portico::net
