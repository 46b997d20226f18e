#pragma once
// Notifier: the registry's EventSink when notifications.endpoints are configured (issue 14,
// "durable, at least once"). For each event it builds distribution's event JSON
// (notifications/event.go), drops it for the endpoints that ignore its media type or action,
// and appends it to each remaining endpoint's EventQueue on a storage thread; only then does
// the request's completion run (the handler responds), so an event the client saw succeed is
// on disk. One sender thread per endpoint POSTs the queue in order:
//
//   worker: request.emit(event, then) ─► storage thread: queue.append (fdatasync) ─► post(then)
//   sender thread: peek ─► POST {"events":[…]} ─► 2xx: ack │ else: retry, backoff after
//                                                         threshold failures
//
// One event per POST when the receiver keeps up; up to kMaxBatch when it is behind.
// The HTTP client is a small blocking HTTP/1.1 client (plain or TLS via OpenSSL, one
// connection per POST) on the sender's own thread: never on a worker loop.
// What this does not do: share a queue directory between processes, or deliver exactly once
// (a crash between POST and ack delivers again; ids let receivers dedupe).

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "backend/notify/event_queue.h"
#include "backend/registry/events.h"
#include "backend/storage/executor.h"
#include "common/result.h"

namespace portico::observability {
class RegistryMetrics;
}

namespace portico::notify {

inline constexpr std::string_view kEventsMediaTypeV1 =
    "application/vnd.docker.distribution.events.v1+json";
inline constexpr std::string_view kEventsMediaTypeV2 =
    "application/vnd.docker.distribution.events.v2+json";

// One notifications.endpoints[] entry (enabled ones only).
struct EndpointOptions {
  std::string name;
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;
  std::chrono::milliseconds timeout{1000};
  int threshold = 10;
  std::chrono::milliseconds backoff{1000};
  std::vector<std::string> ignored_media_types;  // ignoredmediatypes + ignore.mediatypes
  std::vector<std::string> ignore_actions;       // ignore.actions
  std::string media_type = std::string(kEventsMediaTypeV1);  // Portico: mediatype
  std::string queue_dir;                                     // the endpoint's EventQueue
  QueueLimits limits;                                        // maxevents, maxbytes
};

struct NotifierOptions {
  std::vector<EndpointOptions> endpoints;
  bool include_references = false;  // notifications.events.includereferences
  std::string source_addr;          // source.addr: host:port of this registry
  std::string instance_id;          // source.instanceID (empty: a random one)
};

// Events past the first when the receiver is behind: at most this many per POST.
inline constexpr size_t kMaxBatch = 64;
inline constexpr size_t kMaxBatchBytes = size_t{1024} * 1024;

// distribution's JSON for one event (the object inside "events").
std::string eventJson(const registry::RequestContext& ctx, const registry::Event& event,
                      const std::string& id, const NotifierOptions& options);

// The result of one POST: the status (0 when no response came) or why not.
struct PostResult {
  int status = 0;
  std::string error;
};
// A blocking POST of `body` (http:// or https://), answered within `timeout` per step.
PostResult httpPost(const std::string& url,
                    const std::vector<std::pair<std::string, std::string>>& headers,
                    const std::string& content_type, const std::string& body,
                    std::chrono::milliseconds timeout);

class Notifier final : public registry::EventSink {
 public:
  // Opens every endpoint's queue (recovering what a previous process left) and starts the
  // senders. `executor` runs the appends and must outlive emit() calls' work (the server
  // drains it before destroying the Notifier).
  static Result<std::unique_ptr<Notifier>> start(NotifierOptions options,
                                                 storage::StorageExecutor& executor);
  ~Notifier() override;  // stops the senders (a POST in flight ends within its timeout)
  Notifier(const Notifier&) = delete;
  Notifier& operator=(const Notifier&) = delete;

  void emit(const registry::RequestContext& ctx, registry::Event event,
            std::function<void()> done) override;
  bool wantsReferences() const override { return options_.include_references; }

  // Queue depth, sent, failed, dropped per endpoint (portico_registry_notifications_*).
  void addMetrics(observability::RegistryMetrics& metrics);

 private:
  struct Endpoint {
    EndpointOptions options;
    std::unique_ptr<EventQueue> queue;
    std::mutex mutex;
    std::condition_variable wake;
    bool stopping = false;
    std::atomic<uint64_t> sent{0};    // events acknowledged by the receiver
    std::atomic<uint64_t> failed{0};  // POSTs that failed
    std::atomic<uint64_t> write_errors{0};
    std::thread thread;
  };

  Notifier(NotifierOptions options, storage::StorageExecutor& executor)
      : options_(std::move(options)), executor_(executor) {}
  void send(Endpoint& endpoint);
  static bool ignores(const EndpointOptions& endpoint, const registry::Event& event);

  NotifierOptions options_;
  storage::StorageExecutor& executor_;
  std::vector<std::unique_ptr<Endpoint>> endpoints_;
};

}  // namespace portico::notify
