// Repository name, tag, digest and upload id grammar (distribution/reference regexp.go),
// including the hostile inputs that must never reach a storage path.

#include "backend/registry/reference.h"

#include <catch2/catch.hpp>
#include <string>

using portico::registry::ErrorCode;
using portico::registry::isValidUploadId;
using portico::registry::parseDigest;
using portico::registry::Reference;
using portico::registry::Repository;
using portico::registry::Tag;

namespace {
const std::string kHex = "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824";

// "a/a/.../a": 128 components, 255 characters.
std::string manyComponents() {
  std::string name = "a";
  while (name.size() < 255) name += "/a";
  return name;
}
}  // namespace

TEST_CASE("distribution's valid repository names parse", "[reference]") {
  const std::string name =
      GENERATE(as<std::string>{}, "a", "ubuntu", "library/ubuntu", "a/b/c/d/e", "foo.bar",
               "foo_bar", "foo__bar", "foo-bar", "foo---bar", "a0/b1-c2.d3__e4", "0", "9a",
               std::string(255, 'a'), manyComponents());
  INFO(name);
  auto parsed = Repository::parse(name);
  REQUIRE(parsed);
  CHECK(parsed->str() == name);
}

TEST_CASE("invalid and hostile repository names are NAME_INVALID", "[reference]") {
  const std::string name =
      GENERATE(as<std::string>{}, "", "..", ".", "../etc", "a/..", "a/../b", "%2e%2e", "a/%2e%2e/b",
               "/abs", "a/", "a//b", "Upper", "library/Ubuntu", std::string("a\0b", 3), "a b",
               "a\\b", "-a", "a-", ".a", "a.", "_a", "a_", "a___b", "a..b", "a._b", "a.-b", "a:b",
               "a@b", "a/_uploads", "a/_layers/b", std::string(256, 'a'), "\xc3\xa9");
  INFO(name);
  auto parsed = Repository::parse(name);
  REQUIRE_FALSE(parsed);
  CHECK(parsed.error().is(ErrorCode::NameInvalid));
}

TEST_CASE("valid tags parse", "[reference]") {
  const std::string tag = GENERATE(as<std::string>{}, "latest", "v1.0.0", "1", "_", "A_b-C.d",
                                   "0.1-rc.2", "_private", std::string(128, 'x'));
  INFO(tag);
  auto parsed = Tag::parse(tag);
  REQUIRE(parsed);
  CHECK(parsed->str() == tag);
}

TEST_CASE("invalid tags are TAG_INVALID", "[reference]") {
  const std::string tag =
      GENERATE(as<std::string>{}, "", ".", "..", ".hidden", "-dash", "a/b", "a:b", "a b", "%2e%2e",
               std::string("a\0b", 3), std::string(129, 'x'), "tag\n");
  INFO(tag);
  auto parsed = Tag::parse(tag);
  REQUIRE_FALSE(parsed);
  CHECK(parsed.error().is(ErrorCode::TagInvalid));
}

TEST_CASE("digests parse; malformed ones are DIGEST_INVALID", "[reference]") {
  auto good = parseDigest("sha256:" + kHex);
  REQUIRE(good);
  CHECK(good->hex() == kHex);
  CHECK(parseDigest("sha512:" + std::string(128, 'a')));
  const std::string bad =
      GENERATE(as<std::string>{}, "", "sha256:", "sha256:abc", "sha256:" + std::string(64, 'A'),
               "sha256:" + kHex + "00", "sha256:../../etc", "md5:d41d8cd98f00b204e9800998ecf8427e",
               "sha256" + kHex, "sha512:" + kHex);
  INFO(bad);
  auto parsed = parseDigest(bad);
  REQUIRE_FALSE(parsed);
  CHECK(parsed.error().is(ErrorCode::DigestInvalid));
}

TEST_CASE("a manifest reference is a digest when it has a colon, else a tag", "[reference]") {
  auto by_tag = Reference::parse("v1");
  REQUIRE(by_tag);
  CHECK(by_tag->isTag());
  CHECK(by_tag->tag().str() == "v1");
  CHECK(by_tag->str() == "v1");
  auto by_digest = Reference::parse("sha256:" + kHex);
  REQUIRE(by_digest);
  CHECK(by_digest->isDigest());
  CHECK(by_digest->str() == "sha256:" + kHex);
  CHECK(Reference::parse("sha256:nothex").error().is(ErrorCode::DigestInvalid));
  CHECK(Reference::parse("..").error().is(ErrorCode::TagInvalid));
}

TEST_CASE("upload ids are single safe path components", "[reference]") {
  CHECK(isValidUploadId("a9f22438-3370-4e3a-b3d4-f00cf1eab125"));
  CHECK(isValidUploadId("abc_DEF.1="));
  const std::string bad = GENERATE(as<std::string>{}, "", ".", "..", ".hidden", "a/b", "../x",
                                   "a b", std::string("a\0b", 3), "%2e", std::string(129, 'a'));
  INFO(bad);
  CHECK_FALSE(isValidUploadId(bad));
}
