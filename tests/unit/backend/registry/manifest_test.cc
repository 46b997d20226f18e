// Manifest parsing and validation per media type (backend/registry/manifests/), no storage.

#include "backend/registry/manifests/manifest.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "backend/registry/error_code.h"

namespace manifests = portico::registry::manifests;
using nlohmann::json;
using portico::crypto::Digest;
using portico::registry::ErrorCode;

namespace {

json descriptorOf(std::string_view media_type, std::string_view content) {
  return json{
      {"mediaType", media_type}, {"digest", Digest::of(content).str()}, {"size", content.size()}};
}

json ociManifest() {
  return json{
      {"schemaVersion", 2},
      {"mediaType", manifests::kOciManifest},
      {"config", descriptorOf("application/vnd.oci.image.config.v1+json", "config")},
      {"layers",
       json::array({descriptorOf("application/vnd.oci.image.layer.v1.tar+gzip", "layer")})}};
}

json dockerManifest() {
  return json{
      {"schemaVersion", 2},
      {"mediaType", manifests::kDockerSchema2},
      {"config", descriptorOf("application/vnd.docker.container.image.v1+json", "config")},
      {"layers",
       json::array({descriptorOf("application/vnd.docker.image.rootfs.diff.tar.gzip", "layer1"),
                    descriptorOf("application/vnd.docker.image.rootfs.diff.tar.gzip", "layer2")})}};
}

json index(std::string_view media_type) {
  json child = descriptorOf(manifests::kOciManifest, ociManifest().dump());
  child["platform"] = {{"architecture", "amd64"}, {"os", "linux"}};
  return json{{"schemaVersion", 2}, {"mediaType", media_type}, {"manifests", json::array({child})}};
}

void requireInvalid(std::string_view content_type, const std::string& body) {
  auto parsed = manifests::parse(content_type, body);
  INFO(body);
  REQUIRE_FALSE(parsed);
  CHECK(parsed.error().is(ErrorCode::ManifestInvalid));
}

// RFC 4648 §5 base64url without padding (JOSE), for building libtrust protected headers.
std::string base64Url(std::string_view data) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  uint32_t accumulator = 0;
  int bits = 0;
  for (unsigned char c : data) {
    accumulator = (accumulator << 8) | c;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out.push_back(kAlphabet[(accumulator >> bits) & 0x3f]);
    }
  }
  if (bits > 0) out.push_back(kAlphabet[(accumulator << (6 - bits)) & 0x3f]);
  return out;
}

// A schema1 manifest as libtrust's NewJSONSignature sees it (3-space indent, like Docker).
const std::string kSchema1Payload = R"({
   "schemaVersion": 1,
   "name": "library/hello",
   "tag": "latest",
   "architecture": "amd64",
   "fsLayers": [
      {
         "blobSum": ")" + Digest::of("layer-a").str() +
                                    R"("
      },
      {
         "blobSum": ")" + Digest::of("layer-a").str() +
                                    R"("
      }
   ],
   "history": [
      {
         "v1Compatibility": "{\"id\":\"2\"}"
      },
      {
         "v1Compatibility": "{\"id\":\"1\"}"
      }
   ]
})";

// Signs `payload` the way libtrust's PrettySignature lays it out: the payload up to its last
// non-space character before the closing brace (formatLength), then `"signatures": [...]`,
// then the tail ("\n}"), whose base64url goes in the protected header (formatTail).
std::string prettySign(const std::string& payload, size_t signature_count = 1,
                       long format_length_skew = 0) {
  const size_t close = payload.find_last_not_of(" \t\r\n");
  const size_t format_length = payload.find_last_not_of(" \t\r\n", close - 1) + 1;
  const std::string tail = payload.substr(format_length);
  std::string signatures;
  for (size_t i = 0; i < signature_count; ++i) {
    const json protected_header{
        {"formatLength", static_cast<long>(format_length) + (i == 1 ? format_length_skew : 0)},
        {"formatTail", base64Url(tail)},
        {"time", "2015-06-01T00:00:00Z"}};
    if (i > 0) signatures += ",\n";
    signatures += R"(      {
         "header": {
            "jwk": {"crv": "P-256", "kid": "K", "kty": "EC", "x": "x", "y": "y"},
            "alg": "ES256"
         },
         "signature": "c2lnbmF0dXJl",
         "protected": ")" +
                  base64Url(protected_header.dump()) +
                  R"("
      })";
  }
  return payload.substr(0, format_length) + ",\n   \"signatures\": [\n" + signatures + "\n   ]" +
         tail;
}

}  // namespace

