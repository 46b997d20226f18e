// Both halves of the HTTP engine together: the engine's ClientPool (on a net::Worker) streams a
// generated body to echo_server (HttpServer) and checks that exactly the same bytes come back,
// over plain TCP and TLS.

#include <event2/buffer.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <future>
#include <memory>
#include <string>

#include "common/http/client.h"
#include "common/net/address.h"
#include "common/net/tls_context.h"
#include "common/net/worker.h"
#include "tests/fixtures/http_message.h"
#include "tests/fixtures/server_process.h"
#include "tests/fixtures/test_certificates.h"

using namespace portico;
using namespace portico::testing;
using namespace std::chrono_literals;

namespace {

struct Outcome {
  int status = 0;
  uint64_t received = 0;
  std::string received_sha256;
  std::string sent_sha256;
  std::string error;
};

// One PUT /echo exchange through the client pool, producing the body only while the
// connection's output is not blocked.
class RoundTrip final : public http::ClientCallbacks, public http::BodySink {
 public:
  RoundTrip(http::ClientPool& pool, uint64_t length) : pool_(pool), body_(length, 42) {}

  std::future<Outcome> start() {
    pool_.acquire([this](std::unique_ptr<http::ClientConnection> connection, const Error* error) {
      if (error != nullptr) {
        fail(error->message());
        return;
      }
      connection_ = std::move(connection);
      http::RequestHead head;
      head.method = "PUT";
      head.target = "/echo";
      head.path = "/echo";
      head.headers.add("Host", "echo");
      head.headers.add("Content-Length", std::to_string(body_.length()));
      connection_->sendRequest(std::move(head), *this);
      produce();
    });
    return promise_.get_future();
  }

  // Runs on the worker after the outcome is known: gives the connection back.
  void release() {
    if (connection_) pool_.release(std::move(connection_));
  }

  // http::ClientCallbacks
  void onResponseHead(http::ResponseHead&& head, http::BodySource& body) override {
    outcome_.status = head.status;
    body.setSink(this);
  }
  void onClientError(const Error& error) override { fail(error.message()); }
  void onWriteDrained() override { produce(); }

  // http::BodySink
  void onBodyData(evbuffer& data) override {
    size_t length = evbuffer_get_length(&data);
    const auto* bytes = evbuffer_pullup(&data, -1);
    received_hash_.update(bytes, length);
    outcome_.received += length;
    evbuffer_drain(&data, length);
  }
  void onBodyEnd() override {
    outcome_.received_sha256 = received_hash_.finishHex();
    outcome_.sent_sha256 = sent_hash_.finishHex();
    done();
  }
  void onBodyError(const Error& error) override { fail(error.message()); }

 private:
  void produce() {
    char chunk[64 * 1024];
    while (!finished_sending_ && !connection_->outputBlocked()) {
      size_t n = body_.read(chunk, sizeof(chunk));
      if (n == 0) {
        finished_sending_ = true;
        connection_->finishRequest();
        return;
      }
      sent_hash_.update(chunk, n);
      connection_->sendBody(std::string_view(chunk, n));
    }
  }
  void fail(std::string message) {
    outcome_.error = std::move(message);
    done();
  }
  void done() {
    if (settled_) return;
    settled_ = true;
    promise_.set_value(outcome_);
  }

  http::ClientPool& pool_;
  GeneratedBody body_;
  std::unique_ptr<http::ClientConnection> connection_;
  Sha256 sent_hash_;
  Sha256 received_hash_;
  bool finished_sending_ = false;
  bool settled_ = false;
  Outcome outcome_;
  std::promise<Outcome> promise_;
};

std::string echoBinary() {
  const char* path = std::getenv("PORTICO_ECHO_BIN");
  if (path == nullptr) throw std::runtime_error("PORTICO_ECHO_BIN is not set");
  return path;
}

}  // namespace

TEST_CASE("the engine's client streams a body through echo_server and back, plain and TLS",
          "[engine][roundtrip]") {
  const auto& certs = TestCertificates::shared();
  bool tls = GENERATE(false, true);
  INFO((tls ? "TLS" : "plain"));
  std::vector<std::string> args = {"--listen", "127.0.0.1:0"};
  std::shared_ptr<net::TlsClientContext> tls_context;
  if (tls) {
    args.insert(args.end(), {"--tls", certs.serverCert(), certs.serverKey()});
    net::TlsClientOptions options;
    options.ca_file = certs.caCert();
    auto created = net::TlsClientContext::create(options);
    REQUIRE(created);
    tls_context = *created;
  }
  auto server = ServerProcess::start(echoBinary(), args);
  auto address = net::Address::parse("127.0.0.1:" + std::to_string(server.port()));
  REQUIRE(address);

  auto worker = std::make_unique<net::Worker>(0);
  auto pool = http::ClientPool::create(worker->base(), *address, tls_context, {});
  REQUIRE(worker->start());

  const uint64_t length = 40 * 1024 * 1024 + 7;
  for (int round = 0; round < 2; ++round) {
    RoundTrip trip(*pool, length);
    std::promise<std::future<Outcome>> started;
    worker->post([&] { started.set_value(trip.start()); });
    auto future = started.get_future().get();
    REQUIRE(future.wait_for(120s) == std::future_status::ready);
    Outcome outcome = future.get();
    std::promise<void> released;
    worker->post([&] {
      trip.release();
      released.set_value();
    });
    released.get_future().wait();
    CHECK(outcome.error == "");
    CHECK(outcome.status == 200);
    CHECK(outcome.received == length);
    CHECK(outcome.received_sha256 == outcome.sent_sha256);
  }
  // The second round reused the first round's connection.
  std::promise<size_t> idle;
  worker->post([&] { idle.set_value(pool->idleCount()); });
  CHECK(idle.get_future().get() == 1);

  worker->requestStop();
  worker->join();
  pool.reset();
}
