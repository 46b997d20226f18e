#pragma once
// The sending side of HTTP/1.1 body framing (RFC 9112 §6, §7.1), shared by the server's
// responses (ServerConnection) and the client's requests (Http1ClientConnection). Both sides
// describe a body with the parser's BodyFraming (parser.h): None, ContentLength, Chunked or
// UntilClose (responses only). Chunked bodies are written here and nowhere else.

#include <event2/buffer.h>

#include <cstdint>
#include <string_view>

namespace portico::http::encoder {

// "<size in hex>\r\n": the line that opens a chunk of `size` bytes (size > 0).
inline void chunkHeader(evbuffer* out, uint64_t size) {
  evbuffer_add_printf(out, "%llx\r\n", static_cast<unsigned long long>(size));
}
// "\r\n": closes a chunk's data.
inline void chunkEnd(evbuffer* out) {
  evbuffer_add(out, "\r\n", 2);
}
// "0\r\n\r\n": the last chunk, no trailers.
inline void lastChunk(evbuffer* out) {
  evbuffer_add(out, "0\r\n\r\n", 5);
}
// One chunk holding all of `data` (moved, not copied); nothing for an empty buffer.
inline void appendChunk(evbuffer* out, evbuffer& data) {
  size_t length = evbuffer_get_length(&data);
  if (length == 0) return;
  chunkHeader(out, length);
  evbuffer_add_buffer(out, &data);
  chunkEnd(out);
}
// One chunk holding `data` (copied); nothing for empty data.
inline void appendChunk(evbuffer* out, std::string_view data) {
  if (data.empty()) return;
  chunkHeader(out, data.size());
  evbuffer_add(out, data.data(), data.size());
  chunkEnd(out);
}

}  // namespace portico::http::encoder
