#pragma once
// http::Parser: HTTP/1.1 message framing (RFC 9112) on top of Debian's http-parser. Feeds
// bytes, emits head / body / end events; hides the library. Framing is decided once, after
// the head (RFC 9112 §6.3), and body bytes are handed out as pointers into the caller's
// input (no copies).
//
// Pipelining: the parser pauses itself after each complete message, so feed() returns fewer
// bytes than given; the caller finishes that exchange, calls resume() and feeds the rest.
//
// Strictness beyond http-parser (whose Debian build is the non-strict one): bare LF, obs-fold
// and control characters in the head, Content-Length together with Transfer-Encoding, a
// request Transfer-Encoding other than exactly "chunked", and HTTP major versions other than
// 1 are errors. Limits are enforced while the head arrives, before it is complete.
// Chunked framing (RFC 9112 §7.1) is checked too, without decoding it a second time: the
// bytes http-parser consumes that are not body data (chunk-size lines, the CRLF after each
// chunk's data, the trailer section) must follow the grammar — `1*HEXDIG [chunk-ext] CRLF`,
// CRLF right after the data, trailer lines as strict as head lines. A body piece is handed
// out only after the framing before it was checked, and a chunked message completes only
// after its last framing bytes were: bad framing never yields a complete message.
// What this does not do: decode transfer codings other than chunked, or handle Upgrade
// protocols (upgrade() reports the request; the caller decides).

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "common/http/message.h"
#include "common/result.h"

struct http_parser;
struct http_parser_settings;

namespace portico::http {

// Why a message was rejected. httpStatus() gives the response a server sends for each.
enum class ParseError {
  Malformed,                  // not HTTP, bad syntax, bare LF, obs-fold, control characters
  HeaderTooLarge,             // header section over ParserLimits::header_bytes (431)
  TooManyHeaders,             // over ParserLimits::header_count (431)
  UriTooLong,                 // request line over ParserLimits::request_line_bytes (414)
  BodyTooLarge,               // body over ParserLimits::body_bytes (413)
  InvalidChunk,               // bad chunk size or chunk framing
  InvalidContentLength,       // not a number, or two different values
  ConflictingFraming,         // both Content-Length and Transfer-Encoding (smuggling)
  UnsupportedTransferCoding,  // request Transfer-Encoding not exactly "chunked" (RFC 9112 §6.3)
  UnsupportedVersion,         // HTTP major version other than 1 (505)
  Truncated,                  // the stream ended inside a message
};

// The status code a server answers a request rejected with `error` (then closes).
int httpStatus(ParseError error);
// A short stable name ("HeaderTooLarge") for logs.
std::string_view parseErrorName(ParseError error);

// Limits checked while a head arrives (defaults match ServerLimits).
struct ParserLimits {
  uint64_t header_bytes = uint64_t{64} * 1024;  // all header lines together, not the start line
  uint32_t header_count = 100;                  // header fields per message (trailers included)
  uint64_t request_line_bytes = uint64_t{8} * 1024;  // start line, also status line in responses
  uint64_t body_bytes = 0;                           // 0 = unlimited
};

// How the body of the current message is delimited (RFC 9112 §6.3), decided after the head.
enum class BodyFraming {
  None,           // no body: requests without CL/TE; HEAD responses; 1xx, 204, 304
  ContentLength,  // exactly contentLength() bytes (may be 0)
  Chunked,        // chunked transfer coding, ends with the last chunk (and trailers)
  UntilClose,     // responses only: the body ends when the connection closes
};

// Receives parse events. Callbacks may call Parser::pause() to stop parsing mid-buffer.
class ParserCallbacks {
 public:
  virtual ~ParserCallbacks() = default;
  // A request head is complete (Request parsers). framing() etc. are valid from here on.
  virtual void onRequestHead(RequestHead&& /*head*/) {}
  // A response head is complete (Response parsers). A 1xx status is interim: the exchange
  // continues with another head; no onMessageComplete follows it.
  virtual void onResponseHead(ResponseHead&& /*head*/) {}
  // Body bytes, already de-chunked; `data` points into the buffer given to feed().
  virtual void onBody(const char* /*data*/, size_t /*len*/) {}
  // The message (head and body) is complete; the parser is now paused until resume().
  virtual void onMessageComplete() {}
};

class Parser {
 public:
  enum class Type { Request, Response };

  Parser(Type type, ParserCallbacks& callbacks, ParserLimits limits = {});
  ~Parser();
  Parser(const Parser&) = delete;
  Parser& operator=(const Parser&) = delete;

  // Parses up to `len` bytes and returns how many were consumed: fewer than `len` when a
  // message completed or a callback paused. While paused, consumes nothing. After an error
  // the parser stays failed (every later call returns the same error).
  Result<size_t> feed(const char* data, size_t len);
  // The peer closed the connection. Completes an UntilClose body (onMessageComplete);
  // fails with Truncated if a message was in progress. Clean between messages.
  Result<void> finish();

  // Stops parsing; feed() returns right after the current callback.
  void pause();
  // Continues after pause() or after a completed message.
  void resume();
  bool paused() const { return paused_; }

  // For Response parsers: the method of the request being answered (HEAD → no body).
  void setRequestMethod(std::string_view method);

