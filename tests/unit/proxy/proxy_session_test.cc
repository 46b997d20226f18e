#include "proxy/proxy_session.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

using namespace portico;
using namespace portico::proxy;

namespace {

http::RequestHead request(const std::vector<std::pair<std::string, std::string>>& headers) {
  http::RequestHead head;
  head.method = "PUT";
  head.target = "/v2/foo/blobs/uploads/1?digest=sha256:ab";
  head.path = "/v2/foo/blobs/uploads/1";
  head.query = "digest=sha256:ab";
  head.version = http::Version{1, 0};
  for (auto& [n, v] : headers) head.headers.add(n, v);
  return head;
}

http::ConnectionInfo client(bool tls = true) {
  http::ConnectionInfo info;
  info.peer_address = "192.0.2.7";
  info.peer_port = 50000;
  info.tls = tls;
  return info;
}

}  // namespace

TEST_CASE("hop-by-hop fields and the fields named in Connection are not forwarded",
          "[proxy_session]") {
  auto head = buildUpstreamRequestHead(request({{"Host", "registry.example.com"},
                                                {"Connection", "keep-alive, X-Secret"},
                                                {"Keep-Alive", "timeout=5"},
                                                {"Proxy-Connection", "keep-alive"},
                                                {"TE", "trailers"},
                                                {"Trailer", "X-Checksum"},
                                                {"Upgrade", "h2c"},
                                                {"X-Secret", "s"},
                                                {"Authorization", "Bearer t"}}),
                                       client(), 0, false, "127.0.0.1:5001");
  for (auto name : {"Connection", "Keep-Alive", "Proxy-Connection", "TE", "Trailer", "Upgrade",
                    "X-Secret", "Transfer-Encoding"}) {
    INFO(name);
    CHECK_FALSE(head.headers.has(name));
  }
  CHECK(head.headers.get("Authorization") == std::optional<std::string_view>("Bearer t"));
  CHECK(head.version == http::Version{1, 1});
  CHECK(head.target == "/v2/foo/blobs/uploads/1?digest=sha256:ab");
}

TEST_CASE("Host is kept and X-Forwarded-* and X-Real-IP are set", "[proxy_session]") {
  auto head = buildUpstreamRequestHead(request({{"Host", "registry.example.com:5000"}}), client(),
                                       std::nullopt, false, "127.0.0.1:5001");
  CHECK(head.headers.get("Host") == std::optional<std::string_view>("registry.example.com:5000"));
  CHECK(head.headers.get("X-Forwarded-For") == std::optional<std::string_view>("192.0.2.7"));
  CHECK(head.headers.get("X-Real-IP") == std::optional<std::string_view>("192.0.2.7"));
  CHECK(head.headers.get("X-Forwarded-Proto") == std::optional<std::string_view>("https"));
  CHECK(head.headers.get("X-Forwarded-Host") ==
        std::optional<std::string_view>("registry.example.com:5000"));
}

TEST_CASE("X-Forwarded-For is appended to, not replaced", "[proxy_session]") {
  auto head = buildUpstreamRequestHead(
      request({{"Host", "h"}, {"X-Forwarded-For", "203.0.113.1"}, {"X-Forwarded-For", "10.0.0.1"}}),
      client(false), std::nullopt, false, "u");
  CHECK(head.headers.getAll("X-Forwarded-For").size() == 1);
  CHECK(head.headers.get("X-Forwarded-For") ==
        std::optional<std::string_view>("203.0.113.1, 10.0.0.1, 192.0.2.7"));
  CHECK(head.headers.get("X-Forwarded-Proto") == std::optional<std::string_view>("http"));
}

TEST_CASE("a client-supplied X-Real-IP is replaced by the peer address", "[proxy_session]") {
  auto head = buildUpstreamRequestHead(request({{"Host", "h"}, {"X-Real-IP", "1.2.3.4"}}), client(),
                                       std::nullopt, false, "u");
  CHECK(head.headers.getAll("X-Real-IP") == std::vector<std::string_view>{"192.0.2.7"});
}

TEST_CASE("a request without Host gets the upstream's address as Host", "[proxy_session]") {
  auto head = buildUpstreamRequestHead(request({}), client(), std::nullopt, false, "10.1.1.1:5001");
  CHECK(head.headers.get("Host") == std::optional<std::string_view>("10.1.1.1:5001"));
}

TEST_CASE("a declared Content-Length is forwarded as is", "[proxy_session]") {
  auto head = buildUpstreamRequestHead(request({{"Host", "h"}, {"Content-Length", "1234"}}),
                                       client(), 1234, true, "u");
  CHECK(head.headers.getAll("Content-Length") == std::vector<std::string_view>{"1234"});
  CHECK_FALSE(head.headers.has("Transfer-Encoding"));
}

