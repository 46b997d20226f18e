#pragma once
// Active health checks of upstream servers (proxy.yml upstreams.*.health_check): every
// `interval`, each server of each group with a health check gets `GET <path>` on a
// connection of its own; an answer whose status is in `expect` within `timeout` is a good
// probe, anything else a failed one. UpstreamServer::recordProbe applies fall/rise and the
// workers see the result through its atomics. Probes run on one thread of their own (a
// net::Worker), never on a request worker.
// What this does not do: passive ejection (that is the request path, upstream_group.h).

#include <memory>
#include <vector>

#include "common/result.h"
#include "proxy/proxy_runtime.h"

namespace portico::net {
class Worker;
}

namespace portico::proxy {

class HealthChecker {
 public:
  // Probes the servers of every group in `upstreams` whose health check is enabled.
  explicit HealthChecker(std::vector<SnapshotUpstream> upstreams);
  ~HealthChecker();
  HealthChecker(const HealthChecker&) = delete;
  HealthChecker& operator=(const HealthChecker&) = delete;

  // Starts the probing thread; the first probes run at once.
  Result<void> start();
  // Stops probing and joins the thread.
  void stop();
  // True if any group has a health check.
  bool empty() const { return upstreams_.empty(); }

  struct Probe;

 private:
  std::vector<SnapshotUpstream> upstreams_;
  std::unique_ptr<net::Worker> worker_;
  std::vector<std::unique_ptr<Probe>> probes_;  // used on the worker thread only
};

}  // namespace portico::proxy
