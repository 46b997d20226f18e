#include "backend/notify/notifier.h"

#include <fcntl.h>
#include <netdb.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <spdlog/spdlog.h>
#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <nlohmann/json.hpp>
#include <random>

#include "backend/observability/registry_metrics.h"
#include "backend/registry/manifests/manifest.h"
#include "common/log/log.h"
#include "common/metrics/prometheus.h"

namespace portico::notify {
namespace {

std::string_view actionName(registry::Event::Action action) {
  switch (action) {
    case registry::Event::Action::Push:
      return "push";
    case registry::Event::Action::Pull:
      return "pull";
    case registry::Event::Action::Mount:
      return "mount";
    case registry::Event::Action::Delete:
      return "delete";
  }
  return "push";
}

// RFC 3339 with nanoseconds, UTC (Go's time.RFC3339Nano drops trailing zeros; so does this).
std::string rfc3339(std::chrono::system_clock::time_point when) {
  auto since = when.time_since_epoch();
  auto seconds = std::chrono::duration_cast<std::chrono::seconds>(since);
  auto nanos = std::chrono::duration_cast<std::chrono::nanoseconds>(since - seconds).count();
  std::time_t t = seconds.count();
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char buffer[64];
  std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%S", &tm);
  std::string out = buffer;
  if (nanos > 0) {
    char fraction[32];  // nanos < 1e9 (9 digits); room for any long long, as -O0 cannot tell
    std::snprintf(fraction, sizeof fraction, ".%09lld", static_cast<long long>(nanos));
    std::string f = fraction;
    while (f.back() == '0') f.pop_back();
    out += f;
  }
  return out + "Z";
}

std::string randomId() {
  std::random_device device;
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (int i = 0; i < 32; ++i) {
    out += kDigits[device() & 0xf];
    if (i == 7 || i == 11 || i == 15 || i == 19) out += '-';
  }
  return out;
}

}  // namespace

std::string eventJson(const registry::RequestContext& ctx, const registry::Event& event,
                      const std::string& id, const NotifierOptions& options) {
  using Json = nlohmann::ordered_json;
  Json target = Json::object();
  if (!event.media_type.empty()) target["mediaType"] = event.media_type;
  if (event.size != 0) target["size"] = event.size;
  if (event.digest) target["digest"] = event.digest->str();
  if (event.size != 0) target["length"] = event.size;
  if (!event.repository.empty()) target["repository"] = event.repository;
  if (!event.from_repository.empty()) target["fromRepository"] = event.from_repository;
  if (!event.url.empty()) target["url"] = event.url;
  if (!event.tag.empty()) target["tag"] = event.tag;
  if (options.include_references) {
    // distribution: the manifest's References() (config and layers; an index's manifests),
    // as descriptors.
    Json references = Json::array();
    if (event.manifest) {
      auto parsed = registry::manifests::parse(event.media_type, *event.manifest);
      if (parsed) {
        for (const auto* list : {&parsed->blobs, &parsed->manifests}) {
          for (const auto& d : *list) {
            Json descriptor = {{"mediaType", d.media_type}, {"digest", d.digest.str()}};
            if (d.size >= 0) descriptor["size"] = d.size;
            references.push_back(std::move(descriptor));
          }
        }
      }
    }
    for (const auto& digest : event.references) references.push_back({{"digest", digest.str()}});
    if (!references.empty()) target["references"] = std::move(references);
  }
  Json actor = Json::object();
  if (!ctx.actor.empty()) actor["name"] = ctx.actor;
  Json out = {{"id", id},
              {"timestamp", rfc3339(event.timestamp)},
              {"action", actionName(event.action)},
              {"target", std::move(target)},
              {"request",
               {{"id", ctx.request_id},
                {"addr", ctx.remote_addr},
                {"host", ctx.host},
                {"method", ctx.method},
                {"useragent", ctx.user_agent}}},
              {"actor", std::move(actor)},
              {"source", {{"addr", options.source_addr}, {"instanceID", options.instance_id}}}};
  // dump() escapes control characters, so a record never holds a raw newline.
  return out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

Result<std::unique_ptr<Notifier>> Notifier::start(NotifierOptions options,
                                                  storage::StorageExecutor& executor) {
  if (options.instance_id.empty()) options.instance_id = randomId();
  std::unique_ptr<Notifier> notifier(new Notifier(std::move(options), executor));
  for (const auto& endpoint_options : notifier->options_.endpoints) {
    auto queue = EventQueue::open(endpoint_options.queue_dir, endpoint_options.limits);
    if (!queue) return queue.error();
    auto endpoint = std::make_unique<Endpoint>();
    endpoint->options = endpoint_options;
    endpoint->queue = std::move(*queue);
    if (size_t pending = endpoint->queue->pending(); pending > 0) {
      spdlog::info("notifications[{}]: {} events pending from before the restart",
                   endpoint_options.name, pending);
    }
    notifier->endpoints_.push_back(std::move(endpoint));
  }
  for (auto& endpoint : notifier->endpoints_) {
    Endpoint* raw = endpoint.get();
    Notifier* self = notifier.get();
    endpoint->thread = std::thread([self, raw] { self->send(*raw); });
  }
  return notifier;
}

Notifier::~Notifier() {
  for (auto& endpoint : endpoints_) {
    {
      std::lock_guard lock(endpoint->mutex);
      endpoint->stopping = true;
    }
    endpoint->wake.notify_all();
  }
  for (auto& endpoint : endpoints_) {
    if (endpoint->thread.joinable()) endpoint->thread.join();
  }
}

bool Notifier::ignores(const EndpointOptions& endpoint, const registry::Event& event) {
  // Each list applies on its own (distribution 2.8 checked the actions only when media types
  // were also listed).
  const auto& types = endpoint.ignored_media_types;
  if (!event.media_type.empty() &&
      std::find(types.begin(), types.end(), event.media_type) != types.end()) {
    return true;
  }
  const auto& actions = endpoint.ignore_actions;
  return std::find(actions.begin(), actions.end(), actionName(event.action)) != actions.end();
}

void Notifier::emit(const registry::RequestContext& ctx, registry::Event event,
                    std::function<void()> done) {
  std::vector<Endpoint*> targets;
  for (auto& endpoint : endpoints_) {
    if (!ignores(endpoint->options, event)) targets.push_back(endpoint.get());
  }
  if (targets.empty()) return done();
  net::Worker* worker = ctx.worker;
  // The JSON is built on the storage thread too (references parse the manifest).
  executor_.submit([this, targets = std::move(targets), ctx = ctx, event = std::move(event), worker,
                    done = std::move(done)] {
    std::string record = eventJson(ctx, event, randomId(), options_);
    for (Endpoint* endpoint : targets) {
      if (auto appended = endpoint->queue->append(record); !appended) {
        // The operation succeeded and stays succeeded; the event is lost for this endpoint.
        endpoint->write_errors.fetch_add(1, std::memory_order_relaxed);
        spdlog::error("notifications[{}]: cannot queue an event: {} {}", endpoint->options.name,
                      appended.error().message(), appended.error().detail());
        continue;
      }
      { std::lock_guard lock(endpoint->mutex); }  // the sender is waiting or will see it
      endpoint->wake.notify_one();
    }
    if (worker == nullptr) return done();
    worker->post(done);
  });
}

void Notifier::send(Endpoint& endpoint) {
  const auto& options = endpoint.options;
  int failures = 0;
  for (;;) {
    std::vector<std::string> batch;
    {
      std::unique_lock lock(endpoint.mutex);
      endpoint.wake.wait(lock, [&] { return endpoint.stopping || endpoint.queue->pending() > 0; });
      if (endpoint.stopping) return;
    }
    // One event when the receiver keeps up (one pending); several when it is behind.
    // Drops while the POST is in flight remove the batch's oldest records: ack only the rest
    // (read before the peek: a drop in between under-acks, which redelivers, never loses).
    uint64_t dropped_before = endpoint.queue->dropped();
    batch = endpoint.queue->peek(kMaxBatch, kMaxBatchBytes);
    if (batch.empty()) continue;
    std::string body = "{\"events\":[";
    for (size_t i = 0; i < batch.size(); ++i) {
      if (i > 0) body += ',';
      body += batch[i];
    }
    body += "]}";
    PostResult result =
        httpPost(options.url, options.headers, options.media_type, body, options.timeout);
    if (result.status >= 200 && result.status < 300) {
      failures = 0;
      uint64_t dropped_since = endpoint.queue->dropped() - dropped_before;
      size_t count = dropped_since >= batch.size() ? 0 : batch.size() - dropped_since;
      if (auto acked = endpoint.queue->ack(count); !acked) {
        spdlog::error("notifications[{}]: cannot record delivery: {} {}", options.name,
                      acked.error().message(), acked.error().detail());
      }
      endpoint.sent.fetch_add(batch.size(), std::memory_order_relaxed);
      continue;
    }
    endpoint.failed.fetch_add(1, std::memory_order_relaxed);
    ++failures;
    if (failures == 1 || failures % 100 == 0) {
      spdlog::warn("notifications[{}]: POST {} failed ({}): {} events pending", options.name,
                   options.url,
                   result.status != 0 ? "status " + std::to_string(result.status) : result.error,
                   endpoint.queue->pending());
    }
    // distribution's retrying sink: retry at once below the threshold, then back off.
    if (failures >= options.threshold) {
      std::unique_lock lock(endpoint.mutex);
      if (endpoint.wake.wait_for(lock, options.backoff, [&] { return endpoint.stopping; })) return;
    } else {
      std::lock_guard lock(endpoint.mutex);
      if (endpoint.stopping) return;
    }
  }
}

void Notifier::addMetrics(observability::RegistryMetrics& metrics) {
  metrics.addCollector([this](metrics::TextWriter& w) {
    w.family("portico_registry_notifications_pending", "gauge",
             "Events queued on disk for an endpoint and not yet delivered.");
    for (const auto& e : endpoints_) {
      w.sample("portico_registry_notifications_pending",
               metrics::labels({{"endpoint", e->options.name}}),
               static_cast<uint64_t>(e->queue->pending()));
    }
    w.family("portico_registry_notifications_sent_total", "counter",
             "Events the endpoint acknowledged (2xx).");
    for (const auto& e : endpoints_) {
      w.sample("portico_registry_notifications_sent_total",
               metrics::labels({{"endpoint", e->options.name}}), e->sent.load());
    }
    w.family("portico_registry_notifications_failed_total", "counter",
             "POSTs to the endpoint that failed (no answer or not 2xx); retried.");
    for (const auto& e : endpoints_) {
      w.sample("portico_registry_notifications_failed_total",
               metrics::labels({{"endpoint", e->options.name}}), e->failed.load());
    }
    w.family("portico_registry_notifications_dropped_total", "counter",
             "Events dropped: the oldest when the queue was full (maxevents, maxbytes), or "
             "events that could not be written to the queue.");
    for (const auto& e : endpoints_) {
      w.sample("portico_registry_notifications_dropped_total",
               metrics::labels({{"endpoint", e->options.name}}),
               e->queue->dropped() + e->write_errors.load());
    }
  });
}

// --- the blocking HTTP/1.1 client ----------------------------------------------------------

namespace {

struct Url {
  bool tls = false;
  std::string host;
  std::string port;
  std::string target;
};

bool parseUrl(const std::string& url, Url& out) {
  std::string rest;
  if (url.rfind("http://", 0) == 0) {
    rest = url.substr(7);
  } else if (url.rfind("https://", 0) == 0) {
    out.tls = true;
    rest = url.substr(8);
  } else {
    return false;
  }
  size_t slash = rest.find('/');
  std::string authority = rest.substr(0, slash);
  out.target = slash == std::string::npos ? "/" : rest.substr(slash);
  if (!authority.empty() && authority.front() == '[') {
    size_t close = authority.find(']');
    if (close == std::string::npos) return false;
    out.host = authority.substr(1, close - 1);
    if (close + 1 < authority.size() && authority[close + 1] == ':') {
      out.port = authority.substr(close + 2);
    }
  } else {
    size_t colon = authority.rfind(':');
    out.host = authority.substr(0, colon);
    if (colon != std::string::npos) out.port = authority.substr(colon + 1);
  }
  if (out.port.empty()) out.port = out.tls ? "443" : "80";
  return !out.host.empty();
}

// A connected socket with SO_RCVTIMEO/SO_SNDTIMEO set, or -1 (`error` says why).
int connectTo(const Url& url, std::chrono::milliseconds timeout, std::string& error) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (int rc = ::getaddrinfo(url.host.c_str(), url.port.c_str(), &hints, &found); rc != 0) {
    error = std::string("resolve ") + url.host + ": " + ::gai_strerror(rc);
    return -1;
  }
  int fd = -1;
  for (addrinfo* ai = found; ai != nullptr; ai = ai->ai_next) {
    fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, ai->ai_protocol);
    if (fd < 0) continue;
    int rc = ::connect(fd, ai->ai_addr, ai->ai_addrlen);
    if (rc != 0 && errno == EINPROGRESS) {
      pollfd p{fd, POLLOUT, 0};
      rc = ::poll(&p, 1, static_cast<int>(timeout.count())) == 1 ? 0 : -1;
      int so_error = 0;
      socklen_t len = sizeof so_error;
      if (rc == 0 && (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &so_error, &len) != 0 || so_error)) {
        errno = so_error;
        rc = -1;
      } else if (rc != 0) {
        errno = ETIMEDOUT;
      }
    }
    if (rc == 0) break;
    error = std::string("connect: ") + std::strerror(errno);
    ::close(fd);
    fd = -1;
  }
  ::freeaddrinfo(found);
  if (fd < 0) return -1;
  // Back to blocking, with per-call timeouts.
  ::fcntl(fd, F_SETFL, 0);
  timeval tv{static_cast<time_t>(timeout.count() / 1000),
             static_cast<suseconds_t>((timeout.count() % 1000) * 1000)};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  return fd;
}

