#include "common/http/parser.h"
#include "common/text.h"

#include <cctype>

#include <http_parser.h>

#include <algorithm>
#include <climits>
#include <utility>

namespace portico::http {

namespace {

// True if the comma-separated Transfer-Encoding values name exactly one coding, "chunked".
bool onlyChunked(const std::vector<std::string_view>& values) {
  int codings = 0;
  bool chunked = false;
  for (std::string_view value : values) {
    while (true) {
      size_t comma = value.find(',');
      std::string_view token = trimBlanks(value.substr(0, comma));
      if (!token.empty()) {
        ++codings;
        chunked = equalsIgnoreCase(token, "chunked");
      }
      if (comma == std::string_view::npos) break;
      value.remove_prefix(comma + 1);
    }
  }
  return codings == 1 && chunked;
}

// RFC 9110 §5.6.2: tchar.
bool isTchar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 ||
         (c != 0 && std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos);
}

// RFC 9110 §5.6.2: token = 1*tchar.
bool isToken(std::string_view name) {
  if (name.empty()) return false;
  for (char c : name) {
    if (!isTchar(c)) return false;
  }
  return true;
}

bool isControl(unsigned char c) {
  return (c < 0x20 && c != '\t') || c == 0x7f;
}

// The length of the run of bytes at `data` that are neither CR, LF nor another control
// character: inside a line they only count towards its size.
size_t ordinaryRun(const char* data, size_t len) {
  size_t n = 0;
  while (n < len && !isControl(static_cast<unsigned char>(data[n]))) ++n;
  return n;
}

}  // namespace

int httpStatus(ParseError error) {
  switch (error) {
    case ParseError::HeaderTooLarge:
    case ParseError::TooManyHeaders:
      return 431;
    case ParseError::UriTooLong:
      return 414;
    case ParseError::BodyTooLarge:
      return 413;
    case ParseError::UnsupportedTransferCoding:
      return 501;
    case ParseError::UnsupportedVersion:
      return 505;
    default:
      return 400;
  }
}

std::string_view parseErrorName(ParseError error) {
  switch (error) {
    case ParseError::Malformed:
      return "Malformed";
    case ParseError::HeaderTooLarge:
      return "HeaderTooLarge";
    case ParseError::TooManyHeaders:
      return "TooManyHeaders";
    case ParseError::UriTooLong:
      return "UriTooLong";
    case ParseError::BodyTooLarge:
      return "BodyTooLarge";
    case ParseError::InvalidChunk:
      return "InvalidChunk";
    case ParseError::InvalidContentLength:
      return "InvalidContentLength";
    case ParseError::ConflictingFraming:
      return "ConflictingFraming";
    case ParseError::UnsupportedTransferCoding:
      return "UnsupportedTransferCoding";
    case ParseError::UnsupportedVersion:
      return "UnsupportedVersion";
    case ParseError::Truncated:
      return "Truncated";
  }
  return "Unknown";
}

Parser::Parser(Type type, ParserCallbacks& callbacks, ParserLimits limits)
    : type_(type),
      callbacks_(callbacks),
      limits_(limits),
      parser_(std::make_unique<http_parser>()) {
  http_parser_init(parser_.get(), type == Type::Request ? HTTP_REQUEST : HTTP_RESPONSE);
  parser_->data = this;
}

Parser::~Parser() = default;

void Parser::resetScanner() {
  scan_ = ScanState::LeadingLine;
  scan_prev_ = 0;
  scan_prev_space_ = false;
  start_line_bytes_ = 0;
  header_bytes_ = 0;
  header_lines_ = 0;
}

void Parser::startMessage() {
  in_message_ = true;
  request_ = RequestHead{};
  response_ = ResponseHead{};
  // Room for a typical head's fields at once, instead of growing 1, 2, 4, 8, 16.
  (type_ == Type::Request ? request_.headers : response_.headers).fields().reserve(16);
  field_.clear();
  value_.clear();
  in_value_ = false;
  in_trailers_ = false;
  field_count_ = 0;
  saw_transfer_encoding_ = false;
  framing_ = BodyFraming::None;
  content_length_.reset();
  body_bytes_ = 0;
  upgrade_ = false;
  keep_alive_ = true;
  chunk_check_ = false;
  complete_pending_ = false;
}

