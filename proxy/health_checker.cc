#include "proxy/health_checker.h"

#include <event2/buffer.h>
#include <event2/event.h>
#include <spdlog/spdlog.h>

#include <algorithm>

#include "common/lifetime.h"
#include "common/net/event_ptr.h"
#include "common/net/timeval.h"
#include "common/net/worker.h"

namespace portico::proxy {
namespace {

using net::toTimeval;

}  // namespace

// One server's probe loop: a timer, a pool and at most one probe in flight.
struct HealthChecker::Probe final : http::ClientCallbacks, http::BodySink {
  Probe(event_base& base, std::shared_ptr<UpstreamGroup> g, size_t i, PoolFactory& factory)
      : group(std::move(g)), index(i), pool(factory(base, i)) {
    interval_timer.reset(evtimer_new(&base, &Probe::onInterval, this));
    timeout_timer.reset(evtimer_new(&base, &Probe::onTimeout, this));
  }
  ~Probe() override {
    if (connection) connection->abort();
  }

  const HealthCheckOptions& options() const { return group->options().health_check; }
  UpstreamServer& server() { return group->server(index); }

  void schedule(std::chrono::milliseconds delay) {
    timeval tv = toTimeval(delay);
    evtimer_add(interval_timer.get(), &tv);
  }

  static void onInterval(evutil_socket_t, short, void* arg) { static_cast<Probe*>(arg)->run(); }
  static void onTimeout(evutil_socket_t, short, void* arg) {
    static_cast<Probe*>(arg)->done(false, "timed out");
  }

  void run() {
    if (in_flight) return;
    in_flight = true;
    status = 0;
    timeval tv = toTimeval(options().timeout);
    evtimer_add(timeout_timer.get(), &tv);
    auto guard = liveness.watch();
    pool->acquire([this, guard](std::unique_ptr<http::ClientConnection> c, const Error* error) {
      if (!guard.alive()) return;
      if (!in_flight) return;  // timed out meanwhile; `c` closes here
      if (error != nullptr || !c) {
        done(false, error != nullptr ? error->message() : "no connection");
        return;
      }
      connection = std::move(c);
      http::RequestHead head;
      head.method = "GET";
      head.target = options().path;
      auto q = head.target.find('?');
      head.path = head.target.substr(0, q);
      if (q != std::string::npos) head.query = head.target.substr(q + 1);
      head.headers.add("Host", server().address());
      head.headers.add("User-Agent", "portico-proxy-health-check");
      connection->sendRequest(std::move(head), *this);
      if (connection) connection->finishRequest();
    });
  }

  // http::ClientCallbacks
  void onResponseHead(http::ResponseHead&& head, http::BodySource& body) override {
    status = head.status;
    response_body = &body;
    body.setSink(this);
  }
  void onClientError(const Error& error) override { done(false, error.message()); }

  // http::BodySink: the probe's body is discarded.
  void onBodyData(evbuffer& data) override { evbuffer_drain(&data, evbuffer_get_length(&data)); }
  void onBodyEnd() override {
    const auto& expect = options().expect;
    bool ok = std::find(expect.begin(), expect.end(), status) != expect.end();
    done(ok, "status " + std::to_string(status));
  }
  void onBodyError(const Error& error) override { done(false, error.message()); }

  void done(bool ok, const std::string& detail) {
    if (!in_flight) return;
    in_flight = false;
    evtimer_del(timeout_timer.get());
    if (response_body != nullptr) {
      response_body->setSink(nullptr);
      response_body = nullptr;
    }
    if (connection) {
      if (ok && connection->reusable()) {
        // Pooled from the event loop, outside the connection's own callback.
        released = std::move(connection);
        timeval now{0, 0};
        event_base_once(event_get_base(interval_timer.get()), -1, EV_TIMEOUT, &Probe::onRelease,
                        this, &now);
      } else {
        connection->abort();
        closing = std::move(connection);
        timeval now{0, 0};
        event_base_once(event_get_base(interval_timer.get()), -1, EV_TIMEOUT, &Probe::onRelease,
                        this, &now);
      }
    }
    if (server().recordProbe(ok)) {
      if (ok) {
        spdlog::info("upstream {} server {} is up (health check passed)", group->name(),
                     server().address());
      } else {
        spdlog::warn("upstream {} server {} is down (health check: {})", group->name(),
                     server().address(), detail);
      }
    }
    schedule(options().interval);
  }

  static void onRelease(evutil_socket_t, short, void* arg) {
    auto* self = static_cast<Probe*>(arg);
    if (self->released) self->pool->release(std::move(self->released));
    self->closing.reset();
  }

  std::shared_ptr<UpstreamGroup> group;
  size_t index;
  std::unique_ptr<http::ClientPool> pool;
  net::EventPtr interval_timer;
  net::EventPtr timeout_timer;
  std::unique_ptr<http::ClientConnection> connection;
  std::unique_ptr<http::ClientConnection> released;
  std::unique_ptr<http::ClientConnection> closing;
  http::BodySource* response_body = nullptr;
  Liveness liveness;  // guards the acquire completion (common/lifetime.h)
  bool in_flight = false;
  int status = 0;
};

HealthChecker::HealthChecker(std::vector<SnapshotUpstream> upstreams) {
  for (auto& upstream : upstreams) {
    if (upstream.group->options().health_check.enabled) upstreams_.push_back(std::move(upstream));
  }
}

HealthChecker::~HealthChecker() {
  stop();
}

Result<void> HealthChecker::start() {
  if (upstreams_.empty()) return {};
  worker_ = std::make_unique<net::Worker>(0);
  auto started = worker_->start();
  if (!started) return started;
  worker_->post([this] {
    for (auto& upstream : upstreams_) {
      for (size_t i = 0; i < upstream.group->size(); ++i) {
        auto probe =
            std::make_unique<Probe>(worker_->base(), upstream.group, i, upstream.make_pool);
        probe->run();
        probes_.push_back(std::move(probe));
      }
    }
  });
  return {};
}

void HealthChecker::stop() {
  if (!worker_) return;
  // Probes hold events and connections of the worker's loop: destroy them on its thread.
  worker_->post([this] { probes_.clear(); });
  worker_->requestStop();
  worker_->join();
  probes_.clear();
  worker_.reset();
}

}  // namespace portico::proxy
