#include "backend/storage/memory_driver.h"

#include <event2/buffer.h>
#include <sys/mman.h>
#include <unistd.h>

#include <utility>

namespace portico::storage {
namespace {

Error notFound(std::string_view path) {
  return Error{StorageErrc::NotFound, "path not found", std::string(path)};
}

// "/a/b" → "/a/b/" ; "/" → "/".
std::string childPrefix(std::string_view path) {
  return path == "/" ? std::string("/") : std::string(path) + "/";
}

class MemoryReader final : public FileReader {
 public:
  MemoryReader(std::string data, uint64_t position) : data_(std::move(data)), position_(position) {}

  Result<size_t> read(char* out, size_t size) override {
    if (released_) return Error{StorageErrc::Io, "reader was released"};
    const size_t n = std::min<uint64_t>(size, data_.size() - position_);
    data_.copy(out, n, position_);
    position_ += n;
    return n;
  }
  uint64_t size() const override { return data_.size(); }
  uint64_t position() const override { return position_; }
  int releaseFd() override {
    if (released_) return -1;
    released_ = true;
    const int fd = ::memfd_create("portico-memory-driver", MFD_CLOEXEC);
    if (fd < 0) return -1;
    size_t done = 0;
    while (done < data_.size()) {
      const ssize_t n = ::write(fd, data_.data() + done, data_.size() - done);
      if (n <= 0) {
        ::close(fd);
        return -1;
      }
      done += static_cast<size_t>(n);
    }
    if (::lseek(fd, static_cast<off_t>(position_), SEEK_SET) < 0) {
      ::close(fd);
      return -1;
    }
    return fd;
  }

 private:
  std::string data_;
  uint64_t position_;
  bool released_ = false;
};

}  // namespace

class MemoryWriter final : public FileWriter {
 public:
  MemoryWriter(MemoryDriver& driver, std::string path, std::shared_ptr<MemoryDriver::File> file)
      : driver_(driver), path_(std::move(path)), file_(std::move(file)) {
    size_ = file_->data.size();
  }

  Result<void> write(const char* data, size_t size) override {
    if (!file_) return closedError();
    std::lock_guard lock(driver_.mutex_);
    file_->data.append(data, size);
    file_->mod_time = std::chrono::system_clock::now();
    ++file_->writes;
    size_ = file_->data.size();
    return ok();
  }

  Result<void> write(evbuffer& data) override {
    if (!file_) return closedError();
    const size_t length = evbuffer_get_length(&data);
    std::lock_guard lock(driver_.mutex_);
    const size_t old = file_->data.size();
    file_->data.resize(old + length);
    evbuffer_remove(&data, file_->data.data() + old, length);
    file_->mod_time = std::chrono::system_clock::now();
    ++file_->writes;
    size_ = file_->data.size();
    return ok();
  }

  uint64_t size() const override { return size_; }

  Result<void> truncate(uint64_t size) override {
    if (!file_) return closedError();
    std::lock_guard lock(driver_.mutex_);
    if (size < file_->data.size()) file_->data.resize(size);
    size_ = file_->data.size();
    ++file_->writes;
    return ok();
  }

  Result<void> lockExclusive() override {
    if (!file_) return closedError();
    {
      std::lock_guard lock(driver_.mutex_);
      if (!holds_lock_) {
        if (file_->locked) {
          return Error{StorageErrc::Busy, "another writer holds the file", path_};
        }
        file_->locked = holds_lock_ = true;
      }
    }
    return checkPath();
  }

  Result<void> checkPath() override {
    if (!file_) return closedError();
    std::lock_guard lock(driver_.mutex_);
    auto it = driver_.files_.find(path_);
    if (it == driver_.files_.end() || it->second != file_) {
      return Error{StorageErrc::NotFound, "path names another file now", path_};
    }
    return ok();
  }

  Result<FileStamp> stamp() override {
    if (!file_) return closedError();
    std::lock_guard lock(driver_.mutex_);
    return FileStamp{0, reinterpret_cast<uintptr_t>(file_.get()), file_->data.size(),
                     static_cast<int64_t>(file_->writes), 0};
  }

