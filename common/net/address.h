#pragma once
// A listen or upstream address as written in config: "host:port", "[v6]:port", ":port"
// (all IPv4 interfaces) or "unix:/path". Parsing is syntax only; resolve() turns it into a
// socket address (getaddrinfo, blocking: call at startup or off the hot path).

#include <sys/socket.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.h"

namespace portico::net {

// A resolved socket address, ready for bind()/connect().
struct SocketAddress {
  sockaddr_storage storage{};
  socklen_t length = 0;

  const sockaddr* get() const { return reinterpret_cast<const sockaddr*>(&storage); }
  int family() const { return storage.ss_family; }
};

class Address {
 public:
  enum class Kind { Inet, Unix };

  Address() = default;
  // Parses config text; errors are NetErrc::InvalidAddress.
  static Result<Address> parse(std::string_view text);
  static Address inet(std::string host, uint16_t port);
  static Address unixPath(std::string path);
  // The address of a connected or bound socket (numeric host).
  static Address fromSockaddr(const sockaddr* addr, socklen_t length);

  Kind kind() const { return kind_; }
  bool isUnix() const { return kind_ == Kind::Unix; }
  // Host name or numeric address, without brackets ("::1"); empty for unix sockets.
  const std::string& host() const { return host_; }
  uint16_t port() const { return port_; }
  // Filesystem path of a unix socket.
  const std::string& path() const { return path_; }
  // Back to config syntax: "127.0.0.1:80", "[::1]:80", "unix:/run/x.sock".
  std::string str() const;

  // Resolves to the first usable socket address (NetErrc::Resolve on failure).
  Result<SocketAddress> resolve() const;

 private:
  Kind kind_ = Kind::Inet;
  std::string host_;
  uint16_t port_ = 0;
  std::string path_;
};

}  // namespace portico::net