TEST_CASE("a chunked request body is forwarded chunked", "[proxy_session]") {
  auto head = buildUpstreamRequestHead(request({{"Host", "h"}, {"Transfer-Encoding", "chunked"}}),
                                       client(), std::nullopt, true, "u");
  CHECK(head.headers.getAll("Transfer-Encoding") == std::vector<std::string_view>{"chunked"});
  CHECK_FALSE(head.headers.has("Content-Length"));
}

TEST_CASE("a request without body gets no framing fields", "[proxy_session]") {
  auto head =
      buildUpstreamRequestHead(request({{"Host", "h"}}), client(), std::nullopt, false, "u");
  CHECK_FALSE(head.headers.has("Transfer-Encoding"));
  CHECK_FALSE(head.headers.has("Content-Length"));
}

TEST_CASE("Expect: 100-continue is passed through", "[proxy_session]") {
  auto head = buildUpstreamRequestHead(
      request({{"Host", "h"}, {"Expect", "100-continue"}, {"Content-Length", "5"}}), client(), 5,
      true, "u");
  CHECK(head.headers.get("Expect") == std::optional<std::string_view>("100-continue"));
}

TEST_CASE("response hop-by-hop fields are removed and Content-Length kept", "[proxy_session]") {
  http::ResponseHead head;
  head.status = 200;
  head.version = http::Version{1, 0};
  head.headers.add("Connection", "close, X-Hop");
  head.headers.add("X-Hop", "1");
  head.headers.add("Keep-Alive", "timeout=4");
  head.headers.add("Content-Length", "42");
  head.headers.add("Docker-Content-Digest", "sha256:00");
  rewriteResponseHead(head);
  CHECK_FALSE(head.headers.has("Connection"));
  CHECK_FALSE(head.headers.has("X-Hop"));
  CHECK_FALSE(head.headers.has("Keep-Alive"));
  CHECK(head.headers.get("Content-Length") == std::optional<std::string_view>("42"));
  CHECK(head.headers.has("Docker-Content-Digest"));
  CHECK(head.version == http::Version{1, 1});
}

TEST_CASE("proxy errors on /v2/ are registry JSON with the API version header", "[proxy_session]") {
  auto response = makeErrorResponse(502, "/v2/library/alpine/manifests/latest", "upstream down");
  CHECK(response.status == 502);
  CHECK(response.headers.get("Docker-Distribution-Api-Version") ==
        std::optional<std::string_view>("registry/2.0"));
  auto body = nlohmann::json::parse(response.body);
  CHECK(body["errors"][0]["code"] == "UNAVAILABLE");
  CHECK(body["errors"][0]["message"] == "upstream down");
}

TEST_CASE("an unrouted /v2/ path is a NOT_FOUND registry error", "[proxy_session]") {
  auto response = makeErrorResponse(404, "/v2/", "no route");
  auto body = nlohmann::json::parse(response.body);
  CHECK(body["errors"][0]["code"] == "NOT_FOUND");
  CHECK(response.headers.has("Docker-Distribution-Api-Version"));
}

TEST_CASE("proxy errors elsewhere are plain text without the API version header",
          "[proxy_session]") {
  auto response = makeErrorResponse(504, "/v1/_ping", "upstream timed out");
  CHECK_FALSE(response.headers.has("Docker-Distribution-Api-Version"));
  CHECK(response.headers.get("Content-Type") ==
        std::optional<std::string_view>("text/plain; charset=utf-8"));
  CHECK(response.body == "504 Gateway Timeout: upstream timed out\n");
}

TEST_CASE("only /v2 and /v2/... are v2 paths", "[proxy_session]") {
  CHECK(isV2Path("/v2/"));
  CHECK(isV2Path("/v2"));
  CHECK(isV2Path("/v2/x/tags/list"));
  CHECK_FALSE(isV2Path("/v21/"));
  CHECK_FALSE(isV2Path("/v1/_ping"));
  CHECK_FALSE(isV2Path("/"));
}

TEST_CASE("a field whose name is not a token is never forwarded", "[proxy_session]") {
  auto head = buildUpstreamRequestHead(
      request({{"Host", "h"}, {"Transfer-Encoding ", "chunked"}, {"X Bad", "1"}, {"X-Good", "2"}}),
      client(), std::nullopt, false, "u");
  CHECK_FALSE(head.headers.has("Transfer-Encoding "));
  CHECK_FALSE(head.headers.has("X Bad"));
  CHECK(head.headers.has("X-Good"));
}
