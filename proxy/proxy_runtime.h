#pragma once
// The proxy's run-time state, split by who may touch it:
//  - ProxySnapshot: everything derived from one proxy.yml (router, upstream groups, metric
//    series). Immutable, shared by every worker through std::shared_ptr<const>; SIGHUP builds
//    a new one and publishes it (ProxyRuntime::publish), in-flight requests keep theirs.
//  - ProxyRuntime: process-wide; the current snapshot, metrics and the access log.
//  - ProxyWorker: one per worker thread; its upstream connection pools and its cached copy
//    of the snapshot (refreshed when the published generation changes: one relaxed atomic
//    load per request, no lock and no shared refcount traffic on the hot path).
//  - ProxyHandler: the http::RequestHandler of a worker; one ProxySession per request.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/http/client.h"
#include "common/http/server.h"
#include "common/log/access_log.h"
#include "proxy/metrics.h"
#include "proxy/upstream_group.h"

struct event_base;
struct event;

namespace portico::proxy {

class Router;

// Creates the per-worker keep-alive pool of server `index` of a group on `base`.
using PoolFactory = std::function<std::unique_ptr<http::ClientPool>(event_base&, size_t index)>;

// One upstream group as a snapshot sees it.
struct SnapshotUpstream {
  std::shared_ptr<UpstreamGroup> group;
  PoolFactory make_pool;
};

class ProxySnapshot {
 public:
  std::shared_ptr<const Router> router;
  std::unordered_map<std::string, SnapshotUpstream> upstreams;
  std::unordered_map<std::string, RouteMetrics*> route_metrics;  // by route name
  RouteMetrics* unrouted_metrics = nullptr;                      // requests no route matched

  // The metric series of a route (unrouted_metrics when unknown).
  RouteMetrics& metricsFor(const std::string& route) const;
  // The upstream named `name`, or null.
  const SnapshotUpstream* upstream(const std::string& name) const;
};

class ProxyRuntime {
 public:
  ProxyMetrics metrics;
  std::unique_ptr<log::AccessLog> access_log;  // null: no access log

  // Publishes a new snapshot; requests that started before keep the old one.
  void publish(std::shared_ptr<const ProxySnapshot> snapshot);
  // The current snapshot (takes a lock: workers use ProxyWorker::snapshot()).
  std::shared_ptr<const ProxySnapshot> current() const;
  uint64_t generation() const { return generation_.load(std::memory_order_acquire); }

 private:
  mutable std::mutex mutex_;
  std::shared_ptr<const ProxySnapshot> snapshot_;
  std::atomic<uint64_t> generation_{0};
};

// A group's per-worker side: one keep-alive pool per server and the round-robin cursor.
struct WorkerUpstream {
  std::shared_ptr<UpstreamGroup> group;
  std::vector<std::unique_ptr<http::ClientPool>> pools;
  size_t cursor = 0;
  size_t users = 0;    // sessions and deferred connection releases using the pools
  bool stale = false;  // the current snapshot no longer has this group
};

class ProxyWorker {
 public:
  ProxyWorker(event_base& base, ProxyRuntime& runtime);
  ~ProxyWorker();
  ProxyWorker(const ProxyWorker&) = delete;
  ProxyWorker& operator=(const ProxyWorker&) = delete;

  event_base& base() { return base_; }
  ProxyRuntime& runtime() { return runtime_; }
  // The current snapshot, refreshed when a reload published a new one.
  const std::shared_ptr<const ProxySnapshot>& snapshot();
  // The worker's pools of `upstream`'s group, created on first use (on this thread).
  WorkerUpstream& upstream(const SnapshotUpstream& upstream);
  // A session (or a deferred release of one of its connections) starts / stops using the
  // pools of `upstream`. A stale group's pools, with their idle connections, are destroyed
  // from the event loop once nobody uses them (never inside a pool's own callback).
  void use(WorkerUpstream& upstream) { ++upstream.users; }
  void unuse(WorkerUpstream& upstream);

 private:
  bool inSnapshot(const UpstreamGroup* group) const;
  void schedulePrune();
  static void onPrune(int fd, short what, void* arg);

  event_base& base_;
  ProxyRuntime& runtime_;
  std::shared_ptr<const ProxySnapshot> snapshot_;
  uint64_t generation_ = ~uint64_t{0};
  // Pools outlive reloads while in-flight sessions use them; keyed by group identity.
  std::unordered_map<const UpstreamGroup*, std::unique_ptr<WorkerUpstream>> upstreams_;
  ::event* prune_event_ = nullptr;
};

// The RequestHandler of one worker: each request gets a ProxySession.
class ProxyHandler final : public http::RequestHandler {
 public:
  ProxyHandler(event_base& base, ProxyRuntime& runtime) : worker_(base, runtime) {}
  void onRequest(http::ServerExchange& exchange) override;

 private:
  ProxyWorker worker_;
};

}  // namespace portico::proxy
