#include "backend/gc_runner.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "backend/registry/gc.h"

namespace portico::backend {

std::chrono::milliseconds settlePeriod(std::chrono::seconds delay) {
  using std::chrono::milliseconds;
  return std::max(milliseconds(1000), std::min(milliseconds(30'000), milliseconds(delay) / 10));
}

GcRunner::GcRunner(storage::StorageDriver& driver, GcSettings settings,
                   std::function<void()> invalidate_caches)
    : driver_(driver),
      settings_(settings),
      invalidate_caches_(std::move(invalidate_caches)),
      thread_([this] { run(); }) {}

GcRunner::~GcRunner() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

bool GcRunner::waitFor(std::chrono::milliseconds period) {
  std::unique_lock lock(mutex_);
  return !wake_.wait_for(lock, period, [this] { return stop_; });
}

void GcRunner::run() {
  while (waitFor(settings_.interval)) collectOnce();
}

void GcRunner::collectOnce() {
  auto lock = registry::GcLock::tryAcquire(driver_);
  if (!lock) {
    ++counters_.failures;
    spdlog::error("garbage collection failed: {} {}", lock.error().message(),
                  lock.error().detail());
    return;
  }
  if (!*lock) {
    ++counters_.skipped;
    spdlog::info("garbage collection: another collection runs on this storage; skipped");
    return;
  }
  auto t0 = registry::storageNow(driver_);
  if (!t0) {
    ++counters_.failures;
    spdlog::error("garbage collection failed: {} {}", t0.error().message(), t0.error().detail());
    return;
  }
  registry::GcOptions options;
  options.dry_run = settings_.dry_run;
  options.delete_untagged = settings_.untagged;
  const auto settle = settlePeriod(settings_.delay);
  // The caches forget at each settle (right after links were removed, and after data was set
  // aside), so a blob HEAD answers from storage while a candidate waits: a client that sees
  // 404 uploads the blob again, and the re-mark rescues it (docs/ARCHITECTURE.md).
  options.grace = registry::GcGrace{*t0 - settings_.delay, [this, settle] {
                                      if (invalidate_caches_ && !settings_.dry_run) {
                                        invalidate_caches_();
                                      }
                                      return waitFor(settle);
                                    }};
  options.emit = [](std::string_view line) {
    if (line.starts_with("warning: ")) spdlog::warn("garbage collection: {}", line.substr(9));
  };
  auto report = registry::collectGarbage(driver_, options);
  ++counters_.runs;
  if (!report) {
    ++counters_.failures;
    spdlog::error("garbage collection failed: {} {}", report.error().message(),
                  report.error().detail());
    return;
  }
  if (invalidate_caches_ && !settings_.dry_run) invalidate_caches_();
  counters_.marked = report->marked;
  counters_.blobs_deleted += report->blobs_deleted;
  counters_.manifests_deleted += report->manifests_deleted;
  counters_.layer_links_deleted += report->layer_links_deleted;
  counters_.rescued += report->rescued;
  counters_.bytes_freed += report->bytes_freed;
  counters_.last_duration_ms = static_cast<uint64_t>(report->duration.count());
  spdlog::info(
      "garbage collection{}: marked {}, eligible {} blobs and {} manifests, deleted {} blobs "
      "({} bytes freed), {} manifests, {} layer links, rescued {}, {} ms",
      settings_.dry_run ? " (dry run)" : "", report->marked, report->blobs_eligible,
      report->manifests_eligible, report->blobs_deleted, report->bytes_freed,
      report->manifests_deleted, report->layer_links_deleted, report->rescued,
      report->duration.count());
}

void writeGcMetrics(const GcCounters& counters, metrics::TextWriter& w) {
  auto counter = [&w](std::string_view name, std::string_view help, uint64_t value) {
    w.family(name, "counter", help);
    w.sample(name, "", value);
  };
  auto gauge = [&w](std::string_view name, std::string_view help, uint64_t value) {
    w.family(name, "gauge", help);
    w.sample(name, "", value);
  };
  counter("portico_registry_gc_runs_total", "Online garbage collection runs.", counters.runs);
  counter("portico_registry_gc_failures_total", "Online garbage collection runs that failed.",
          counters.failures);
  counter("portico_registry_gc_skipped_total",
          "Runs skipped because another process held the store's GC lock.", counters.skipped);
  gauge("portico_registry_gc_marked", "Blobs marked live by the last run.", counters.marked);
  counter("portico_registry_gc_blobs_deleted_total", "Blobs deleted.", counters.blobs_deleted);
  counter("portico_registry_gc_manifests_deleted_total", "Manifests deleted.",
          counters.manifests_deleted);
  counter("portico_registry_gc_layer_links_deleted_total", "Stale _layers links deleted.",
          counters.layer_links_deleted);
  counter("portico_registry_gc_rescued_total",
          "Candidates re-referenced during a run's settle period and kept.", counters.rescued);
  counter("portico_registry_gc_freed_bytes_total", "Bytes of blob data deleted.",
          counters.bytes_freed);
  gauge("portico_registry_gc_last_duration_milliseconds", "Duration of the last run.",
        counters.last_duration_ms);
}

}  // namespace portico::backend
