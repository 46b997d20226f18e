#include "common/result.h"

#include <catch2/catch.hpp>
#include <string>

namespace {

enum class FirstErrc { NotFound = 1 };
enum class SecondErrc { Other = 1 };

portico::Result<int> parsePositive(int value) {
  if (value <= 0) return portico::Error{FirstErrc::NotFound, "not positive", std::to_string(value)};
  return value;
}

}  // namespace

TEST_CASE("a successful Result holds its value", "[result]") {
  auto result = parsePositive(7);
  REQUIRE(result.has_value());
  CHECK(*result == 7);
}

TEST_CASE("a failed Result carries code, message and detail", "[result]") {
  auto result = parsePositive(-1);
  REQUIRE_FALSE(result);
  CHECK(result.error().is(FirstErrc::NotFound));
  CHECK(result.error().message() == "not positive");
  CHECK(result.error().detail() == "-1");
}

TEST_CASE("errors of different domains with equal values are different", "[result]") {
  portico::Error error{FirstErrc::NotFound, "x"};
  CHECK_FALSE(error.is(SecondErrc::Other));
  CHECK(error.inDomain<FirstErrc>());
  CHECK_FALSE(error.inDomain<SecondErrc>());
}

TEST_CASE("Result<void> is ok by default and fails with an error", "[result]") {
  portico::Result<void> good = portico::ok();
  CHECK(good.has_value());
  portico::Result<void> bad = portico::Error{SecondErrc::Other, "boom"};
  REQUIRE_FALSE(bad);
  CHECK(bad.error().message() == "boom");
}
