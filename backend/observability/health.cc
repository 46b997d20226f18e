#include "backend/observability/health.h"

#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <spdlog/spdlog.h>
#include <cerrno>
#include <cstring>

namespace portico::observability {
namespace {

enum class HealthErrc { Failed = 1 };

Error failed(std::string message) {
  return Error{HealthErrc::Failed, std::move(message)};
}

struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

using Clock = std::chrono::steady_clock;

int remainingMs(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  return left.count() > 0 ? static_cast<int>(left.count()) : 0;
}

// Connects to host:port before `deadline`; the socket is non-blocking.
Result<void> connectTo(Fd& sock, const std::string& host, const std::string& port,
                       Clock::time_point deadline) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (int rc = ::getaddrinfo(host.c_str(), port.c_str(), &hints, &found); rc != 0) {
    return failed("resolve " + host + ": " + ::gai_strerror(rc));
  }
  std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> list(found, &::freeaddrinfo);
  std::string last = "no address";
  for (addrinfo* ai = found; ai != nullptr; ai = ai->ai_next) {
    Fd candidate;
    candidate.fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (candidate.fd < 0) continue;
    if (::connect(candidate.fd, ai->ai_addr, ai->ai_addrlen) != 0 && errno != EINPROGRESS) {
      last = std::strerror(errno);
      continue;
    }
    pollfd p{candidate.fd, POLLOUT, 0};
    if (::poll(&p, 1, remainingMs(deadline)) != 1) {
      last = "timeout";
      continue;
    }
    int err = 0;
    socklen_t len = sizeof err;
    ::getsockopt(candidate.fd, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err != 0) {
      last = std::strerror(err);
      continue;
    }
    std::swap(sock.fd, candidate.fd);
    return {};
  }
  return failed("connect " + host + ":" + port + ": " + last);
}

// host and port of "host:port" or "[v6]:port".
std::pair<std::string, std::string> splitHostPort(const std::string& addr) {
  size_t colon = addr.rfind(':');
  if (colon == std::string::npos) return {addr, ""};
  std::string host = addr.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  return {host, addr.substr(colon + 1)};
}

}  // namespace

Result<void> StorageReadiness::check() {
  auto info = driver_.stat("/");
  if (info) return {};
  // distribution: an empty registry has no root yet. Portico's filesystem driver needs it.
  if (info.error().is(storage::StorageErrc::NotFound) && driver_.name() != "filesystem") return {};
  return failed(info.error().message() +
                (info.error().detail().empty() ? std::string() : " " + info.error().detail()));
}

Result<void> checkFile(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0) return failed("file exists");
  return {};
}

Result<void> checkTcp(const std::string& addr, std::chrono::milliseconds timeout) {
  auto [host, port] = splitHostPort(addr);
  Fd sock;
  return connectTo(sock, host, port, Clock::now() + timeout);
}

