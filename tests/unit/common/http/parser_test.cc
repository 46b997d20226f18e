#include "common/http/parser.h"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

using portico::http::BodyFraming;
using portico::http::ParseError;
using portico::http::Parser;
using portico::http::ParserCallbacks;
using portico::http::ParserLimits;
using portico::http::RequestHead;
using portico::http::ResponseHead;

namespace {

std::string_view framingName(BodyFraming framing) {
  switch (framing) {
    case BodyFraming::None:
      return "none";
    case BodyFraming::ContentLength:
      return "length";
    case BodyFraming::Chunked:
      return "chunked";
    case BodyFraming::UntilClose:
      return "close";
  }
  return "?";
}

// Records every event as one line of text, so whole parses compare as vectors.
class Recorder : public ParserCallbacks {
 public:
  std::vector<std::string> events;
  std::vector<RequestHead> requests;
  std::vector<ResponseHead> responses;
  Parser* parser = nullptr;
  bool pause_on_body = false;
  bool pause_on_head = false;  // as Http1ClientConnection does

  void onRequestHead(RequestHead&& head) override {
    std::string line = "request " + head.method + " " + head.target + " path=" + head.path +
                       " query=" + head.query + " HTTP/" + std::to_string(head.version.major) +
                       "." + std::to_string(head.version.minor);
    for (const auto& [name, value] : head.headers) line += " [" + name + ": " + value + "]";
    line += " framing=" + std::string(framingName(parser->framing()));
    line += " keepalive=" + std::to_string(parser->keepAlive());
    events.push_back(line);
    requests.push_back(std::move(head));
    body_.clear();
    if (pause_on_head) parser->pause();
  }
  void onResponseHead(ResponseHead&& head) override {
    std::string line = "response " + std::to_string(head.status) + " " + head.reason;
    for (const auto& [name, value] : head.headers) line += " [" + name + ": " + value + "]";
    line += " framing=" + std::string(framingName(parser->framing()));
    line += " keepalive=" + std::to_string(parser->keepAlive());
    events.push_back(line);
    responses.push_back(std::move(head));
    body_.clear();
    if (pause_on_head) parser->pause();
  }
  void onBody(const char* data, size_t len) override {
    body_.append(data, len);
    if (pause_on_body) parser->pause();
  }
  void onMessageComplete() override { events.push_back("complete body=" + body_); }

 private:
  std::string body_;
};

struct Outcome {
  std::vector<std::string> events;
  std::optional<ParseError> error;
  int feeds_stopped_early = 0;  // feed() returned before the end of its input
};

struct Run {
  Parser::Type type = Parser::Type::Request;
  ParserLimits limits;
  std::string request_method;  // for response parsers
  bool eof = false;
  bool pause_on_head = false;
  bool pause_on_body = false;
};

// Feeds `pieces` in order, resuming after every completed message, as a connection would.
Outcome parse(const std::vector<std::string>& pieces, const Run& run = {}) {
  Recorder recorder;
  Parser parser(run.type, recorder, run.limits);
  recorder.parser = &parser;
  recorder.pause_on_head = run.pause_on_head;
  recorder.pause_on_body = run.pause_on_body;
  if (!run.request_method.empty()) parser.setRequestMethod(run.request_method);
  Outcome outcome;
  for (const std::string& piece : pieces) {
    size_t offset = 0;
    while (offset < piece.size()) {
      auto consumed = parser.feed(piece.data() + offset, piece.size() - offset);
      if (!consumed) {
        outcome.events = recorder.events;
        outcome.error = consumed.error().code<ParseError>();
        return outcome;
      }
      offset += *consumed;
      if (offset < piece.size()) ++outcome.feeds_stopped_early;
      if (parser.paused()) {
        if (!run.request_method.empty()) parser.setRequestMethod(run.request_method);
        parser.resume();
      } else if (offset < piece.size()) {
        break;
      }
    }
  }
  if (run.eof) {
    auto finished = parser.finish();
    if (!finished) outcome.error = finished.error().code<ParseError>();
  }
  outcome.events = recorder.events;
  return outcome;
}

Outcome parse(const std::string& whole, const Run& run = {}) {
  return parse(std::vector<std::string>{whole}, run);
}

ParseError errorOf(const std::string& input, const Run& run = {}) {
  Outcome outcome = parse(input, run);
  REQUIRE(outcome.error.has_value());
  return *outcome.error;
}

Run response(std::string method = "GET", bool eof = false) {
  Run run;
  run.type = Parser::Type::Response;
  run.request_method = std::move(method);
  run.eof = eof;
  return run;
}

const std::string kPipelined =
    "GET /a?x=1 HTTP/1.1\r\nHost: example\r\n\r\n"
    "POST /upload HTTP/1.1\r\nHost: example\r\nContent-Length: 11\r\n\r\nhello world"
    "PATCH /chunks HTTP/1.1\r\nHost: example\r\nTransfer-Encoding: chunked\r\n\r\n"
    "5;name=value\r\nhello\r\n1\r\n \r\n5\r\nworld\r\n0\r\nX-Trailer: yes\r\n\r\n"
    "DELETE /last HTTP/1.1\r\nHost: example\r\nConnection: close\r\n\r\n";

}  // namespace