TEST_CASE("an OCI image manifest lists its config and layers as blobs", "[manifests]") {
  const std::string body = ociManifest().dump();
  auto parsed = manifests::parse(manifests::kOciManifest, body);
  REQUIRE(parsed);
  CHECK(parsed->media_type == manifests::kOciManifest);
  CHECK(parsed->digest == Digest::of(body));
  REQUIRE(parsed->blobs.size() == 2);
  CHECK(parsed->blobs[0].digest == Digest::of("config"));
  CHECK(parsed->blobs[1].digest == Digest::of("layer"));
  CHECK(parsed->blobs[1].size == 5);
  CHECK(parsed->manifests.empty());
  CHECK_FALSE(parsed->subject);
  // Without artifactType, the referrers artifact type is the config media type.
  CHECK(parsed->artifact_type == "application/vnd.oci.image.config.v1+json");
}

TEST_CASE("an OCI manifest without mediaType is accepted when Content-Type says OCI",
          "[manifests]") {
  json doc = ociManifest();
  doc.erase("mediaType");
  auto parsed =
      manifests::parse("application/vnd.oci.image.manifest.v1+json; charset=utf-8", doc.dump());
  REQUIRE(parsed);
  CHECK(parsed->media_type == manifests::kOciManifest);
}

TEST_CASE("an OCI artifact with the empty config, artifactType, subject and annotations",
          "[manifests]") {
  json doc = ociManifest();
  doc["artifactType"] = "application/vnd.example.sbom";
  doc["config"] = descriptorOf(manifests::kOciEmpty, "{}");
  doc["subject"] = descriptorOf(manifests::kOciManifest, "the subject");
  doc["annotations"] = {{"org.opencontainers.image.created", "2026-11-27T00:00:00Z"}};
  auto parsed = manifests::parse(manifests::kOciManifest, doc.dump());
  REQUIRE(parsed);
  CHECK(parsed->blobs.front().digest.str() == manifests::kOciEmptyDigest);
  CHECK(parsed->artifact_type == "application/vnd.example.sbom");
  REQUIRE(parsed->subject);
  CHECK(parsed->subject->digest == Digest::of("the subject"));
  CHECK(parsed->annotations.at("org.opencontainers.image.created") == "2026-11-27T00:00:00Z");
}

TEST_CASE("a Docker schema2 manifest lists config and layers", "[manifests]") {
  const std::string body = dockerManifest().dump(3);
  auto parsed = manifests::parse(manifests::kDockerSchema2, body);
  REQUIRE(parsed);
  CHECK(parsed->media_type == manifests::kDockerSchema2);
  CHECK(parsed->digest == Digest::of(body));
  CHECK(parsed->blobs.size() == 3);
  CHECK(parsed->artifact_type.empty());
}

TEST_CASE("a generic Content-Type takes the type from the JSON", "[manifests]") {
  auto parsed = manifests::parse("application/json", dockerManifest().dump());
  REQUIRE(parsed);
  CHECK(parsed->media_type == manifests::kDockerSchema2);
  auto bare_index = index(manifests::kOciIndex);
  bare_index.erase("mediaType");
  auto inferred = manifests::parse("", bare_index.dump());
  REQUIRE(inferred);
  CHECK(inferred->media_type == manifests::kOciIndex);
}

