#include "common/http/body_encoder.h"

#include <catch2/catch.hpp>

#include <string>

#include "common/net/event_ptr.h"
#include "common/net/timeval.h"

namespace {

using namespace portico;

std::string drain(evbuffer* buffer) {
  std::string text(evbuffer_get_length(buffer), '\0');
  evbuffer_remove(buffer, text.data(), text.size());
  return text;
}

}  // namespace

TEST_CASE("chunks are framed as RFC 9112 §7.1 says; empty data writes nothing", "[encoder]") {
  net::EvbufferPtr out(evbuffer_new());
  net::EvbufferPtr data(evbuffer_new());
  evbuffer_add(data.get(), "0123456789abcdefX", 17);
  http::encoder::appendChunk(out.get(), *data);
  CHECK(evbuffer_get_length(data.get()) == 0);
  http::encoder::appendChunk(out.get(), std::string_view("hi"));
  http::encoder::appendChunk(out.get(), std::string_view());
  http::encoder::appendChunk(out.get(), *data);
  http::encoder::chunkHeader(out.get(), uint64_t{1} << 32);
  http::encoder::chunkEnd(out.get());
  http::encoder::lastChunk(out.get());
  CHECK(drain(out.get()) == "11\r\n0123456789abcdefX\r\n2\r\nhi\r\n100000000\r\n\r\n0\r\n\r\n");
}

TEST_CASE("durations become timevals", "[encoder]") {
  timeval tv = net::toTimeval(std::chrono::milliseconds(12'345));
  CHECK(tv.tv_sec == 12);
  CHECK(tv.tv_usec == 345'000);
}
