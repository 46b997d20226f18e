// Fuzz target: Range headers on blobs (backend/api/byte_range.h): parseByteRange against a
// representation size taken from the first 8 bytes, then contentRange() of the result; a
// Partial result must lie within the size. The same text as an upload chunk's Content-Range
// (parseUploadContentRange, the upload handler's PATCH/PUT): a range it accepts is not empty,
// its last byte is representable, and "start-end" prints back to the same range.

#include <string>

#include "backend/api/byte_range.h"
#include "tests/fuzz/fuzz.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  portico::fuzz::Input input(data, size);
  uint64_t length = input.number(8);
  // Small sizes half the time: that is where start/end/suffix corners are.
  if (length & 1) length = (length >> 1) % 1024;
  std::string_view header = input.rest();

  using portico::api::ByteRangeResult;
  for (auto value : {std::optional<std::string_view>(header), std::optional<std::string_view>()}) {
    ByteRangeResult range = portico::api::parseByteRange(value, length);
    if (range.kind == ByteRangeResult::Kind::Partial) {
      if (range.length == 0 || range.start >= length || range.length > length - range.start) {
        __builtin_trap();  // a 206 outside the blob
      }
    }
    if (range.kind == ByteRangeResult::Kind::Full && range.length != length) __builtin_trap();
    (void)portico::api::contentRange(range, length);
  }

  if (auto upload = portico::api::parseUploadContentRange(header)) {
    if (upload->length == 0 || upload->length - 1 > UINT64_MAX - upload->start) __builtin_trap();
    std::string printed =
        std::to_string(upload->start) + "-" + std::to_string(upload->start + (upload->length - 1));
    auto again = portico::api::parseUploadContentRange(printed);
    if (!again || again->start != upload->start || again->length != upload->length) {
      __builtin_trap();
    }
  }
  return 0;
}
