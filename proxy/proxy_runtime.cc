#include "proxy/proxy_runtime.h"

#include <event2/event.h>

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

ProxyWorker::ProxyWorker(event_base& base, ProxyRuntime& runtime)
    : base_(base),
      runtime_(runtime),
      prune_event_(evtimer_new(&base, &ProxyWorker::onPrune, this)) {}

ProxyWorker::~ProxyWorker() {
  if (prune_event_ != nullptr) event_free(prune_event_);
}

const std::shared_ptr<const ProxySnapshot>& ProxyWorker::snapshot() {
  uint64_t generation = runtime_.generation();
  if (generation != generation_) {
    snapshot_ = runtime_.current();
    generation_ = generation;
    // Groups a reload replaced go once their last session ends (each reload that changes a
    // group's definition made new pools; the old ones were kept for ever).
    bool any = false;
    for (auto& [group, upstream] : upstreams_) {
      upstream->stale = !inSnapshot(group);
      any = any || upstream->stale;
    }
    if (any) schedulePrune();
  }
  return snapshot_;
}

bool ProxyWorker::inSnapshot(const UpstreamGroup* group) const {
  if (!snapshot_) return false;
  for (const auto& [name, upstream] : snapshot_->upstreams) {
    if (upstream.group.get() == group) return true;
  }
  return false;
}

WorkerUpstream& ProxyWorker::upstream(const SnapshotUpstream& upstream) {
  auto& slot = upstreams_[upstream.group.get()];
  if (!slot) {
    slot = std::make_unique<WorkerUpstream>();
    slot->group = upstream.group;
    for (size_t i = 0; i < upstream.group->size(); ++i) {
      slot->pools.push_back(upstream.make_pool(base_, i));
    }
    slot->stale = !inSnapshot(upstream.group.get());  // a session of an older snapshot
  }
  return *slot;
}

void ProxyWorker::unuse(WorkerUpstream& upstream) {
  if (--upstream.users == 0 && upstream.stale) schedulePrune();
}

void ProxyWorker::schedulePrune() {
  timeval now{0, 0};
  if (prune_event_ != nullptr) evtimer_add(prune_event_, &now);
}

void ProxyWorker::onPrune(int /*fd*/, short /*what*/, void* arg) {
  auto* self = static_cast<ProxyWorker*>(arg);
  std::erase_if(self->upstreams_,
                [](const auto& entry) { return entry.second->stale && entry.second->users == 0; });
}

void ProxyHandler::onRequest(http::ServerExchange& exchange) {
  auto session = std::make_unique<ProxySession>(exchange, worker_, worker_.snapshot());
  ProxySession& started = *session;
  exchange.attach(std::move(session));
  started.start();
}

}  // namespace portico::proxy