Result<void> Parser::scanHead(const char* data, size_t len, uint64_t offset) {
  for (size_t i = 0; i < len && scan_ != ScanState::Done; ++i) {
    // Fast path: the ordinary bytes of a start line or a header line, counted in one step
    // (the per-byte checks below would only count them, against the same limits).
    if ((scan_ == ScanState::StartLine || scan_ == ScanState::InLine) && scan_prev_ != '\r') {
      const size_t run = ordinaryRun(data + i, len - i);
      if (run > 0) {
        if (scan_ == ScanState::StartLine) {
          if (type_ == Type::Request) {
            std::string_view bytes(data + i, run);
            if ((scan_prev_space_ && bytes.front() == ' ') || bytes.find("  ") != bytes.npos) {
              return fail(ParseError::Malformed, "two spaces in the request line (RFC 9112 §3)");
            }
            scan_prev_space_ = bytes.back() == ' ';
          }
          start_line_bytes_ += run;
          if (start_line_bytes_ > limits_.request_line_bytes) {
            return fail(
                type_ == Type::Request ? ParseError::UriTooLong : ParseError::HeaderTooLarge,
                "start line too long");
          }
        } else {
          header_bytes_ += run;
          if (header_bytes_ > limits_.header_bytes) {
            return fail(ParseError::HeaderTooLarge, "header section too large");
          }
        }
        scan_prev_ = data[i + run - 1];
        i += run;
        if (i == len) break;
      }
    }
    const char c = data[i];
    if (scan_prev_ == '\r' && c != '\n') {
      return fail(ParseError::Malformed, "CR not followed by LF in the head");
    }
    if (c == '\n' && scan_prev_ != '\r') {
      return fail(ParseError::Malformed, "bare LF in the head (RFC 9112 §2.2)");
    }
    scan_prev_ = c;
    switch (scan_) {
      case ScanState::LeadingLine:
        // RFC 9112 §2.2: empty lines before the start line are ignored.
        if (c == '\r' || c == '\n') {
          if (++start_line_bytes_ > limits_.request_line_bytes) {
            return fail(ParseError::Malformed, "too many empty lines before the start line");
          }
          break;
        }
        start_line_bytes_ = 0;
        scan_ = ScanState::StartLine;
        [[fallthrough]];
      case ScanState::StartLine:
        if (c == '\n') {
          scan_ = ScanState::LineStart;
          break;
        }
        if (c != '\r' && isControl(static_cast<unsigned char>(c))) {
          return fail(ParseError::Malformed, "control character in the start line");
        }
        // RFC 9112 §3: method SP request-target SP HTTP-version, one SP each (the target has
        // none); http-parser's non-strict build skips extra spaces.
        if (type_ == Type::Request && c == ' ' && scan_prev_space_) {
          return fail(ParseError::Malformed, "two spaces in the request line (RFC 9112 §3)");
        }
        scan_prev_space_ = c == ' ';
        if (++start_line_bytes_ > limits_.request_line_bytes) {
          return fail(type_ == Type::Request ? ParseError::UriTooLong : ParseError::HeaderTooLarge,
                      "start line too long");
        }
        break;
      case ScanState::LineStart:
        if (c == '\r') break;
        if (c == '\n') {
          scan_ = ScanState::Done;
          scan_end_ = offset + i + 1;
          break;
        }
        if (c == ' ' || c == '\t') {
          return fail(ParseError::Malformed, "obs-fold line folding (RFC 9112 §5.2)");
        }
        if (++header_lines_ > limits_.header_count) {
          return fail(ParseError::TooManyHeaders, "too many header fields");
        }
        scan_ = ScanState::InLine;
        [[fallthrough]];
      case ScanState::InLine:
        if (++header_bytes_ > limits_.header_bytes) {
          return fail(ParseError::HeaderTooLarge, "header section too large");
        }
        if (c == '\n') {
          scan_ = ScanState::LineStart;
        } else if (c != '\r' && isControl(static_cast<unsigned char>(c))) {
          return fail(ParseError::Malformed, "control character in a header field");
        }
        break;
      case ScanState::Done:
        break;
    }
  }
  return ok();
}

