#include "common/http/message.h"

#include <catch2/catch.hpp>

using namespace portico::http;

TEST_CASE("header lookup ignores case and keeps insertion order", "[message]") {
  HeaderMap headers;
  headers.add("Content-Type", "text/plain");
  headers.add("X-One", "1");
  headers.add("x-one", "2");
  CHECK(headers.get("content-type") == "text/plain");
  CHECK(headers.get("CONTENT-TYPE") == "text/plain");
  CHECK_FALSE(headers.get("Content-Length").has_value());
  auto all = headers.getAll("X-ONE");
  REQUIRE(all.size() == 2);
  CHECK(all[0] == "1");
  CHECK(all[1] == "2");
  CHECK(headers.size() == 3);
}

TEST_CASE("set replaces every field of a name in place of the first", "[message]") {
  HeaderMap headers;
  headers.add("A", "1");
  headers.add("B", "2");
  headers.add("a", "3");
  headers.set("A", "4");
  REQUIRE(headers.size() == 2);
  auto it = headers.begin();
  CHECK(it->first == "A");
  CHECK(it->second == "4");
  CHECK(std::next(it)->first == "B");
  headers.set("C", "5");
  CHECK(headers.get("c") == "5");
  CHECK(headers.size() == 3);
}

TEST_CASE("remove drops every field of a name and counts them", "[message]") {
  HeaderMap headers;
  headers.add("A", "1");
  headers.add("B", "2");
  headers.add("a", "3");
  CHECK(headers.remove("a") == 2);
  CHECK(headers.size() == 1);
  CHECK(headers.remove("a") == 0);
}

TEST_CASE("hasToken finds a token in comma-separated lists across fields", "[message]") {
  HeaderMap headers;
  headers.add("Connection", "keep-alive , Upgrade");
  headers.add("Connection", "close");
  CHECK(headers.hasToken("connection", "upgrade"));
  CHECK(headers.hasToken("Connection", "CLOSE"));
  CHECK(headers.hasToken("Connection", "keep-alive"));
  CHECK_FALSE(headers.hasToken("Connection", "keep"));
  CHECK_FALSE(headers.hasToken("Transfer-Encoding", "chunked"));
}

TEST_CASE("request head serializes as request line, fields and blank line", "[message]") {
  RequestHead head;
  head.method = "PUT";
  head.target = "/v2/a/blobs/uploads/1?digest=sha256:ab";
  head.headers.add("Host", "example");
  head.headers.add("Content-Length", "0");
  CHECK(head.serialize() ==
        "PUT /v2/a/blobs/uploads/1?digest=sha256:ab HTTP/1.1\r\nHost: example\r\n"
        "Content-Length: 0\r\n\r\n");
  head.version = {1, 0};
  head.headers.clear();
  CHECK(head.serialize() == "PUT /v2/a/blobs/uploads/1?digest=sha256:ab HTTP/1.0\r\n\r\n");
}

