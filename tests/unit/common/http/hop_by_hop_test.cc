#include "common/http/hop_by_hop.h"

#include <catch2/catch.hpp>

using namespace portico::http;

TEST_CASE("hop-by-hop fields and those named in Connection are stripped", "[hop_by_hop]") {
  HeaderMap headers;
  headers.add("Host", "registry");
  headers.add("Connection", "keep-alive, X-Secret");
  headers.add("keep-alive", "timeout=5");
  headers.add("Transfer-Encoding", "chunked");
  headers.add("TE", "trailers");
  headers.add("Upgrade", "h2c");
  headers.add("Proxy-Authorization", "Basic x");
  headers.add("x-secret", "1");
  headers.add("User-Agent", "docker/1.5.0");
  stripHopByHop(headers);
  REQUIRE(headers.size() == 2);
  CHECK(headers.get("Host") == "registry");
  CHECK(headers.get("User-Agent") == "docker/1.5.0");
}

TEST_CASE("end-to-end fields survive hop-by-hop stripping", "[hop_by_hop]") {
  HeaderMap headers;
  headers.add("Content-Length", "5");
  headers.add("Authorization", "Bearer t");
  headers.add("Docker-Content-Digest", "sha256:ab");
  stripHopByHop(headers);
  CHECK(headers.size() == 3);
  CHECK(isHopByHop("proxy-connection"));
  CHECK_FALSE(isHopByHop("Content-Length"));
}

TEST_CASE("Connection cannot name end-to-end fields away (Connection: close, Host)",
          "[hop_by_hop]") {
  HeaderMap headers;
  headers.add("Host", "registry.example");
  headers.add("Connection", "close, Host, content-length, AUTHORIZATION");
  headers.add("Connection", "X-Forwarded-For, x-forwarded-proto, X-Forwarded-Host, X-Real-IP");
  headers.add("Connection", "Transfer-Encoding, X-Other");
  headers.add("Content-Length", "5");
  headers.add("Authorization", "Bearer t");
  headers.add("X-Forwarded-For", "203.0.113.9");
  headers.add("X-Forwarded-Proto", "https");
  headers.add("X-Forwarded-Host", "registry.example");
  headers.add("X-Real-IP", "203.0.113.9");
  headers.add("Transfer-Encoding", "chunked");
  headers.add("X-Other", "dropped");
  stripHopByHop(headers);
  CHECK(headers.get("Host") == "registry.example");
  CHECK(headers.get("Content-Length") == "5");
  CHECK(headers.get("Authorization") == "Bearer t");
  CHECK(headers.get("X-Forwarded-For") == "203.0.113.9");
  CHECK(headers.get("X-Forwarded-Proto") == "https");
  CHECK(headers.get("X-Forwarded-Host") == "registry.example");
  CHECK(headers.get("X-Real-IP") == "203.0.113.9");
  CHECK_FALSE(headers.has("Transfer-Encoding"));  // the fixed list: stripped, framing re-decided
  CHECK_FALSE(headers.has("X-Other"));
  CHECK_FALSE(headers.has("Connection"));
  CHECK(headers.size() == 7);
  CHECK(isEndToEnd("x-forwarded-for"));
  CHECK_FALSE(isEndToEnd("X-Forwarded-"));
  CHECK_FALSE(isEndToEnd("X-Other"));
}
