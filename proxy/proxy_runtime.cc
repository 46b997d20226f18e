#include "proxy/proxy_runtime.h"

#include "proxy/proxy_session.h"

namespace portico::proxy {
RouteMetrics& ProxySnapshot::metricsFor(const std::string& route) const {
  auto it = route_metrics.find(route);
  return it != route_metrics.end() ? *it->second : *unrouted_metrics;
}

const SnapshotUpstream* ProxySnapshot::upstream(const std::string& name) const {
  auto it = upstreams.find(name);
  return it != upstreams.end() ? &it->second : nullptr;
}

void ProxyRuntime::publish(std::shared_ptr<const ProxySnapshot> snapshot) {
  std::lock_guard lock(mutex_);
  snapshot_ = std::move(snapshot);
  generation_.fetch_add(1, std::memory_order_release);
}

std::shared_ptr<const ProxySnapshot> ProxyRuntime::current() const {
  std::lock_guard lock(mutex_);
  return snapshot_;
}

const std::shared_ptr<const ProxySnapshot>& ProxyWorker::snapshot() {
  uint64_t generation = runtime_.generation();
  if (generation != generation_) {
    snapshot_ = runtime_.current();
    generation_ = generation;
  }
  return snapshot_;
}

WorkerUpstream& ProxyWorker::upstream(const SnapshotUpstream& upstream) {
  auto& slot = upstreams_[upstream.group.get()];
  if (!slot) {
    slot = std::make_unique<WorkerUpstream>();
    slot->group = upstream.group;
    for (size_t i = 0; i < upstream.group->size(); ++i) {
      slot->pools.push_back(upstream.make_pool(base_, i));
    }
  }
  return *slot;
}

void ProxyHandler::onRequest(http::ServerExchange& exchange) {
  auto session = std::make_unique<ProxySession>(exchange, worker_, worker_.snapshot());
  ProxySession& started = *session;
  exchange.attach(std::move(session));
  started.start();
}

}  // namespace portico::proxy
