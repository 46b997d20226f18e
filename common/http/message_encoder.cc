#include "common/http/message_encoder.h"

#include <algorithm>
#include <charconv>
#include <string>

#include "common/http/body_encoder.h"

namespace portico::http {

namespace {

constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";

std::optional<uint64_t> parseLength(std::string_view text) {
  uint64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

// Rules 2-4 for a message that may have a body; `chunks_allowed` false: close-delimited.
MessageFraming frameBody(HeaderMap& headers, bool chunks_allowed) {
  MessageFraming framing;
  if (!headers.has("Transfer-Encoding")) {
    if (auto length = headers.get("Content-Length")) {
      if (auto value = parseLength(*length)) {
        framing.body = BodyFraming::ContentLength;
        framing.length = value;
        return framing;
      }
      headers.remove("Content-Length");
    }
  }
  headers.remove("Content-Length");
  if (chunks_allowed) {
    framing.body = BodyFraming::Chunked;
    headers.set("Transfer-Encoding", "chunked");
  } else {
    framing.body = BodyFraming::UntilClose;
    headers.remove("Transfer-Encoding");
  }
  return framing;
}

}  // namespace

MessageFraming frameRequest(RequestHead& head) {
  HeaderMap& headers = head.headers;
  if (!headers.has("Transfer-Encoding") && !headers.has("Content-Length")) return {};
  return frameBody(headers, true);
}

MessageFraming frameResponse(ResponseHead& head, const ResponseContext& context) {
  head.version = Version{1, 1};
  HeaderMap& headers = head.headers;
  bool handler_close = headers.hasToken("Connection", "close");
  headers.remove("Connection");
  headers.remove("Keep-Alive");

  bool informational = head.status / 100 == 1;
  MessageFraming framing;
  if (context.request_method == "HEAD" || informational || head.status == 204 ||
      head.status == 304) {
    if (informational || head.status == 204) headers.remove("Content-Length");
    headers.remove("Transfer-Encoding");
  } else {
    framing = frameBody(headers, context.request_version != Version{1, 0});
  }

  framing.keep_alive =
      context.keep_alive && !handler_close && framing.body != BodyFraming::UntilClose;
  if (!framing.keep_alive) {
    headers.add("Connection", "close");
  } else if (context.request_version == Version{1, 0}) {
    headers.add("Connection", "keep-alive");
  }
  if (!headers.has("Date")) headers.add("Date", std::string(context.date));
  return framing;
}

void appendHead(evbuffer* out, const RequestHead& head) {
  std::string text = head.serialize();
  evbuffer_add(out, text.data(), text.size());
}

void appendHead(evbuffer* out, const ResponseHead& head) {
  std::string text = head.serialize();
  evbuffer_add(out, text.data(), text.size());
}

void appendContinue(evbuffer* out) {
  evbuffer_add(out, kContinue.data(), kContinue.size());
}

uint64_t BodyEncoder::room(uint64_t length) const {
  switch (framing_) {
    case BodyFraming::None:
      return 0;
    case BodyFraming::ContentLength:
      if (length_) return std::min(length, *length_ - std::min(*length_, sent_));
      return length;
    case BodyFraming::Chunked:
    case BodyFraming::UntilClose:
      return length;
  }
  return 0;
}

bool BodyEncoder::write(evbuffer* out, evbuffer& data) {
  size_t length = evbuffer_get_length(&data);
  if (length == 0) return true;
  auto n = static_cast<size_t>(room(length));
  sent_ += n;
  if (framing_ == BodyFraming::Chunked) {
    encoder::appendChunk(out, data);
  } else if (n > 0) {
    evbuffer_remove_buffer(&data, out, n);
  }
  evbuffer_drain(&data, evbuffer_get_length(&data));
  return n == length || framing_ == BodyFraming::None;
}

bool BodyEncoder::write(evbuffer* out, std::string_view data) {
  if (data.empty()) return true;
  auto n = static_cast<size_t>(room(data.size()));
  sent_ += n;
  if (framing_ == BodyFraming::Chunked) {
    encoder::appendChunk(out, data);
  } else if (n > 0) {
    evbuffer_add(out, data.data(), n);
  }
  return n == data.size() || framing_ == BodyFraming::None;
}

uint64_t BodyEncoder::beginSegment(evbuffer* out, uint64_t length, bool& truncated) {
  uint64_t n = room(length);
  truncated = n < length && framing_ != BodyFraming::None;
  sent_ += n;
  if (n > 0 && framing_ == BodyFraming::Chunked) encoder::chunkHeader(out, n);
  return n;
}

void BodyEncoder::endSegment(evbuffer* out) {
  if (framing_ == BodyFraming::Chunked) encoder::chunkEnd(out);
}

bool BodyEncoder::finish(evbuffer* out) {
  if (framing_ == BodyFraming::Chunked) encoder::lastChunk(out);
  return framing_ != BodyFraming::ContentLength || !length_ || sent_ == *length_;
}

}  // namespace portico::http
