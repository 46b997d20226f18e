// ClientPool::create: a per-worker keep-alive pool of Http1ClientConnections to one upstream.
// Idle connections are reused most-recently-released first (the warmest socket), watched
// for the upstream closing them (EOF or stray bytes drop them at once) and closed after
// idle_timeout. Every acquire callback runs from the event loop, never inside acquire().

#include <event2/event.h>

#include <list>
#include <memory>
#include <optional>
#include <utility>

#include "common/http/client.h"
#include "common/http/client_connection.h"
#include "common/net/address.h"
#include "common/net/event_ptr.h"

namespace portico::http {

namespace {

class KeepAlivePool final : public ClientPool {
 public:
  KeepAlivePool(event_base& base, net::Address address, std::shared_ptr<net::TlsClientContext> tls,
                Options options)
      : base_(base), address_(std::move(address)), tls_(std::move(tls)), options_(options) {
    connection_options_.timeouts = options.timeouts;
    connection_options_.high_watermark = options.high_watermark;
    connection_options_.low_watermark = options.low_watermark;
    connection_options_.limits.header_bytes = options.max_header_bytes;
  }

  ~KeepAlivePool() override {
    // Connections and timers go without callbacks.
    pending_.clear();
    idle_.clear();
  }

  void acquire(AcquireCallback callback) override {
    auto request = std::make_unique<Pending>();
    Pending* pending = request.get();
    pending->callback = std::move(callback);
    pending_.push_back(std::move(request));
    if (!idle_.empty()) {
      pending->connection = std::move(idle_.back());
      idle_.pop_back();
      pending->connection->stopWatchingIdle();
      pending->pool = this;
      pending->handoff.reset(evtimer_new(&base_, &KeepAlivePool::onHandoff, pending));
      timeval now{0, 0};
      evtimer_add(pending->handoff.get(), &now);
      return;
    }
    pending->connection = Http1ClientConnection::connect(
        base_, address_, tls_, connection_options_,
        [this, pending](const Error* error) { deliver(pending, error); });
  }

  void release(std::unique_ptr<ClientConnection> connection) override {
    auto* http1 = dynamic_cast<Http1ClientConnection*>(connection.get());
    if (http1 == nullptr || !http1->reusable() || idle_.size() >= options_.max_idle) return;
    idle_.emplace_back(static_cast<Http1ClientConnection*>(connection.release()));
    http1->watchIdle(options_.idle_timeout, [this, http1] { dropIdle(http1); });
  }

  size_t idleCount() const override { return idle_.size(); }

 private:
  // One acquire() in flight: a connection being established, or an idle one being handed
  // over on the next loop turn.
  struct Pending {
    KeepAlivePool* pool = nullptr;
    AcquireCallback callback;
    std::unique_ptr<Http1ClientConnection> connection;
    net::EventPtr handoff;
  };

  static void onHandoff(evutil_socket_t /*fd*/, short /*events*/, void* ctx) {
    auto* pending = static_cast<Pending*>(ctx);
    pending->pool->deliver(pending, nullptr);
  }

  // Hands the connection (or the error) to the waiting callback and forgets the request.
  void deliver(Pending* pending, const Error* error) {
    std::unique_ptr<Pending> owned;
    for (auto it = pending_.begin(); it != pending_.end(); ++it) {
      if (it->get() == pending) {
        owned = std::move(*it);
        pending_.erase(it);
        break;
      }
    }
    if (!owned) return;
    AcquireCallback callback = std::move(owned->callback);
    if (error != nullptr) {
      Error copy = *error;  // `error` lives in the connection destroyed below
      owned.reset();
      callback(nullptr, &copy);
      return;
    }
    std::unique_ptr<ClientConnection> connection = std::move(owned->connection);
    owned.reset();
    callback(std::move(connection), nullptr);
  }

  void dropIdle(Http1ClientConnection* connection) {
    for (auto it = idle_.begin(); it != idle_.end(); ++it) {
      if (it->get() == connection) {
        idle_.erase(it);  // destroys the connection, which returns right after this
        return;
      }
    }
  }

  event_base& base_;
  net::Address address_;
  std::shared_ptr<net::TlsClientContext> tls_;
  Options options_;
  ClientConnectionOptions connection_options_;
  std::list<std::unique_ptr<Pending>> pending_;
  std::list<std::unique_ptr<Http1ClientConnection>> idle_;
};

}  // namespace

std::unique_ptr<ClientPool> ClientPool::create(event_base& base, const net::Address& address,
                                               std::shared_ptr<net::TlsClientContext> tls,
                                               Options options) {
  return std::make_unique<KeepAlivePool>(base, address, std::move(tls), options);
}

}  // namespace portico::http
