#pragma once
// Health checks (distribution's `health` section): periodic checks on one thread of their own,
// whose failures /debug/health reports. A check is failing once it failed `threshold` times in
// a row (threshold 0 or 1: at the first failure) and passing again at its first success.
// Transitions are logged ("health check <name> failed: ..." / "... recovered").
//
//   storagedriver  stat of the storage root through the driver. distribution treats "not
//                  found" as healthy (an empty registry has no root yet); for the filesystem
//                  driver Portico requires the root directory to exist, so a lost volume shows
//   file           fails while the file exists (a maintenance switch)
//   http           GET uri (plain http) answers statuscode (default 200) within timeout
//   tcp            a TCP connection to addr opens within timeout
//
// What this does not do: https URIs in http checks (refused at load).

#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "backend/storage/storage_driver.h"
#include "common/result.h"

namespace portico::observability {

struct HealthCheckSpec {
  enum class Kind { StorageDriver, File, Http, Tcp };
  Kind kind = Kind::StorageDriver;
  std::chrono::milliseconds interval{10'000};
  int threshold = 0;
  std::chrono::milliseconds timeout{1'000};  // http, tcp
  std::string target;                        // file path, http uri, tcp addr (host:port)
  std::vector<std::pair<std::string, std::string>> headers;  // http
  int status_code = 200;                                     // http
};

// Whether the storage answers now (the storagedriver check, also /readyz).
class StorageReadiness {
 public:
  explicit StorageReadiness(storage::StorageDriver& driver) : driver_(driver) {}
  // Blocking: call on a storage thread or the health thread.
  Result<void> check();

 private:
  storage::StorageDriver& driver_;
};

class HealthChecks {
 public:
  // Starts the thread; the first round of checks runs at once.
  HealthChecks(std::vector<HealthCheckSpec> specs, StorageReadiness& storage,
               std::string_view driver_name);
  ~HealthChecks();
  HealthChecks(const HealthChecks&) = delete;
  HealthChecks& operator=(const HealthChecks&) = delete;

  // The failing checks: name → last error.
  std::map<std::string, std::string> failures() const;

  // The name a check reports under ("storagedriver_<driver>", the file, the uri, the addr).
  static std::string checkName(const HealthCheckSpec& spec, std::string_view driver_name);

 private:
  struct State {
    HealthCheckSpec spec;
    std::string name;
    int consecutive_failures = 0;
    bool failing = false;
    std::string error;
    std::chrono::steady_clock::time_point due;
  };

  void run();
  Result<void> probe(const HealthCheckSpec& spec);

  StorageReadiness& storage_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::vector<State> states_;
  bool stop_ = false;
  std::thread thread_;
};

// One check function each (exposed for tests).
Result<void> checkFile(const std::string& path);
Result<void> checkTcp(const std::string& addr, std::chrono::milliseconds timeout);
Result<void> checkHttp(const std::string& uri,
                       const std::vector<std::pair<std::string, std::string>>& headers,
                       int status_code, std::chrono::milliseconds timeout);

}  // namespace portico::observability