Error Parser::fail(ParseError code, std::string message) {
  error_ = Error(code, std::move(message));
  return *error_;
}

int Parser::failInCallback(ParseError code, std::string message) {
  callback_error_ = Error(code, std::move(message));
  return -1;
}

Error Parser::errorFromLibrary() {
  if (callback_error_) return *callback_error_;
  auto err = static_cast<http_errno>(parser_->http_errno);
  std::string description = http_errno_description(err);
  switch (err) {
    case HPE_HEADER_OVERFLOW:
      return Error(ParseError::HeaderTooLarge, description);
    case HPE_INVALID_CHUNK_SIZE:
      return Error(ParseError::InvalidChunk, description);
    case HPE_INVALID_CONTENT_LENGTH:
      // http-parser reports an overflowing chunk size with this code too.
      if (framing_ == BodyFraming::Chunked) return Error(ParseError::InvalidChunk, description);
      return Error(ParseError::InvalidContentLength, description);
    case HPE_UNEXPECTED_CONTENT_LENGTH: {
      bool te = saw_transfer_encoding_ || equalsIgnoreCase(field_, "transfer-encoding");
      if (te) return Error(ParseError::ConflictingFraming, "Content-Length with Transfer-Encoding");
      return Error(ParseError::InvalidContentLength, "more than one Content-Length");
    }
    case HPE_INVALID_TRANSFER_ENCODING:
      return Error(ParseError::UnsupportedTransferCoding, description);
    case HPE_INVALID_EOF_STATE:
      return Error(ParseError::Truncated, description);
    default:
      return Error(ParseError::Malformed, description);
  }
}

Result<size_t> Parser::feed(const char* data, size_t len) {
  if (error_) return *error_;
  size_t consumed = 0;
  while (consumed < len && !paused_) {
    // (A chunked body's trailer section is scanned after http-parser, by checkChunkFraming.)
    if (scan_ != ScanState::Done && !chunk_check_) {
      if (auto scanned = scanHead(data + consumed, len - consumed, stream_offset_); !scanned) {
        return scanned.error();
      }
    }
    if (HTTP_PARSER_ERRNO(parser_.get()) == HPE_PAUSED) http_parser_pause(parser_.get(), 0);
    exec_data_ = data + consumed;
    size_t n =
        http_parser_execute(parser_.get(), &librarySettings(), data + consumed, len - consumed);
    consumed += n;
    http_errno err = HTTP_PARSER_ERRNO(parser_.get());
    if (err != HPE_OK && err != HPE_PAUSED) {
      error_ = errorFromLibrary();
      return *error_;
    }
    if (chunk_check_) {
      // The framing bytes after the last body piece of this execute (and a chunked message
      // completes only once they are all checked).
      if (auto checked = checkChunkFraming(stream_offset_ + n); !checked) {
        error_ = checked.error();
        return *error_;
      }
      if (complete_pending_) {
        if (auto completed = completeChunked(); !completed) return completed.error();
      }
    }
    stream_offset_ += n;
    if (err == HPE_PAUSED) continue;  // a message completed, a 1xx ended, or pause()
    if (n == 0) break;
    if (parser_->upgrade) break;  // http-parser stops after an upgrade request's head
  }
  return consumed;
}

namespace {

bool isHexDigit(char c) {
  return std::isxdigit(static_cast<unsigned char>(c)) != 0;
}

bool isBlank(char c) {
  return c == ' ' || c == '\t';
}

// RFC 9110 §5.6.4: qdtext = HTAB / SP / %x21 / %x23-5B / %x5D-7E / obs-text.
bool isQdtext(char c) {
  auto u = static_cast<unsigned char>(c);
  return c == '\t' || c == ' ' || c == 0x21 || (u >= 0x23 && u <= 0x5b) ||
         (u >= 0x5d && u <= 0x7e) || u >= 0x80;
}

// quoted-pair = "\" ( HTAB / SP / VCHAR / obs-text )
bool isQuotedPairByte(char c) {
  auto u = static_cast<unsigned char>(c);
  return c == '\t' || (u >= 0x20 && u != 0x7f);
}

}  // namespace

