#include "common/log/access_log.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "common/log/json_escape.h"

namespace portico::log {
namespace {

void appendNumber(std::string& out, uint64_t value) {
  char buffer[24];
  auto result = std::to_chars(buffer, buffer + sizeof buffer, value);
  out.append(buffer, result.ptr);
}

// Seconds with three decimals, as nginx's $request_time ("0.003").
void appendSeconds(std::string& out, double value) {
  const auto ms = static_cast<uint64_t>(std::llround(value * 1000));
  appendNumber(out, ms / 1000);
  const auto frac = static_cast<unsigned>(ms % 1000);
  const char digits[4] = {'.', static_cast<char>('0' + frac / 100),
                          static_cast<char>('0' + frac / 10 % 10),
                          static_cast<char>('0' + frac % 10)};
  out.append(digits, sizeof digits);
}

// nginx's escaping of a field: ", \, control and non-ASCII bytes as \xHH.
void appendEscaped(std::string& out, std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  size_t clean = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    const auto byte = static_cast<unsigned char>(text[i]);
    if (byte != '"' && byte != '\\' && byte >= 0x20 && byte < 0x7f) continue;
    out.append(text.substr(clean, i - clean));
    const char escaped[4] = {'\\', 'x', kHex[byte >> 4], kHex[byte & 0xf]};
    out.append(escaped, sizeof escaped);
    clean = i + 1;
  }
  out.append(text.substr(clean));
}

void appendOrDash(std::string& out, std::string_view text) {
  if (text.empty()) {
    out += '-';
  } else {
    appendEscaped(out, text);
  }
}

// "27/Nov/2026:03:29:18 +0000", formatted once per second per thread.
void appendLocalTime(std::string& out, std::chrono::system_clock::time_point time) {
  thread_local std::time_t cached_second = -1;
  thread_local char cached[64];
  thread_local size_t cached_size = 0;
  const std::time_t t = std::chrono::system_clock::to_time_t(time);
  if (t != cached_second) {
    std::tm tm{};
    localtime_r(&t, &tm);
    cached_size = std::strftime(cached, sizeof cached, "%d/%b/%Y:%H:%M:%S %z", &tm);
    cached_second = t;
  }
  out.append(cached, cached_size);
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
  appendEscaped(out, text);
  return out;
}

std::unique_ptr<AccessLog> AccessLog::open(const std::string& path,
                                           const AccessLogOptions& options) {
  if (path == "-") return std::make_unique<AccessLog>(STDOUT_FILENO, false, options);
  const int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) throw std::runtime_error(path + ": " + std::strerror(errno));
  return std::make_unique<AccessLog>(fd, true, options);
}

AccessLog::AccessLog(int fd, bool owns_fd, const AccessLogOptions& options)
    : fd_(fd), owns_fd_(owns_fd), options_(options) {
  if (options_.buffer_bytes == 0) return;
  buffer_.reserve(options_.buffer_bytes);
  flusher_ = std::thread([this] { flushLoop(); });
}

AccessLog::~AccessLog() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (flusher_.joinable()) flusher_.join();
  flush();
  if (owns_fd_) ::close(fd_);
}

void AccessLog::write(const AccessRecord& record) {
  thread_local std::string line;
  line.clear();
  if (options_.format == Format::Json) {
    line = formatJson(record);
  } else {
    appendText(line, record);
  }
  line += '\n';
  std::lock_guard lock(mutex_);
  if (options_.buffer_bytes == 0) {
    writeLocked(line);
    return;
  }
  if (buffer_.size() + line.size() > options_.buffer_bytes) {
    writeBufferLocked();
  }
  buffer_ += line;
}

void AccessLog::flush() {
  std::lock_guard lock(mutex_);
  writeBufferLocked();
}

// A line that cannot be written (full disk, closed pipe) is dropped: the request path never
// waits on a broken log. The first failure is reported on stderr.
void AccessLog::writeLocked(std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::write(fd_, bytes.data(), bytes.size());
    if (n > 0) {
      bytes.remove_prefix(static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (!write_failed_) {
      write_failed_ = true;
      std::fprintf(stderr, "access log: write failed, dropping lines: %s\n",
                   n < 0 ? std::strerror(errno) : "no progress");
    }
    return;
  }
}

void AccessLog::writeBufferLocked() {
  writeLocked(buffer_);
  buffer_.clear();
}

void AccessLog::flushLoop() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    wake_.wait_for(lock, options_.flush_interval);
    writeBufferLocked();
  }
}

std::string AccessLog::formatText(const AccessRecord& record) {
  std::string out;
  out.reserve(256);
  appendText(out, record);
  return out;
}

void AccessLog::appendText(std::string& out, const AccessRecord& r) {
  appendOrDash(out, r.remote_addr);
  out += " - ";
  appendOrDash(out, r.remote_user);
  out += " [";
  appendLocalTime(out, r.time);
  out += "] \"";
  appendEscaped(out, r.method);
  out += ' ';
  appendEscaped(out, r.target);
  out += ' ';
  appendEscaped(out, r.protocol);
  out += "\" ";
  appendNumber(out, static_cast<uint64_t>(r.status));
  out += ' ';
  appendNumber(out, r.bytes_sent);
  out += " \"";
  appendOrDash(out, r.referer);
  out += "\" \"";
  appendOrDash(out, r.user_agent);
  out += '"';
  // key=value extras; empty strings, negative durations and zero statuses are left out.
  auto text = [&out](std::string_view key, std::string_view value) {
    if (value.empty()) return;
    out += key;
    appendEscaped(out, value);
  };
  auto seconds = [&out](std::string_view key, double value) {
    if (value < 0) return;
    out += key;
    appendSeconds(out, value);
  };
  auto status = [&out](std::string_view key, int value) {
    if (value <= 0) return;
    out += key;
    appendNumber(out, static_cast<uint64_t>(value));
  };
  seconds(" rt=", r.duration_seconds);
  text(" id=", r.request_id);
  text(" host=", r.host);
  text(" route=", r.route);
  text(" upstream=", r.upstream);
  status(" us=", r.upstream_status);
  text(" uaddr=", r.upstream_address);
  seconds(" urt=", r.upstream_duration_seconds);
  out += " in=";
  appendNumber(out, r.bytes_received);
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
