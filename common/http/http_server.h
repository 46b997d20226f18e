#pragma once
// HttpServer: the server side of the engine put together. N workers (threads with their own
// event_base); every listener accepts on every worker (SO_REUSEPORT); each worker has its own
// RequestHandler from the factory and its own connections. The handler tells listeners apart
// by ServerExchange::connection().listener.
//
// Ready-line contract (integration tests and scripts rely on it): logListening() logs one
// line "listening on <scheme>://<host>:<port> (<name>)" per listener, then a line "ready".

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/http/server.h"
#include "common/result.h"

namespace portico::net {
class TlsServerContext;
class Worker;
}  // namespace portico::net

namespace portico::http {

struct ListenerSpec {
  std::string name;                            // shown in logs and ConnectionInfo::listener
  std::string address;                         // net::Address syntax: "127.0.0.1:0", "unix:/x"
  std::shared_ptr<net::TlsServerContext> tls;  // null = plain HTTP
};

// A listener as bound: port 0 in the spec becomes the port the kernel chose.
struct BoundListener {
  std::string name;
  std::string scheme;  // "http" or "https"
  std::string host;    // numeric address, or the socket path for unix listeners
  uint16_t port = 0;   // 0 for unix listeners
  bool unix_socket = false;
  // "http://127.0.0.1:8080", "https://[::1]:443", "http+unix:/run/x.sock".
  std::string url() const;
};

struct ServerOptions {
  size_t workers = 0;  // 0 = hardware threads
  ServerLimits limits;
  std::vector<ListenerSpec> listeners;
  // Called once per worker, before the workers start, on the calling thread.
  std::function<std::unique_ptr<RequestHandler>(net::Worker&)> handler_factory;
};

class HttpServer {
 public:
  // Binds every listener and starts the workers. Errors: net::NetErrc, the message naming the
  // listener and its address; NetErrc::AddressInUse if another socket holds an address.
  static Result<std::unique_ptr<HttpServer>> start(ServerOptions options);
  // Stops (no drain) if still running.
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  std::vector<BoundListener> bound() const { return bound_; }
  // Stops accepting, lets in-flight exchanges finish for up to `drain` (keep-alive is turned
  // off), then closes what is left and joins the workers. Callable from any thread but not
  // from a worker; later calls just wait.
  void stop(std::chrono::milliseconds drain);
  // Blocks until the workers have ended (after stop()).
  void wait();
  size_t workerCount() const;
  net::Worker& worker(size_t index);

 private:
  struct WorkerState;
  HttpServer();

  ServerOptions options_;
  std::vector<std::unique_ptr<WorkerState>> workers_;
  std::vector<BoundListener> bound_;
  std::atomic<bool> stopping_{false};
};

// Logs the ready-line contract for `server` (spdlog, info level) and flushes.
void logListening(const HttpServer& server);

// Server connections open in this process, over every HttpServer and worker (for metrics).
int64_t openServerConnections();

}  // namespace portico::http
