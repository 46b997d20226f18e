// Checks the test fixtures themselves: HttpClient against FakeUpstream (plain and TLS),
// ServerProcess's ready-line contract, TempDir and TestCertificates.

#include <openssl/ssl.h>
#include <signal.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <future>
#include <nlohmann/json.hpp>

#include "tests/fixtures/fixtures.h"

using namespace portico::testing;
using namespace std::chrono_literals;

namespace {

HttpClient tlsClient(const FakeUpstream& upstream, TlsClientOptions tls) {
  HttpClientOptions options;
  options.tls = std::move(tls);
  return HttpClient("127.0.0.1", upstream.port(), options);
}

}  // namespace

TEST_CASE("FakeUpstream echoes method, target and headers as JSON", "[fixtures]") {
  FakeUpstream upstream;
  HttpClient client("127.0.0.1", upstream.port());
  Response response = client.request("POST", "/v2/x?y=1", {{"X-Test", "one"}}, "hello");
  REQUIRE(response.status == 200);
  REQUIRE(response.headers.get("content-type") == "application/json");
  auto json = nlohmann::json::parse(response.body);
  CHECK(json["method"] == "POST");
  CHECK(json["target"] == "/v2/x?y=1");
  CHECK(json["headers"]["x-test"] == "one");
  CHECK(json["body"] == "hello");
  CHECK(json["body_sha256"] == Sha256::hex("hello"));
  REQUIRE(upstream.requestCount() == 1);
  CHECK(upstream.requests()[0].headers.get("X-TEST") == "one");
}

TEST_CASE("HttpClient reuses one connection for keep-alive requests", "[fixtures]") {
  FakeUpstream upstream;
  HttpClient client("127.0.0.1", upstream.port());
  for (int i = 0; i < 20; ++i) REQUIRE(client.get("/n/" + std::to_string(i)).status == 200);
  CHECK(client.connectionCount() == 1);
  CHECK(upstream.connectionCount() == 1);
  CHECK(upstream.requestCount() == 20);
}

TEST_CASE("scripted replies are used in order, then the default", "[fixtures]") {
  FakeUpstream upstream;
  upstream.push(UpstreamReply::respond(404, "missing", {{"X-Reply", "first"}}));
  upstream.push(UpstreamReply::respond(200, std::string(10000, 'c')).withChunked().splitInto(700));
  upstream.push(UpstreamReply::respond(204));
  HttpClient client("127.0.0.1", upstream.port());
  Response first = client.get("/a");
  CHECK(first.status == 404);
  CHECK(first.body == "missing");
  CHECK(first.headers.get("x-reply") == "first");
  Response second = client.get("/b");
  CHECK(second.status == 200);
  CHECK(second.headers.get("Transfer-Encoding") == "chunked");
  CHECK(second.body == std::string(10000, 'c'));
  Response third = client.get("/c");
  CHECK(third.status == 204);
  CHECK(third.body.empty());
  Response head = client.request("HEAD", "/d");
  CHECK(head.status == 200);
  CHECK(head.body.empty());
  CHECK(std::stoul(head.headers.get("Content-Length")) > 0);
  CHECK(client.get("/e").status == 200);
  CHECK(client.connectionCount() == 1);
}

TEST_CASE("generated request bodies arrive intact with Content-Length and chunked", "[fixtures]") {
  FakeUpstream upstream;
  HttpClient client("127.0.0.1", upstream.port());
  const uint64_t length = 3 * 1024 * 1024 + 17;
  const std::string expected = GeneratedBody::sha256Hex(length);
  for (bool chunked : {false, true}) {
    Response response = client.requestWithGeneratedBody("PUT", "/upload", {}, length, chunked);
    REQUIRE(response.status == 200);
    CHECK(response.request_body_sha256 == expected);
    CHECK(response.request_body_size == length);
    CHECK(response.body.empty());
    CHECK(response.body_size > 0);
  }
  auto requests = upstream.requests();
  REQUIRE(requests.size() == 2);
  CHECK(requests[0].body_sha256 == expected);
  CHECK(requests[0].headers.get("Content-Length") == std::to_string(length));
  CHECK(requests[1].body_sha256 == expected);
  CHECK(requests[1].headers.get("Transfer-Encoding") == "chunked");
  CHECK(requests[1].body_size == length);
}

TEST_CASE("a generated response body is counted and hashed without being kept", "[fixtures]") {
  FakeUpstream upstream;
  upstream.push(UpstreamReply::respond(200).withGeneratedBody(5 * 1024 * 1024 + 3));
  HttpClient client("127.0.0.1", upstream.port());
  Response response = client.requestDiscardingBody("GET", "/blob");
  REQUIRE(response.status == 200);
  CHECK(response.body.empty());
  CHECK(response.body_size == 5 * 1024 * 1024 + 3);
  CHECK(response.body_sha256 == GeneratedBody::sha256Hex(5 * 1024 * 1024 + 3));
  CHECK(GeneratedBody::bytes(100) == GeneratedBody::bytes(100));
  CHECK(GeneratedBody::bytes(100, 1) != GeneratedBody::bytes(100, 2));
}

TEST_CASE("TLS: the server certificate verifies for localhost and 127.0.0.1", "[fixtures][tls]") {
  const auto& certs = TestCertificates::shared();
  FakeUpstream upstream({.tls = true});
  HttpClient by_ip = tlsClient(upstream, {.ca_file = certs.caCert()});
  Response response = by_ip.get("/tls");
  CHECK(response.status == 200);
  CHECK(by_ip.peerSubject().find("CN=localhost") != std::string::npos);
  HttpClient by_name = tlsClient(upstream, {.ca_file = certs.caCert(), .server_name = "localhost"});
  CHECK(by_name.get("/tls").status == 200);
  CHECK(by_name.tlsVersion() == "TLSv1.3");
}

