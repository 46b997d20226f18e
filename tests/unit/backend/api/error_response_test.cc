#include "backend/api/error_response.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <string>

using portico::Error;
using portico::api::describe;
using portico::api::errorResponse;
using portico::api::renderErrorBody;
using portico::registry::ErrorCode;

namespace {

struct Row {
  ErrorCode code;
  const char* value;
  int status;
};

}  // namespace

TEST_CASE("every registry error code has distribution's string and status", "[error_response]") {
  auto row = GENERATE(
      Row{ErrorCode::BlobUnknown, "BLOB_UNKNOWN", 404},
      Row{ErrorCode::BlobUploadInvalid, "BLOB_UPLOAD_INVALID", 404},
      Row{ErrorCode::BlobUploadUnknown, "BLOB_UPLOAD_UNKNOWN", 404},
      Row{ErrorCode::DigestInvalid, "DIGEST_INVALID", 400},
      Row{ErrorCode::ManifestBlobUnknown, "MANIFEST_BLOB_UNKNOWN", 400},
      Row{ErrorCode::ManifestInvalid, "MANIFEST_INVALID", 400},
      Row{ErrorCode::ManifestUnknown, "MANIFEST_UNKNOWN", 404},
      Row{ErrorCode::ManifestUnverified, "MANIFEST_UNVERIFIED", 400},
      Row{ErrorCode::NameInvalid, "NAME_INVALID", 400},
      Row{ErrorCode::NameUnknown, "NAME_UNKNOWN", 404},
      Row{ErrorCode::SizeInvalid, "SIZE_INVALID", 400},
      Row{ErrorCode::TagInvalid, "TAG_INVALID", 400},
      Row{ErrorCode::Unauthorized, "UNAUTHORIZED", 401}, Row{ErrorCode::Denied, "DENIED", 403},
      Row{ErrorCode::Unsupported, "UNSUPPORTED", 405},
      Row{ErrorCode::TooManyRequests, "TOOMANYREQUESTS", 429},
      Row{ErrorCode::RangeInvalid, "RANGE_INVALID", 416},
      Row{ErrorCode::PaginationNumberInvalid, "PAGINATION_NUMBER_INVALID", 400},
      Row{ErrorCode::Unavailable, "UNAVAILABLE", 503}, Row{ErrorCode::Internal, "UNKNOWN", 500});
  INFO(row.value);
  const auto& descriptor = describe(row.code);
  CHECK(descriptor.code == row.code);
  CHECK(descriptor.value == row.value);
  CHECK(descriptor.status == row.status);
  CHECK_FALSE(descriptor.message.empty());

  auto response = errorResponse(Error{row.code, "what happened", "the detail"});
  CHECK(response.status == row.status);
  auto body = nlohmann::json::parse(response.body);
  REQUIRE(body["errors"].size() == 1);
  CHECK(body["errors"][0]["code"] == row.value);
  CHECK(body["errors"][0]["message"] == std::string(descriptor.message));
  CHECK(body["errors"][0]["detail"] == "the detail");
}

TEST_CASE("the error body falls back to the message as detail, and omits an empty one",
          "[error_response]") {
  auto with_message = nlohmann::json::parse(
      errorResponse(Error{ErrorCode::BlobUnknown, "sha256:abc not here"}).body);
  CHECK(with_message["errors"][0]["detail"] == "sha256:abc not here");
  auto bare = nlohmann::json::parse(renderErrorBody(ErrorCode::NameUnknown, ""));
  CHECK_FALSE(bare["errors"][0].contains("detail"));
  CHECK(bare["errors"][0]["code"] == "NAME_UNKNOWN");
}

TEST_CASE("errors from other layers render as UNKNOWN 500", "[error_response]") {
  enum class OtherErrc { Boom = 1 };
  auto response = errorResponse(Error{OtherErrc::Boom, "disk on fire"});
  CHECK(response.status == 500);
  CHECK(nlohmann::json::parse(response.body)["errors"][0]["code"] == "UNKNOWN");
}

TEST_CASE("an error from another layer never sends its storage path", "[error_response]") {
  enum class OtherErrc { Io = 1 };
  auto response = errorResponse(Error{OtherErrc::Io, "open: Permission denied",
                                      "/docker/registry/v2/repositories/a/_layers/sha256/ab/link"});
  CHECK(response.status == 500);
  CHECK(response.body.find("/docker/registry") == std::string::npos);
  CHECK(response.body.find("_layers") == std::string::npos);
}

TEST_CASE("an unknown path is a JSON 404", "[error_response]") {
  auto response = portico::api::routeNotFound("/nope");
  CHECK(response.status == 404);
  auto body = nlohmann::json::parse(response.body);
  CHECK(body["errors"][0]["code"] == "NOT_FOUND");
  CHECK(body["errors"][0]["detail"] == "/nope");
}

TEST_CASE("details with invalid UTF-8 still render valid JSON", "[error_response]") {
  auto body = renderErrorBody(ErrorCode::NameInvalid, std::string("a\xff\x01", 3));
  CHECK_NOTHROW(nlohmann::json::parse(body));
}