TEST_CASE("manifest lists and OCI indexes list their child manifests", "[manifests]") {
  const auto media_type = GENERATE(manifests::kDockerManifestList, manifests::kOciIndex);
  const std::string body = index(media_type).dump();
  auto parsed = manifests::parse(media_type, body);
  REQUIRE(parsed);
  CHECK(parsed->media_type == media_type);
  CHECK(parsed->blobs.empty());
  REQUIRE(parsed->manifests.size() == 1);
  CHECK(parsed->manifests[0].digest == Digest::of(ociManifest().dump()));
  // An index without artifactType has none (it is not derived from anything).
  CHECK(parsed->artifact_type.empty());
}

TEST_CASE("an OCI index with a subject and artifactType", "[manifests]") {
  json doc = index(manifests::kOciIndex);
  doc["subject"] = descriptorOf(manifests::kOciManifest, "subject");
  doc["artifactType"] = "application/vnd.example.signatures";
  auto parsed = manifests::parse(manifests::kOciIndex, doc.dump());
  REQUIRE(parsed);
  REQUIRE(parsed->subject);
  CHECK(parsed->subject->digest == Digest::of("subject"));
  CHECK(parsed->artifact_type == "application/vnd.example.signatures");
}

TEST_CASE("malformed manifests are MANIFEST_INVALID", "[manifests]") {
  SECTION("not JSON") {
    requireInvalid(manifests::kOciManifest, "{\"schemaVersion\": 2,");
  }
  SECTION("not an object") {
    requireInvalid(manifests::kOciManifest, "[1,2]");
  }
  SECTION("wrong schemaVersion") {
    json doc = ociManifest();
    doc["schemaVersion"] = 3;
    requireInvalid(manifests::kOciManifest, doc.dump());
    doc["schemaVersion"] = "2";
    requireInvalid(manifests::kOciManifest, doc.dump());
  }
  SECTION("missing schemaVersion") {
    json doc = dockerManifest();
    doc.erase("schemaVersion");
    requireInvalid(manifests::kDockerSchema2, doc.dump());
  }
  SECTION("bad digest in a layer") {
    json doc = ociManifest();
    doc["layers"][0]["digest"] = "sha256:1234";
    requireInvalid(manifests::kOciManifest, doc.dump());
    doc["layers"][0]["digest"] = "md5:d41d8cd98f00b204e9800998ecf8427e";
    requireInvalid(manifests::kOciManifest, doc.dump());
  }
  SECTION("negative or non-integer size") {
    json doc = ociManifest();
    doc["config"]["size"] = -1;
    requireInvalid(manifests::kOciManifest, doc.dump());
    doc["config"]["size"] = 1.5;
    requireInvalid(manifests::kOciManifest, doc.dump());
    doc["config"]["size"] = "12";
    requireInvalid(manifests::kOciManifest, doc.dump());
  }
  SECTION("descriptor without mediaType") {
    json doc = dockerManifest();
    doc["layers"][1].erase("mediaType");
    requireInvalid(manifests::kDockerSchema2, doc.dump());
  }
  SECTION("missing config or layers") {
    json doc = ociManifest();
    doc.erase("config");
    requireInvalid(manifests::kOciManifest, doc.dump());
    doc = ociManifest();
    doc["layers"] = json::object();
    requireInvalid(manifests::kOciManifest, doc.dump());
  }
  SECTION("annotations that are not strings") {
    json doc = ociManifest();
    doc["annotations"] = {{"a", 1}};
    requireInvalid(manifests::kOciManifest, doc.dump());
  }
  SECTION("Content-Type and mediaType disagree") {
    requireInvalid(manifests::kDockerSchema2, ociManifest().dump());
    requireInvalid(manifests::kOciIndex, ociManifest().dump());
  }
  SECTION("unknown media type") {
    requireInvalid("application/vnd.oci.artifact.manifest.v1+json", ociManifest().dump());
    json doc = ociManifest();
    doc["mediaType"] = "application/vnd.example+json";
    requireInvalid("application/json", doc.dump());
  }
  SECTION("a Docker manifest without its mediaType") {
    json doc = dockerManifest();
    doc.erase("mediaType");
    requireInvalid(manifests::kDockerSchema2, doc.dump());
  }
  SECTION("an index whose manifests are not descriptors") {
    json doc = index(manifests::kOciIndex);
    doc["manifests"][0]["digest"] = "sha256:XYZ";
    requireInvalid(manifests::kOciIndex, doc.dump());
    doc["manifests"] = "nope";
    requireInvalid(manifests::kOciIndex, doc.dump());
  }
  SECTION("larger than kMaxManifestBytes") {
    json doc = ociManifest();
    doc["annotations"] = {{"padding", std::string(manifests::kMaxManifestBytes, 'x')}};
    requireInvalid(manifests::kOciManifest, doc.dump());
  }
}

