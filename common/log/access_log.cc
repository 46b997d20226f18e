#include "common/log/access_log.h"

#include <spdlog/async.h>
#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <ctime>
#include <nlohmann/json.hpp>

#include "common/log/json_escape.h"

namespace portico::log {
namespace {

std::string orDash(const std::string& value) {
  return value.empty() ? "-" : value;
}

std::string seconds(double value) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.3f", value);
  return buffer;
}

std::string localTime(std::chrono::system_clock::time_point time) {
  const std::time_t t = std::chrono::system_clock::to_time_t(time);
  std::tm tm{};
  localtime_r(&t, &tm);
  char buffer[64];
  std::strftime(buffer, sizeof buffer, "%d/%b/%Y:%H:%M:%S %z", &tm);
  return buffer;
}

std::string isoTime(std::chrono::system_clock::time_point time) {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(time.time_since_epoch());
  const std::time_t t = static_cast<std::time_t>(ms.count() / 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buffer[64];
  const size_t n = std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%S", &tm);
  std::snprintf(buffer + n, sizeof buffer - n, ".%03dZ", static_cast<int>(ms.count() % 1000));
  return buffer;
}

}  // namespace

std::string jsonEscape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (byte < 0x20) {
          char buffer[8];
          std::snprintf(buffer, sizeof buffer, "\\u%04x", byte);
          out += buffer;
        } else {
          out += c;
        }
    }
  }
  return out;
}

std::string nginxEscape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\' || byte < 0x20 || byte >= 0x7f) {
      char buffer[8];
      std::snprintf(buffer, sizeof buffer, "\\x%02X", byte);
      out += buffer;
    } else {
      out += c;
    }
  }
  return out;
}

std::unique_ptr<AccessLog> AccessLog::open(const std::string& path, Format format, bool async) {
  spdlog::sink_ptr sink;
  if (path == "-") {
    sink = std::make_shared<spdlog::sinks::stdout_sink_mt>();
  } else {
    // Throws spdlog::spdlog_ex (a std::runtime_error) if the file cannot be opened.
    sink = std::make_shared<spdlog::sinks::basic_file_sink_mt>(path, false);
  }
  std::shared_ptr<spdlog::logger> logger;
  if (async) {
    ensureThreadPool();
    logger = std::make_shared<spdlog::async_logger>("access", sink, spdlog::thread_pool(),
                                                    spdlog::async_overflow_policy::block);
  } else {
    logger = std::make_shared<spdlog::logger>("access", sink);
  }
  return std::make_unique<AccessLog>(std::move(logger), format);
}

AccessLog::AccessLog(std::shared_ptr<spdlog::logger> logger, Format format)
    : logger_(std::move(logger)), format_(format) {
  logger_->set_pattern("%v");
  logger_->set_level(spdlog::level::info);
}

AccessLog::~AccessLog() {
  // A destructor must not throw: an async logger flushed after spdlog::shutdown() does.
  try {
    if (logger_) logger_->flush();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "access log: final flush failed: %s\n", e.what());
  }
}

void AccessLog::write(const AccessRecord& record) {
  const std::string line = format_ == Format::Json ? formatJson(record) : formatText(record);
  logger_->info("{}", line);
}

void AccessLog::flush() {
  logger_->flush();
}

std::string AccessLog::formatText(const AccessRecord& r) {
  std::string out;
  out.reserve(256);
  out += orDash(r.remote_addr);
  out += " - ";
  out += r.remote_user.empty() ? "-" : nginxEscape(r.remote_user);
  out += " [" + localTime(r.time) + "] \"";
  out += nginxEscape(r.method) + " " + nginxEscape(r.target) + " " + nginxEscape(r.protocol);
  out += "\" " + std::to_string(r.status) + " " + std::to_string(r.bytes_sent) + " \"";
  out += r.referer.empty() ? "-" : nginxEscape(r.referer);
  out += "\" \"";
  out += r.user_agent.empty() ? "-" : nginxEscape(r.user_agent);
  out += "\"";
  if (r.duration_seconds >= 0) out += " rt=" + seconds(r.duration_seconds);
  if (!r.request_id.empty()) out += " id=" + nginxEscape(r.request_id);
  if (!r.host.empty()) out += " host=" + nginxEscape(r.host);
  if (!r.route.empty()) out += " route=" + nginxEscape(r.route);
  if (!r.upstream.empty()) out += " upstream=" + nginxEscape(r.upstream);
  if (r.upstream_status > 0) out += " us=" + std::to_string(r.upstream_status);
  if (!r.upstream_address.empty()) out += " uaddr=" + nginxEscape(r.upstream_address);
  if (r.upstream_duration_seconds >= 0) out += " urt=" + seconds(r.upstream_duration_seconds);
  out += " in=" + std::to_string(r.bytes_received);
  return out;
}

std::string AccessLog::formatJson(const AccessRecord& r) {
  nlohmann::ordered_json j;
  j["time"] = isoTime(r.time);
  if (!r.remote_addr.empty()) j["remote_addr"] = r.remote_addr;
  if (!r.remote_user.empty()) j["remote_user"] = r.remote_user;
  j["method"] = r.method;
  j["target"] = r.target;
  j["protocol"] = r.protocol;
  j["status"] = r.status;
  j["bytes_sent"] = r.bytes_sent;
  j["bytes_received"] = r.bytes_received;
  if (!r.referer.empty()) j["referer"] = r.referer;
  if (!r.user_agent.empty()) j["user_agent"] = r.user_agent;
  if (!r.host.empty()) j["host"] = r.host;
  if (!r.request_id.empty()) j["request_id"] = r.request_id;
  if (r.duration_seconds >= 0) j["duration"] = r.duration_seconds;
  if (!r.route.empty()) j["route"] = r.route;
  if (!r.upstream.empty()) j["upstream"] = r.upstream;
  if (!r.upstream_address.empty()) j["upstream_address"] = r.upstream_address;
  if (r.upstream_status > 0) j["upstream_status"] = r.upstream_status;
  if (r.upstream_duration_seconds >= 0) j["upstream_duration"] = r.upstream_duration_seconds;
  // Invalid UTF-8 in client-sent fields is replaced, never allowed to throw.
  return j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

}  // namespace portico::log
