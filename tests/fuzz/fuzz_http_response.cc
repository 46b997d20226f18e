// Fuzz target: http::Parser on responses (the strict head scan, framing incl. bodies until
// close, 1xx, HEAD, chunked decoding, limits); the input is the bytes an upstream sends.
// Whether the request was HEAD follows from the input's hash. See http_parser_fuzz.h.

#include "tests/fuzz/fuzz.h"
#include "tests/fuzz/http_parser_fuzz.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  portico::fuzz::fuzzParser(portico::http::Parser::Type::Response, data, size);
  return 0;
}