Result<void> Parser::checkChunkFraming(uint64_t to) {
  // Bytes before stream_offset_ were consumed by an earlier execute and checked then.
  uint64_t from = std::max(checked_to_, stream_offset_);
  if (from >= to) return ok();
  checked_to_ = to;
  const char* bytes = exec_data_ + (from - stream_offset_);
  const size_t count = to - from;
  auto bad = [](const char* what) { return Error(ParseError::InvalidChunk, what); };
  for (size_t i = 0; i < count; ++i) {
    const char c = bytes[i];
    switch (chunk_state_) {
      case ChunkState::SizeStart:
        if (!isHexDigit(c)) return bad("chunk-size is not hexadecimal (RFC 9112 §7.1)");
        chunk_size_zero_ = c == '0';
        chunk_state_ = ChunkState::Size;
        break;
      case ChunkState::Size:
        if (isHexDigit(c)) {
          chunk_size_zero_ = chunk_size_zero_ && c == '0';
        } else if (c == ';') {
          chunk_state_ = ChunkState::ExtNameStart;
        } else if (isBlank(c)) {
          chunk_state_ = ChunkState::BeforeSemi;
        } else if (c == '\r') {
          chunk_state_ = ChunkState::SizeLF;
        } else {
          return bad("junk after the chunk-size (RFC 9112 §7.1)");
        }
        break;
      case ChunkState::BeforeSemi:
        if (c == ';') {
          chunk_state_ = ChunkState::ExtNameStart;
        } else if (!isBlank(c)) {
          return bad("junk in a chunk-size line: only ; may follow whitespace (RFC 9112 §7.1.1)");
        }
        break;
      case ChunkState::ExtNameStart:
        if (isTchar(c)) {
          chunk_state_ = ChunkState::ExtName;
        } else if (!isBlank(c)) {
          return bad("chunk-ext-name is not a token (RFC 9112 §7.1.1)");
        }
        break;
      case ChunkState::ExtName:
        if (c == '=') {
          chunk_state_ = ChunkState::ExtValueStart;
        } else if (c == ';') {
          chunk_state_ = ChunkState::ExtNameStart;
        } else if (isBlank(c)) {
          chunk_state_ = ChunkState::AfterName;
        } else if (c == '\r') {
          chunk_state_ = ChunkState::SizeLF;
        } else if (!isTchar(c)) {
          return bad("chunk-ext-name is not a token (RFC 9112 §7.1.1)");
        }
        break;
      case ChunkState::AfterName:
        if (c == '=') {
          chunk_state_ = ChunkState::ExtValueStart;
        } else if (c == ';') {
          chunk_state_ = ChunkState::ExtNameStart;
        } else if (!isBlank(c)) {
          return bad("junk after a chunk-ext-name (RFC 9112 §7.1.1)");
        }
        break;
      case ChunkState::ExtValueStart:
        if (c == '"') {
          chunk_state_ = ChunkState::Quoted;
        } else if (isTchar(c)) {
          chunk_state_ = ChunkState::ExtToken;
        } else if (!isBlank(c)) {
          return bad("chunk-ext-val is neither a token nor a quoted-string (RFC 9112 §7.1.1)");
        }
        break;
      case ChunkState::ExtToken:
        if (c == ';') {
          chunk_state_ = ChunkState::ExtNameStart;
        } else if (isBlank(c)) {
          chunk_state_ = ChunkState::BeforeSemi;
        } else if (c == '\r') {
          chunk_state_ = ChunkState::SizeLF;
        } else if (!isTchar(c)) {
          return bad("chunk-ext-val is not a token (RFC 9112 §7.1.1)");
        }
        break;
      case ChunkState::Quoted:
        if (c == '"') {
          chunk_state_ = ChunkState::AfterQuoted;
        } else if (c == '\\') {
          chunk_state_ = ChunkState::QuotedPair;
        } else if (!isQdtext(c)) {
          return bad("bad byte in a quoted chunk-ext-val (RFC 9110 §5.6.4)");
        }
        break;
      case ChunkState::QuotedPair:
        if (!isQuotedPairByte(c)) return bad("bad quoted-pair in a chunk-ext-val");
        chunk_state_ = ChunkState::Quoted;
        break;
      case ChunkState::AfterQuoted:
        if (c == ';') {
          chunk_state_ = ChunkState::ExtNameStart;
        } else if (isBlank(c)) {
          chunk_state_ = ChunkState::BeforeSemi;
        } else if (c == '\r') {
          chunk_state_ = ChunkState::SizeLF;
        } else {
          return bad("junk after a quoted chunk-ext-val (RFC 9112 §7.1.1)");
        }
        break;
      case ChunkState::SizeLF:
        if (c != '\n') return bad("chunk-size line not ended by CRLF (RFC 9112 §7.1)");
        if (chunk_size_zero_) {
          // The last chunk: the trailer section follows, checked like the head's lines.
          chunk_state_ = ChunkState::Trailers;
          scan_ = ScanState::LineStart;
          scan_prev_ = '\n';
        } else {
          chunk_state_ = ChunkState::Data;
        }
        break;
      case ChunkState::Data:
        return bad("framing bytes where chunk data was due");
      case ChunkState::DataCR:
        if (c != '\r') return bad("chunk data not followed by CRLF (RFC 9112 §7.1)");
        chunk_state_ = ChunkState::DataLF;
        break;
      case ChunkState::DataLF:
        if (c != '\n') return bad("chunk data not followed by CRLF (RFC 9112 §7.1)");
        chunk_state_ = ChunkState::SizeStart;
        break;
      case ChunkState::Trailers: {
        const uint64_t at = from + i;
        if (auto scanned = scanHead(bytes + i, count - i, at); !scanned) return scanned.error();
        if (scan_ != ScanState::Done) return ok();
        if (scan_end_ != to) return bad("bytes after the trailer section");
        chunk_state_ = ChunkState::Done;
        return ok();
      }
      case ChunkState::Done:
        return bad("bytes after the trailer section");
    }
  }
  return ok();
}

