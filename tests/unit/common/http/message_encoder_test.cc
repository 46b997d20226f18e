#include "common/http/message_encoder.h"

#include <catch2/catch.hpp>

#include <string>

#include "common/net/event_ptr.h"

namespace {

using namespace portico;
using http::BodyFraming;

std::string drain(evbuffer* buffer) {
  std::string text(evbuffer_get_length(buffer), '\0');
  evbuffer_remove(buffer, text.data(), text.size());
  return text;
}

http::ResponseContext context(std::string_view method = "GET", http::Version version = {1, 1},
                              bool keep_alive = true) {
  http::ResponseContext c;
  c.request_method = method;
  c.request_version = version;
  c.keep_alive = keep_alive;
  c.date = "Wed, 02 Dec 2026 04:00:00 GMT";
  return c;
}

http::ResponseHead response(int status, std::initializer_list<http::HeaderMap::Field> fields) {
  http::ResponseHead head;
  head.status = status;
  for (const auto& [name, value] : fields) head.headers.add(name, value);
  return head;
}

}  // namespace

TEST_CASE("a response with a valid Content-Length is length-framed and keeps its field",
          "[message_encoder]") {
  auto head = response(200, {{"Content-Length", "5"}});
  auto framing = http::frameResponse(head, context());
  CHECK(framing.body == BodyFraming::ContentLength);
  CHECK(framing.length == 5u);
  CHECK(framing.keep_alive);
  CHECK(head.headers.get("Content-Length") == "5");
  CHECK_FALSE(head.headers.has("Connection"));
  CHECK(head.headers.get("Date") == "Wed, 02 Dec 2026 04:00:00 GMT");
}

TEST_CASE("a response without a length is chunked for HTTP/1.1 and close-delimited for HTTP/1.0",
          "[message_encoder]") {
  auto chunked = response(200, {});
  auto framing = http::frameResponse(chunked, context("GET", {1, 1}));
  CHECK(framing.body == BodyFraming::Chunked);
  CHECK(framing.keep_alive);
  CHECK(chunked.headers.get("Transfer-Encoding") == "chunked");

  // RFC 9112 §6.3 ¶8: an HTTP/1.0 client cannot read chunks; the close ends the body.
  auto close_delimited = response(200, {{"Transfer-Encoding", "chunked"}});
  framing = http::frameResponse(close_delimited, context("GET", {1, 0}));
  CHECK(framing.body == BodyFraming::UntilClose);
  CHECK_FALSE(framing.keep_alive);
  CHECK_FALSE(close_delimited.headers.has("Transfer-Encoding"));
  CHECK(close_delimited.headers.get("Connection") == "close");
}

TEST_CASE("HEAD, 1xx, 204 and 304 responses have no body", "[message_encoder]") {
  struct Case {
    std::string_view method;
    int status;
    bool keeps_length;  // Content-Length describes the representation (RFC 9110 §8.6)
  };
  auto c = GENERATE(Case{"HEAD", 200, true}, Case{"GET", 304, true}, Case{"GET", 204, false},
                    Case{"GET", 103, false}, Case{"HEAD", 404, true});
  CAPTURE(c.method, c.status);
  auto head = response(c.status, {{"Content-Length", "42"}, {"Transfer-Encoding", "chunked"}});
  auto framing = http::frameResponse(head, context(c.method));
  CHECK(framing.body == BodyFraming::None);
  CHECK(framing.keep_alive);
  CHECK_FALSE(head.headers.has("Transfer-Encoding"));
  CHECK(head.headers.has("Content-Length") == c.keeps_length);
}

TEST_CASE("Transfer-Encoding wins over Content-Length, and only one of them is sent",
          "[message_encoder]") {
  auto head = response(200, {{"Content-Length", "5"}, {"Transfer-Encoding", "gzip, chunked"}});
  auto framing = http::frameResponse(head, context());
  CHECK(framing.body == BodyFraming::Chunked);
  CHECK_FALSE(head.headers.has("Content-Length"));
  CHECK(head.headers.getAll("Transfer-Encoding") == std::vector<std::string_view>{"chunked"});

  http::RequestHead request;
  request.method = "PUT";
  request.target = "/";
  request.headers.add("Content-Length", "5");
  request.headers.add("Transfer-Encoding", "chunked");
  framing = http::frameRequest(request);
  CHECK(framing.body == BodyFraming::Chunked);
  CHECK_FALSE(request.headers.has("Content-Length"));
}

TEST_CASE("an invalid Content-Length is removed and the body is chunked", "[message_encoder]") {
  auto length = GENERATE("", "-1", "5x", "0x10", "18446744073709551616");
  CAPTURE(length);
  auto head = response(200, {{"Content-Length", length}});
  auto framing = http::frameResponse(head, context());
  CHECK(framing.body == BodyFraming::Chunked);
  CHECK_FALSE(head.headers.has("Content-Length"));
  CHECK(head.headers.get("Transfer-Encoding") == "chunked");
}

