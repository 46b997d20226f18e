#pragma once
// std::chrono durations as the timeval libevent's timers and bufferevent timeouts take.

#include <sys/time.h>

#include <chrono>

namespace portico::net {

inline timeval toTimeval(std::chrono::milliseconds ms) {
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(ms.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((ms.count() % 1000) * 1000);
  return tv;
}

}  // namespace portico::net
