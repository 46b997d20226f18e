// Fuzz target: http::Parser on requests (the strict head scan, framing, chunked decoding,
// pipelining, limits); the input is the bytes a client sends. See http_parser_fuzz.h.

#include "tests/fuzz/fuzz.h"
#include "tests/fuzz/http_parser_fuzz.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  portico::fuzz::fuzzParser(portico::http::Parser::Type::Request, data, size);
  return 0;
}
