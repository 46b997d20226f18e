#include "backend/api/location.h"

#include <catch2/catch.hpp>

using portico::api::ApiOptions;
using portico::api::urlBase;
using portico::http::RequestHead;

namespace {

RequestHead withHeaders(std::initializer_list<std::pair<const char*, const char*>> headers) {
  RequestHead head;
  for (auto [name, value] : headers) head.headers.add(name, value);
  return head;
}

}  // namespace

TEST_CASE("Location base comes from Host and the connection's TLS", "[location]") {
  ApiOptions options;
  CHECK(urlBase(withHeaders({{"Host", "reg:5000"}}), false, options) == "http://reg:5000");
  CHECK(urlBase(withHeaders({{"Host", "reg:5000"}}), true, options) == "https://reg:5000");
}

TEST_CASE("X-Forwarded-Proto and X-Forwarded-Host win over Host (first list element)",
          "[location]") {
  ApiOptions options;
  auto head = withHeaders({{"Host", "127.0.0.1:5001"},
                           {"X-Forwarded-Proto", "https, http"},
                           {"X-Forwarded-Host", "registry.example.com, inner"}});
  CHECK(urlBase(head, false, options) == "https://registry.example.com");
}

TEST_CASE("http.host and http.relativeurls override the request", "[location]") {
  ApiOptions options;
  options.host = "https://fixed.example";
  CHECK(urlBase(withHeaders({{"Host", "x"}}), false, options) == "https://fixed.example");
  options.relative_urls = true;
  CHECK(urlBase(withHeaders({{"Host", "x"}}), false, options).empty());
}

TEST_CASE("a hostile forwarded host is ignored", "[location]") {
  ApiOptions options;
  auto head = withHeaders({{"Host", "good:1"}, {"X-Forwarded-Host", "evil.com/\r\nX: y"}});
  CHECK(urlBase(head, false, options) == "http://good:1");
  CHECK(urlBase(withHeaders({}), false, options).empty());
}
