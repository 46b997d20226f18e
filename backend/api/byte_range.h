#pragma once
// Range requests on blobs (RFC 9110 §14.1.2, §14.2): one `bytes=` range → 206 with
// Content-Range; a syntactically valid but unsatisfiable one → 416; anything the server may
// ignore (malformed, other units, several ranges) → the whole blob with 200.
// What this does not do: multipart/byteranges responses.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace portico::api {

struct ByteRangeResult {
  enum class Kind { Full, Partial, Unsatisfiable };
  Kind kind = Kind::Full;
  uint64_t start = 0;
  uint64_t length = 0;  // bytes to send (the whole size for Full)
};

// Interprets a Range header value against a representation of `size` bytes.
ByteRangeResult parseByteRange(std::optional<std::string_view> header, uint64_t size);

// "bytes start-end/size" for a Partial result; "bytes */size" otherwise.
std::string contentRange(const ByteRangeResult& range, uint64_t size);

}  // namespace portico::api