TEST_CASE("a GET head yields method, target, path, query, headers and no body", "[parser]") {
  Outcome outcome = parse(
      "GET /v2/foo/tags/list?n=10&last=a HTTP/1.1\r\nHost: reg\r\n"
      "User-Agent: docker/1.5.0\r\nAccept:  */*  \r\n\r\n");
  REQUIRE_FALSE(outcome.error);
  REQUIRE(outcome.events ==
          std::vector<std::string>{
              "request GET /v2/foo/tags/list?n=10&last=a path=/v2/foo/tags/list "
              "query=n=10&last=a HTTP/1.1 [Host: reg] [User-Agent: docker/1.5.0] [Accept: */*] "
              "framing=none keepalive=1",
              "complete body="});
}

TEST_CASE("a POST with Content-Length delivers exactly that many body bytes", "[parser]") {
  Recorder recorder;
  Parser parser(Parser::Type::Request, recorder);
  recorder.parser = &parser;
  std::string input = "POST /x HTTP/1.1\r\nContent-Length: 5\r\n\r\nhelloEXTRA";
  auto consumed = parser.feed(input.data(), input.size());
  REQUIRE(consumed);
  CHECK(*consumed == input.size() - 5);
  CHECK(parser.framing() == BodyFraming::ContentLength);
  CHECK(parser.contentLength() == 5u);
  CHECK(parser.bodyExpected());
  CHECK(parser.bodyBytes() == 5u);
  CHECK(recorder.events.back() == "complete body=hello");
}

TEST_CASE("a chunked body with extensions and trailers is de-chunked; trailers are dropped",
          "[parser]") {
  Outcome outcome = parse(
      "PUT /b HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
      "5;ext=1;other=\"q\"\r\nhello\r\n6\r\n world\r\n0\r\nX-Checksum: abc\r\n\r\n");
  REQUIRE_FALSE(outcome.error);
  REQUIRE(outcome.events.size() == 2);
  CHECK(outcome.events[0] ==
        "request PUT /b path=/b query= HTTP/1.1 [Transfer-Encoding: chunked] framing=chunked "
        "keepalive=1");
  CHECK(outcome.events[1] == "complete body=hello world");
}

TEST_CASE("three pipelined requests in one buffer are delivered in order, one per feed",
          "[parser]") {
  std::string input =
      "GET /1 HTTP/1.1\r\nHost: a\r\n\r\n"
      "POST /2 HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc"
      "GET /3 HTTP/1.1\r\nHost: a\r\n\r\n";
  Recorder recorder;
  Parser parser(Parser::Type::Request, recorder);
  recorder.parser = &parser;
  size_t offset = 0;
  std::vector<size_t> stops;
  while (offset < input.size()) {
    auto consumed = parser.feed(input.data() + offset, input.size() - offset);
    REQUIRE(consumed);
    REQUIRE(parser.paused());
    // While paused, nothing more is consumed.
    auto again = parser.feed(input.data() + offset + *consumed, input.size() - offset - *consumed);
    REQUIRE(again);
    CHECK(*again == 0);
    offset += *consumed;
    stops.push_back(offset);
    parser.resume();
  }
  CHECK(stops.size() == 3);
  REQUIRE(recorder.requests.size() == 3);
  CHECK(recorder.requests[0].target == "/1");
  CHECK(recorder.requests[1].target == "/2");
  CHECK(recorder.requests[2].target == "/3");
  CHECK(recorder.events[3] == "complete body=abc");
}