  Result<void> sync() override {
    if (!file_) return closedError();
    return ok();
  }

  Result<void> commit() override {
    if (!file_) return closedError();
    release();
    return ok();
  }

  Result<void> cancel() override {
    if (file_) {
      std::lock_guard lock(driver_.mutex_);
      auto it = driver_.files_.find(path_);
      if (it != driver_.files_.end() && it->second == file_) driver_.files_.erase(it);
    }
    release();
    return ok();
  }

  Result<void> close() override {
    release();
    return ok();
  }

  ~MemoryWriter() override { release(); }

 private:
  Error closedError() const { return Error{StorageErrc::Io, "writer is closed", path_}; }

  // Drops the file (and the lock, if this writer holds it).
  void release() {
    if (file_ && holds_lock_) {
      std::lock_guard lock(driver_.mutex_);
      file_->locked = false;
    }
    holds_lock_ = false;
    file_.reset();
  }

  MemoryDriver& driver_;
  std::string path_;
  std::shared_ptr<MemoryDriver::File> file_;
  uint64_t size_ = 0;
  bool holds_lock_ = false;
};

MemoryDriver::MemoryDriver() {
  directories_.insert("/");
}

MemoryDriver::~MemoryDriver() = default;

void MemoryDriver::addParents(std::string_view path) {
  std::string_view parent = parentPath(path);
  while (parent != "/") {
    directories_.emplace(parent);
    parent = parentPath(parent);
  }
}

bool MemoryDriver::isDirectory(std::string_view path) const {
  return directories_.find(path) != directories_.end();
}

Result<std::string> MemoryDriver::getContent(std::string_view path) {
  if (auto valid = validatePath(path); !valid) return valid.error();
  std::lock_guard lock(mutex_);
  auto it = files_.find(path);
  if (it == files_.end()) {
    if (isDirectory(path)) return Error{StorageErrc::Io, "is a directory", std::string(path)};
    return notFound(path);
  }
  if (it->second->data.size() > kMaxContentSize) {
    return Error{StorageErrc::Io, "file too large for getContent", std::string(path)};
  }
  return it->second->data;
}

Result<void> MemoryDriver::putContent(std::string_view path, std::string_view data) {
  if (auto valid = validatePath(path); !valid) return valid.error();
  std::lock_guard lock(mutex_);
  if (isDirectory(path)) return Error{StorageErrc::Io, "is a directory", std::string(path)};
  for (std::string_view p = parentPath(path); p != "/"; p = parentPath(p)) {
    if (files_.count(p) != 0) return Error{StorageErrc::Io, "not a directory", std::string(p)};
  }
  addParents(path);
  // A new File object: readers and writers of the old content keep theirs (atomic replace).
  files_[std::string(path)] =
      std::make_shared<File>(File{std::string(data), std::chrono::system_clock::now()});
  return ok();
}

Result<std::unique_ptr<FileReader>> MemoryDriver::reader(std::string_view path, uint64_t offset) {
  if (auto valid = validatePath(path); !valid) return valid.error();
  std::lock_guard lock(mutex_);
  auto it = files_.find(path);
  if (it == files_.end()) return notFound(path);
  if (offset > it->second->data.size()) {
    return Error{StorageErrc::InvalidOffset, "offset past the end of the file", std::string(path)};
  }
  return std::unique_ptr<FileReader>(std::make_unique<MemoryReader>(it->second->data, offset));
}

Result<std::unique_ptr<FileWriter>> MemoryDriver::writer(std::string_view path, bool append) {
  if (auto valid = validatePath(path); !valid) return valid.error();
  std::lock_guard lock(mutex_);
  if (isDirectory(path)) return Error{StorageErrc::Io, "is a directory", std::string(path)};
  for (std::string_view p = parentPath(path); p != "/"; p = parentPath(p)) {
    if (files_.count(p) != 0) return Error{StorageErrc::Io, "not a directory", std::string(p)};
  }
  addParents(path);
  auto& slot = files_[std::string(path)];
  if (!slot) slot = std::make_shared<File>(File{{}, std::chrono::system_clock::now()});
  if (!append) slot->data.clear();
  return std::unique_ptr<FileWriter>(
      std::make_unique<MemoryWriter>(*this, std::string(path), slot));
}

Result<FileInfo> MemoryDriver::stat(std::string_view path) {
  if (auto valid = validatePath(path, true); !valid) return valid.error();
  std::lock_guard lock(mutex_);
  FileInfo info;
  info.path = std::string(path);
  if (auto it = files_.find(path); it != files_.end()) {
    info.size = it->second->data.size();
    info.mod_time = it->second->mod_time;
    return info;
  }
  if (!isDirectory(path)) return notFound(path);
  info.is_dir = true;
  return info;
}

Result<std::vector<std::string>> MemoryDriver::list(std::string_view path) {
  if (auto valid = validatePath(path, true); !valid) return valid.error();
  std::lock_guard lock(mutex_);
  if (!isDirectory(path)) {
    if (files_.count(path) != 0)
      return Error{StorageErrc::Io, "not a directory", std::string(path)};
    return notFound(path);
  }
  const std::string prefix = childPrefix(path);
  std::set<std::string> children;
  auto collect = [&](const std::string& entry) {
    if (entry.size() <= prefix.size() || entry.compare(0, prefix.size(), prefix) != 0) return;
    const size_t slash = entry.find('/', prefix.size());
    children.insert(entry.substr(0, slash));
  };
  for (auto it = files_.lower_bound(prefix); it != files_.end() && it->first.starts_with(prefix);
       ++it) {
    collect(it->first);
  }
  for (auto it = directories_.lower_bound(prefix);
       it != directories_.end() && it->starts_with(prefix); ++it) {
    collect(*it);
  }
  return std::vector<std::string>(children.begin(), children.end());
}

Result<void> MemoryDriver::move(std::string_view src, std::string_view dst) {
  if (auto valid = validatePath(src); !valid) return valid.error();
  if (auto valid = validatePath(dst); !valid) return valid.error();
  std::lock_guard lock(mutex_);
  auto it = files_.find(src);
  if (it == files_.end()) {
    if (isDirectory(src)) return Error{StorageErrc::Io, "moving directories is not supported"};
    return notFound(src);
  }
  if (isDirectory(dst)) return Error{StorageErrc::Io, "is a directory", std::string(dst)};
  auto file = it->second;
  files_.erase(it);
  addParents(dst);
  files_[std::string(dst)] = std::move(file);
  return ok();
}

Result<void> MemoryDriver::remove(std::string_view path) {
  if (auto valid = validatePath(path); !valid) return valid.error();
  std::lock_guard lock(mutex_);
  if (files_.erase(std::string(path)) != 0) return ok();
  if (!isDirectory(path)) return notFound(path);
  const std::string prefix = childPrefix(path);
  for (auto it = files_.lower_bound(prefix); it != files_.end() && it->first.starts_with(prefix);) {
    it = files_.erase(it);
  }
  for (auto it = directories_.lower_bound(prefix);
       it != directories_.end() && it->starts_with(prefix);) {
    it = directories_.erase(it);
  }
  directories_.erase(std::string(path));
  return ok();
}

Result<void> MemoryDriver::walk(std::string_view path, const WalkCallback& callback) {
  auto children = list(path);
  if (!children) return children.error();
  // Depth first without recursion on the C++ stack: a stack of pending entries.
  std::vector<std::string> pending(children->rbegin(), children->rend());
  while (!pending.empty()) {
    const std::string current = std::move(pending.back());
    pending.pop_back();
    auto info = stat(current);
    if (!info) continue;  // removed while walking
    const WalkControl control = callback(*info);
    if (control == WalkControl::Stop) return ok();
    if (info->is_dir && control == WalkControl::Continue) {
      auto grandchildren = list(current);
      if (!grandchildren) continue;
      pending.insert(pending.end(), grandchildren->rbegin(), grandchildren->rend());
    }
  }
  return ok();
}

}  // namespace portico::storage
