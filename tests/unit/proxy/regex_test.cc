#include "proxy/regex.h"

#include <catch2/catch.hpp>

#include <string>
#include <thread>
#include <vector>

using portico::proxy::Regex;
using portico::proxy::RegexErrc;

TEST_CASE("a regex matches anywhere unless anchored", "[regex]") {
  auto regex = Regex::compile("docker/1\\.[0-5]\\.");
  REQUIRE(regex);
  CHECK(regex->matches("docker/1.5.0 go/go1.4"));
  CHECK(regex->matches("x docker/1.0.1"));
  CHECK_FALSE(regex->matches("docker/1.6.0"));
  CHECK(regex->pattern() == "docker/1\\.[0-5]\\.");

  auto anchored = Regex::compile("^/v2/");
  REQUIRE(anchored);
  CHECK(anchored->matches("/v2/library/alpine/manifests/latest"));
  CHECK_FALSE(anchored->matches("/x/v2/"));
}

TEST_CASE("nginx-style lookaheads work; bytes are not UTF-8 checked", "[regex]") {
  auto regex = Regex::compile("^(?!.*Go-http-client).*docker/");
  REQUIRE(regex);
  CHECK(regex->matches("docker/20.10 go/go1.16"));
  CHECK_FALSE(regex->matches("Go-http-client/1.1 docker/1.5"));
  auto bytes = Regex::compile("\\xff");
  REQUIRE(bytes);
  CHECK(bytes->matches(std::string("a\xff", 2)));
}

TEST_CASE("an invalid pattern is an error that names the offset", "[regex]") {
  auto regex = Regex::compile("docker/(1");
  REQUIRE_FALSE(regex);
  CHECK(regex.error().is(RegexErrc::Invalid));
  CHECK_FALSE(regex.error().message().empty());
}

TEST_CASE("copies share the compiled pattern across threads", "[regex]") {
  auto regex = Regex::compile("^GET /v2/[a-z]+$");
  REQUIRE(regex);
  std::vector<int> hits(4, 0);
  std::vector<std::thread> threads;
  for (size_t t = 0; t < hits.size(); ++t) {
    threads.emplace_back([copy = *regex, &hits, t] {
      for (int i = 0; i < 1000; ++i) hits[t] += copy.matches("GET /v2/abc") ? 1 : 0;
    });
  }
  for (auto& thread : threads) thread.join();
  for (int h : hits) CHECK(h == 1000);
}
