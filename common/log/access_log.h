#pragma once
// The access log shared by portico-proxy and portico-registry: one line per finished request.
//  text: nginx's "combined" format followed by key=value extras:
//    127.0.0.1 - - [27/Nov/2026:03:29:18 +0000] "GET /v2/ HTTP/1.1" 200 2 "-" "docker/27.3.1 ..."
//    rt=0.003 id=5f0c... route=v2 upstream=v2 us=200 uaddr=127.0.0.1:5001 urt=0.002 in=0
//  json: one object per line with the same fields.
// Writes go through spdlog (asynchronous when opened so); safe from every worker thread.

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "common/log/log.h"

namespace spdlog {
class logger;
}

namespace portico::log {

// Everything known about one finished request. Empty strings print as "-" (text) or are
// omitted (json); negative durations and zero statuses likewise.
struct AccessRecord {
  std::chrono::system_clock::time_point time = std::chrono::system_clock::now();
  std::string remote_addr;
  std::string remote_user;
  std::string method;
  std::string target;
  std::string protocol = "HTTP/1.1";
  int status = 0;
  uint64_t bytes_sent = 0;      // response body bytes
  uint64_t bytes_received = 0;  // request body bytes
  std::string referer;
  std::string user_agent;
  std::string host;
  std::string request_id;
  double duration_seconds = -1;  // request start to last byte sent
  std::string route;             // proxy: rule name
  std::string upstream;          // proxy: upstream group
  std::string upstream_address;  // proxy: server that answered
  int upstream_status = 0;
  double upstream_duration_seconds = -1;
};

class AccessLog {
 public:
  // Opens `path` ("-" = stdout) for appending. Throws std::runtime_error at startup if the
  // file cannot be opened.
  static std::unique_ptr<AccessLog> open(const std::string& path, Format format, bool async);
  // Wraps an existing spdlog logger (tests); its pattern is set to the bare message.
  AccessLog(std::shared_ptr<spdlog::logger> logger, Format format);
  ~AccessLog();

  void write(const AccessRecord& record);
  void flush();

  static std::string formatText(const AccessRecord& record);
  static std::string formatJson(const AccessRecord& record);

 private:
  std::shared_ptr<spdlog::logger> logger_;
  Format format_;
};

}  // namespace portico::log