TEST_CASE("a callback can pause parsing in the middle of a buffer", "[parser]") {
  Recorder recorder;
  recorder.pause_on_body = true;
  Parser parser(Parser::Type::Request, recorder);
  recorder.parser = &parser;
  std::string input =
      "POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n3\r\ndef\r\n0\r\n\r\n";
  auto consumed = parser.feed(input.data(), input.size());
  REQUIRE(consumed);
  CHECK(*consumed < input.size());
  CHECK(parser.paused());
  CHECK(parser.bodyBytes() == 3);
  parser.resume();
  size_t offset = *consumed;
  while (offset < input.size()) {
    auto more = parser.feed(input.data() + offset, input.size() - offset);
    REQUIRE(more);
    offset += *more;
    parser.resume();
  }
  CHECK(recorder.events.back() == "complete body=abcdef");
}

TEST_CASE("HTTP/1.0 closes unless keep-alive is asked for; HTTP/1.1 keeps unless close",
          "[parser]") {
  struct Case {
    std::string input;
    bool keep_alive;
  };
  auto c = GENERATE(Case{"GET / HTTP/1.0\r\n\r\n", false},
                    Case{"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", true},
                    Case{"GET / HTTP/1.1\r\n\r\n", true},
                    Case{"GET / HTTP/1.1\r\nConnection: close\r\n\r\n", false},
                    Case{"GET / HTTP/1.1\r\nConnection: Keep-Alive, Close\r\n\r\n", false});
  Recorder recorder;
  Parser parser(Parser::Type::Request, recorder);
  recorder.parser = &parser;
  auto consumed = parser.feed(c.input.data(), c.input.size());
  REQUIRE(consumed);
  CHECK(parser.keepAlive() == c.keep_alive);
  REQUIRE(recorder.requests.size() == 1);
  CHECK(recorder.requests[0].version.minor == (c.input.find("1.0") != std::string::npos ? 0 : 1));
}

TEST_CASE("a response with Content-Length has that body and may be kept alive", "[parser]") {
  Outcome outcome = parse(
      "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Type: text/plain\r\n\r\nok", response());
  REQUIRE_FALSE(outcome.error);
  REQUIRE(outcome.events ==
          std::vector<std::string>{"response 200 OK [Content-Length: 2] [Content-Type: text/plain] "
                                   "framing=length keepalive=1",
                                   "complete body=ok"});
}

TEST_CASE("a response to HEAD has no body even with Content-Length", "[parser]") {
  Outcome outcome = parse(
      "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n"
      "HTTP/1.1 404 Not Found\r\nContent-Length: 1000\r\n\r\n",
      response("HEAD"));
  REQUIRE_FALSE(outcome.error);
  REQUIRE(outcome.events ==
          std::vector<std::string>{
              "response 200 OK [Content-Length: 1000] framing=none keepalive=1", "complete body=",
              "response 404 Not Found [Content-Length: 1000] framing=none keepalive=1",
              "complete body="});
}

TEST_CASE("1xx responses are interim heads followed by the final response", "[parser]") {
  Recorder recorder;
  Parser parser(Parser::Type::Response, recorder);
  recorder.parser = &parser;
  std::string input =
      "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n"
      "HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n";
  auto consumed = parser.feed(input.data(), input.size());
  REQUIRE(consumed);
  CHECK(*consumed == input.size());
  REQUIRE(recorder.responses.size() == 3);
  CHECK(recorder.responses[0].status == 100);
  CHECK(recorder.responses[1].status == 103);
  CHECK(recorder.responses[2].status == 201);
  // Only the final response completes the exchange.
  CHECK(std::count(recorder.events.begin(), recorder.events.end(), "complete body=") == 1);
  CHECK(recorder.events.back() == "complete body=");
}

TEST_CASE("204 and 304 responses have no body", "[parser]") {
  auto status = GENERATE(std::string("204 No Content"), std::string("304 Not Modified"));
  Outcome outcome = parse(
      "HTTP/1.1 " + status + "\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx", response());
  REQUIRE_FALSE(outcome.error);
  REQUIRE(outcome.events.size() == 4);
  CHECK(outcome.events[1] == "complete body=");
  CHECK(outcome.events[3] == "complete body=x");
}

