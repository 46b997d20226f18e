// A client that pipelines requests and never reads a response must not make a server buffer
// without bound: the engine stops reading a connection whose output is above the high
// watermark (docs/ARCHITECTURE.md, "Memory per connection"). Driven against portico-registry
// alone and behind portico-proxy, plain and TLS; the asserted bound is the documented one per
// connection times the connections, over the baseline, not a timing.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <sys/socket.h>

#include <catch2/catch.hpp>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tests/integration/proxy_harness.h"
#include "tests/integration/registry_harness.h"

using namespace portico::testing;
using namespace std::chrono_literals;

namespace {

// docs/ARCHITECTURE.md "Memory per connection": head (64 KiB) + one socket read (up to the
// 128 KiB high watermark) + 256 KiB of pending body + 128 KiB of output, with TLS state and
// the connection objects rounded up to 1 MiB. A proxied request holds one such bound on each
// side.
constexpr long kPerConnectionKiB = 1024;
// Allocator and thread slack that does not grow with connections (arenas, stacks, TLS
// contexts).
constexpr long kFixedSlackKiB = 8 * 1024;
constexpr int kConnections = 8;
// Request bytes each connection may send at most: more than the kernel's socket buffers hold
// (the server's receive buffer grows to 6 MiB at most by default), so a server that keeps
// reading lets the budget out and one that stops does not.
constexpr uint64_t kBudgetPerConnection = uint64_t{32} * 1024 * 1024;

struct SslCtxFree {
  void operator()(SSL_CTX* ctx) const { SSL_CTX_free(ctx); }
};

// Small socket buffers on the attacker's side: the server's responses back up into its own
// memory after a few kilobytes instead of megabytes of kernel buffers, and the attacker's
// writes go on in small steps for as long as the server reads.
Transport connectWithSmallBuffers(const Endpoint& endpoint) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw std::runtime_error("socket failed");
  Transport transport(fd);
  int size = 4096;
  ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
  size = 16 * 1024;
  ::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(endpoint.port);
  if (::inet_pton(AF_INET, endpoint.host.c_str(), &address.sin_addr) != 1) {
    throw std::runtime_error("not an IPv4 address: " + endpoint.host);
  }
  // The Transport made the socket non-blocking: the connect completes in the background.
  int rc = ::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof(address));
  if (rc != 0 && errno != EINPROGRESS) throw std::runtime_error("connect failed");
  if (!transport.waitFor(POLLOUT, Clock::now() + 10s)) throw std::runtime_error("connect timeout");
  return transport;
}

std::vector<Transport> openConnections(const Endpoint& endpoint, bool tls, SSL_CTX* ctx) {
  std::vector<Transport> connections;
  for (int i = 0; i < kConnections; ++i) {
    connections.push_back(connectWithSmallBuffers(endpoint));
    if (tls) connections.back().startTlsClient(ctx, "", "", Clock::now() + 10s);
  }
  return connections;
}

// Writes pipelined `request`s on every connection, never reading, until each has sent the
// budget, no socket has taken a byte for a while (the server stopped reading), or `over()`
// says a server already holds too much. Returns the request bytes sent in all.
uint64_t pipelineWithoutReading(std::vector<Transport>& connections, const std::string& host,
                                const std::function<bool()>& over) {
  std::string request = "GET /v2/ HTTP/1.1\r\nHost: " + host + "\r\n\r\n";
  std::string block;
  while (block.size() < 16 * 1024) block += request;
  std::vector<uint64_t> sent(connections.size(), 0);
  std::vector<short> wanted(connections.size(), POLLOUT);
  uint64_t total = 0;
  uint64_t last_check = 0;
  constexpr uint64_t kCheckEvery = uint64_t{1} << 20;
  for (;;) {
    std::vector<pollfd> waiting;
    std::vector<size_t> which;
    for (size_t i = 0; i < connections.size(); ++i) {
      if (sent[i] >= kBudgetPerConnection) continue;
      waiting.push_back({connections[i].fd(), wanted[i], 0});
      which.push_back(i);
    }
    if (waiting.empty()) break;  // every budget sent
    // A server that stopped reading never lets a socket take more: the wait bounds the test,
    // the assertions are on memory.
    if (poll(waiting.data(), waiting.size(), 1000) <= 0) break;
    for (size_t k = 0; k < waiting.size(); ++k) {
      if (waiting[k].revents == 0) continue;
      size_t i = which[k];
      // The block holds whole requests: go on where the last (partial) write stopped. A TLS
      // write that wanted more is retried with the same bytes, as OpenSSL requires.
      size_t at = static_cast<size_t>(sent[i] % request.size());
      size_t bytes = 0;
      auto io = connections[i].tryWrite(block.data() + at, block.size() - at, bytes);
      if (io == Transport::Io::Closed) throw std::runtime_error("server closed a connection");
      wanted[i] = io == Transport::Io::WantRead ? POLLIN : POLLOUT;
      sent[i] += bytes;
      total += bytes;
    }
    if (total - last_check >= kCheckEvery) {
      last_check = total;
      if (over()) break;
    }
  }
  return total;
}

