#include "common/net/address.h"

#include <netinet/in.h>

#include <catch2/catch.hpp>

#include "common/net/net_error.h"

using portico::net::Address;
using portico::net::NetErrc;

TEST_CASE("host:port, [v6]:port and :port parse into host and port", "[address]") {
  auto v4 = Address::parse("127.0.0.1:8080");
  REQUIRE(v4);
  CHECK(v4->host() == "127.0.0.1");
  CHECK(v4->port() == 8080);
  CHECK_FALSE(v4->isUnix());
  CHECK(v4->str() == "127.0.0.1:8080");

  auto name = Address::parse("registry:5000");
  REQUIRE(name);
  CHECK(name->host() == "registry");
  CHECK(name->port() == 5000);

  auto v6 = Address::parse("[::1]:443");
  REQUIRE(v6);
  CHECK(v6->host() == "::1");
  CHECK(v6->port() == 443);
  CHECK(v6->str() == "[::1]:443");

  auto any = Address::parse(":5000");
  REQUIRE(any);
  CHECK(any->host() == "0.0.0.0");
  CHECK(any->port() == 5000);
}

TEST_CASE("unix:/path names a unix socket", "[address]") {
  auto unix_socket = Address::parse("unix:/run/portico/registry.sock");
  REQUIRE(unix_socket);
  CHECK(unix_socket->isUnix());
  CHECK(unix_socket->path() == "/run/portico/registry.sock");
  CHECK(unix_socket->str() == "unix:/run/portico/registry.sock");
  auto resolved = unix_socket->resolve();
  REQUIRE(resolved);
  CHECK(resolved->family() == AF_UNIX);
}

TEST_CASE("malformed addresses are InvalidAddress errors", "[address]") {
  auto text = GENERATE(as<std::string>{}, "", "localhost", "1.2.3.4:", "1.2.3.4:65536",
                       "1.2.3.4:80x", "::1:80", "[::1]80", "[::1", "[]:80", "unix:", "host:-1");
  INFO(text);
  auto parsed = Address::parse(text);
  REQUIRE_FALSE(parsed);
  CHECK(parsed.error().is(NetErrc::InvalidAddress));
}

TEST_CASE("numeric addresses resolve without DNS", "[address]") {
  auto v4 = Address::parse("127.0.0.1:80")->resolve();
  REQUIRE(v4);
  CHECK(v4->family() == AF_INET);
  CHECK(ntohs(reinterpret_cast<const sockaddr_in*>(v4->get())->sin_port) == 80);
  auto v6 = Address::parse("[::1]:81")->resolve();
  REQUIRE(v6);
  CHECK(v6->family() == AF_INET6);
}

TEST_CASE("a socket address converts back to an Address", "[address]") {
  auto resolved = Address::parse("10.1.2.3:4567")->resolve();
  REQUIRE(resolved);
  auto back = Address::fromSockaddr(resolved->get(), resolved->length);
  CHECK(back.host() == "10.1.2.3");
  CHECK(back.port() == 4567);
}
