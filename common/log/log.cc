#include "common/log/log.h"

#include <spdlog/async.h>
#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <mutex>
#include <random>

#include "common/log/json_escape.h"

namespace portico::log {
namespace {

// %* in a pattern: the message, escaped for a JSON string.
class JsonMessageFlag : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm&,
              spdlog::memory_buf_t& dest) override {
    const std::string escaped =
        jsonEscape(std::string_view(msg.payload.data(), msg.payload.size()));
    dest.append(escaped.data(), escaped.data() + escaped.size());
  }
  std::unique_ptr<custom_flag_formatter> clone() const override {
    return std::make_unique<JsonMessageFlag>();
  }
};

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

uint64_t splitmix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

}  // namespace

void ensureThreadPool() {
  static std::once_flag once;
  // One pool for the process: async loggers hold it weakly, so it is never replaced.
  std::call_once(once, [] {
    if (!spdlog::thread_pool()) spdlog::init_thread_pool(8192, 1);
  });
}

std::unique_ptr<spdlog::formatter> makeFormatter(Format format, const Fields& fields) {
  // Fields are static, so they are baked into the pattern ('%' escaped as "%%").
  auto pattern_text = [](std::string_view text) {
    std::string out;
    for (char c : text) {
      if (c == '%') out += '%';
      out += c;
    }
    return out;
  };
  auto formatter = std::make_unique<spdlog::pattern_formatter>();
  if (format == Format::Json) {
    std::string members;
    for (const auto& [key, value] : fields) {
      members +=
          "\"" + pattern_text(jsonEscape(key)) + "\":\"" + pattern_text(jsonEscape(value)) + "\",";
    }
    formatter->add_flag<JsonMessageFlag>('*').set_pattern(
        R"({"time":"%Y-%m-%dT%H:%M:%S.%e%z","level":"%l","thread":%t,)" + members +
        R"("msg":"%*"})");
  } else {
    std::string suffix;
    for (const auto& [key, value] : fields) {
      suffix += " " + pattern_text(key) + "=" + pattern_text(nginxEscape(value));
    }
    formatter->set_pattern("%Y-%m-%dT%H:%M:%S.%e%z %l [%t] %v" + suffix);
  }
  return formatter;
}

void setup(const Options& options) {
  auto sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
  std::shared_ptr<spdlog::logger> logger;
  if (options.async) {
    ensureThreadPool();
    logger = std::make_shared<spdlog::async_logger>("portico", sink, spdlog::thread_pool(),
                                                    spdlog::async_overflow_policy::block);
  } else {
    logger = std::make_shared<spdlog::logger>("portico", sink);
  }
  logger->set_formatter(makeFormatter(options.format, options.fields));
  logger->set_level(options.level);
  logger->flush_on(spdlog::level::warn);
  spdlog::set_default_logger(std::move(logger));
}

std::optional<spdlog::level::level_enum> parseLevel(std::string_view text) {
  const std::string name = lower(text);
  if (name == "trace") return spdlog::level::trace;
  if (name == "debug") return spdlog::level::debug;
  if (name == "info") return spdlog::level::info;
  if (name == "warn" || name == "warning") return spdlog::level::warn;
  if (name == "error") return spdlog::level::err;
  if (name == "critical" || name == "fatal" || name == "panic") return spdlog::level::critical;
  if (name == "off") return spdlog::level::off;
  return std::nullopt;
}

std::optional<Format> parseFormat(std::string_view text) {
  const std::string name = lower(text);
  if (name == "text") return Format::Text;
  if (name == "json") return Format::Json;
  return std::nullopt;
}

std::string newRequestId() {
  // Per thread: a random base, then a bijective mix of base + counter, so ids never repeat
  // within a thread and collide across threads/processes only by 64-bit chance.
  thread_local uint64_t base = [] {
    std::random_device device;
    return (static_cast<uint64_t>(device()) << 32) ^ device();
  }();
  thread_local uint64_t counter = 0;
  const uint64_t id = splitmix64(base + counter++);
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(16, '0');
  for (int i = 15, shift = 0; i >= 0; --i, shift += 4) out[i] = kDigits[(id >> shift) & 0xf];
  return out;
}

}  // namespace portico::log
