#pragma once
// Why the proxy answered a request itself instead of relaying the upstream's answer: the
// failure classes of ProxySession (502/504 or a reset downstream), with the text the access
// log and the error body carry and the label of portico_proxy_upstream_failures_total.

#include <array>
#include <cstddef>
#include <string_view>

#include "common/error.h"

namespace portico::proxy {

enum class FailureSource { ConnectFailed, Timeout, Reset, Malformed, ResetAfterHead, Internal };
inline constexpr size_t kFailureSourceCount = 6;

// The class of an upstream exchange's error (http::ClientErrc; anything else is Internal).
FailureSource failureSourceOf(const Error& error);

// A sentence for logs and error bodies ("upstream timed out").
std::string_view describe(FailureSource source);

// The metric label value ("timeout"); stable, dashboards read it.
std::string_view metricLabel(FailureSource source);

}  // namespace portico::proxy
