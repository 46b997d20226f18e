#pragma once
// The body of the http_request and http_response fuzz targets: the input is the raw bytes of
// a connection (the seeds are plain HTTP). It is parsed three ways with the same limits: in
// one feed(), split in two at a point derived from the bytes (a boundary falling inside a
// head, a chunk size or a CRLF, as on a real socket), and one byte per feed(). The three must
// agree on everything the caller sees (heads, body bytes, completions, success); a difference
// means the result depends on how TCP cut the stream, which is how request smuggling starts.
// Then once more with small limits (431/414/413 paths), only for crashes.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/http/parser.h"

namespace portico::fuzz {

struct Outcome {
  std::string events;  // what the callbacks saw, in order
  bool ok = true;
  bool operator==(const Outcome&) const = default;
};

class RecordingCallbacks : public http::ParserCallbacks {
 public:
  explicit RecordingCallbacks(Outcome& out) : out_(out) {}
  void onRequestHead(http::RequestHead&& head) override {
    (void)head.queryParam("n");
    (void)head.queryParam("last");
    out_.events += "Q" + head.serialize();
  }
  void onResponseHead(http::ResponseHead&& head) override { out_.events += "S" + head.serialize(); }
  void onBody(const char* data, size_t len) override { body_.append(data, len); }
  void onMessageComplete() override {
    out_.events += "B" + std::to_string(body_.size()) + ":" + body_ + "E";
    body_.clear();
  }
  // Body bytes delivered before a failure or the end of input.
  void flush() {
    if (!body_.empty()) out_.events += "B" + std::to_string(body_.size()) + ":" + body_;
    body_.clear();
  }

 private:
  Outcome& out_;
  std::string body_;
};

// Feeds `data` in pieces of the given sizes (the last piece takes the rest), resuming after
// each message; then finish(). The pieces are separate heap buffers of exact size, so that
// ASan catches a read past either.
inline Outcome parseInPieces(http::Parser::Type type, bool head_request,
                             const http::ParserLimits& limits, std::string_view data,
                             const std::vector<size_t>& cuts) {
  Outcome out;
  RecordingCallbacks callbacks(out);
  http::Parser parser(type, callbacks, limits);
  if (head_request) parser.setRequestMethod("HEAD");
  size_t begin = 0;
  for (size_t i = 0; i <= cuts.size() && out.ok; ++i) {
    size_t end = i < cuts.size() ? cuts[i] : data.size();
    std::vector<char> piece(data.begin() + begin, data.begin() + end);
    begin = end;
    std::string_view rest(piece.data(), piece.size());
    while (!rest.empty()) {
      auto fed = parser.feed(rest.data(), rest.size());
      if (!fed) {
        out.ok = false;
        break;
      }
      if (*fed > rest.size()) __builtin_trap();  // claims bytes it was not given
      rest.remove_prefix(*fed);
      if (parser.paused()) {
        out.events += parser.keepAlive() ? "K" : "C";
        parser.resume();
      } else if (*fed == 0) {
        __builtin_trap();  // no progress while not paused: the caller would spin
      }
    }
  }
  callbacks.flush();
  if (out.ok && !parser.finish()) out.ok = false;
  callbacks.flush();
  out.events += out.ok ? "+" : "-";
  return out;
}

inline void fuzzParser(http::Parser::Type type, const uint8_t* bytes, size_t size) {
  std::string_view data(reinterpret_cast<const char*>(bytes), size);
  uint32_t hash = 2166136261u;  // FNV-1a: the split point follows every byte of the input
  for (unsigned char c : data) hash = (hash ^ c) * 16777619u;
  bool head_request = type == http::Parser::Type::Response && (hash & 1);
  http::ParserLimits limits;

  Outcome whole = parseInPieces(type, head_request, limits, data, {});
  Outcome split =
      parseInPieces(type, head_request, limits, data, {size == 0 ? 0 : (hash >> 1) % size});
  std::vector<size_t> every;
  for (size_t i = 1; i < size; ++i) every.push_back(i);
  Outcome bytewise = parseInPieces(type, head_request, limits, data, every);
  if (!(whole == split) || !(whole == bytewise)) __builtin_trap();

  limits.header_bytes = 256;
  limits.header_count = 4;
  limits.request_line_bytes = 64;
  limits.body_bytes = 128;
  (void)parseInPieces(type, head_request, limits, data, {size / 2});
}

}  // namespace portico::fuzz