TEST_CASE("TLS: a certificate for another name fails verification", "[fixtures][tls]") {
  const auto& certs = TestCertificates::shared();
  FakeUpstream upstream(
      {.tls = true, .cert_file = certs.otherCert(), .key_file = certs.otherKey()});
  HttpClient wrong = tlsClient(upstream, {.ca_file = certs.caCert(), .server_name = "localhost"});
  CHECK_THROWS(wrong.connect());
  HttpClient right = tlsClient(upstream, {.ca_file = certs.caCert(), .server_name = "other.test"});
  CHECK(right.get("/").status == 200);
  CHECK(right.peerSubject().find("CN=other.test") != std::string::npos);
}

TEST_CASE("TLS: a TLS 1.1 client is refused by a TLS 1.2+ server", "[fixtures][tls]") {
  FakeUpstream upstream({.tls = true});
  HttpClient old = tlsClient(upstream, {.max_version = TLS1_1_VERSION});
  CHECK_THROWS(old.connect());
  HttpClient modern = tlsClient(upstream, {.min_version = TLS1_2_VERSION});
  CHECK_NOTHROW(modern.connect());
}

TEST_CASE("an upstream reset mid-body makes the request fail", "[fixtures]") {
  FakeUpstream upstream;
  upstream.push(UpstreamReply::respond(200, std::string(100000, 'x')).resetAfter(1000));
  HttpClient client("127.0.0.1", upstream.port());
  CHECK_THROWS(client.get("/reset"));
  CHECK(client.get("/after").status == 200);
  CHECK(client.connectionCount() == 2);
}

TEST_CASE("an upstream closing without an answer makes the request fail", "[fixtures]") {
  FakeUpstream upstream;
  upstream.push(UpstreamReply::closeWithoutAnswer());
  HttpClient client("127.0.0.1", upstream.port());
  CHECK_THROWS(client.get("/nothing"));
  CHECK(upstream.requestCount() == 1);
}

TEST_CASE("a gated reply waits until the test opens the gate", "[fixtures]") {
  FakeUpstream upstream;
  auto gate = std::make_shared<Gate>();
  upstream.push(UpstreamReply::respond(201, "late").holdUntil(gate));
  auto pending = std::async(std::launch::async, [&] {
    HttpClient client("127.0.0.1", upstream.port());
    return client.get("/held");
  });
  REQUIRE(gate->waitReached(10s));
  CHECK(pending.wait_for(0s) == std::future_status::timeout);
  gate->open();
  Response response = pending.get();
  CHECK(response.status == 201);
  CHECK(response.body == "late");
}

TEST_CASE("raw requests, readResponse and isClosedByPeer", "[fixtures]") {
  FakeUpstream upstream;
  upstream.push(UpstreamReply::respond(200, "bye").closeAfter());
  HttpClient client("127.0.0.1", upstream.port());
  client.sendRaw("GET /raw HTTP/1.1\r\nHost: x\r\n\r\n");
  Response response = client.readResponse();
  CHECK(response.status == 200);
  CHECK(response.body == "bye");
  CHECK_FALSE(response.keepAlive());
  CHECK(client.isClosedByPeer(10s));
}

TEST_CASE("Expect: 100-continue gets an interim 100 before the final response", "[fixtures]") {
  FakeUpstream upstream;
  HttpClient client("127.0.0.1", upstream.port());
  client.sendRaw("PUT /x HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\n");
  CHECK(client.readResponse().status == 100);
  client.sendRaw("abc");
  Response response = client.readResponse();
  CHECK(response.status == 200);
  CHECK(nlohmann::json::parse(response.body)["body"] == "abc");
}

TEST_CASE("ServerProcess parses ready lines and stops the process", "[fixtures][process]") {
  auto server = ServerProcess::start(
      "/bin/sh",
      {"-c",
       "echo 'info: listening on https://127.0.0.1:4433 (main)'; "
       "echo '[x] listening on http://127.0.0.1:9901 (admin)' >&2; echo 'server ready'; "
       "echo \"env=$PORTICO_FIXTURE_ENV\"; exec sleep 600"},
      {{"PORTICO_FIXTURE_ENV", "yes"}});
  CHECK(server.port("main") == 4433);
  CHECK(server.port() == 4433);
  CHECK(server.endpoint("admin").scheme == "http");
  CHECK(server.url("admin", "/metrics") == "http://127.0.0.1:9901/metrics");
  CHECK_THROWS(server.port("nope"));
  CHECK(server.waitForOutput("env=yes", 10s));
  CHECK(server.peakRssKiB() > 0);
  CHECK(server.rssKiB() > 0);
  CHECK(server.running());
  CHECK(server.stop() == 128 + SIGTERM);
  CHECK_FALSE(server.running());
}

TEST_CASE("ServerProcess throws with the output when the process exits before ready",
          "[fixtures][process]") {
  try {
    ServerProcess::start("/bin/sh", {"-c", "echo 'bad config: line 3'; exit 3"});
    FAIL("start() should have thrown");
  } catch (const std::runtime_error& error) {
    CHECK(std::string(error.what()).find("bad config: line 3") != std::string::npos);
  }
}

TEST_CASE("TempDir is removed with its contents", "[fixtures]") {
  std::string path;
  {
    TempDir dir;
    path = dir.path();
    dir.write("a/b/c.txt", "x");
    REQUIRE(readFile(dir.file("a/b/c.txt")) == "x");
  }
  CHECK_FALSE(std::filesystem::exists(path));
}
