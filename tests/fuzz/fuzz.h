#pragma once
// Helpers shared by the fuzz targets (tests/fuzz/README.md): the libFuzzer entry point's
// declaration and a cursor that takes a few bytes of the input for choices.

#include <cstddef>
#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace portico::fuzz {

// Reads choices from the front of the input; the rest stays for the parser.
class Input {
 public:
  Input(const uint8_t* data, size_t size) : rest_(reinterpret_cast<const char*>(data), size) {}

  // One byte (0 when the input is empty).
  uint8_t byte() {
    if (rest_.empty()) return 0;
    auto b = static_cast<uint8_t>(rest_.front());
    rest_.remove_prefix(1);
    return b;
  }
  // Up to `n` bytes, little-endian (n <= 8).
  uint64_t number(size_t n) {
    uint64_t value = 0;
    for (size_t i = 0; i < n; ++i) value |= uint64_t{byte()} << (8 * i);
    return value;
  }
  // Everything up to the next NUL (consumed with it), or the rest.
  std::string_view field() {
    size_t nul = rest_.find('\0');
    std::string_view out = rest_.substr(0, nul);
    rest_.remove_prefix(nul == std::string_view::npos ? rest_.size() : nul + 1);
    return out;
  }
  std::string_view rest() const { return rest_; }

 private:
  std::string_view rest_;
};

}  // namespace portico::fuzz
