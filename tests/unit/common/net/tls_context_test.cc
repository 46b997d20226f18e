#include "common/net/tls_context.h"

#include <catch2/catch.hpp>

#include "common/net/net_error.h"

using namespace portico::net;

TEST_CASE("a TLS minimum below 1.2 is refused", "[tls_context]") {
  auto version = GENERATE(as<std::string>{}, "1.0", "1.1", "TLSv1.1", "ssl3", "1.4");
  INFO(version);
  TlsServerOptions server;
  server.certificates.push_back({"/nonexistent/cert.pem", "/nonexistent/key.pem"});
  server.min_version = version;
  auto created = TlsServerContext::create(server);
  REQUIRE_FALSE(created);
  CHECK(created.error().is(NetErrc::Tls));
  CHECK(created.error().message().find("min_version") != std::string::npos);

  TlsClientOptions client;
  client.min_version = version;
  auto client_created = TlsClientContext::create(client);
  REQUIRE_FALSE(client_created);
  CHECK(client_created.error().is(NetErrc::Tls));
}

TEST_CASE("a missing certificate file is a Tls error naming the file", "[tls_context]") {
  TlsServerOptions server;
  server.certificates.push_back({"/nonexistent/cert.pem", "/nonexistent/key.pem"});
  auto created = TlsServerContext::create(server);
  REQUIRE_FALSE(created);
  CHECK(created.error().is(NetErrc::Tls));
  CHECK(created.error().message().find("/nonexistent/cert.pem") != std::string::npos);
}

TEST_CASE("a server context needs at least one certificate", "[tls_context]") {
  auto created = TlsServerContext::create(TlsServerOptions{});
  REQUIRE_FALSE(created);
  CHECK(created.error().is(NetErrc::Tls));
}

TEST_CASE("client_auth without a client CA is refused", "[tls_context]") {
  TlsServerOptions server;
  server.certificates.push_back({"/nonexistent/cert.pem", "/nonexistent/key.pem"});
  server.client_auth = ClientAuth::Required;
  auto created = TlsServerContext::create(server);
  REQUIRE_FALSE(created);
  CHECK(created.error().is(NetErrc::Tls));
}

TEST_CASE("client sessions send SNI for names and not for IP literals", "[tls_context]") {
  TlsClientOptions options;
  options.verify = false;
  auto created = TlsClientContext::create(options);
  REQUIRE(created);
  auto named = (*created)->newSsl("registry.example");
  REQUIRE(named);
  CHECK(std::string(SSL_get_servername(named.get(), TLSEXT_NAMETYPE_host_name)) ==
        "registry.example");
  auto ip = (*created)->newSsl("127.0.0.1");
  REQUIRE(ip);
  CHECK(SSL_get_servername(ip.get(), TLSEXT_NAMETYPE_host_name) == nullptr);
}

TEST_CASE("server_name overrides the upstream host for SNI", "[tls_context]") {
  TlsClientOptions options;
  options.verify = false;
  options.server_name = "internal.test";
  auto created = TlsClientContext::create(options);
  REQUIRE(created);
  auto ssl = (*created)->newSsl("10.0.0.1");
  CHECK(std::string(SSL_get_servername(ssl.get(), TLSEXT_NAMETYPE_host_name)) == "internal.test");
}