TEST_CASE("a response without length is delimited by close and is not kept alive", "[parser]") {
  Outcome outcome = parse(std::vector<std::string>{"HTTP/1.1 200 OK\r\n\r\nsome ", "bytes"},
                          response("GET", true));
  REQUIRE_FALSE(outcome.error);
  REQUIRE(outcome.events == std::vector<std::string>{"response 200 OK framing=close keepalive=0",
                                                     "complete body=some bytes"});
}

TEST_CASE("a connection closed inside a body is Truncated", "[parser]") {
  Run run;
  run.eof = true;
  Outcome outcome = parse("POST / HTTP/1.1\r\nContent-Length: 10\r\n\r\nabc", run);
  REQUIRE(outcome.error);
  CHECK(*outcome.error == ParseError::Truncated);
  Outcome clean = parse("GET / HTTP/1.1\r\n\r\n", run);
  CHECK_FALSE(clean.error);
}

TEST_CASE("Content-Length together with Transfer-Encoding is rejected (smuggling)", "[parser]") {
  auto input = GENERATE(
      std::string("POST / HTTP/1.1\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n"),
      std::string("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n"),
      std::string("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n"
                  "Host: a\r\n\r\n"));
  CHECK(errorOf(input) == ParseError::ConflictingFraming);
  Run run = response();
  std::string as_response = "HTTP/1.1 200 OK" + input.substr(input.find("\r\n"));
  CHECK(errorOf(as_response, run) == ParseError::ConflictingFraming);
}

TEST_CASE("two Content-Length fields are rejected, even with equal values", "[parser]") {
  auto second = GENERATE(std::string("6"), std::string("5"));
  CHECK(errorOf("POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: " + second +
                "\r\n\r\nhello!") == ParseError::InvalidContentLength);
}

TEST_CASE("a Content-Length that is not a number is rejected", "[parser]") {
  auto value = GENERATE(std::string("abc"), std::string("5, 5"), std::string("-1"),
                        std::string("99999999999999999999999"));
  CHECK(errorOf("POST / HTTP/1.1\r\nContent-Length: " + value + "\r\n\r\n") ==
        ParseError::InvalidContentLength);
}

TEST_CASE("a request Transfer-Encoding other than exactly chunked is refused", "[parser]") {
  auto coding =
      GENERATE(std::string("gzip"), std::string("gzip, chunked"), std::string("chunked, gzip"),
               std::string("chunked, chunked"), std::string("identity"));
  CHECK(errorOf("POST / HTTP/1.1\r\nTransfer-Encoding: " + coding + "\r\n\r\n") ==
        ParseError::UnsupportedTransferCoding);
}

TEST_CASE("an invalid chunk size is rejected", "[parser]") {
  auto size = GENERATE(std::string("zz"), std::string("-5"), std::string("fffffffffffffffffff"));
  CHECK(errorOf("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n" + size +
                "\r\nhello\r\n0\r\n\r\n") == ParseError::InvalidChunk);
}

TEST_CASE("obs-fold line folding is rejected", "[parser]") {
  auto fold = GENERATE(std::string(" "), std::string("\t"));
  CHECK(errorOf("GET / HTTP/1.1\r\nX-Long: a\r\n" + fold + "continued\r\n\r\n") ==
        ParseError::Malformed);
}

TEST_CASE("whitespace before the colon or a non-token field name is rejected", "[parser]") {
  auto field = GENERATE(std::string("Transfer-Encoding : chunked"),
                        std::string("Transfer-Encoding\t: chunked"),
                        std::string("Content Length: 5"), std::string("X(y): 1"));
  CHECK(errorOf("POST / HTTP/1.1\r\nHost: a\r\n" + field + "\r\n\r\n0\r\n\r\n") ==
        ParseError::Malformed);
}

TEST_CASE("a bare LF or bare CR in the head is rejected", "[parser]") {
  auto input = GENERATE(std::string("GET / HTTP/1.1\nHost: a\r\n\r\n"),
                        std::string("GET / HTTP/1.1\r\nHost: a\n\r\n"),
                        std::string("GET / HTTP/1.1\r\nHost: a\r\n\n"),
                        std::string("GET / HTTP/1.1\r\nHost: a\rX: b\r\n\r\n"));
  CHECK(errorOf(input) == ParseError::Malformed);
  CHECK(errorOf("HTTP/1.1 200 OK\nContent-Length: 0\n\n", response()) == ParseError::Malformed);
}

