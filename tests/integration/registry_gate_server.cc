// registry_gate_server: portico-registry's server (backend::RegistryServer) with ONE worker over
// a gating storage driver, for registry_loop_test. The driver wraps FilesystemDriver; the first
// call that matches the gate blocks until the test opens the gate:
//
//   registry_gate_server ROOT FIFO repo     every call on a path under repositories/slow/
//   registry_gate_server ROOT FIFO commit   the move of an upload of repository "slow" into the
//                                           blob store (the commit)
//   registry_gate_server ROOT FIFO nowait   as repo, and the driver offers calls that never wait
//                                           (storage/nowait.h): a gated call in a NoWaitScope
//                                           throws WouldBlock (it would wait), other calls are
//                                           answered by the filesystem driver from the caches
//
// A held call prints "gate: held <call> <path>", then opens FIFO for reading, which blocks until
// the test opens it for writing ("gate: released"); calls after that pass straight through.
// Prints the ready lines of http::logListening; stops on SIGTERM/SIGINT.

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "backend/registry_server.h"
#include "backend/storage/filesystem_driver.h"
#include "backend/storage/nowait.h"
#include "common/http/http_server.h"
#include "common/net/signals.h"

namespace {

using portico::Result;
namespace storage = portico::storage;

class GatingDriver : public storage::StorageDriver {
 public:
  enum class Mode { Repo, Commit, NoWait };

  GatingDriver(std::unique_ptr<storage::StorageDriver> inner, std::string fifo, Mode mode)
      : inner_(std::move(inner)),
        fifo_(std::move(fifo)),
        commit_mode_(mode == Mode::Commit),
        nowait_(mode == Mode::NoWait) {}

  std::string_view name() const override { return inner_->name(); }
  bool supportsNoWait() const override { return nowait_ && inner_->supportsNoWait(); }
  Result<std::string> getContent(std::string_view path) override {
    gate("getContent", path);
    return inner_->getContent(path);
  }
  Result<void> putContent(std::string_view path, std::string_view data) override {
    gate("putContent", path);
    return inner_->putContent(path, data);
  }
  Result<std::unique_ptr<storage::FileReader>> reader(std::string_view path,
                                                      uint64_t offset) override {
    gate("reader", path);
    return inner_->reader(path, offset);
  }
  Result<std::unique_ptr<storage::FileWriter>> writer(std::string_view path, bool append) override {
    gate("writer", path);
    return inner_->writer(path, append);
  }
  Result<storage::FileInfo> stat(std::string_view path) override {
    gate("stat", path);
    return inner_->stat(path);
  }
  Result<std::vector<std::string>> list(std::string_view path) override {
    gate("list", path);
    return inner_->list(path);
  }
  Result<std::vector<storage::DirEntry>> listEntries(std::string_view path) override {
    gate("listEntries", path);
    return inner_->listEntries(path);
  }
  Result<std::optional<storage::ListingVersion>> listingVersion(std::string_view path) override {
    gate("listingVersion", path);
    return inner_->listingVersion(path);
  }
  Result<void> move(std::string_view src, std::string_view dst) override {
    if (commit_mode_ && src.find("/repositories/slow/_uploads/") != std::string_view::npos) {
      hold("move", src);
    } else {
      gate("move", src);
    }
    return inner_->move(src, dst);
  }
  Result<void> remove(std::string_view path) override {
    gate("remove", path);
    return inner_->remove(path);
  }
  Result<void> walk(std::string_view path, const storage::WalkCallback& callback) override {
    gate("walk", path);
    return inner_->walk(path, callback);
  }

 private:
  void gate(std::string_view call, std::string_view path) {
    if (!commit_mode_ && path.find("/repositories/slow/") != std::string_view::npos) {
      // A driver that keeps the NoWaitScope promise says "would block" instead of waiting.
      if (storage::NoWaitScope::active() && !released()) throw storage::WouldBlock();
      hold(call, path);
    }
  }

  bool released() {
    std::lock_guard lock(mutex_);
    return released_;
  }

  // Blocks until the test opens the FIFO for writing (once; later calls pass).
  void hold(std::string_view call, std::string_view path) {
    std::lock_guard lock(mutex_);  // one held call; others matching wait behind it
    if (released_) return;
    std::printf("gate: held %.*s %.*s\n", static_cast<int>(call.size()), call.data(),
                static_cast<int>(path.size()), path.data());
    std::fflush(stdout);
    int fd = ::open(fifo_.c_str(), O_RDONLY | O_CLOEXEC);  // blocks until a writer opens
    if (fd >= 0) ::close(fd);
    released_ = true;
    std::printf("gate: released\n");
    std::fflush(stdout);
  }

  std::unique_ptr<storage::StorageDriver> inner_;
  std::string fifo_;
  bool commit_mode_;
  bool nowait_;
  std::mutex mutex_;
  bool released_ = false;
};

}  // namespace

int main(int argc, char** argv) {
  const std::string_view mode_name = argc == 4 ? argv[3] : "";
  if (mode_name != "repo" && mode_name != "commit" && mode_name != "nowait") {
    std::cerr << "usage: registry_gate_server ROOT FIFO repo|commit|nowait\n";
    return 2;
  }
  const auto mode = mode_name == "commit"   ? GatingDriver::Mode::Commit
                    : mode_name == "nowait" ? GatingDriver::Mode::NoWait
                                            : GatingDriver::Mode::Repo;
  portico::net::blockSignals();
  portico::backend::RegistryServerOptions options;
  options.driver = std::make_unique<GatingDriver>(
      std::make_unique<storage::FilesystemDriver>(argv[1]), argv[2], mode);
  options.storage_threads = 4;
  options.server.workers = 1;  // the loop every request shares
  options.server.listeners.push_back({"http", "127.0.0.1:0", nullptr});
  auto server = portico::backend::RegistryServer::start(std::move(options));
  if (!server) {
    std::cerr << "registry_gate_server: " << server.error().message() << "\n";
    return 1;
  }
  portico::http::logListening((*server)->http());
  while (true) {
    int sig = portico::net::waitForSignal();
    if (sig == SIGTERM || sig == SIGINT) break;
  }
  // A gate still held would block the executor's drain: open it before stopping.
  int fd = ::open(argv[2], O_WRONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd >= 0) ::close(fd);
  (*server)->stop(std::chrono::milliseconds(0));
  return 0;
}