TEST_CASE("response head uses the standard reason phrase unless one is given", "[message]") {
  ResponseHead head;
  head.status = 404;
  head.headers.add("Content-Length", "0");
  CHECK(head.serialize() == "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
  head.reason = "Nope";
  head.status = 599;
  head.headers.clear();
  CHECK(head.serialize() == "HTTP/1.1 599 Nope\r\n\r\n");
}

TEST_CASE("reason phrases of common statuses", "[message]") {
  CHECK(reasonPhrase(200) == "OK");
  CHECK(reasonPhrase(416) == "Range Not Satisfiable");
  CHECK(reasonPhrase(431) == "Request Header Fields Too Large");
  CHECK(reasonPhrase(502) == "Bad Gateway");
  CHECK(reasonPhrase(799) == "Unknown");
}

TEST_CASE("percent decoding accepts valid escapes and rejects malformed ones", "[message]") {
  CHECK(percentDecode("a%2Fb%3a") == "a/b:");
  CHECK(percentDecode("a+b") == "a+b");
  CHECK(percentDecode("a+b", true) == "a b");
  CHECK(percentDecode("%00x") == std::string("\0x", 2));
  CHECK_FALSE(percentDecode("%").has_value());
  CHECK_FALSE(percentDecode("%4").has_value());
  CHECK_FALSE(percentDecode("abc%").has_value());
  CHECK_FALSE(percentDecode("%zz").has_value());
}

TEST_CASE("percent encoding keeps only unreserved characters", "[message]") {
  CHECK(percentEncode("a-b_c.d~e") == "a-b_c.d~e");
  CHECK(percentEncode("a b/c:d") == "a%20b%2Fc%3Ad");
  CHECK(percentEncode("a b/c", true) == "a%20b/c");
  CHECK(percentEncode("\xff") == "%FF");
  CHECK(percentDecode(percentEncode("sha256:+/ x")) == "sha256:+/ x");
}

TEST_CASE("query parameters are found by name and decoded", "[message]") {
  RequestHead head;
  head.query = "n=10&last=a%2Fb&digest=sha256%3Aabc&empty=&flag&q=a+b";
  CHECK(head.queryParam("n") == "10");
  CHECK(head.queryParam("last") == "a/b");
  CHECK(head.queryParam("digest") == "sha256:abc");
  CHECK(head.queryParam("empty") == "");
  CHECK(head.queryParam("flag") == "");
  CHECK(head.queryParam("q") == "a b");
  CHECK_FALSE(head.queryParam("missing").has_value());
  head.query = "n=1&n=2";
  CHECK(head.queryParam("n") == "1");
}

namespace {

RequestHead targetHead(std::string target, Version version = {1, 1}, bool host = true) {
  RequestHead head;
  head.method = "GET";
  head.target = std::move(target);
  head.version = version;
  if (host) head.headers.add("Host", "sent.example");
  return head;
}

}  // namespace

TEST_CASE("absolute-form targets route by their path; their authority is the Host",
          "[message][target]") {
  RequestHead head = targetHead("http://registry.example:5000/v2/a/tags/list?n=1&last=b");
  REQUIRE(splitRequestTarget(head));
  CHECK(head.absolute_form);
  CHECK(head.path == "/v2/a/tags/list");
  CHECK(head.query == "n=1&last=b");
  CHECK(head.headers.get("Host") == "registry.example:5000");
  CHECK(head.headers.size() == 1);
  CHECK(head.originForm() == "/v2/a/tags/list?n=1&last=b");

  RequestHead bare = targetHead("HTTPS://registry.example");
  REQUIRE(splitRequestTarget(bare));
  CHECK(bare.path == "/");
  CHECK(bare.query.empty());
  CHECK(bare.originForm() == "/");

  RequestHead query_only = targetHead("http://h?x=1");
  REQUIRE(splitRequestTarget(query_only));
  CHECK(query_only.path == "/");
  CHECK(query_only.query == "x=1");
  CHECK(query_only.originForm() == "/?x=1");

  // HTTP/1.0 without Host gets one; HTTP/1.1 without Host stays without (the server's 400),
  // and two Host fields stay two.
  RequestHead old = targetHead("http://h/v2/", {1, 0}, false);
  REQUIRE(splitRequestTarget(old));
  CHECK(old.headers.get("Host") == "h");
  RequestHead missing = targetHead("http://h/v2/", {1, 1}, false);
  REQUIRE(splitRequestTarget(missing));
  CHECK_FALSE(missing.headers.has("Host"));
  RequestHead twice = targetHead("http://h/v2/");
  twice.headers.add("host", "other");
  REQUIRE(splitRequestTarget(twice));
  CHECK(twice.headers.getAll("Host") == std::vector<std::string_view>{"h", "h"});
}

TEST_CASE("other request targets are split at '?' as sent", "[message][target]") {
  for (std::string target :
       {"/v2/x?y=1", "*", "registry.example:443", "ftp://h/v2/?y=1", "/v2/http://h/?y=1"}) {
    RequestHead head = targetHead(target);
    INFO(target);
    REQUIRE(splitRequestTarget(head));
    CHECK_FALSE(head.absolute_form);
    CHECK(head.path + (head.query.empty() ? "" : "?" + head.query) == target);
    CHECK(head.headers.get("Host") == "sent.example");
    CHECK(head.originForm() == target);
  }
}

TEST_CASE("an absolute-form target without a host or with userinfo is refused",
          "[message][target]") {
  for (std::string target : {"http:///v2/", "http://user@h/v2/", "http://u:p@h/", "https://?x"}) {
    RequestHead head = targetHead(target);
    INFO(target);
    CHECK_FALSE(splitRequestTarget(head));
  }
}
