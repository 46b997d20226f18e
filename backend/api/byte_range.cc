#include "backend/api/byte_range.h"
#include "common/text.h"

#include <algorithm>
#include <cctype>
#include <charconv>

namespace portico::api {
namespace {

std::optional<uint64_t> number(std::string_view text) {
  if (text.empty()) return std::nullopt;
  uint64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

}  // namespace

ByteRangeResult parseByteRange(std::optional<std::string_view> header, uint64_t size) {
  ByteRangeResult full{ByteRangeResult::Kind::Full, 0, size};
  if (!header) return full;
  std::string_view value = trimBlanks(*header);
  // The range unit is case-insensitive (RFC 9110 §14.1): "Bytes=0-1" is a byte range.
  constexpr std::string_view kUnit = "bytes=";
  if (value.size() < kUnit.size() ||
      !std::equal(kUnit.begin(), kUnit.end(), value.begin(), [](char a, char b) {
        return a == std::tolower(static_cast<unsigned char>(b));
      })) {
    return full;
  }
  value.remove_prefix(kUnit.size());
  value = trimBlanks(value);
  if (value.find(',') != std::string_view::npos) return full;
  size_t dash = value.find('-');
  if (dash == std::string_view::npos) return full;
  std::string_view first = trimBlanks(value.substr(0, dash));
  std::string_view last = trimBlanks(value.substr(dash + 1));
  ByteRangeResult unsatisfiable{ByteRangeResult::Kind::Unsatisfiable, 0, 0};
  if (first.empty()) {  // suffix range: the last N bytes
    auto suffix = number(last);
    if (!suffix) return full;
    if (*suffix == 0 || size == 0) return unsatisfiable;
    uint64_t length = std::min(*suffix, size);
    return {ByteRangeResult::Kind::Partial, size - length, length};
  }
  auto start = number(first);
  if (!start) return full;
  uint64_t end = size == 0 ? 0 : size - 1;
  if (!last.empty()) {
    auto parsed_end = number(last);
    if (!parsed_end || *parsed_end < *start) return full;
    end = std::min(end, *parsed_end);
  }
  if (*start >= size) return unsatisfiable;
  return {ByteRangeResult::Kind::Partial, *start, end - *start + 1};
}

std::string contentRange(const ByteRangeResult& range, uint64_t size) {
  if (range.kind != ByteRangeResult::Kind::Partial) return "bytes */" + std::to_string(size);
  return "bytes " + std::to_string(range.start) + "-" +
         std::to_string(range.start + range.length - 1) + "/" + std::to_string(size);
}

std::optional<UploadRange> parseUploadContentRange(std::string_view value) {
  if (value.starts_with("bytes")) value.remove_prefix(5);
  while (!value.empty() && (value.front() == ' ' || value.front() == '=')) value.remove_prefix(1);
  value = value.substr(0, value.find('/'));
  size_t dash = value.find('-');
  if (dash == std::string_view::npos) return std::nullopt;
  uint64_t start = 0;
  uint64_t end = 0;
  auto a = std::from_chars(value.data(), value.data() + dash, start);
  auto b = std::from_chars(value.data() + dash + 1, value.data() + value.size(), end);
  if (a.ec != std::errc() || a.ptr != value.data() + dash || b.ec != std::errc() ||
      b.ptr != value.data() + value.size() || end < start) {
    return std::nullopt;
  }
  if (end - start == UINT64_MAX) return std::nullopt;  // 2^64 bytes: the length wraps to 0
  return UploadRange{start, end - start + 1};
}

}  // namespace portico::api