  // Valid after the head callback of the current (or last) message.
  BodyFraming framing() const { return framing_; }
  std::optional<uint64_t> contentLength() const { return content_length_; }
  // True if the current message has (or may have) body bytes.
  bool bodyExpected() const;
  // Whether the connection may carry another message after this one (http_should_keep_alive:
  // HTTP/1.1 without "close", HTTP/1.0 with "keep-alive"); false for UntilClose bodies.
  bool keepAlive() const;
  // True if the request asked for a protocol upgrade (Upgrade header or CONNECT).
  bool upgrade() const;
  // True between the first byte of a message and its completion.
  bool inMessage() const { return in_message_; }
  // Body bytes of the current message delivered so far.
  uint64_t bodyBytes() const { return body_bytes_; }

 private:
  // Per-message state reset when a new message starts.
  void startMessage();
  // Checks head bytes (bare LF, obs-fold, controls, limits) in data[0..len) up to the end of
  // the head, before http-parser sees them; `offset` is data[0]'s stream offset.
  Result<void> scanHead(const char* data, size_t len, uint64_t offset);
  Error fail(ParseError code, std::string message);
  // Records a failure raised inside an http-parser callback; returns the abort code.
  int failInCallback(ParseError code, std::string message);
  Error errorFromLibrary();
  void flushHeader();
  int onHeadersComplete();
  int onMessageComplete();
  // Resets the head scanner for the next message.
  void resetScanner();
  // Checks the framing bytes of a chunked body from checked_to_ up to stream offset `to`
  // (exec_data_ is the byte at stream offset stream_offset_, the current execute's start).
  Result<void> checkChunkFraming(uint64_t to);
  // Completes a chunked message whose last framing bytes were checked.
  Result<void> completeChunked();

  static const http_parser_settings& librarySettings();
  static int cbMessageBegin(http_parser* p);
  static int cbUrl(http_parser* p, const char* at, size_t len);
  static int cbStatus(http_parser* p, const char* at, size_t len);
  static int cbHeaderField(http_parser* p, const char* at, size_t len);
  static int cbHeaderValue(http_parser* p, const char* at, size_t len);
  static int cbHeadersComplete(http_parser* p);
  static int cbBody(http_parser* p, const char* at, size_t len);
  static int cbMessageComplete(http_parser* p);

  // Scanner state for the head of the current message (and a chunked body's trailers).
  enum class ScanState { LeadingLine, StartLine, LineStart, InLine, Done };
  // Where the chunked-framing check stands (RFC 9112 §7.1, §7.1.1).
  enum class ChunkState {
    SizeStart,      // first HEXDIG of a chunk-size
    Size,           // more HEXDIG, chunk-ext or CR
    BeforeSemi,     // BWS before ";"
    ExtNameStart,   // BWS, then the first tchar of chunk-ext-name
    ExtName,        // more tchar
    AfterName,      // BWS before "="
    ExtValueStart,  // BWS, then a token or a quoted-string
    ExtToken,       // more tchar of a token value
    Quoted,         // inside a quoted-string
    QuotedPair,     // after a backslash in a quoted-string
    AfterQuoted,    // after the closing DQUOTE
    SizeLF,         // LF ending the chunk-size line
    Data,           // chunk data: only body pieces may come
    DataCR,         // CR after the chunk data
    DataLF,         // LF after the chunk data
    Trailers,       // the trailer section, checked by scanHead
    Done,           // after the empty line ending the trailer section
  };

  Type type_;
  ParserCallbacks& callbacks_;
  ParserLimits limits_;
  std::unique_ptr<http_parser> parser_;

  ScanState scan_ = ScanState::LeadingLine;
  char scan_prev_ = 0;
  bool scan_prev_space_ = false;  // the last start-line byte was SP (request lines)
  uint64_t start_line_bytes_ = 0;
  uint64_t header_bytes_ = 0;
  uint32_t header_lines_ = 0;
  uint64_t scan_end_ = 0;  // stream offset just after the head's (or trailers') empty line

  // Stream offsets: bytes http-parser consumed before this execute, and its start pointer.
  uint64_t stream_offset_ = 0;
  const char* exec_data_ = nullptr;

  // Chunked framing check; active from the head of a chunked message until it completes.
  bool chunk_check_ = false;
  ChunkState chunk_state_ = ChunkState::SizeStart;
  bool chunk_size_zero_ = true;    // the current chunk-size's digits are all '0': last chunk
  uint64_t checked_to_ = 0;        // stream offset up to which framing bytes are checked
  bool complete_pending_ = false;  // http-parser completed it; framing not yet all checked

  RequestHead request_;
  ResponseHead response_;
  std::string field_;
  std::string value_;
  bool in_value_ = false;
  uint32_t field_count_ = 0;

  bool head_request_ = false;  // Response parsers: answering HEAD
  bool in_message_ = false;
  bool paused_ = false;
  bool in_trailers_ = false;
  bool saw_transfer_encoding_ = false;
  std::optional<Error> error_;
  std::optional<Error> callback_error_;
  BodyFraming framing_ = BodyFraming::None;
  std::optional<uint64_t> content_length_;
  uint64_t body_bytes_ = 0;
  bool upgrade_ = false;
  bool keep_alive_ = true;
};

}  // namespace portico::http