TEST_CASE("Connection fields: the handler's are replaced; close when reuse is not allowed",
          "[message_encoder]") {
  SECTION("the handler asks for close") {
    auto head = response(200, {{"Content-Length", "0"}, {"Connection", "Keep-Alive, close"}});
    auto framing = http::frameResponse(head, context());
    CHECK_FALSE(framing.keep_alive);
    CHECK(head.headers.getAll("Connection") == std::vector<std::string_view>{"close"});
  }
  SECTION("the connection may not be reused") {
    auto head = response(200, {{"Content-Length", "0"}, {"Keep-Alive", "timeout=5"}});
    auto framing = http::frameResponse(head, context("GET", {1, 1}, false));
    CHECK_FALSE(framing.keep_alive);
    CHECK(head.headers.get("Connection") == "close");
    CHECK_FALSE(head.headers.has("Keep-Alive"));
  }
  SECTION("an HTTP/1.0 client that may keep the connection is told so") {
    auto head = response(200, {{"Content-Length", "0"}});
    auto framing = http::frameResponse(head, context("GET", {1, 0}));
    CHECK(framing.keep_alive);
    CHECK(head.headers.get("Connection") == "keep-alive");
    CHECK(head.version == http::Version{1, 1});
  }
  SECTION("a Date the handler set is kept") {
    auto head = response(200, {{"Date", "Thu, 01 Jan 1970 00:00:00 GMT"}});
    (void)http::frameResponse(head, context());
    CHECK(head.headers.getAll("Date") ==
          std::vector<std::string_view>{"Thu, 01 Jan 1970 00:00:00 GMT"});
  }
}

TEST_CASE("a request without Content-Length or Transfer-Encoding has no body",
          "[message_encoder]") {
  http::RequestHead request;
  request.method = "GET";
  request.target = "/v2/";
  request.headers.add("Host", "x");
  CHECK(http::frameRequest(request).body == BodyFraming::None);
  request.headers.add("Content-Length", "3");
  auto framing = http::frameRequest(request);
  CHECK(framing.body == BodyFraming::ContentLength);
  CHECK(framing.length == 3u);

  net::EvbufferPtr out(evbuffer_new());
  http::appendHead(out.get(), request);
  CHECK(drain(out.get()) == "GET /v2/ HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\n");
}

TEST_CASE("bodies are written in their framing; bytes beyond Content-Length are dropped",
          "[message_encoder]") {
  net::EvbufferPtr out(evbuffer_new());
  net::EvbufferPtr data(evbuffer_new());

  SECTION("chunked") {
    http::BodyEncoder body(http::MessageFraming{BodyFraming::Chunked, std::nullopt, true});
    evbuffer_add(data.get(), "hello", 5);
    CHECK(body.write(out.get(), *data));
    CHECK(evbuffer_get_length(data.get()) == 0);
    CHECK(body.write(out.get(), std::string_view("!")));
    CHECK(body.finish(out.get()));
    CHECK(body.bytesSent() == 6);
    CHECK(drain(out.get()) == "5\r\nhello\r\n1\r\n!\r\n0\r\n\r\n");
  }
  SECTION("Content-Length") {
    http::BodyEncoder body(http::MessageFraming{BodyFraming::ContentLength, 4, true});
    evbuffer_add(data.get(), "abc", 3);
    CHECK(body.write(out.get(), *data));
    CHECK_FALSE(body.write(out.get(), std::string_view("defg")));
    CHECK(body.bytesSent() == 4);
    CHECK(body.finish(out.get()));
    CHECK(drain(out.get()) == "abcd");
  }
  SECTION("Content-Length not reached") {
    http::BodyEncoder body(http::MessageFraming{BodyFraming::ContentLength, 4, true});
    CHECK(body.write(out.get(), std::string_view("ab")));
    CHECK_FALSE(body.finish(out.get()));
  }
  SECTION("close-delimited") {
    http::BodyEncoder body(http::MessageFraming{BodyFraming::UntilClose, std::nullopt, false});
    CHECK(body.write(out.get(), std::string_view("raw")));
    CHECK(body.finish(out.get()));
    CHECK(drain(out.get()) == "raw");
  }
  SECTION("no body") {
    http::BodyEncoder body;
    evbuffer_add(data.get(), "x", 1);
    CHECK(body.write(out.get(), *data));
    CHECK(evbuffer_get_length(data.get()) == 0);
    CHECK(body.bytesSent() == 0);
    CHECK(body.finish(out.get()));
    CHECK(evbuffer_get_length(out.get()) == 0);
  }
}

TEST_CASE("a segment the caller appends is framed and bounded like any body", "[message_encoder]") {
  net::EvbufferPtr out(evbuffer_new());
  bool truncated = false;
  http::BodyEncoder chunked(http::MessageFraming{BodyFraming::Chunked, std::nullopt, true});
  CHECK(chunked.beginSegment(out.get(), 16, truncated) == 16);
  CHECK_FALSE(truncated);
  evbuffer_add(out.get(), "0123456789abcdef", 16);
  chunked.endSegment(out.get());
  CHECK(drain(out.get()) == "10\r\n0123456789abcdef\r\n");

  http::BodyEncoder length(http::MessageFraming{BodyFraming::ContentLength, 10, true});
  CHECK(length.beginSegment(out.get(), 16, truncated) == 10);
  CHECK(truncated);
  CHECK(length.beginSegment(out.get(), 1, truncated) == 0);
  CHECK(truncated);
  CHECK(evbuffer_get_length(out.get()) == 0);

  http::BodyEncoder none;
  CHECK(none.beginSegment(out.get(), 16, truncated) == 0);
  CHECK_FALSE(truncated);
}

TEST_CASE("100 Continue is one status line and a blank line", "[message_encoder]") {
  net::EvbufferPtr out(evbuffer_new());
  http::appendContinue(out.get());
  CHECK(drain(out.get()) == "HTTP/1.1 100 Continue\r\n\r\n");
}
