#pragma once
// GcRunner: storage.maintenance.gc, online garbage collection on its own thread (a walk of the
// whole store: never on a worker or the storage executor). The first run comes `interval`
// after start, then one every `interval`. Each run: take the store's GcLock (skip the run if
// another process holds it), take T0 from the storage's own clock (registry::storageNow),
// collect with the grace rules (registry::collectGarbage, keep_newer_than = T0 − delay, the
// settle period waited here, the caches invalidated before each settle), invalidate the caches, log
// one line and update the counters. See docs/ARCHITECTURE.md "Storage lifecycle" for why this is
// safe against concurrent pushes. Stops promptly when destroyed (a run in its settle period is
// abandoned and put back).

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>

#include "backend/storage/storage_driver.h"
#include "common/metrics/prometheus.h"

namespace portico::backend {

struct GcSettings {
  std::chrono::seconds interval{std::chrono::hours(24)};
  std::chrono::seconds delay{std::chrono::hours(1)};
  bool untagged = false;
  bool dry_run = false;
};

// Totals since start, for /metrics (read with relaxed loads from any thread).
struct GcCounters {
  std::atomic<uint64_t> runs{0};
  std::atomic<uint64_t> failures{0};
  std::atomic<uint64_t> skipped{0};  // another process held the lock
  std::atomic<uint64_t> marked{0};   // of the last run
  std::atomic<uint64_t> blobs_deleted{0};
  std::atomic<uint64_t> manifests_deleted{0};
  std::atomic<uint64_t> layer_links_deleted{0};
  std::atomic<uint64_t> rescued{0};
  std::atomic<uint64_t> bytes_freed{0};
  std::atomic<uint64_t> last_duration_ms{0};
};

// The counters as Prometheus families (portico_registry_gc_*), for the debug listener's /metrics.
void writeGcMetrics(const GcCounters& counters, metrics::TextWriter& w);

// The settle period for a delay: long enough for a manifest PUT or an upload commit in flight
// to write its links (each takes milliseconds), at most the delay's tenth above 1 s.
std::chrono::milliseconds settlePeriod(std::chrono::seconds delay);

class GcRunner {
 public:
  // `driver` outlives the runner; `invalidate_caches` is called before each settle period and
  // after every run (not in dry-run mode).
  GcRunner(storage::StorageDriver& driver, GcSettings settings,
           std::function<void()> invalidate_caches);
  ~GcRunner();
  GcRunner(const GcRunner&) = delete;
  GcRunner& operator=(const GcRunner&) = delete;

  const GcCounters& counters() const { return counters_; }

 private:
  void run();
  void collectOnce();
  // Waits `period` unless stopped; false when stopped.
  bool waitFor(std::chrono::milliseconds period);

  storage::StorageDriver& driver_;
  GcSettings settings_;
  std::function<void()> invalidate_caches_;
  GcCounters counters_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace portico::backend
