#pragma once
// Process logging for both binaries: spdlog's default logger, text or JSON lines, optionally
// asynchronous (a background thread writes; workers never block on the terminal or disk).
// Use spdlog's functions (spdlog::info(...)) after setup().

#include <spdlog/common.h>

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace portico::log {

enum class Format { Text, Json };

// Static key/value pairs added to every line (distribution's `log.fields`).
using Fields = std::vector<std::pair<std::string, std::string>>;

struct Options {
  spdlog::level::level_enum level = spdlog::level::info;
  Format format = Format::Text;
  bool async = true;
  Fields fields;  // text: " key=value" after the message; JSON: members before "msg"
};

// Installs the default logger on stderr with these options. Call once at start (and again on
// reload to change the level or format). Not for the request path.
void setup(const Options& options);

// "trace" "debug" "info" "warn"/"warning" "error" "critical"/"fatal" "off" (case-insensitive).
std::optional<spdlog::level::level_enum> parseLevel(std::string_view text);
// "text" or "json".
std::optional<Format> parseFormat(std::string_view text);

// A fresh request id: 16 lowercase hex digits, unique within the process and random across
// processes. Cheap and lock-free (one thread-local generator per thread).
std::string newRequestId();

}  // namespace portico::log
