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

// The Content-Range of an upload chunk (PATCH, PUT; distribution's "start-end", inclusive; a
// "bytes" unit, blanks or '=' before the numbers and a "/total" after them are tolerated).
struct UploadRange {
  uint64_t start = 0;
  uint64_t length = 0;  // end - start + 1, never 0
};
// Nullopt (the caller answers 416 RANGE_INVALID) when malformed, when end < start, or when the
// length does not fit in 64 bits ("0-18446744073709551615": end - start + 1 would wrap to 0).
std::optional<UploadRange> parseUploadContentRange(std::string_view value);

}  // namespace portico::api
