#include "proxy/failure.h"

#include "common/http/client.h"

namespace portico::proxy {

FailureSource failureSourceOf(const Error& error) {
  if (!error.inDomain<http::ClientErrc>()) return FailureSource::Internal;
  switch (error.code<http::ClientErrc>()) {
    case http::ClientErrc::ConnectFailed:
      return FailureSource::ConnectFailed;
    case http::ClientErrc::ConnectTimeout:
    case http::ClientErrc::ReadTimeout:
    case http::ClientErrc::WriteTimeout:
      return FailureSource::Timeout;
    case http::ClientErrc::Reset:
      return FailureSource::Reset;
    case http::ClientErrc::Malformed:
      return FailureSource::Malformed;
  }
  return FailureSource::Internal;
}

std::string_view describe(FailureSource source) {
  switch (source) {
    case FailureSource::ConnectFailed:
      return "upstream connection failed";
    case FailureSource::Timeout:
      return "upstream timed out";
    case FailureSource::Reset:
      return "upstream closed the connection";
    case FailureSource::Malformed:
      return "upstream sent an invalid response";
    case FailureSource::ResetAfterHead:
      return "upstream failed during the response body";
    case FailureSource::Internal:
      return "internal error";
  }
  return "error";
}

std::string_view metricLabel(FailureSource source) {
  constexpr std::array<std::string_view, kFailureSourceCount> kLabels = {
      "connect_failed", "timeout", "reset", "malformed", "reset_after_head", "internal"};
  auto index = static_cast<size_t>(source);
  return index < kLabels.size() ? kLabels[index] : "internal";
}

}  // namespace portico::proxy
