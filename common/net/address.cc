#include "common/net/address.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/un.h>

#include <charconv>
#include <cstring>

#include "common/net/net_error.h"

namespace portico::net {
namespace {

Error invalid(std::string_view text, std::string_view why) {
  return Error(NetErrc::InvalidAddress,
               "invalid address \"" + std::string(text) + "\": " + std::string(why));
}

std::optional<uint16_t> parsePort(std::string_view text) {
  if (text.empty() || text.size() > 5) return std::nullopt;
  unsigned value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value > 65535) return std::nullopt;
  return static_cast<uint16_t>(value);
}

}  // namespace

Result<Address> Address::parse(std::string_view text) {
  if (text.starts_with("unix:")) {
    std::string_view path = text.substr(5);
    if (path.empty()) return invalid(text, "empty socket path");
    if (path.size() >= sizeof(sockaddr_un{}.sun_path)) return invalid(text, "socket path too long");
    return unixPath(std::string(path));
  }
  std::string_view host;
  std::string_view port;
  if (text.starts_with("[")) {
    size_t close = text.find(']');
    if (close == std::string_view::npos) return invalid(text, "missing ']'");
    host = text.substr(1, close - 1);
    std::string_view rest = text.substr(close + 1);
    if (!rest.starts_with(":")) return invalid(text, "missing :port");
    port = rest.substr(1);
    if (host.empty()) return invalid(text, "empty IPv6 address");
  } else {
    size_t colon = text.rfind(':');
    if (colon == std::string_view::npos) return invalid(text, "missing :port");
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
    if (host.find(':') != std::string_view::npos) {
      return invalid(text, "IPv6 addresses need brackets");
    }
    if (host.empty()) host = "0.0.0.0";
  }
  auto portValue = parsePort(port);
  if (!portValue) return invalid(text, "bad port");
  return inet(std::string(host), *portValue);
}

Address Address::inet(std::string host, uint16_t port) {
  Address a;
  a.kind_ = Kind::Inet;
  a.host_ = std::move(host);
  a.port_ = port;
  return a;
}

Address Address::unixPath(std::string path) {
  Address a;
  a.kind_ = Kind::Unix;
  a.path_ = std::move(path);
  return a;
}

Address Address::fromSockaddr(const sockaddr* addr, socklen_t length) {
  char buffer[INET6_ADDRSTRLEN] = {};
  switch (addr->sa_family) {
    case AF_INET: {
      const auto* in = reinterpret_cast<const sockaddr_in*>(addr);
      inet_ntop(AF_INET, &in->sin_addr, buffer, sizeof(buffer));
      return inet(buffer, ntohs(in->sin_port));
    }
    case AF_INET6: {
      const auto* in6 = reinterpret_cast<const sockaddr_in6*>(addr);
      inet_ntop(AF_INET6, &in6->sin6_addr, buffer, sizeof(buffer));
      return inet(buffer, ntohs(in6->sin6_port));
    }
    case AF_UNIX: {
      const auto* un = reinterpret_cast<const sockaddr_un*>(addr);
      size_t max =
          length > offsetof(sockaddr_un, sun_path) ? length - offsetof(sockaddr_un, sun_path) : 0;
      return unixPath(std::string(un->sun_path, strnlen(un->sun_path, max)));
    }
    default:
      return Address();
  }
}

std::string Address::str() const {
  if (kind_ == Kind::Unix) return "unix:" + path_;
  std::string out;
  if (host_.find(':') != std::string::npos) {
    out = "[" + host_ + "]";
  } else {
    out = host_;
  }
  return out + ":" + std::to_string(port_);
}

Result<SocketAddress> Address::resolve() const {
  SocketAddress result;
  if (kind_ == Kind::Unix) {
    auto* un = reinterpret_cast<sockaddr_un*>(&result.storage);
    un->sun_family = AF_UNIX;
    std::memcpy(un->sun_path, path_.data(), path_.size());
    result.length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path_.size() + 1);
    return result;
  }
  auto* in = reinterpret_cast<sockaddr_in*>(&result.storage);
  if (inet_pton(AF_INET, host_.c_str(), &in->sin_addr) == 1) {
    in->sin_family = AF_INET;
    in->sin_port = htons(port_);
    result.length = sizeof(sockaddr_in);
    return result;
  }
  auto* in6 = reinterpret_cast<sockaddr_in6*>(&result.storage);
  if (inet_pton(AF_INET6, host_.c_str(), &in6->sin6_addr) == 1) {
    in6->sin6_family = AF_INET6;
    in6->sin6_port = htons(port_);
    result.length = sizeof(sockaddr_in6);
    return result;
  }
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  std::string service = std::to_string(port_);
  int rc = getaddrinfo(host_.c_str(), service.c_str(), &hints, &found);
  if (rc != 0 || found == nullptr) {
    return Error(NetErrc::Resolve, "cannot resolve " + host_ + ": " + gai_strerror(rc));
  }
  std::memcpy(&result.storage, found->ai_addr, found->ai_addrlen);
  result.length = found->ai_addrlen;
  freeaddrinfo(found);
  return result;
}

}  // namespace portico::net