TEST_CASE("a signed schema1 manifest's digest covers the payload without signatures",
          "[manifests][schema1]") {
  const std::string signed_body = prettySign(kSchema1Payload);
  // The payload was written before signing, so this digest is computed independently of the
  // parser's formatLength/formatTail reconstruction.
  const Digest expected = Digest::of(kSchema1Payload);
  auto parsed = manifests::parse(manifests::kDockerSchema1Signed, signed_body);
  REQUIRE(parsed);
  CHECK(parsed->media_type == manifests::kDockerSchema1Signed);
  CHECK(parsed->digest == expected);
  CHECK(parsed->digest != Digest::of(signed_body));
  CHECK(parsed->schema1_payload == kSchema1Payload);
  CHECK(parsed->schema1_name == "library/hello");
  CHECK(parsed->schema1_tag == "latest");
  // Two fsLayers with the same blobSum reference one blob.
  REQUIRE(parsed->blobs.size() == 1);
  CHECK(parsed->blobs[0].digest == Digest::of("layer-a"));

  SECTION("two signatures that agree give the same digest") {
    auto twice = manifests::parse(manifests::kDockerSchema1Signed, prettySign(kSchema1Payload, 2));
    REQUIRE(twice);
    CHECK(twice->digest == expected);
  }
  SECTION("Docker 1.6 sends application/json; the JSON says schema1 signed") {
    auto generic = manifests::parse("application/json", signed_body);
    REQUIRE(generic);
    CHECK(generic->media_type == manifests::kDockerSchema1Signed);
    CHECK(generic->digest == expected);
  }
}

TEST_CASE("an unsigned schema1 manifest is accepted as v1+json and digested whole",
          "[manifests][schema1]") {
  auto parsed = manifests::parse(manifests::kDockerSchema1, kSchema1Payload);
  REQUIRE(parsed);
  CHECK(parsed->media_type == manifests::kDockerSchema1);
  CHECK(parsed->digest == Digest::of(kSchema1Payload));
  CHECK(parsed->schema1_payload.empty());
}

TEST_CASE("malformed schema1 manifests are MANIFEST_INVALID", "[manifests][schema1]") {
  SECTION("prettyjws without signatures") {
    requireInvalid(manifests::kDockerSchema1Signed, kSchema1Payload);
  }
  SECTION("signatures that disagree on formatLength") {
    requireInvalid(manifests::kDockerSchema1Signed, prettySign(kSchema1Payload, 2, -1));
  }
  SECTION("a protected header that is not base64url JSON") {
    std::string body = prettySign(kSchema1Payload);
    const auto at = body.find("\"protected\": \"") + 14;
    body.insert(at, "!!");
    requireInvalid(manifests::kDockerSchema1Signed, body);
  }
  SECTION("history and fsLayers of different lengths") {
    json doc = json::parse(kSchema1Payload);
    doc["history"].erase(0);
    requireInvalid(manifests::kDockerSchema1, doc.dump(3));
  }
  SECTION("a bad blobSum") {
    json doc = json::parse(kSchema1Payload);
    doc["fsLayers"][0]["blobSum"] = "sha256:zz";
    requireInvalid(manifests::kDockerSchema1, doc.dump(3));
  }
  SECTION("missing name") {
    json doc = json::parse(kSchema1Payload);
    doc.erase("name");
    requireInvalid(manifests::kDockerSchema1, doc.dump(3));
  }
  SECTION("schemaVersion 2 sent as schema1") {
    requireInvalid(manifests::kDockerSchema1Signed, dockerManifest().dump());
  }
}