Result<void> Parser::completeChunked() {
  complete_pending_ = false;
  chunk_check_ = false;
  if (chunk_state_ != ChunkState::Done) {
    return fail(ParseError::InvalidChunk, "chunked message ended inside its framing");
  }
  in_message_ = false;
  resetScanner();
  callbacks_.onMessageComplete();
  return ok();
}

Result<void> Parser::finish() {
  if (error_) return *error_;
  if (!in_message_) return ok();
  if (HTTP_PARSER_ERRNO(parser_.get()) == HPE_PAUSED) http_parser_pause(parser_.get(), 0);
  http_parser_execute(parser_.get(), &librarySettings(), nullptr, 0);  // EOF
  http_errno err = HTTP_PARSER_ERRNO(parser_.get());
  if (err != HPE_OK && err != HPE_PAUSED) {
    error_ = errorFromLibrary();
    return *error_;
  }
  if (in_message_) return fail(ParseError::Truncated, "connection closed inside a message");
  return ok();
}

void Parser::pause() {
  paused_ = true;
  http_parser_pause(parser_.get(), 1);
}

void Parser::resume() {
  paused_ = false;
}

void Parser::setRequestMethod(std::string_view method) {
  head_request_ = method == "HEAD";
}

bool Parser::bodyExpected() const {
  switch (framing_) {
    case BodyFraming::None:
      return false;
    case BodyFraming::ContentLength:
      return content_length_.value_or(0) > 0;
    default:
      return true;
  }
}

bool Parser::keepAlive() const {
  return keep_alive_;
}

bool Parser::upgrade() const {
  return upgrade_;
}

void Parser::flushHeader() {
  if (!in_value_) return;
  in_value_ = false;
  ++field_count_;
  if (in_trailers_) {
    // Trailer fields are validated by http-parser and counted, but not delivered.
    field_.clear();
    value_.clear();
    return;
  }
  if (equalsIgnoreCase(field_, "transfer-encoding")) saw_transfer_encoding_ = true;
  std::string_view value = trimBlanks(value_);
  if (value.size() != value_.size()) value_ = std::string(value);
  HeaderMap& headers = type_ == Type::Request ? request_.headers : response_.headers;
  headers.add(std::move(field_), std::move(value_));
  field_.clear();
  value_.clear();
}

