// GcRunner (storage.maintenance.gc): when the caches are told to forget. A blob HEAD answered
// by the descriptor cache must not say 200 for a blob whose link the collection removed, or a
// client skips the upload and its manifest PUT fails: so the runner invalidates right after
// the link removal (before the first settle period), while the data still exists, and again
// after the run.

#include "backend/gc_runner.h"

#include <spdlog/spdlog.h>

#include <catch2/catch.hpp>

#include <chrono>
#include <filesystem>
#include <mutex>
#include <thread>
#include <vector>

#include "backend/registry/blob_store.h"
#include "backend/storage/layout.h"
#include "tests/unit/backend/storage/driver_fixtures.h"

using namespace portico;
namespace layout = storage::layout;

TEST_CASE("online gc invalidates the caches while a candidate's link is gone and its data is not",
          "[gc_runner]") {
  // The runner logs its summary at info on spdlog's default logger (stdout): that would be
  // read as TAP output. Warnings and errors still show.
  spdlog::set_level(spdlog::level::warn);
  storage::testing::FilesystemFixture f;
  registry::BlobStore blobs(f.driver);
  const auto repo = *registry::Repository::parse("app");
  auto orphan = blobs.put(repo, "never referenced");
  REQUIRE(orphan);
  // Older than the delay, so the orphan is a candidate at the first run.
  const auto old = std::filesystem::file_time_type::clock::now() - std::chrono::hours(2);
  for (const auto& path :
       {layout::blobData(orphan->digest), layout::layerLink("app", orphan->digest)})
    std::filesystem::last_write_time(f.root + path, old);

  struct Seen {
    bool link;
    bool data;
  };
  std::mutex mutex;
  std::vector<Seen> seen;
  auto exists = [&](const std::string& path) { return f.second.stat(path).has_value(); };
  {
    backend::GcRunner runner(
        f.driver,
        backend::GcSettings{std::chrono::seconds(1), std::chrono::seconds(1), false, false}, [&] {
          Seen now{exists(layout::layerLink("app", orphan->digest)),
                   exists(layout::blobData(orphan->digest))};
          std::lock_guard lock(mutex);
          seen.push_back(now);
        });
    // The runner has no completion to wait on: its counters move after each run's last
    // invalidation (polled, with a deadline).
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (runner.counters().runs == 0 && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    REQUIRE(runner.counters().runs >= 1);
    CHECK(runner.counters().blobs_deleted >= 1);
  }
  std::lock_guard lock(mutex);
  REQUIRE(seen.size() >= 2);
  // The first invalidation: the link is removed, the data still there (a HEAD from now on
  // reads storage and answers 404, so the client uploads again and the re-mark rescues it).
  CHECK_FALSE(seen.front().link);
  CHECK(seen.front().data);
  // The last: after the run, the data is gone too.
  CHECK_FALSE(seen.back().link);
  CHECK_FALSE(seen.back().data);
}
