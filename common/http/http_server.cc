#include "common/http/http_server.h"

#include <unistd.h>

#include <deque>
#include <thread>

#include <spdlog/spdlog.h>

#include "common/http/server_connection.h"
#include "common/net/address.h"
#include "common/net/listener.h"
#include "common/net/net_error.h"
#include "common/net/worker.h"

namespace portico::http {

std::string BoundListener::url() const {
  if (unix_socket) return scheme + "+unix:" + host;
  std::string h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  return scheme + "://" + h + ":" + std::to_string(port);
}

struct HttpServer::WorkerState {
  std::unique_ptr<net::Worker> worker;
  std::unique_ptr<RequestHandler> handler;
  std::deque<ListenerContext> contexts;  // stable addresses: listeners point into it
  std::vector<std::unique_ptr<net::Listener>> listeners;
  std::unique_ptr<ConnectionSet> connections;
  net::EventPtr drain_timer;

  static void onDrainTimeout(evutil_socket_t /*fd*/, short /*what*/, void* arg) {
    static_cast<WorkerState*>(arg)->connections->closeAll();
  }
};

HttpServer::HttpServer() = default;

Result<std::unique_ptr<HttpServer>> HttpServer::start(ServerOptions options) {
  std::unique_ptr<HttpServer> server(new HttpServer());
  size_t count = options.workers;
  if (count == 0) count = std::max<size_t>(1, std::thread::hardware_concurrency());
  server->options_ = std::move(options);
  const ServerOptions& opts = server->options_;

  // Bind everything first: a bad address fails start() before any thread runs.
  std::vector<net::BoundSockets> sockets;
  auto closeSockets = [&sockets] {
    for (auto& s : sockets) {
      for (int fd : s.fds) close(fd);
    }
  };
  for (const auto& spec : opts.listeners) {
    auto address = net::Address::parse(spec.address);
    if (!address) {
      closeSockets();
      return address.error();
    }
    auto bound = net::bindListeningSockets(*address, count);
    if (!bound) {
      closeSockets();
      // "listener admin (127.0.0.1:5002): address already in use: another socket holds ...".
      const Error& error = bound.error();
      if (!error.inDomain<net::NetErrc>()) return error;
      return Error(error.code<net::NetErrc>(),
                   "listener " + spec.name + " (" + spec.address + "): " + error.message(),
                   error.detail());
    }
    BoundListener info;
    info.name = spec.name;
    info.scheme = spec.tls ? "https" : "http";
    info.unix_socket = bound->bound.isUnix();
    info.host = info.unix_socket ? bound->bound.path() : bound->bound.host();
    info.port = bound->bound.port();
    server->bound_.push_back(std::move(info));
    sockets.push_back(std::move(*bound));
  }

  for (size_t i = 0; i < count; ++i) {
    auto state = std::make_unique<WorkerState>();
    state->worker = std::make_unique<net::Worker>(i);
    event_base& base = state->worker->base();
    state->handler = opts.handler_factory ? opts.handler_factory(*state->worker) : nullptr;
    state->connections = std::make_unique<ConnectionSet>(base);
    state->drain_timer.reset(evtimer_new(&base, &WorkerState::onDrainTimeout, state.get()));
    for (size_t l = 0; l < opts.listeners.size(); ++l) {
      const auto& spec = opts.listeners[l];
      ListenerContext& context = state->contexts.emplace_back();
      context.name = spec.name;
      context.address = spec.address;
      context.tls = spec.tls;
      context.limits = &server->options_.limits;
      context.handler = state->handler.get();
      ConnectionSet* connections = state->connections.get();
      int fd = sockets[l].fds[i];
      sockets[l].fds[i] = -1;
      if (context.handler == nullptr) {
        close(fd);
        continue;
      }
      state->listeners.push_back(std::make_unique<net::Listener>(
          base, fd, [connections, &context](int client, const sockaddr* peer, socklen_t length) {
            connections->accept(client, peer, length, context);
          }));
    }
    server->workers_.push_back(std::move(state));
  }
  for (auto& s : sockets) {
    for (int fd : s.fds) {
      if (fd >= 0) close(fd);
    }
  }
  for (auto& state : server->workers_) {
    if (auto started = state->worker->start(); !started) {
      server->stop(std::chrono::milliseconds(0));
      return started.error();
    }
  }
  return server;
}

HttpServer::~HttpServer() {
  stop(std::chrono::milliseconds(0));
  // Workers are joined: tear down connections before the handlers they call into.
  for (auto& state : workers_) {
    state->drain_timer.reset();
    state->connections.reset();
    state->listeners.clear();
    state->handler.reset();
  }
}

void HttpServer::stop(std::chrono::milliseconds drain) {
  if (!stopping_.exchange(true)) {
    for (auto& owned : workers_) {
      WorkerState* state = owned.get();
      state->worker->post([state, drain] {
        state->listeners.clear();  // closes the sockets: new connections are refused
        timeval tv;
        tv.tv_sec = static_cast<time_t>(drain.count() / 1000);
        tv.tv_usec = static_cast<suseconds_t>((drain.count() % 1000) * 1000);
        evtimer_add(state->drain_timer.get(), &tv);
        state->connections->drain([state] { state->worker->requestStop(); });
      });
    }
  }
  wait();
}

void HttpServer::wait() {
  for (auto& state : workers_) state->worker->join();
}

size_t HttpServer::workerCount() const {
  return workers_.size();
}

net::Worker& HttpServer::worker(size_t index) {
  return *workers_.at(index)->worker;
}

void logListening(const HttpServer& server) {
  for (const auto& listener : server.bound()) {
    spdlog::info("listening on {} ({})", listener.url(), listener.name);
  }
  spdlog::info("ready");
  spdlog::default_logger()->flush();
}

}  // namespace portico::http