int Parser::onHeadersComplete() {
  flushHeader();
  http_parser& p = *parser_;
  if (p.http_major != 1) {
    return failInCallback(ParseError::UnsupportedVersion, "only HTTP/1.x is supported");
  }
  Version version{static_cast<int>(p.http_major), static_cast<int>(p.http_minor)};
  const HeaderMap& headers = type_ == Type::Request ? request_.headers : response_.headers;
  std::vector<std::string_view> te = headers.getAll("transfer-encoding");
  bool has_length = headers.has("content-length");
  if (!te.empty() && has_length) {
    return failInCallback(ParseError::ConflictingFraming, "Content-Length with Transfer-Encoding");
  }
  if (!te.empty() && version == Version{1, 0}) {
    // RFC 9112 §6.1: Transfer-Encoding in an HTTP/1.0 message means faulty framing.
    return failInCallback(ParseError::Malformed, "Transfer-Encoding in an HTTP/1.0 message");
  }
  bool chunked = (p.flags & F_CHUNKED) != 0;
  if (!te.empty() && !onlyChunked(te)) {
    // RFC 9112 §6.3: a request whose final coding is not chunked has no reliable length; we
    // decode no other coding, so any other list is refused for requests. A response whose
    // final coding is not chunked is delimited by close.
    if (type_ == Type::Request || chunked) {
      return failInCallback(ParseError::UnsupportedTransferCoding,
                            "Transfer-Encoding other than chunked");
    }
  }
  int result = 0;
  if (type_ == Type::Request) {
    request_.method = http_method_str(static_cast<http_method>(p.method));
    request_.version = version;
    // Origin-form, or absolute-form (RFC 9112 §3.2.2: a server must accept it) whose path
    // routes and whose authority is the Host.
    if (!splitRequestTarget(request_)) {
      return failInCallback(ParseError::Malformed, "absolute-form target without a valid host");
    }
    if (chunked) {
      framing_ = BodyFraming::Chunked;
    } else if (has_length) {
      framing_ = BodyFraming::ContentLength;
      content_length_ = p.content_length;
    } else {
      framing_ = BodyFraming::None;
    }
  } else {
    response_.status = static_cast<int>(p.status_code);
    response_.version = version;
    int status = response_.status;
    if (head_request_ || status / 100 == 1 || status == 204 || status == 304) {
      framing_ = BodyFraming::None;
      if (has_length && p.content_length != ULLONG_MAX) content_length_ = p.content_length;
      if (head_request_) result = 1;  // skip the body http-parser would otherwise expect
    } else if (chunked) {
      framing_ = BodyFraming::Chunked;
    } else if (has_length) {
      framing_ = BodyFraming::ContentLength;
      content_length_ = p.content_length;
    } else {
      framing_ = BodyFraming::UntilClose;
    }
  }
  upgrade_ = p.upgrade != 0;
  keep_alive_ = http_should_keep_alive(&p) != 0 && framing_ != BodyFraming::UntilClose;
  if (content_length_ && limits_.body_bytes > 0 && *content_length_ > limits_.body_bytes) {
    return failInCallback(ParseError::BodyTooLarge, "Content-Length over the body limit");
  }
  in_trailers_ = true;
  if (framing_ == BodyFraming::Chunked) {
    // The framing starts right after the head's empty line.
    chunk_check_ = true;
    chunk_state_ = ChunkState::SizeStart;
    chunk_size_zero_ = true;
    checked_to_ = scan_end_;
  }
  if (type_ == Type::Request) {
    callbacks_.onRequestHead(std::move(request_));
  } else {
    callbacks_.onResponseHead(std::move(response_));
  }
  return result;
}

