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
