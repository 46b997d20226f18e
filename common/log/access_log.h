#pragma once
// The access log shared by portico-proxy and portico-registry: one line per finished request.
//  text: nginx's "combined" format followed by key=value extras:
//    127.0.0.1 - - [27/Nov/2026:03:29:18 +0000] "GET /v2/ HTTP/1.1" 200 2 "-" "docker/27.3.1 ..."
//    rt=0.003 id=5f0c... route=v2 upstream=v2 us=200 uaddr=127.0.0.1:5001 urt=0.002 in=0
//  json: one object per line with the same fields.
// Safe from every worker thread.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

#include "common/log/log.h"

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

// Lines are written with write(2), whole lines per call, from the thread that finished the
// request: no logging thread to wake per request. Buffered (the default for servers), lines
// collect in memory and go out in blocks of up to `buffer_bytes`, and at least every
// `flush_interval` from a timer thread that otherwise sleeps: nginx's
// `access_log ... buffer=64k flush=1s`. Unbuffered, every line is written at once.
struct AccessLogOptions {
  Format format = Format::Text;
  size_t buffer_bytes = size_t{64} * 1024;  // 0 = write every line at once
  std::chrono::milliseconds flush_interval{1000};
};

class AccessLog {
 public:
  // Opens `path` ("-" = stdout) for appending. Throws std::runtime_error (naming the file and
  // the reason) at startup if the file cannot be opened.
  static std::unique_ptr<AccessLog> open(const std::string& path, const AccessLogOptions& options);
  // Writes to `fd`, which the log closes when `owns_fd`.
  AccessLog(int fd, bool owns_fd, const AccessLogOptions& options);
  ~AccessLog();  // flushes
  AccessLog(const AccessLog&) = delete;
  AccessLog& operator=(const AccessLog&) = delete;

  void write(const AccessRecord& record);
  // Writes out what is buffered.
  void flush();

  static std::string formatText(const AccessRecord& record);
  static std::string formatJson(const AccessRecord& record);
  // formatText, appended to `out` (the request path formats into a reused buffer).
  static void appendText(std::string& out, const AccessRecord& record);

 private:
  void writeLocked(std::string_view bytes);  // mutex_ held
  void writeBufferLocked();                  // mutex_ held: buffer_ out, then empty
  void flushLoop();

  int fd_;
  bool owns_fd_;
  AccessLogOptions options_;
  std::mutex mutex_;
  std::string buffer_;
  bool write_failed_ = false;  // reported once on stderr
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread flusher_;
};

}  // namespace portico::log