int Parser::onMessageComplete() {
  flushHeader();
  bool interim = type_ == Type::Response && framing_ == BodyFraming::None &&
                 parser_->status_code / 100 == 1 && parser_->status_code != 101;
  // Always stop http-parser here so that the next head is scanned before it is parsed.
  http_parser_pause(parser_.get(), 1);
  if (interim) {
    in_message_ = false;
    resetScanner();
    return 0;  // the exchange continues with the final response
  }
  head_request_ = false;
  paused_ = true;
  if (chunk_check_) {
    // feed() completes it once the last chunk's framing and the trailers are checked (they
    // were consumed in this execute, after the last body piece).
    complete_pending_ = true;
    return 0;
  }
  in_message_ = false;
  resetScanner();
  callbacks_.onMessageComplete();
  return 0;
}

int Parser::cbMessageBegin(http_parser* p) {
  static_cast<Parser*>(p->data)->startMessage();
  return 0;
}

int Parser::cbUrl(http_parser* p, const char* at, size_t len) {
  auto* self = static_cast<Parser*>(p->data);
  self->request_.target.append(at, len);
  return 0;
}

int Parser::cbStatus(http_parser* p, const char* at, size_t len) {
  auto* self = static_cast<Parser*>(p->data);
  self->response_.reason.append(at, len);
  return 0;
}

int Parser::cbHeaderField(http_parser* p, const char* at, size_t len) {
  auto* self = static_cast<Parser*>(p->data);
  if (self->in_value_) {
    self->flushHeader();
    if (self->field_count_ >= self->limits_.header_count) {
      return self->failInCallback(ParseError::TooManyHeaders, "too many trailer fields");
    }
  }
  self->field_.append(at, len);
  return 0;
}

int Parser::cbHeaderValue(http_parser* p, const char* at, size_t len) {
  auto* self = static_cast<Parser*>(p->data);
  if (!self->in_value_ && !isToken(self->field_)) {
    // RFC 9112 §5.1: no whitespace between the field name and the colon ("Transfer-Encoding :
    // chunked" is a classic smuggling vector); RFC 9110 §5.1: names are tokens.
    return self->failInCallback(ParseError::Malformed, "invalid header field name");
  }
  self->in_value_ = true;
  self->value_.append(at, len);
  return 0;
}

int Parser::cbHeadersComplete(http_parser* p) {
  return static_cast<Parser*>(p->data)->onHeadersComplete();
}

int Parser::cbBody(http_parser* p, const char* at, size_t len) {
  auto* self = static_cast<Parser*>(p->data);
  if (self->chunk_check_) {
    // The chunk-size line (and the CRLF ending the chunk before) precede this piece.
    const uint64_t at_offset = self->stream_offset_ + static_cast<uint64_t>(at - self->exec_data_);
    if (auto checked = self->checkChunkFraming(at_offset); !checked) {
      self->callback_error_ = checked.error();
      return -1;
    }
    if (self->chunk_state_ != ChunkState::Data) {
      return self->failInCallback(ParseError::InvalidChunk, "chunk data where framing was due");
    }
    self->checked_to_ = at_offset + len;
    // http-parser has counted this piece off the chunk's size: 0 means the data ended.
    if (self->parser_->content_length == 0) self->chunk_state_ = ChunkState::DataCR;
  }
  self->body_bytes_ += len;
  if (self->limits_.body_bytes > 0 && self->body_bytes_ > self->limits_.body_bytes) {
    return self->failInCallback(ParseError::BodyTooLarge, "body over the limit");
  }
  self->callbacks_.onBody(at, len);
  return 0;
}

int Parser::cbMessageComplete(http_parser* p) {
  return static_cast<Parser*>(p->data)->onMessageComplete();
}

const http_parser_settings& Parser::librarySettings() {
  static const http_parser_settings settings = [] {
    http_parser_settings s{};
    s.on_message_begin = &Parser::cbMessageBegin;
    s.on_url = &Parser::cbUrl;
    s.on_status = &Parser::cbStatus;
    s.on_header_field = &Parser::cbHeaderField;
    s.on_header_value = &Parser::cbHeaderValue;
    s.on_headers_complete = &Parser::cbHeadersComplete;
    s.on_body = &Parser::cbBody;
    s.on_message_complete = &Parser::cbMessageComplete;
    return s;
  }();
  return settings;
}

}  // namespace portico::http
