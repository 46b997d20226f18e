// HttpServer: listeners bound on every worker, one handler per worker from the factory, the
// listener name reaching the handler, a held address refused by name, stop() draining an
// exchange in flight and ending the workers. Loopback sockets only (127.0.0.1:0).

#include "common/http/http_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <future>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include "common/net/net_error.h"
#include "common/net/worker.h"
#include "tests/fixtures/http_client.h"

using portico::http::HttpServer;
using portico::http::RequestHandler;
using portico::http::ServerExchange;
using portico::http::ServerOptions;
using portico::net::NetErrc;
using portico::testing::HttpClient;

namespace {

// Answers "<listener> <worker index>"; GET /hold parks the exchange until release() and tells
// `held` that it arrived.
struct Shared {
  std::mutex mutex;
  std::set<size_t> handlers_made;  // worker indexes the factory was called for
  std::promise<void> held;
  std::atomic<ServerExchange*> parked{nullptr};
  portico::net::Worker* parked_on = nullptr;
};

class EchoHandler : public RequestHandler {
 public:
  EchoHandler(Shared& shared, portico::net::Worker& worker) : shared_(shared), worker_(worker) {}
  void onRequest(ServerExchange& exchange) override {
    if (exchange.request().path == "/hold") {
      shared_.parked_on = &worker_;
      shared_.parked = &exchange;
      shared_.held.set_value();
      return;
    }
    exchange.respond(200, {},
                     exchange.connection().listener + " " + std::to_string(worker_.index()));
  }

 private:
  Shared& shared_;
  portico::net::Worker& worker_;
};

// True if something accepts a TCP connection on 127.0.0.1:port.
bool accepts(uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  REQUIRE(fd >= 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool connected = ::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0;
  ::close(fd);
  return connected;
}

ServerOptions options(Shared& shared, size_t workers) {
  ServerOptions o;
  o.workers = workers;
  o.listeners = {{"api", "127.0.0.1:0", nullptr}, {"debug", "127.0.0.1:0", nullptr}};
  o.handler_factory = [&shared](portico::net::Worker& worker) -> std::unique_ptr<RequestHandler> {
    std::lock_guard lock(shared.mutex);
    shared.handlers_made.insert(worker.index());
    return std::make_unique<EchoHandler>(shared, worker);
  };
  return o;
}

}  // namespace

TEST_CASE("every listener is bound and its name reaches the worker's own handler",
          "[http_server]") {
  Shared shared;
  auto server = HttpServer::start(options(shared, 2));
  REQUIRE(server);
  CHECK((*server)->workerCount() == 2);
  CHECK(shared.handlers_made == std::set<size_t>{0, 1});
  auto bound = (*server)->bound();
  REQUIRE(bound.size() == 2);
  CHECK(bound[0].name == "api");
  CHECK(bound[1].name == "debug");
  CHECK(bound[0].port != 0);
  CHECK(bound[0].port != bound[1].port);
  CHECK(bound[0].url() == "http://127.0.0.1:" + std::to_string(bound[0].port));

  for (const auto& listener : bound) {
    HttpClient client("127.0.0.1", listener.port);
    auto r = client.get("/");
    REQUIRE(r.status == 200);
    CHECK(r.body.rfind(listener.name + " ", 0) == 0);
  }
  (*server)->stop(std::chrono::milliseconds(0));
  (*server)->wait();
}

TEST_CASE("an address another socket holds is refused with the listener's name", "[http_server]") {
  Shared first_shared, second_shared;
  auto first = HttpServer::start(options(first_shared, 1));
  REQUIRE(first);
  ServerOptions second = options(second_shared, 1);
  const std::string taken = "127.0.0.1:" + std::to_string((*first)->bound()[0].port);
  second.listeners = {{"clash", taken, nullptr}};
  auto refused = HttpServer::start(std::move(second));
  REQUIRE_FALSE(refused);
  CHECK(refused.error().is(NetErrc::AddressInUse));
  CHECK(refused.error().message().find("clash") != std::string::npos);
  CHECK(refused.error().message().find(taken) != std::string::npos);
}

TEST_CASE("stop lets an exchange in flight finish within the drain, then the workers end",
          "[http_server]") {
  Shared shared;
  auto server = HttpServer::start(options(shared, 1));
  REQUIRE(server);
  const uint16_t port = (*server)->bound()[0].port;
  auto answer = std::async(std::launch::async, [port] {
    HttpClient client("127.0.0.1", port);
    return client.get("/hold");
  });
  shared.held.get_future().wait();

  // stop() blocks while the exchange drains: answer it from its worker meanwhile.
  auto stopped = std::async(std::launch::async, [&] {
    (*server)->stop(std::chrono::seconds(30));
    (*server)->wait();
  });
  // Once the listener is closed the drain has begun on the worker (stop() closes listeners
  // first): answer the exchange then (polled with a deadline; nothing to wait on).
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (accepts(port) && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  REQUIRE_FALSE(accepts(port));
  shared.parked_on->post(
      [&] { shared.parked.load()->respond(200, {}, "finished while draining"); });
  auto r = answer.get();
  CHECK(r.status == 200);
  CHECK(r.body == "finished while draining");
  // Keep-alive is off while draining: the server says so and closes.
  CHECK(r.headers.get("Connection") == "close");
  REQUIRE(stopped.wait_for(std::chrono::seconds(30)) == std::future_status::ready);
}
