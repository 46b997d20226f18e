#include "backend/storage/filesystem_driver.h"

#include <dirent.h>
#include <event2/buffer.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <random>
#include <string>
#include <system_error>
#include <utility>

#include "backend/storage/nowait.h"

namespace portico::storage {
namespace {

constexpr std::string_view kTemporaryPrefix = ".portico-tmp-";

// errno → StorageErrc (distribution: os.IsNotExist → PathNotFoundError).
Error errnoError(int err, std::string_view call, std::string_view path) {
  std::string message = std::string(call) + ": " + std::strerror(err);
  if (err == ENOENT || err == ENOTDIR) {
    return Error{StorageErrc::NotFound, "path not found", std::string(path)};
  }
  if (err == ENOSPC || err == EDQUOT) {
    return Error{StorageErrc::NoSpace, "storage volume is full (" + message + ")",
                 std::string(path)};
  }
  return Error{StorageErrc::Io, message, std::string(path)};
}

std::chrono::system_clock::time_point modTime(const struct stat& st) {
  return std::chrono::system_clock::time_point(
      std::chrono::duration_cast<std::chrono::system_clock::duration>(
          std::chrono::seconds(st.st_mtim.tv_sec) + std::chrono::nanoseconds(st.st_mtim.tv_nsec)));
}

// Closes a descriptor on every way out of a scope (WouldBlock included).
struct FdGuard {
  int fd;
  ~FdGuard() {
    if (fd >= 0) ::close(fd);
  }
  int release() { return std::exchange(fd, -1); }
};

// False once the kernel refused openat2 or RESOLVE_CACHED (before Linux 5.12, or a seccomp
// filter) or the filesystem refused RWF_NOWAIT: NoWaitScope calls are then no longer offered
// (supportsNoWait()).
std::atomic<bool> g_open_cached_works{true};

// open() for a call in a NoWaitScope: the path is resolved from the kernel's lookup cache only
// (RESOLVE_CACHED), else WouldBlock. O_NOATIME where the owner allows it, so that a read never
// has to write the inode's access time. -1 with errno for an answer that needs no waiting
// (ENOENT from a cached negative entry, EACCES, ...).
int openCached(const std::string& full, uint64_t flags) {
  open_how how{};
  how.resolve = RESOLVE_CACHED;
  const uint64_t noatime = (flags & O_PATH) != 0 ? 0 : O_NOATIME;
  for (uint64_t extra = noatime;;) {
    how.flags = flags | O_CLOEXEC | extra;
    const long fd = ::syscall(SYS_openat2, AT_FDCWD, full.c_str(), &how, sizeof how);
    if (fd >= 0) return static_cast<int>(fd);
    if (errno == EINTR) continue;
    if (errno == EPERM && extra != 0) {  // O_NOATIME on a file owned by someone else
      extra = 0;
      continue;
    }
    if (errno == EAGAIN) throw WouldBlock();
    if (errno == ENOSYS || errno == EINVAL || errno == E2BIG || errno == EPERM) {
      g_open_cached_works.store(false, std::memory_order_relaxed);
      throw WouldBlock();
    }
    return -1;
  }
}

// open(2) of `full` for reading, without waiting inside a NoWaitScope. The descriptor, or -1
// with errno.
int openForRead(const std::string& full) {
  if (NoWaitScope::active()) return openCached(full, O_RDONLY);
  return ::open(full.c_str(), O_RDONLY | O_CLOEXEC);
}

// stat(2) of `full`, without waiting inside a NoWaitScope. 0, or -1 with errno.
int statPath(const std::string& full, struct stat& st) {
  if (!NoWaitScope::active()) return ::stat(full.c_str(), &st);
  FdGuard fd{openCached(full, O_PATH)};
  if (fd.fd < 0) return -1;
  return ::fstat(fd.fd, &st);
}

// Reads `size` bytes at `offset` into `data` (fewer at end of file); inside a NoWaitScope only
// from the page cache (RWF_NOWAIT), else WouldBlock. The count, or -1 with errno.
ssize_t readAt(int fd, char* data, size_t size, uint64_t offset) {
  iovec iov{data, size};
  const int flags = NoWaitScope::active() ? RWF_NOWAIT : 0;
  for (;;) {
    const ssize_t n = ::preadv2(fd, &iov, 1, static_cast<off_t>(offset), flags);
    if (n >= 0) return n;
    if (errno == EINTR) continue;
    if (flags != 0 && errno == EAGAIN) throw WouldBlock();
    if (flags != 0 && errno == EOPNOTSUPP) {  // a filesystem without RWF_NOWAIT reads
      g_open_cached_works.store(false, std::memory_order_relaxed);
      throw WouldBlock();
    }
    return -1;
  }
}

std::string randomSuffix() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  static std::atomic<uint64_t> counter{0};
  char buffer[40];
  std::snprintf(buffer, sizeof(buffer), "%016llx%llx", static_cast<unsigned long long>(rng()),
                static_cast<unsigned long long>(counter.fetch_add(1)));
  return buffer;
}

// Writes all of data to fd, retrying on EINTR and short writes.
int writeAll(int fd, const char* data, size_t size) {
  while (size > 0) {
    const ssize_t n = ::write(fd, data, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    data += n;
    size -= static_cast<size_t>(n);
  }
  return 0;
}

void fsyncDirectory(const std::string& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
}

class FilesystemReader final : public FileReader {
 public:
  FilesystemReader(int fd, uint64_t size, uint64_t position, std::string path)
      : fd_(fd), size_(size), position_(position), path_(std::move(path)) {}
  ~FilesystemReader() override {
    if (fd_ >= 0) ::close(fd_);
  }

  Result<size_t> read(char* data, size_t size) override {
    NoWaitScope::refuseIfActive();  // streamed on a storage thread (see StorageExecutor::read)
    if (fd_ < 0) return Error{StorageErrc::Io, "reader was released", path_};
    for (;;) {
      const ssize_t n = ::read(fd_, data, size);
      if (n >= 0) {
        position_ += static_cast<uint64_t>(n);
        return static_cast<size_t>(n);
      }
      if (errno != EINTR) return errnoError(errno, "read", path_);
    }
  }
  uint64_t size() const override { return size_; }
  uint64_t position() const override { return position_; }
  int releaseFd() override { return std::exchange(fd_, -1); }

 private:
  int fd_;
  uint64_t size_;
  uint64_t position_;
  std::string path_;
};

class FilesystemWriter final : public FileWriter {
 public:
  FilesystemWriter(int fd, uint64_t size, std::string full_path, std::string path)
      : fd_(fd), size_(size), full_path_(std::move(full_path)), path_(std::move(path)) {}
  ~FilesystemWriter() override {
    if (fd_ >= 0) ::close(fd_);
  }

  Result<void> write(const char* data, size_t size) override {
    if (fd_ < 0) return closedError();
    if (const int err = writeAll(fd_, data, size)) return errnoError(err, "write", path_);
    size_ += size;
    return ok();
  }

  Result<void> write(evbuffer& data) override {
    if (fd_ < 0) return closedError();
    while (evbuffer_get_length(&data) > 0) {
      const int n = evbuffer_write(&data, fd_);  // writev over the chains, drains what it wrote
      if (n < 0) {
        if (errno == EINTR) continue;
        return errnoError(errno, "write", path_);
      }
      size_ += static_cast<uint64_t>(n);
    }
    return ok();
  }

  uint64_t size() const override { return size_; }

  Result<void> truncate(uint64_t size) override {
    if (fd_ < 0) return closedError();
    // lseek for a writer opened without O_APPEND: its next write must land at `size` too.
    if (::ftruncate(fd_, static_cast<off_t>(size)) != 0 ||
        ::lseek(fd_, static_cast<off_t>(size), SEEK_SET) < 0) {
      return errnoError(errno, "ftruncate", path_);
    }
    size_ = size;
    return ok();
  }

  // flock(2): held by this open file description until it is closed; conflicts with any other
  // open() of the file, in this process or another.
  Result<void> lockExclusive() override {
    if (fd_ < 0) return closedError();
    while (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
      if (errno == EINTR) continue;
      if (errno == EWOULDBLOCK) {
        return Error{StorageErrc::Busy, "another writer holds the file", path_};
      }
      return errnoError(errno, "flock", path_);
    }
    return checkPath();
  }

  Result<void> checkPath() override {
    if (fd_ < 0) return closedError();
    struct stat mine {};
    struct stat named {};
    if (::fstat(fd_, &mine) != 0) return errnoError(errno, "fstat", path_);
    if (::stat(full_path_.c_str(), &named) != 0) return errnoError(errno, "stat", path_);
    if (mine.st_dev != named.st_dev || mine.st_ino != named.st_ino) {
      return Error{StorageErrc::NotFound, "path names another file now", path_};
    }
    return ok();
  }

  Result<FileStamp> stamp() override {
    if (fd_ < 0) return closedError();
    struct stat st {};
    if (::fstat(fd_, &st) != 0) return errnoError(errno, "fstat", path_);
    auto ns = [](const timespec& t) { return int64_t{t.tv_sec} * 1'000'000'000 + t.tv_nsec; };
    return FileStamp{static_cast<uint64_t>(st.st_dev), static_cast<uint64_t>(st.st_ino),
                     static_cast<uint64_t>(st.st_size), ns(st.st_mtim), ns(st.st_ctim)};
  }

  Result<void> sync() override {
    if (fd_ < 0) return closedError();
    if (::fsync(fd_) != 0) return errnoError(errno, "fsync", path_);
    return ok();
  }

  Result<void> commit() override {
    if (fd_ < 0) return closedError();
    const int rc = ::fsync(fd_);
    const int err = errno;
    ::close(std::exchange(fd_, -1));
    if (rc != 0) return errnoError(err, "fsync", path_);
    return ok();
  }

  Result<void> cancel() override {
    if (fd_ >= 0) ::close(std::exchange(fd_, -1));
    if (::unlink(full_path_.c_str()) != 0 && errno != ENOENT) {
      return errnoError(errno, "unlink", path_);
    }
    return ok();
  }

  Result<void> close() override {
    if (fd_ < 0) return ok();
    if (::close(std::exchange(fd_, -1)) != 0) return errnoError(errno, "close", path_);
    return ok();
  }

 private:
  Error closedError() const { return Error{StorageErrc::Io, "writer is closed", path_}; }

  int fd_;
  uint64_t size_;
  std::string full_path_;
  std::string path_;
};

}  // namespace

FilesystemDriver::FilesystemDriver(std::string root, size_t max_threads)
    : root_(std::move(root)), max_threads_(max_threads) {
  while (!root_.empty() && root_.back() == '/') root_.pop_back();
}

std::optional<size_t> FilesystemDriver::parseMaxThreads(std::string_view text) {
  if (text.size() > 1 && text.front() == '-' &&
      std::all_of(text.begin() + 1, text.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return kMinMaxThreads;  // a negative YAML integer: distribution takes the minimum
  }
  int base = 10;
  std::string_view digits = text;
  if (digits.size() > 2 && digits[0] == '0' && std::strchr("xXoObB", digits[1]) != nullptr) {
    const char prefix = static_cast<char>(digits[1] | 0x20);
    base = prefix == 'x' ? 16 : prefix == 'o' ? 8 : 2;
    digits.remove_prefix(2);
  } else if (digits.size() > 1 && digits[0] == '0') {
    base = 8;
    digits.remove_prefix(1);
  }
  uint64_t value = 0;
  const char* end = digits.data() + digits.size();
  auto [stop, ec] = std::from_chars(digits.data(), end, value, base);
  if (digits.empty() || ec != std::errc() || stop != end) return std::nullopt;
  return std::max<uint64_t>(value, kMinMaxThreads);
}

Result<std::unique_ptr<StorageDriver>> FilesystemDriver::fromParameters(
    const DriverParameters& parameters) {
  std::string root(kDefaultRootDirectory);
  if (auto it = parameters.find("rootdirectory"); it != parameters.end()) {
    if (it->second.empty()) {
      return Error{StorageErrc::InvalidParameter,
                   "storage.filesystem.rootdirectory must not be empty", "rootdirectory"};
    }
    root = it->second;
  }
  size_t max_threads = kDefaultMaxThreads;
  if (auto it = parameters.find("maxthreads"); it != parameters.end() && !it->second.empty()) {
    auto parsed = parseMaxThreads(it->second);
    if (!parsed) {
      return Error{StorageErrc::InvalidParameter,
                   "storage.filesystem.maxthreads: parameter must be an integer, '" + it->second +
                       "' invalid",
                   "maxthreads"};
    }
    max_threads = *parsed;
  }
  return std::unique_ptr<StorageDriver>(
      std::make_unique<FilesystemDriver>(std::move(root), max_threads));
}

bool FilesystemDriver::supportsNoWait() const {
  return g_open_cached_works.load(std::memory_order_relaxed);
}

bool FilesystemDriver::isTemporaryName(std::string_view name) {
  return name.substr(0, kTemporaryPrefix.size()) == kTemporaryPrefix;
}

std::string FilesystemDriver::fullPath(std::string_view path) const {
  return root_ + std::string(path);
}

Result<void> FilesystemDriver::makeParents(std::string_view path) {
  // Creates every directory from the root down to path's parent (distribution: MkdirAll 0777).
  std::string dir = root_;
  if (!dir.empty() && ::mkdir(dir.c_str(), 0777) != 0 && errno != EEXIST) {
    return errnoError(errno, "mkdir", "/");
  }
  const std::string_view parent = parentPath(path);
  if (parent == "/") return ok();
  size_t start = 1;
  while (start <= parent.size()) {
    size_t end = parent.find('/', start);
    if (end == std::string_view::npos) end = parent.size();
    dir += '/';
    dir += parent.substr(start, end - start);
    if (::mkdir(dir.c_str(), 0777) != 0 && errno != EEXIST) {
      return errnoError(errno, "mkdir", parent.substr(0, end));
    }
    start = end + 1;
  }
  return ok();
}

Result<std::string> FilesystemDriver::getContent(std::string_view path) {
  if (auto valid = validatePath(path); !valid) return valid.error();
  const std::string full = fullPath(path);
  FdGuard fd{openForRead(full)};
  if (fd.fd < 0) return errnoError(errno, "open", path);
  struct stat st {};
  if (::fstat(fd.fd, &st) != 0) return errnoError(errno, "fstat", path);
  if (S_ISDIR(st.st_mode)) return Error{StorageErrc::Io, "is a directory", std::string(path)};
  if (static_cast<uint64_t>(st.st_size) > kMaxContentSize) {
    return Error{StorageErrc::Io, "file too large for getContent", std::string(path)};
  }
  std::string content;
  content.resize(static_cast<size_t>(st.st_size));
  size_t done = 0;
  while (done < content.size()) {
    const ssize_t n = readAt(fd.fd, content.data() + done, content.size() - done, done);
    if (n < 0) return errnoError(errno, "read", path);
    if (n == 0) break;  // shrank while reading
    done += static_cast<size_t>(n);
  }
  content.resize(done);
  return content;
}

Result<void> FilesystemDriver::putContent(std::string_view path, std::string_view data) {
  NoWaitScope::refuseIfActive();
  if (auto valid = validatePath(path); !valid) return valid.error();
  if (auto made = makeParents(path); !made) return made.error();
  const std::string full = fullPath(path);
  const std::string dir = fullPath(parentPath(path));
  const std::string temp = dir + "/" + std::string(kTemporaryPrefix) + std::string(baseName(path)) +
                           "-" + randomSuffix();
  const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
  if (fd < 0) return errnoError(errno, "open", path);
  int err = writeAll(fd, data.data(), data.size());
  const char* call = "write";
  if (err == 0 && ::fsync(fd) != 0) err = errno, call = "fsync";
  if (::close(fd) != 0 && err == 0) err = errno, call = "close";
  if (err == 0 && ::rename(temp.c_str(), full.c_str()) != 0) err = errno, call = "rename";
  if (err != 0) {
    ::unlink(temp.c_str());
    return errnoError(err, call, path);
  }
  fsyncDirectory(dir);
  return ok();
}

Result<std::unique_ptr<FileReader>> FilesystemDriver::reader(std::string_view path,
                                                             uint64_t offset) {
  if (auto valid = validatePath(path); !valid) return valid.error();
  const std::string full = fullPath(path);
  FdGuard fd{openForRead(full)};
  if (fd.fd < 0) return errnoError(errno, "open", path);
  struct stat st {};
  if (::fstat(fd.fd, &st) != 0 || S_ISDIR(st.st_mode)) {
    return errnoError(S_ISDIR(st.st_mode) ? EISDIR : errno, "open", path);
  }
  const auto size = static_cast<uint64_t>(st.st_size);
  if (offset > size) {
    return Error{StorageErrc::InvalidOffset, "offset past the end of the file", std::string(path)};
  }
  if (offset > 0 && ::lseek(fd.fd, static_cast<off_t>(offset), SEEK_SET) < 0) {
    return errnoError(errno, "lseek", path);
  }
  return std::unique_ptr<FileReader>(
      std::make_unique<FilesystemReader>(fd.release(), size, offset, std::string(path)));
}

Result<std::unique_ptr<FileWriter>> FilesystemDriver::writer(std::string_view path, bool append) {
  NoWaitScope::refuseIfActive();
  if (auto valid = validatePath(path); !valid) return valid.error();
  if (auto made = makeParents(path); !made) return made.error();
  const std::string full = fullPath(path);
  const int flags = O_WRONLY | O_CREAT | O_CLOEXEC | (append ? O_APPEND : O_TRUNC);
  const int fd = ::open(full.c_str(), flags, 0666);
  if (fd < 0) return errnoError(errno, "open", path);
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    const int err = errno;
    ::close(fd);
    return errnoError(err, "fstat", path);
  }
  return std::unique_ptr<FileWriter>(std::make_unique<FilesystemWriter>(
      fd, static_cast<uint64_t>(st.st_size), full, std::string(path)));
}

Result<FileInfo> FilesystemDriver::stat(std::string_view path) {
  if (auto valid = validatePath(path, true); !valid) return valid.error();
  struct stat st {};
  if (statPath(fullPath(path), st) != 0) return errnoError(errno, "stat", path);
  FileInfo info;
  info.path = std::string(path);
  info.is_dir = S_ISDIR(st.st_mode);
  info.size = info.is_dir ? 0 : static_cast<uint64_t>(st.st_size);
  info.mod_time = modTime(st);
  return info;
}

Result<std::vector<std::string>> FilesystemDriver::list(std::string_view path) {
  NoWaitScope::refuseIfActive();
  if (auto valid = validatePath(path, true); !valid) return valid.error();
  DIR* dir = ::opendir(fullPath(path).c_str());
  if (dir == nullptr) return errnoError(errno, "opendir", path);
  const std::string prefix = path == "/" ? std::string("/") : std::string(path) + "/";
  std::vector<std::string> children;
  errno = 0;
  while (const dirent* entry = ::readdir(dir)) {
    const std::string_view name = entry->d_name;
    if (name == "." || name == ".." || isTemporaryName(name)) continue;
    children.push_back(prefix + std::string(name));
  }
  const int err = errno;
  ::closedir(dir);
  if (err != 0) return errnoError(err, "readdir", path);
  std::sort(children.begin(), children.end());
  return children;
}

Result<std::vector<DirEntry>> FilesystemDriver::listEntries(std::string_view path) {
  NoWaitScope::refuseIfActive();
  if (auto valid = validatePath(path, true); !valid) return valid.error();
  DIR* dir = ::opendir(fullPath(path).c_str());
  if (dir == nullptr) return errnoError(errno, "opendir", path);
  std::vector<DirEntry> entries;
  int err = 0;
  for (;;) {
    errno = 0;
    const dirent* entry = ::readdir(dir);
    if (entry == nullptr) {
      err = errno;
      break;
    }
    const std::string_view name = entry->d_name;
    if (name == "." || name == ".." || isTemporaryName(name)) continue;
    bool is_dir = entry->d_type == DT_DIR;
    // d_type gives the type without a stat; some filesystems leave it DT_UNKNOWN, and a
    // symbolic link is followed like stat() does, so those two cost one fstatat.
    if (entry->d_type == DT_UNKNOWN || entry->d_type == DT_LNK) {
      struct stat st {};
      if (::fstatat(::dirfd(dir), entry->d_name, &st, 0) != 0) {
        if (errno == ENOENT) continue;  // removed meanwhile, or a dangling link
        err = errno;
        break;
      }
      is_dir = S_ISDIR(st.st_mode);
    }
    entries.push_back(DirEntry{std::string(name), is_dir});
  }
  ::closedir(dir);
  if (err != 0) return errnoError(err, "readdir", path);
  std::sort(entries.begin(), entries.end(),
            [](const DirEntry& a, const DirEntry& b) { return a.name < b.name; });
  return entries;
}

Result<std::optional<ListingVersion>> FilesystemDriver::listingVersion(std::string_view path) {
  if (auto valid = validatePath(path, true); !valid) return valid.error();
  // The clock is read BEFORE the stat. A directory's mtime comes from the kernel's coarse
  // clock (one tick, a few ms; some filesystems store whole seconds), so an entry added in the
  // same tick as the previous change can leave mtime unchanged. Once mtime is older than
  // kSettledAge, any later change stamps a larger mtime, so equal versions mean equal entries.
  // Younger than that: no version (the caller reads the directory, uncached). ctime and the
  // link count (subdirectories, e.g. tags) are further guards; the inode catches a
  // directory removed and created again.
  constexpr int64_t kSettledAge = 2'000'000'000;  // ns
  timespec now{};
  ::clock_gettime(CLOCK_REALTIME, &now);
  struct stat st {};
  if (statPath(fullPath(path), st) != 0) return errnoError(errno, "stat", path);
  if (!S_ISDIR(st.st_mode)) return Error{StorageErrc::Io, "not a directory", std::string(path)};
  auto ns = [](const timespec& t) { return int64_t{t.tv_sec} * 1'000'000'000 + t.tv_nsec; };
  const int64_t mtime = ns(st.st_mtim);
  if (mtime > ns(now) - kSettledAge) return std::optional<ListingVersion>{};
  return std::optional<ListingVersion>{
      ListingVersion{static_cast<uint64_t>(st.st_dev), static_cast<uint64_t>(st.st_ino), mtime,
                     ns(st.st_ctim), static_cast<uint64_t>(st.st_nlink)}};
}

Result<void> FilesystemDriver::move(std::string_view src, std::string_view dst) {
  NoWaitScope::refuseIfActive();
  if (auto valid = validatePath(src); !valid) return valid.error();
  if (auto valid = validatePath(dst); !valid) return valid.error();
  const std::string from = fullPath(src);
  struct stat st {};
  if (::lstat(from.c_str(), &st) != 0) return errnoError(errno, "stat", src);
  if (auto made = makeParents(dst); !made) return made.error();
  if (::rename(from.c_str(), fullPath(dst).c_str()) != 0) return errnoError(errno, "rename", dst);
  fsyncDirectory(fullPath(parentPath(dst)));
  return ok();
}

Result<void> FilesystemDriver::remove(std::string_view path) {
  NoWaitScope::refuseIfActive();
  if (auto valid = validatePath(path); !valid) return valid.error();
  const std::string full = fullPath(path);
  struct stat st {};
  if (::lstat(full.c_str(), &st) != 0) return errnoError(errno, "stat", path);
  std::error_code ec;
  std::filesystem::remove_all(full, ec);
  if (ec) return errnoError(ec.value(), "remove", path);
  return ok();
}

Result<void> FilesystemDriver::walkDir(const std::string& path, const WalkCallback& callback,
                                       bool& stop) {
  auto children = list(path);
  if (!children) return children.error();
  for (const std::string& child : *children) {
    auto info = stat(child);
    if (!info) {
      if (info.error().is(StorageErrc::NotFound)) continue;  // removed while walking
      return info.error();
    }
    const WalkControl control = callback(*info);
    if (control == WalkControl::Stop) {
      stop = true;
      return ok();
    }
    if (info->is_dir && control == WalkControl::Continue) {
      if (auto walked = walkDir(child, callback, stop); !walked) {
        if (!walked.error().is(StorageErrc::NotFound)) return walked;
      }
      if (stop) return ok();
    }
  }
  return ok();
}

Result<void> FilesystemDriver::walk(std::string_view path, const WalkCallback& callback) {
  NoWaitScope::refuseIfActive();
  if (auto valid = validatePath(path, true); !valid) return valid.error();
  bool stop = false;
  return walkDir(std::string(path), callback, stop);
}

}  // namespace portico::storage