TEST_CASE("NUL and control characters in header values are rejected", "[parser]") {
  auto ch = GENERATE(std::string(1, '\0'), std::string(1, '\x01'), std::string(1, '\x7f'),
                     std::string(1, '\x1b'));
  CHECK(errorOf("GET / HTTP/1.1\r\nX-Bad: a" + ch + "b\r\n\r\n") == ParseError::Malformed);
}

TEST_CASE("a non-HTTP byte stream is rejected", "[parser]") {
  auto input = GENERATE(std::string("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 11),
                        std::string("SSH-2.0-OpenSSH_9.2\r\n"), std::string("HELLO WORLD\r\n\r\n"),
                        std::string("GET / FTP/1.1\r\n\r\n"));
  CHECK(errorOf(input) == ParseError::Malformed);
}

TEST_CASE("HTTP major versions other than 1 are refused", "[parser]") {
  CHECK(errorOf("GET / HTTP/2.0\r\n\r\n") == ParseError::UnsupportedVersion);
}

TEST_CASE("nothing after a rejected request is parsed as another request", "[parser]") {
  Recorder recorder;
  Parser parser(Parser::Type::Request, recorder);
  recorder.parser = &parser;
  std::string input =
      "POST / HTTP/1.1\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n"
      "0\r\n\r\nGET /smuggled HTTP/1.1\r\n\r\n";
  auto first = parser.feed(input.data(), input.size());
  REQUIRE_FALSE(first);
  std::string next = "GET /after HTTP/1.1\r\n\r\n";
  auto second = parser.feed(next.data(), next.size());
  REQUIRE_FALSE(second);
  CHECK(second.error().is(ParseError::ConflictingFraming));
  CHECK(recorder.requests.empty());
}

TEST_CASE("a header section over the byte limit is HeaderTooLarge before it ends",
          "[parser][limits]") {
  Run run;
  run.limits.header_bytes = 1024;
  std::string head = "GET / HTTP/1.1\r\nX-Big: " + std::string(2000, 'a');  // no end yet
  CHECK(errorOf(head, run) == ParseError::HeaderTooLarge);
  std::string many_small = "GET / HTTP/1.1\r\n";
  for (int i = 0; i < 60; ++i) many_small += "X-Field-" + std::to_string(i) + ": 0123456789\r\n";
  CHECK(errorOf(many_small + "\r\n", run) == ParseError::HeaderTooLarge);
  std::string just_fits = "GET / HTTP/1.1\r\nX: " + std::string(1024 - 5, 'a') + "\r\n\r\n";
  CHECK_FALSE(parse(just_fits, run).error);
}

TEST_CASE("the default header limit is 64 KiB", "[parser][limits]") {
  std::string head = "GET / HTTP/1.1\r\n";
  for (int i = 0; i < 17; ++i)
    head += "X-" + std::to_string(i) + ": " + std::string(4000, 'v') + "\r\n";
  CHECK(errorOf(head + "\r\n") == ParseError::HeaderTooLarge);
}

TEST_CASE("more header fields than the count limit is TooManyHeaders", "[parser][limits]") {
  Run run;
  run.limits.header_count = 10;
  std::string head = "GET / HTTP/1.1\r\n";
  for (int i = 0; i < 10; ++i) head += "X-" + std::to_string(i) + ": v\r\n";
  CHECK_FALSE(parse(head + "\r\n", run).error);
  CHECK(errorOf(head + "X-10: v\r\n\r\n", run) == ParseError::TooManyHeaders);
}

TEST_CASE("a request line over the limit is UriTooLong", "[parser][limits]") {
  Run run;
  run.limits.request_line_bytes = 100;
  CHECK(errorOf("GET /" + std::string(200, 'p'), run) == ParseError::UriTooLong);
  CHECK_FALSE(parse("GET /" + std::string(80, 'p') + " HTTP/1.1\r\n\r\n", run).error);
}

TEST_CASE("a body over the configured limit is BodyTooLarge", "[parser][limits]") {
  Run run;
  run.limits.body_bytes = 4;
  CHECK(errorOf("POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello", run) ==
        ParseError::BodyTooLarge);
  CHECK(errorOf("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n3\r\ndef\r\n",
                run) == ParseError::BodyTooLarge);
  CHECK_FALSE(parse("POST / HTTP/1.1\r\nContent-Length: 4\r\n\r\nhell", run).error);
}

TEST_CASE("parse errors map to the status a server answers with", "[parser]") {
  CHECK(portico::http::httpStatus(ParseError::Malformed) == 400);
  CHECK(portico::http::httpStatus(ParseError::ConflictingFraming) == 400);
  CHECK(portico::http::httpStatus(ParseError::InvalidChunk) == 400);
  CHECK(portico::http::httpStatus(ParseError::HeaderTooLarge) == 431);
  CHECK(portico::http::httpStatus(ParseError::TooManyHeaders) == 431);
  CHECK(portico::http::httpStatus(ParseError::UriTooLong) == 414);
  CHECK(portico::http::httpStatus(ParseError::BodyTooLarge) == 413);
  CHECK(portico::http::httpStatus(ParseError::UnsupportedTransferCoding) == 501);
  CHECK(portico::http::httpStatus(ParseError::UnsupportedVersion) == 505);
  CHECK(portico::http::parseErrorName(ParseError::InvalidChunk) == "InvalidChunk");
}

TEST_CASE("empty lines before a request line are ignored", "[parser]") {
  Outcome outcome = parse("\r\n\r\nGET / HTTP/1.1\r\n\r\n");
  REQUIRE_FALSE(outcome.error);
  CHECK(outcome.events.size() == 2);
}

TEST_CASE("a pipelined stream split at every offset parses identically", "[parser][split]") {
  Outcome whole = parse(kPipelined);
  REQUIRE_FALSE(whole.error);
  REQUIRE(whole.events.size() == 8);
  CHECK(whole.events[5] == "complete body=hello world");
  for (size_t split = 1; split < kPipelined.size(); ++split) {
    Outcome pieces =
        parse(std::vector<std::string>{kPipelined.substr(0, split), kPipelined.substr(split)});
    INFO("split at " << split);
    REQUIRE_FALSE(pieces.error);
    REQUIRE(pieces.events == whole.events);
  }
}

TEST_CASE("a pipelined stream fed one byte at a time parses identically", "[parser][split]") {
  Outcome whole = parse(kPipelined);
  std::vector<std::string> bytes;
  for (char c : kPipelined) bytes.emplace_back(1, c);
  Outcome pieces = parse(bytes);
  REQUIRE_FALSE(pieces.error);
  CHECK(pieces.events == whole.events);
}

TEST_CASE("a response stream split at every offset parses identically", "[parser][split]") {
  const std::string stream =
      "HTTP/1.1 100 Continue\r\n\r\n"
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4;x=y\r\nabcd\r\n0\r\n\r\n"
      "HTTP/1.1 404 Not Found\r\nContent-Length: 3\r\n\r\nnop"
      "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nuntil close";
  Run run = response("GET", true);
  Outcome whole = parse(stream, run);
  REQUIRE_FALSE(whole.error);
  REQUIRE(whole.events.size() == 7);
  CHECK(whole.events.back() == "complete body=until close");
  for (size_t split = 1; split < stream.size(); ++split) {
    Outcome pieces =
        parse(std::vector<std::string>{stream.substr(0, split), stream.substr(split)}, run);
    INFO("split at " << split);
    REQUIRE_FALSE(pieces.error);
    REQUIRE(pieces.events == whole.events);
  }
}

TEST_CASE("a bad input split at every offset is rejected the same way", "[parser][split]") {
  const std::string bad = "GET / HTTP/1.1\r\nHost: a\r\nX: b\n\r\n";
  for (size_t split = 1; split < bad.size(); ++split) {
    Outcome pieces = parse(std::vector<std::string>{bad.substr(0, split), bad.substr(split)});
    INFO("split at " << split);
    REQUIRE(pieces.error);
    CHECK(*pieces.error == ParseError::Malformed);
  }
}

TEST_CASE("a response Transfer-Encoding not ending in chunked is delimited by close", "[parser]") {
  Outcome outcome =
      parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nraw", response("GET", true));
  REQUIRE_FALSE(outcome.error);
  REQUIRE(outcome.events.size() == 2);
  CHECK(outcome.events[0] == "response 200 OK [Transfer-Encoding: gzip] framing=close keepalive=0");
  CHECK(outcome.events[1] == "complete body=raw");
  CHECK(errorOf("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n",
                response()) == ParseError::UnsupportedTransferCoding);
}

TEST_CASE("a request line with two spaces in a row is rejected, split at every offset",
          "[parser][split]") {
  const std::string bad = GENERATE(std::string("GET  /v2/ HTTP/1.1\r\nHost: a\r\n\r\n"),
                                   std::string("GET /v2/  HTTP/1.1\r\nHost: a\r\n\r\n"));
  CHECK(errorOf(bad) == ParseError::Malformed);
  for (size_t split = 1; split < bad.size(); ++split) {
    Outcome pieces = parse(std::vector<std::string>{bad.substr(0, split), bad.substr(split)});
    INFO("split at " << split);
    REQUIRE(pieces.error);
    CHECK(*pieces.error == ParseError::Malformed);
    CHECK(pieces.events.empty());  // nothing reaches a handler
  }
}

TEST_CASE("Transfer-Encoding in an HTTP/1.0 message is faulty framing, split at every offset",
          "[parser][split]") {
  const std::string bad =
      "POST /v2/ HTTP/1.0\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n";
  CHECK(errorOf(bad) == ParseError::Malformed);
  for (size_t split = 1; split < bad.size(); ++split) {
    Outcome pieces = parse(std::vector<std::string>{bad.substr(0, split), bad.substr(split)});
    INFO("split at " << split);
    REQUIRE(pieces.error);
    CHECK(*pieces.error == ParseError::Malformed);
    CHECK(pieces.events.empty());
  }
  // The response side (an upstream) likewise.
  CHECK(errorOf("HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
                response("GET", true)) == ParseError::Malformed);
}

namespace {

// Every way of cutting `input` in two, and one byte at a time, with and without the callbacks
// pausing after the head and after each body piece (as the connections do).
std::vector<std::vector<std::string>> everySplit(const std::string& input) {
  std::vector<std::vector<std::string>> splits{{input}};
  for (size_t split = 1; split < input.size(); ++split) {
    splits.push_back({input.substr(0, split), input.substr(split)});
  }
  std::vector<std::string> bytes;
  for (char c : input) bytes.emplace_back(1, c);
  splits.push_back(bytes);
  return splits;
}

bool completed(const Outcome& outcome) {
  for (const std::string& event : outcome.events) {
    if (event.rfind("complete", 0) == 0) return true;
  }
  return false;
}

}  // namespace

TEST_CASE("chunked framing outside RFC 9112 §7.1 never completes a message, split at every offset",
          "[parser][split][chunked]") {
  struct Case {
    std::string body;
    ParseError error;
  };
  const Case bad = GENERATE(
      Case{"5\r\nhelloXX0\r\n\r\n", ParseError::InvalidChunk},         // no CRLF after the data
      Case{"5\r\nhello\n0\r\n\r\n", ParseError::InvalidChunk},         // LF alone after the data
      Case{"5\r\nhelloX\n0\r\n\r\n", ParseError::InvalidChunk},        // X LF after the data
      Case{"5\r\nhello\rX0\r\n\r\n", ParseError::InvalidChunk},        // CR X after the data
      Case{"5 junk\r\nhello\r\n0\r\n\r\n", ParseError::InvalidChunk},  // junk after the size
      Case{"5;a=b junk\r\nhello\r\n0\r\n\r\n", ParseError::InvalidChunk},
      Case{"5;a=\"b\"junk\r\nhello\r\n0\r\n\r\n", ParseError::InvalidChunk},
      Case{"5;=b\r\nhello\r\n0\r\n\r\n", ParseError::InvalidChunk},     // no extension name
      Case{"5;a=\r\nhello\r\n0\r\n\r\n", ParseError::InvalidChunk},     // no extension value
      Case{"5;a\x01\r\nhello\r\n0\r\n\r\n", ParseError::InvalidChunk},  // control character
      Case{"5;a=\"b\r\nhello\r\n0\r\n\r\n", ParseError::InvalidChunk},  // open quoted-string
      Case{"5 \r\nhello\r\n0\r\n\r\n", ParseError::InvalidChunk},       // BWS without ";"
      Case{"5\rXhello\r\n0\r\n\r\n", ParseError::InvalidChunk},         // CR X ending the size
      Case{"5\r\nhello\r\n0 junk\r\n\r\n", ParseError::InvalidChunk},   // junk after the last
      Case{"5\r\nhello\r\n0\r\n\rX", ParseError::Malformed},            // CR X ending the trailers
      Case{"5\r\nhello\r\n0\r\nT: v\n\r\n", ParseError::Malformed},     // bare LF in a trailer
      Case{"5\r\nhello\r\n0\r\nT: v\r\n folded\r\n\r\n", ParseError::Malformed},  // obs-fold
      Case{"5\r\nhello\r\n0\r\nT: \x01\r\n\r\n", ParseError::Malformed});  // control character
  for (Parser::Type type : {Parser::Type::Request, Parser::Type::Response}) {
    const std::string input = (type == Parser::Type::Request ? "POST /v2/ HTTP/1.1\r\nHost: a\r\n"
                                                             : "HTTP/1.1 200 OK\r\n") +
                              std::string("Transfer-Encoding: chunked\r\n\r\n") + bad.body;
    for (bool pause : {false, true}) {
      Run run = type == Parser::Type::Request ? Run{} : response("GET", true);
      run.pause_on_head = pause;
      run.pause_on_body = pause;
      for (const auto& pieces : everySplit(input)) {
        Outcome outcome = parse(pieces, run);
        INFO((type == Parser::Type::Request ? "request" : "response")
             << " body " << bad.body << " in " << pieces.size() << " pieces, first "
             << pieces[0].size() << (pause ? ", pausing" : ""));
        REQUIRE(outcome.error);
        CHECK(*outcome.error == bad.error);
        CHECK_FALSE(completed(outcome));
      }
    }
  }
}

TEST_CASE(
    "chunk extensions, upper-case sizes and a last chunk of zeros are accepted, split at "
    "every offset",
    "[parser][split][chunked]") {
  const std::string body =
      "5 ; a = b ;c; d=\"q\\\"uo\\\\ted\"\t;e=tok\r\nhello\r\n"
      "A;x=\"\"\r\n0123456789\r\n"
      "000;last\r\nT: v\r\nU: w\r\n\r\n";
  for (Parser::Type type : {Parser::Type::Request, Parser::Type::Response}) {
    const std::string input =
        (type == Parser::Type::Request ? "POST /v2/ HTTP/1.1\r\nHost: a\r\n"
                                       : "HTTP/1.1 200 OK\r\n") +
        std::string("Transfer-Encoding: chunked\r\n\r\n") + body +
        (type == Parser::Type::Request ? "GET /next HTTP/1.1\r\nHost: a\r\n\r\n"
                                       : "HTTP/1.1 204 No Content\r\n\r\n");
    for (bool pause : {false, true}) {
      Run run = type == Parser::Type::Request ? Run{} : response("GET", true);
      run.pause_on_head = pause;
      run.pause_on_body = pause;
      Outcome whole = parse(input, run);
      REQUIRE_FALSE(whole.error);
      REQUIRE(whole.events.size() == 4);
      CHECK(whole.events[1] == "complete body=hello0123456789");
      for (const auto& pieces : everySplit(input)) {
        Outcome outcome = parse(pieces, run);
        INFO("in " << pieces.size() << " pieces, first " << pieces[0].size()
                   << (pause ? ", pausing" : ""));
        REQUIRE_FALSE(outcome.error);
        CHECK(outcome.events == whole.events);
      }
    }
  }
}

TEST_CASE("an absolute-form request target routes by its path and its authority is the Host",
          "[parser][target]") {
  Outcome outcome =
      parse("GET http://registry.example:5000/v2/?n=1 HTTP/1.1\r\nHost: internal:5000\r\n\r\n");
  REQUIRE_FALSE(outcome.error);
  REQUIRE(outcome.events.size() == 2);
  CHECK(outcome.events[0] ==
        "request GET http://registry.example:5000/v2/?n=1 path=/v2/ query=n=1 HTTP/1.1 "
        "[Host: registry.example:5000] framing=none keepalive=1");
  CHECK(errorOf("GET http://user@h/v2/ HTTP/1.1\r\nHost: h\r\n\r\n") == ParseError::Malformed);
}
