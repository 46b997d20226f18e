#include "common/log/access_log.h"

#include <poll.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <set>
#include <stdexcept>
#include <thread>

#include "common/log/json_escape.h"
#include "common/log/log.h"

using portico::log::AccessLog;
using portico::log::AccessRecord;
using portico::log::Format;

namespace {

AccessRecord sampleRecord() {
  AccessRecord r;
  // A fixed time: tests compare lines formatted from different calls, and "now" may cross a
  // second between them.
  r.time = std::chrono::system_clock::from_time_t(1'700'000'000);
  r.remote_addr = "192.0.2.7";
  r.method = "GET";
  r.target = "/v2/library/alpine/manifests/latest";
  r.status = 200;
  r.bytes_sent = 1234;
  r.bytes_received = 0;
  r.user_agent = "docker/27.3.1 go/go1.22.7 os/linux arch/amd64";
  r.request_id = "00112233aabbccdd";
  r.duration_seconds = 0.0125;
  r.route = "v2";
  r.upstream = "v2";
  r.upstream_address = "127.0.0.1:5001";
  r.upstream_status = 200;
  r.upstream_duration_seconds = 0.011;
  return r;
}

// A temporary file the log writes to; contents() reads it from the start.
class LogFile {
 public:
  LogFile() {
    char name[] = "/tmp/portico-access-test-XXXXXX";
    fd_ = mkstemp(name);
    REQUIRE(fd_ >= 0);
    unlink(name);
  }
  ~LogFile() { close(fd_); }
  LogFile(const LogFile&) = delete;
  LogFile& operator=(const LogFile&) = delete;
  int fd() const { return fd_; }
  std::string contents() const {
    std::string out;
    char buffer[4096];
    off_t offset = 0;
    ssize_t n = 0;
    while ((n = pread(fd_, buffer, sizeof buffer, offset)) > 0) {
      out.append(buffer, static_cast<size_t>(n));
      offset += n;
    }
    return out;
  }

 private:
  int fd_ = -1;
};

}  // namespace

TEST_CASE("text access log lines follow nginx combined then the extras", "[access_log]") {
  const std::string line = AccessLog::formatText(sampleRecord());
  CHECK(line.rfind("192.0.2.7 - - [", 0) == 0);
  CHECK(line.find("] \"GET /v2/library/alpine/manifests/latest HTTP/1.1\" 200 1234 \"-\" "
                  "\"docker/27.3.1 go/go1.22.7 os/linux arch/amd64\" rt=0.013 "
                  "id=00112233aabbccdd route=v2 upstream=v2 us=200 uaddr=127.0.0.1:5001 "
                  "urt=0.011 in=0") != std::string::npos);
}

TEST_CASE("text access log escapes quotes and control bytes like nginx", "[access_log]") {
  AccessRecord r = sampleRecord();
  r.user_agent = "evil\" \n\x01\xff";
  const std::string line = AccessLog::formatText(r);
  CHECK(line.find("\"evil\\x22 \\x0A\\x01\\xFF\"") != std::string::npos);
  CHECK(line.find('\n') == std::string::npos);
}

TEST_CASE("json access log is one valid object per line with the same fields", "[access_log]") {
  AccessRecord r = sampleRecord();
  r.user_agent = "quote\" and \xff invalid utf-8";
  const std::string line = AccessLog::formatJson(r);
  CHECK(line.find('\n') == std::string::npos);
  auto j = nlohmann::json::parse(line);
  CHECK(j["status"] == 200);
  CHECK(j["route"] == "v2");
  CHECK(j["upstream_status"] == 200);
  CHECK(j["bytes_sent"] == 1234);
  CHECK(j["request_id"] == "00112233aabbccdd");
  CHECK(j["user_agent"].get<std::string>().rfind("quote\" and ", 0) == 0);
  CHECK_FALSE(j.contains("referer"));
}

TEST_CASE("an unbuffered access log writes each line at once", "[access_log]") {
  LogFile file;
  AccessLog log(file.fd(), false, {.format = Format::Json, .buffer_bytes = 0});
  log.write(sampleRecord());
  const std::string text = file.contents();  // no flush(): the line is there already
  REQUIRE(!text.empty());
  CHECK(text.back() == '\n');
  CHECK(nlohmann::json::parse(text)["target"] == "/v2/library/alpine/manifests/latest");
}

TEST_CASE("a buffered access log holds lines until flush, a full buffer or destruction",
          "[access_log]") {
  LogFile file;
  const std::string line = AccessLog::formatText(sampleRecord()) + "\n";
  {
    // An interval no test run reaches: only flush(), a full buffer and the destructor write.
    AccessLog log(file.fd(), false,
                  {.buffer_bytes = 4 * line.size(), .flush_interval = std::chrono::hours(1)});
    log.write(sampleRecord());
    log.write(sampleRecord());
    CHECK(file.contents().empty());
    log.flush();
    CHECK(file.contents() == line + line);
    for (int i = 0; i < 5; ++i) log.write(sampleRecord());  // the fifth does not fit
    CHECK(file.contents().size() == 6 * line.size());
    log.write(sampleRecord());
  }
  CHECK(file.contents().size() == 8 * line.size());
}

TEST_CASE("a buffered access log writes its lines within the flush interval", "[access_log]") {
  int fds[2];
  REQUIRE(pipe(fds) == 0);
  {
    AccessLog log(fds[1], false, {.flush_interval = std::chrono::milliseconds(20)});
    log.write(sampleRecord());
    // Waits for the timer thread's write (bounded: 10 s is 500 intervals); no flush() here.
    pollfd readable{.fd = fds[0], .events = POLLIN, .revents = 0};
    REQUIRE(poll(&readable, 1, 10'000) == 1);
    char buffer[4096];
    const ssize_t n = read(fds[0], buffer, sizeof buffer);
    REQUIRE(n > 0);
    CHECK(std::string(buffer, static_cast<size_t>(n)) ==
          AccessLog::formatText(sampleRecord()) + "\n");
  }
  close(fds[0]);
  close(fds[1]);
}

TEST_CASE("an access log file that cannot be opened names the file", "[access_log]") {
  try {
    AccessLog::open("/nonexistent-dir/access.log", {});
    FAIL("open succeeded");
  } catch (const std::runtime_error& e) {
    CHECK(std::string(e.what()).find("/nonexistent-dir/access.log") != std::string::npos);
  }
}

TEST_CASE("log levels and formats parse by name", "[log]") {
  CHECK(portico::log::parseLevel("INFO") == spdlog::level::info);
  CHECK(portico::log::parseLevel("warning") == spdlog::level::warn);
  CHECK(portico::log::parseLevel("error") == spdlog::level::err);
  CHECK_FALSE(portico::log::parseLevel("loud"));
  CHECK(portico::log::parseFormat("json") == Format::Json);
  CHECK(portico::log::parseFormat("text") == Format::Text);
  CHECK_FALSE(portico::log::parseFormat("xml"));
}

TEST_CASE("request ids are 16 hex digits and do not repeat across threads", "[log]") {
  std::set<std::string> ids;
  std::vector<std::string> other;
  std::thread t([&] {
    for (int i = 0; i < 1000; ++i) other.push_back(portico::log::newRequestId());
  });
  for (int i = 0; i < 1000; ++i) ids.insert(portico::log::newRequestId());
  t.join();
  ids.insert(other.begin(), other.end());
  CHECK(ids.size() == 2000);
  for (const auto& id : ids) {
    REQUIRE(id.size() == 16);
    CHECK(id.find_first_not_of("0123456789abcdef") == std::string::npos);
  }
}

TEST_CASE("setup installs a default logger at the requested level", "[log]") {
  portico::log::setup({spdlog::level::warn, Format::Json, false});
  CHECK(spdlog::default_logger()->level() == spdlog::level::warn);
  portico::log::setup({spdlog::level::debug, Format::Text, true});
  CHECK(spdlog::default_logger()->level() == spdlog::level::debug);
  spdlog::default_logger()->flush();
}

TEST_CASE("log fields are added to every text and JSON line", "[log]") {
  const portico::log::Fields fields = {{"service", "registry"}, {"environment", "50% dev"}};
  spdlog::details::log_msg message("portico", spdlog::level::info, "hello");
  auto format = [&](portico::log::Format f) {
    spdlog::memory_buf_t out;
    portico::log::makeFormatter(f, fields)->format(message, out);
    return std::string(out.data(), out.size());
  };
  const std::string text = format(portico::log::Format::Text);
  CHECK(text.find("hello service=registry environment=50% dev") != std::string::npos);
  const auto json = nlohmann::json::parse(format(portico::log::Format::Json));
  CHECK(json["msg"] == "hello");
  CHECK(json["service"] == "registry");
  CHECK(json["environment"] == "50% dev");
}