TEST_CASE("storedMediaType decides like distribution's manifestStore.Get", "[manifests]") {
  CHECK(manifests::storedMediaType(dockerManifest().dump()) == manifests::kDockerSchema2);
  json bare = ociManifest();
  bare.erase("mediaType");
  CHECK(manifests::storedMediaType(bare.dump()) == manifests::kOciManifest);
  json bare_index = index(manifests::kOciIndex);
  bare_index.erase("mediaType");
  CHECK(manifests::storedMediaType(bare_index.dump()) == manifests::kOciIndex);
  CHECK(manifests::storedMediaType(kSchema1Payload) == manifests::kDockerSchema1);
  CHECK(manifests::storedMediaType(prettySign(kSchema1Payload)) == manifests::kDockerSchema1Signed);
  CHECK(manifests::storedMediaType("garbage").empty());
}

TEST_CASE("a manifest followed by a NUL and more bytes is MANIFEST_INVALID", "[manifests]") {
  const std::string valid = ociManifest().dump();
  for (const std::string& tail :
       {std::string("\0", 1), std::string("\0garbage", 8), std::string("\0{\"layers\":[]}", 15)}) {
    auto parsed = manifests::parse(manifests::kOciManifest, valid + tail);
    REQUIRE_FALSE(parsed);
    CHECK(parsed.error().is(ErrorCode::ManifestInvalid));
  }
}

TEST_CASE("a manifest with a byte order mark is MANIFEST_INVALID", "[manifests]") {
  auto parsed = manifests::parse(manifests::kOciManifest, "\xEF\xBB\xBF" + ociManifest().dump());
  REQUIRE_FALSE(parsed);
  CHECK(parsed.error().is(ErrorCode::ManifestInvalid));
}

TEST_CASE("a manifest is one JSON value with only JSON whitespace around it", "[manifests]") {
  const std::string valid = ociManifest().dump();
  CHECK(manifests::parse(manifests::kOciManifest, " \t\r\n" + valid + "\n \t\r"));
  for (const std::string& body : {valid + "{}", valid + " x", valid + "\f", "\v" + valid}) {
    auto parsed = manifests::parse(manifests::kOciManifest, body);
    REQUIRE_FALSE(parsed);
    CHECK(parsed.error().is(ErrorCode::ManifestInvalid));
  }
}

TEST_CASE("nesting deeper than kMaxManifestDepth is refused before parsing", "[manifests]") {
  auto nested = [](size_t depth) {
    json doc = ociManifest();
    std::string deep = std::string(depth, '[') + std::string(depth, ']');
    std::string body = doc.dump();
    // An annotation-like member holding the nested arrays (the document itself is depth 1).
    body.insert(body.size() - 1, ",\"x\":" + deep);
    return body;
  };
  CHECK(manifests::parse(manifests::kOciManifest, nested(manifests::kMaxManifestDepth - 1)));
  auto deep = manifests::parse(manifests::kOciManifest, nested(manifests::kMaxManifestDepth));
  REQUIRE_FALSE(deep);
  CHECK(deep.error().is(ErrorCode::ManifestInvalid));
  // Two million levels in 4 MiB: refused by the scan (no tree of that depth is built).
  auto bomb = manifests::parse(manifests::kOciManifest,
                               std::string(2'000'000, '[') + std::string(2'000'000, ']'));
  REQUIRE_FALSE(bomb);
  CHECK(bomb.error().is(ErrorCode::ManifestInvalid));
  // Brackets inside strings do not count.
  json doc = ociManifest();
  doc["annotations"] = {{"a", std::string(1000, '[') + "\\\"" + std::string(1000, '{')}};
  CHECK(manifests::parse(manifests::kOciManifest, doc.dump()));
}
