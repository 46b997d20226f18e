// Listeners never share an address with another socket: portico-proxy and portico-registry
// refuse to start, naming the listener and its address, when the address is held by a plain
// listening socket, or by a socket with SO_REUSEPORT in another process (which the kernel
// would otherwise let them join and split connections with).

#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <vector>

#include "tests/fixtures/server_process.h"
#include "tests/fixtures/temp_dir.h"

using namespace portico::testing;
using Catch::Matchers::Contains;

namespace {

std::string binary(const char* variable) {
  const char* path = std::getenv(variable);
  if (path == nullptr) throw std::runtime_error(std::string(variable) + " is not set");
  return path;
}

// A listening socket on 127.0.0.1 (a free port), with or without SO_REUSEPORT. Returns the fd.
int listenOnLoopback(bool reuse_port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  int one = 1;
  if (reuse_port) setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) != 0 || listen(fd, 16) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

uint16_t portOf(int fd) {
  sockaddr_in sa{};
  socklen_t length = sizeof(sa);
  getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &length);
  return ntohs(sa.sin_port);
}

// Holds 127.0.0.1:<port> with a listening socket: in this process (plain), or in a child
// process with SO_REUSEPORT, which keeps it until the holder is destroyed.
class PortHolder {
 public:
  enum class Kind { PlainSocket, ReusePortInOtherProcess };

  explicit PortHolder(Kind kind) {
    if (kind == Kind::PlainSocket) {
      fd_ = listenOnLoopback(false);
      REQUIRE(fd_ >= 0);
      port_ = portOf(fd_);
      return;
    }
    int to_parent[2];
    int to_child[2];
    REQUIRE(pipe2(to_parent, O_CLOEXEC) == 0);
    REQUIRE(pipe2(to_child, O_CLOEXEC) == 0);
    child_ = fork();
    if (child_ == 0) {  // no Catch2 in the child: its output would join the parent's
      close(to_parent[0]);
      close(to_child[1]);
      int fd = listenOnLoopback(true);
      uint16_t port = fd >= 0 ? portOf(fd) : 0;
      if (write(to_parent[1], &port, sizeof(port)) != sizeof(port)) _exit(1);
      char byte;
      while (read(to_child[0], &byte, 1) > 0) {
      }
      _exit(0);
    }
    REQUIRE(child_ > 0);
    close(to_parent[1]);
    close(to_child[0]);
    release_ = to_child[1];
    REQUIRE(read(to_parent[0], &port_, sizeof(port_)) == sizeof(port_));
    close(to_parent[0]);
    REQUIRE(port_ != 0);
  }
  ~PortHolder() {
    if (fd_ >= 0) close(fd_);
    if (child_ > 0) {
      close(release_);
      int status = 0;
      waitpid(child_, &status, 0);
    }
  }
  PortHolder(const PortHolder&) = delete;
  PortHolder& operator=(const PortHolder&) = delete;

  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }

 private:
  int fd_ = -1;
  pid_t child_ = -1;
  int release_ = -1;
  uint16_t port_ = 0;
};

// Starts `binary` with `args`; it must exit before it is ready. Returns what it printed.
std::string startFails(const std::string& binary, const std::vector<std::string>& args) {
  try {
    auto process = ServerProcess::start(binary, args);
  } catch (const std::exception& e) {
    return e.what();
  }
  FAIL("the server started on an address another socket holds");
  return {};
}

}  // namespace

TEST_CASE("a proxy listener on an address another socket holds: a clean start failure",
          "[listener]") {
  auto kind = GENERATE(PortHolder::Kind::PlainSocket, PortHolder::Kind::ReusePortInOtherProcess);
  PortHolder holder(kind);
  TempDir dir;
  SECTION("the admin listener") {
    std::string config = dir.write("proxy.yml",
                                   "listen: [{address: \"127.0.0.1:0\"}]\n"
                                   "admin: {address: \"" +
                                       holder.address() + "\"}\nworkers: 2\n");
    CHECK_THAT(startFails(binary("PORTICO_PROXY_BIN"), {"--config", config}),
               Contains("listener admin (" + holder.address() +
                        "): address already in use: another socket holds " + holder.address()));
  }
  SECTION("the public listener") {
    std::string config = dir.write("proxy.yml", "listen: [{address: \"" + holder.address() +
                                                    "\"}]\nadmin: {address: off}\nworkers: 2\n");
    CHECK_THAT(startFails(binary("PORTICO_PROXY_BIN"), {"--config", config}),
               Contains("listener listen[0] (" + holder.address() + "): address already in use"));
  }
}

TEST_CASE("a registry listener on an address another socket holds: a clean start failure",
          "[listener]") {
  auto kind = GENERATE(PortHolder::Kind::PlainSocket, PortHolder::Kind::ReusePortInOtherProcess);
  PortHolder holder(kind);
  TempDir dir;
  std::string head =
      "version: 0.1\nstorage: {filesystem: {rootdirectory: " + dir.file("data") + "}}\n";
  SECTION("the debug listener") {
    std::string config = dir.write("registry.yml", head +
                                                       "http: {addr: 127.0.0.1:0, debug: "
                                                       "{addr: " +
                                                       holder.address() + "}}\n");
    CHECK_THAT(startFails(binary("PORTICO_REGISTRY_BIN"), {"serve", config}),
               Contains("portico-registry: cannot listen: listener debug (" + holder.address() +
                        "): address already in use: another socket holds " + holder.address()));
  }
  SECTION("the main listener") {
    std::string config =
        dir.write("registry.yml", head + "http: {addr: " + holder.address() + "}\n");
    CHECK_THAT(startFails(binary("PORTICO_REGISTRY_BIN"), {"serve", config}),
               Contains("listener http (" + holder.address() + "): address already in use"));
  }
}