class Channel {
 public:
  explicit Channel(int fd) : fd_(fd) {}
  ~Channel() {
    if (ssl_ != nullptr) SSL_free(ssl_);
    if (ctx_ != nullptr) SSL_CTX_free(ctx_);
    ::close(fd_);
  }
  Channel(const Channel&) = delete;
  Channel& operator=(const Channel&) = delete;

  bool startTls(const std::string& host, std::string& error) {
    ctx_ = SSL_CTX_new(TLS_client_method());
    if (ctx_ == nullptr) return tlsFailed("SSL_CTX_new", error);
    SSL_CTX_set_min_proto_version(ctx_, TLS1_2_VERSION);
    SSL_CTX_set_default_verify_paths(ctx_);
    SSL_CTX_set_verify(ctx_, SSL_VERIFY_PEER, nullptr);
    ssl_ = SSL_new(ctx_);
    if (ssl_ == nullptr) return tlsFailed("SSL_new", error);
    SSL_set_fd(ssl_, fd_);
    SSL_set_tlsext_host_name(ssl_, host.c_str());
    SSL_set1_host(ssl_, host.c_str());
    if (SSL_connect(ssl_) != 1) return tlsFailed("TLS handshake", error);
    return true;
  }

  bool writeAll(const std::string& data) {
    size_t done = 0;
    while (done < data.size()) {
      ssize_t n = ssl_ != nullptr
                      ? SSL_write(ssl_, data.data() + done, static_cast<int>(data.size() - done))
                      : ::send(fd_, data.data() + done, data.size() - done, MSG_NOSIGNAL);
      if (n <= 0) {
        if (ssl_ == nullptr && n < 0 && errno == EINTR) continue;
        return false;
      }
      done += static_cast<size_t>(n);
    }
    return true;
  }

