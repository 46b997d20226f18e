// Test cases for tests/tap_reporter_test.py, hidden from a normal run ([.]): what made
// Catch2's own TAP reporter write lines meson cannot read (long expansions, line breaks).
#include <catch2/catch.hpp>

#include <string>

TEST_CASE("a passing comparison of two 300 KiB strings", "[.tap_sample]") {
  std::string body(300 << 10, '1');
  CHECK(body == std::string(300 << 10, '1'));
}

TEST_CASE("a failing comparison of two 300 KiB strings\nwith a line break in its name",
          "[.tap_sample]") {
  std::string body(300 << 10, '1');
  INFO("a message\nover two lines");
  CHECK(body == body + "2");
}

TEST_CASE("an exception with a long message", "[.tap_sample]") {
  WARN("a warning\nover two lines");
  throw std::runtime_error(std::string(100 << 10, '3'));
}
