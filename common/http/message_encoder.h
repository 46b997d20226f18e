#pragma once
// The sending side of an HTTP/1.1 message, shared by the server's responses (ServerConnection)
// and the client's requests (Http1ClientConnection), the way one encoder serves both sides in
// Envoy's codec: the framing decision (RFC 9112 §6), the head's framing and connection fields
// made to say it, the head written out, and the body written in that framing (the chunk
// syntax itself is body_encoder.h). The connection classes decide when to send; this decides
// how, and is pure apart from appending to the evbuffer it is given.
//
// The framing rules, in order (each pinned by tests/unit/common/http/message_encoder_test.cc):
//   1. No body may follow (responses: the request was HEAD, or the status is 1xx, 204, 304;
//      requests: neither Transfer-Encoding nor Content-Length): None, Transfer-Encoding
//      removed (RFC 9112 §6.1); Content-Length removed for 1xx and 204 (§6.2), kept for HEAD
//      and 304, where it describes the representation (RFC 9110 §8.6).
//   2. Transfer-Encoding present: Chunked ("Transfer-Encoding: chunked", the one coding this
//      side applies), Content-Length removed: a sender never sends both (§6.2), and a recipient
//      would let Transfer-Encoding win (§6.3 ¶3).
//   3. A valid Content-Length: ContentLength, exactly that many bytes (more are dropped).
//   4. Otherwise the length is unknown (no Content-Length, or one that does not parse, which is
//      removed): Chunked, except a response to an HTTP/1.0 request, which cannot read chunks:
//      UntilClose, the body ending when the connection closes (§6.3 ¶8).
// Responses then get their connection fields (RFC 9112 §9.3, §9.6): the handler's Connection
// and Keep-Alive are replaced; "Connection: close" when the connection ends after this
// response (the handler asked for it, the context forbids reuse, or the body is close-delimited),
// else "Connection: keep-alive" for an HTTP/1.0 client; and Date when the head has none.
// Requests keep their own fields apart from the framing ones.
//
// What this does not do: trailers, transfer codings other than chunked, HTTP/2.

#include <event2/buffer.h>

#include <cstdint>
#include <optional>
#include <string_view>

#include "common/http/message.h"
#include "common/http/parser.h"

namespace portico::http {

// How a message's body goes on the wire, as frameRequest/frameResponse decided it.
struct MessageFraming {
  BodyFraming body = BodyFraming::None;
  std::optional<uint64_t> length;  // ContentLength: the declared length
  bool keep_alive = true;          // responses: the connection carries another exchange after it
};

// What a response's framing depends on besides its own head.
struct ResponseContext {
  std::string_view request_method;  // "HEAD": no body
  Version request_version;          // HTTP/1.0: close-delimited instead of chunked
  bool keep_alive = true;           // the request and the connection allow another exchange
  std::string_view date;            // the Date value to add when the head has none
};

// Decides a request's framing (rules 1-4 above) and makes its head say so.
MessageFraming frameRequest(RequestHead& head);
// Decides a response's framing (rules 1-4) and sets its version (1.1), framing, Connection
// and Date fields.
MessageFraming frameResponse(ResponseHead& head, const ResponseContext& context);

// Appends the serialised head ("METHOD target HTTP/x.y" or "HTTP/x.y status reason", the
// fields, the blank line).
void appendHead(evbuffer* out, const RequestHead& head);
void appendHead(evbuffer* out, const ResponseHead& head);
// Appends "HTTP/1.1 100 Continue" (RFC 9110 §15.2.1).
void appendContinue(evbuffer* out);

// Writes one message's body in its framing and counts what went out. Bytes beyond a declared
// Content-Length are dropped (they would reach the peer as the start of a next message); a
// body with framing None drops everything.
class BodyEncoder {
 public:
  BodyEncoder() = default;
  explicit BodyEncoder(const MessageFraming& framing)
      : framing_(framing.body), length_(framing.length) {}

  BodyFraming framing() const { return framing_; }
  std::optional<uint64_t> declaredLength() const { return length_; }
  // Body bytes written so far (chunk syntax not counted).
  uint64_t bytesSent() const { return sent_; }

  // Appends `data` (drained whole) to `out`; false if bytes beyond the Content-Length were
  // dropped.
  bool write(evbuffer* out, evbuffer& data);
  bool write(evbuffer* out, std::string_view data);
  // For a body segment the caller appends itself (a file): how many of `length` bytes may go
  // (0 for None, at most the rest of the Content-Length), counted as sent; the chunk header
  // for them is appended. `truncated` is set when fewer than `length` may go because of the
  // Content-Length. Call endSegment() after appending the bytes.
  uint64_t beginSegment(evbuffer* out, uint64_t length, bool& truncated);
  void endSegment(evbuffer* out);
  // Ends the body (the last chunk when chunked); false if fewer bytes than the Content-Length
  // went out (the message is then incomplete and its connection cannot be reused).
  bool finish(evbuffer* out);

 private:
  // How many of `length` more bytes the framing lets out.
  uint64_t room(uint64_t length) const;

  BodyFraming framing_ = BodyFraming::None;
  std::optional<uint64_t> length_;
  uint64_t sent_ = 0;
};

}  // namespace portico::http