Result<void> checkHttp(const std::string& uri,
                       const std::vector<std::pair<std::string, std::string>>& headers,
                       int status_code, std::chrono::milliseconds timeout) {
  constexpr std::string_view kScheme = "http://";
  if (uri.compare(0, kScheme.size(), kScheme) != 0) return failed("only http:// URIs are checked");
  std::string rest = uri.substr(kScheme.size());
  size_t slash = rest.find('/');
  std::string authority = rest.substr(0, slash);
  std::string target = slash == std::string::npos ? "/" : rest.substr(slash);
  auto [host, port] = splitHostPort(authority);
  if (authority.find(':') == std::string::npos ||
      (authority.front() == '[' && authority.back() == ']')) {
    host = authority;
    port = "80";
  }
  auto deadline = Clock::now() + timeout;
  Fd sock;
  if (auto connected = connectTo(sock, host, port, deadline); !connected) return connected;
  std::string request = "GET " + target + " HTTP/1.1\r\nHost: " + authority +
                        "\r\nConnection: close\r\nUser-Agent: portico-registry-health\r\n";
  for (const auto& [name, value] : headers) request += name + ": " + value + "\r\n";
  request += "\r\n";
  size_t sent = 0;
  while (sent < request.size()) {
    pollfd p{sock.fd, POLLOUT, 0};
    if (::poll(&p, 1, remainingMs(deadline)) != 1) return failed("timeout sending to " + uri);
    ssize_t n = ::send(sock.fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && errno != EAGAIN) return failed(std::string("send: ") + std::strerror(errno));
    if (n > 0) sent += static_cast<size_t>(n);
  }
  std::string response;
  while (response.find("\r\n") == std::string::npos) {
    pollfd p{sock.fd, POLLIN, 0};
    if (::poll(&p, 1, remainingMs(deadline)) != 1) return failed("timeout waiting for " + uri);
    char buffer[512];
    ssize_t n = ::recv(sock.fd, buffer, sizeof buffer, 0);
    if (n == 0) return failed("connection closed by " + uri);
    if (n < 0 && errno != EAGAIN) return failed(std::string("recv: ") + std::strerror(errno));
    if (n > 0) response.append(buffer, static_cast<size_t>(n));
    if (response.size() > 8192) break;
  }
  // "HTTP/1.1 200 OK"
  size_t space = response.find(' ');
  int status = space == std::string::npos ? 0 : std::atoi(response.c_str() + space + 1);
  if (status != status_code) {
    return failed("downstream service returned unexpected status: " + std::to_string(status));
  }
  return {};
}

std::string HealthChecks::checkName(const HealthCheckSpec& spec, std::string_view driver_name) {
  if (spec.kind == HealthCheckSpec::Kind::StorageDriver) {
    return "storagedriver_" + std::string(driver_name);
  }
  return spec.target;
}

HealthChecks::HealthChecks(std::vector<HealthCheckSpec> specs, StorageReadiness& storage,
                           std::string_view driver_name)
    : storage_(storage) {
  auto now = Clock::now();
  for (auto& spec : specs) {
    State state;
    state.name = checkName(spec, driver_name);
    state.spec = std::move(spec);
    state.due = now;
    states_.push_back(std::move(state));
  }
  if (!states_.empty()) thread_ = std::thread([this] { run(); });
}

HealthChecks::~HealthChecks() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

std::map<std::string, std::string> HealthChecks::failures() const {
  std::lock_guard lock(mutex_);
  std::map<std::string, std::string> out;
  for (const auto& state : states_) {
    if (state.failing) out[state.name] = state.error;
  }
  return out;
}

Result<void> HealthChecks::probe(const HealthCheckSpec& spec) {
  switch (spec.kind) {
    case HealthCheckSpec::Kind::StorageDriver:
      return storage_.check();
    case HealthCheckSpec::Kind::File:
      return checkFile(spec.target);
    case HealthCheckSpec::Kind::Http:
      return checkHttp(spec.target, spec.headers, spec.status_code, spec.timeout);
    case HealthCheckSpec::Kind::Tcp:
      return checkTcp(spec.target, spec.timeout);
  }
  return {};
}

void HealthChecks::run() {
  std::unique_lock lock(mutex_);
  while (!stop_) {
    auto now = Clock::now();
    auto next = Clock::time_point::max();
    for (auto& state : states_) {
      if (state.due <= now) {
        HealthCheckSpec spec = state.spec;
        lock.unlock();
        Result<void> result = probe(spec);
        lock.lock();
        if (stop_) return;
        state.due = Clock::now() + state.spec.interval;
        if (result) {
          state.consecutive_failures = 0;
          if (state.failing) spdlog::info("health check {} recovered", state.name);
          state.failing = false;
          state.error.clear();
        } else {
          ++state.consecutive_failures;
          state.error = result.error().message();
          if (!state.failing && state.consecutive_failures >= std::max(1, state.spec.threshold)) {
            state.failing = true;
            spdlog::warn("health check {} failed: {}", state.name, state.error);
          }
        }
      }
      next = std::min(next, state.due);
    }
    wake_.wait_until(lock, next, [this] { return stop_; });
  }
}

}  // namespace portico::observability