  ssize_t read(char* buffer, size_t size) {
    if (ssl_ != nullptr) return SSL_read(ssl_, buffer, static_cast<int>(size));
    for (;;) {
      ssize_t n = ::recv(fd_, buffer, size, 0);
      if (n < 0 && errno == EINTR) continue;
      return n;
    }
  }

 private:
  static bool tlsFailed(const char* what, std::string& error) {
    char buffer[256];
    ERR_error_string_n(ERR_get_error(), buffer, sizeof buffer);
    error = std::string(what) + ": " + buffer;
    ERR_clear_error();
    return false;
  }

  int fd_;
  SSL_CTX* ctx_ = nullptr;
  SSL* ssl_ = nullptr;
};

}  // namespace

PostResult httpPost(const std::string& url,
                    const std::vector<std::pair<std::string, std::string>>& headers,
                    const std::string& content_type, const std::string& body,
                    std::chrono::milliseconds timeout) {
  PostResult result;
  Url parsed;
  if (!parseUrl(url, parsed)) {
    result.error = "not an http(s) URL: " + url;
    return result;
  }
  int fd = connectTo(parsed, timeout, result.error);
  if (fd < 0) return result;
  Channel channel(fd);
  if (parsed.tls && !channel.startTls(parsed.host, result.error)) return result;
  std::string request = "POST " + parsed.target + " HTTP/1.1\r\n";
  bool default_port = parsed.port == (parsed.tls ? "443" : "80");
  std::string host =
      parsed.host.find(':') != std::string::npos ? "[" + parsed.host + "]" : parsed.host;
  request += "Host: " + host + (default_port ? "" : ":" + parsed.port) + "\r\n";
  request += "User-Agent: portico-registry\r\n";
  request += "Content-Type: " + content_type + "\r\n";
  request += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  request += "Connection: close\r\n";
  for (const auto& [name, value] : headers) {
    request += name;
    request += ": ";
    request += value;
    request += "\r\n";
  }
  request += "\r\n";
  request += body;
  if (!channel.writeAll(request)) {
    result.error = "send failed";
    return result;
  }
  // Only the status line matters.
  std::string response;
  char buffer[4096];
  while (response.find("\r\n") == std::string::npos && response.size() < 16384) {
    ssize_t n = channel.read(buffer, sizeof buffer);
    if (n <= 0) {
      result.error = response.empty() ? "no response" : "truncated response";
      return result;
    }
    response.append(buffer, static_cast<size_t>(n));
  }
  // "HTTP/1.1 204 No Content"
  if (response.rfind("HTTP/1.", 0) != 0 || response.size() < 12) {
    result.error = "not an HTTP response";
    return result;
  }
  result.status = std::atoi(response.c_str() + 9);
  return result;
}

}  // namespace portico::notify