std::optional<TlsClientOptions> tlsFor(const Endpoint& endpoint) {
  if (endpoint.scheme != "https") return std::nullopt;
  return trustingTestCa();
}

// The sanitizer build's allocator keeps freed memory in quarantine and adds shadow memory, so
// RSS says nothing there: it runs the attack (for what the sanitizers see) without the bounds.
#if defined(__SANITIZE_ADDRESS__)
constexpr bool kMeasuresMemory = false;
#else
constexpr bool kMeasuresMemory = true;
#endif

// Answers a request on a fresh connection (after an attack too).
int ping(ServerProcess& process) {
  HttpClient client(process.endpoint(), tlsFor(process.endpoint()));
  return client.get("/v2/").status;
}

// The attack against `target`; checks that every process in `watched` stayed within its
// baseline plus `sides` × the per-connection bound × the connections.
void attackAndCheck(const std::vector<ServerProcess*>& watched, int sides) {
  const Endpoint target = watched.front()->endpoint();
  std::unique_ptr<SSL_CTX, SslCtxFree> ctx(SSL_CTX_new(TLS_client_method()));
  std::vector<long> bounds;
  for (auto* process : watched) {
    REQUIRE(ping(*process) == 200);
    bounds.push_back(process->rssKiB() + kFixedSlackKiB +
                     long{sides} * kConnections * kPerConnectionKiB);
  }
  auto over = [&] {
    for (size_t i = 0; i < watched.size(); ++i) {
      if (watched[i]->rssKiB() > bounds[i]) return true;
    }
    return false;
  };
  {
    auto connections = openConnections(target, target.scheme == "https", ctx.get());
    uint64_t sent = pipelineWithoutReading(connections, target.host, over);
    INFO("request bytes sent: " << sent);
    for (size_t i = 0; i < watched.size(); ++i) {
      long bound = bounds[i];
      long rss = watched[i]->rssKiB();
      long peak = watched[i]->peakRssKiB();
      INFO("process " << i << ": RSS " << rss << " KiB, peak " << peak << " KiB, bound " << bound
                      << " KiB");
      if (kMeasuresMemory) CHECK(peak <= bound);  // memory follows connections, not requests
    }
  }
  // The attackers are gone: every program still answers, and holds no more than the bound.
  for (size_t i = 0; i < watched.size(); ++i) {
    CHECK(ping(*watched[i]) == 200);
    if (kMeasuresMemory) CHECK(watched[i]->rssKiB() <= bounds[i]);
  }
}

std::string registryTlsYaml() {
  const auto& certs = TestCertificates::shared();
  return "  tls:\n    certificate: " + certs.serverCert() + "\n    key: " + certs.serverKey() +
         "\n";
}

}  // namespace

TEST_CASE("pipelining without reading keeps portico-registry's memory bounded",
          "[pipelining][memory]") {
  RegistryServer registry({.access_log = false});
  attackAndCheck({&registry.process()}, 1);
}

TEST_CASE("pipelining without reading over TLS keeps portico-registry's memory bounded",
          "[pipelining][memory][tls]") {
  RegistryServer registry({.access_log = false, .extra = registryTlsYaml()});
  attackAndCheck({&registry.process()}, 1);
}

TEST_CASE("pipelining without reading keeps portico-proxy and the registry behind it bounded",
          "[pipelining][memory][proxy]") {
  RegistryServer registry({.access_log = false});
  RunningProxy proxy;
  startProxy(proxy, {.v2 = {registry.hostPort()}});
  attackAndCheck({&*proxy, &registry.process()}, 2);
}

TEST_CASE("pipelining without reading over TLS keeps portico-proxy bounded",
          "[pipelining][memory][proxy][tls]") {
  RegistryServer registry({.access_log = false});
  RunningProxy proxy;
  startProxy(proxy, {.tls = true, .v2 = {registry.hostPort()}});
  attackAndCheck({&*proxy, &registry.process()}, 2);
}
