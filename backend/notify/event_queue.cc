#include "backend/notify/event_queue.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace portico::notify {
namespace {

enum class QueueErrc { Io = 1, InvalidRecord };

Error ioError(const std::string& what, const std::string& path) {
  return Error{QueueErrc::Io, what + ": " + std::strerror(errno), path};
}

Result<void> writeAll(int fd, const char* data, size_t size, const std::string& path) {
  while (size > 0) {
    ssize_t n = ::write(fd, data, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      return ioError("write", path);
    }
    data += n;
    size -= static_cast<size_t>(n);
  }
  return {};
}

// Replaces `path` with `content` atomically and durably.
Result<void> replaceFile(const std::string& dir, const std::string& path,
                         const std::string& content) {
  std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return ioError("open", tmp);
  auto written = writeAll(fd, content.data(), content.size(), tmp);
  if (written && ::fdatasync(fd) != 0) written = ioError("fdatasync", tmp);
  ::close(fd);
  if (!written) return written;
  if (::rename(tmp.c_str(), path.c_str()) != 0) return ioError("rename", path);
  int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return {};
}

}  // namespace

EventQueue::EventQueue(std::string dir, QueueLimits limits)
    : dir_(std::move(dir)), limits_(limits) {}

EventQueue::~EventQueue() {
  if (log_fd_ >= 0) ::close(log_fd_);
}

Result<std::unique_ptr<EventQueue>> EventQueue::open(std::string dir, QueueLimits limits) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return Error{QueueErrc::Io, "create directory: " + ec.message(), dir};
  std::unique_ptr<EventQueue> queue(new EventQueue(dir, limits));
  std::string log_path = dir + "/events.log";
  std::string cursor_path = dir + "/cursor";

  std::string content;
  {
    std::ifstream in(log_path, std::ios::binary);
    std::ostringstream buffer;
    buffer << in.rdbuf();
    content = buffer.str();
  }
  // A crash mid-append leaves a line without its newline: it was never acknowledged to anyone.
  size_t complete = content.rfind('\n');
  complete = complete == std::string::npos ? 0 : complete + 1;
  if (complete < content.size()) {
    if (::truncate(log_path.c_str(), static_cast<off_t>(complete)) != 0 && errno != ENOENT) {
      return ioError("truncate", log_path);
    }
    content.resize(complete);
  }
  uint64_t cursor = 0;
  {
    std::ifstream in(cursor_path);
    in >> cursor;
  }
  if (cursor > content.size()) cursor = 0;  // a log rewritten after the cursor: redeliver
  queue->cursor_ = cursor;
  queue->log_size_ = content.size();
  size_t pos = cursor;
  while (pos < content.size()) {
    size_t nl = content.find('\n', pos);
    queue->pending_.push_back(content.substr(pos, nl - pos));
    queue->pending_bytes_ += nl - pos + 1;
    pos = nl + 1;
  }
  queue->log_fd_ = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (queue->log_fd_ < 0) return ioError("open", log_path);
  return queue;
}

Result<void> EventQueue::append(const std::string& record) {
  if (record.find('\n') != std::string::npos) {
    return Error{QueueErrc::InvalidRecord, "a record must not contain a newline"};
  }
  std::lock_guard lock(mutex_);
  std::string line = record + '\n';
  std::string log_path = dir_ + "/events.log";
  if (auto written = writeAll(log_fd_, line.data(), line.size(), log_path); !written) {
    // Cut a partial line so the log stays line-aligned.
    if (::ftruncate(log_fd_, static_cast<off_t>(log_size_)) != 0) {
      return ioError("ftruncate", log_path);
    }
    return written;
  }
  if (::fdatasync(log_fd_) != 0) return ioError("fdatasync", log_path);
  log_size_ += line.size();
  pending_.push_back(record);
  pending_bytes_ += line.size();
  bool dropped = false;
  while (pending_.size() > 1 &&
         (pending_.size() > limits_.max_events || pending_bytes_ > limits_.max_bytes)) {
    dropOldest();
    dropped = true;
  }
  if (dropped) return writeCursor();
  return {};
}

void EventQueue::dropOldest() {
  uint64_t size = pending_.front().size() + 1;
  cursor_ += size;
  pending_bytes_ -= size;
  pending_.pop_front();
  ++dropped_;
}

std::vector<std::string> EventQueue::peek(size_t max_events, size_t max_bytes) const {
  std::lock_guard lock(mutex_);
  std::vector<std::string> out;
  size_t bytes = 0;
  for (const auto& record : pending_) {
    if (out.size() >= max_events) break;
    if (!out.empty() && bytes + record.size() > max_bytes) break;
    bytes += record.size();
    out.push_back(record);
  }
  return out;
}

Result<void> EventQueue::ack(size_t count) {
  std::lock_guard lock(mutex_);
  for (size_t i = 0; i < count && !pending_.empty(); ++i) {
    uint64_t size = pending_.front().size() + 1;
    cursor_ += size;
    pending_bytes_ -= size;
    pending_.pop_front();
  }
  if (cursor_ > log_size_ - cursor_) return compact();
  return writeCursor();
}

Result<void> EventQueue::writeCursor() {
  return replaceFile(dir_, dir_ + "/cursor", std::to_string(cursor_));
}

// Rewrites the log with the pending records only, then starts the cursor at 0. The cursor
// file is removed first: a crash before the new log is in place then reads cursor 0 over the
// old log (acknowledged records delivered again: at least once, never lost); after, cursor 0
// over the new log is exact.
Result<void> EventQueue::compact() {
  std::string content;
  content.reserve(pending_bytes_);
  for (const auto& record : pending_) {
    content += record;
    content += '\n';
  }
  std::string cursor_path = dir_ + "/cursor";
  std::string log_path = dir_ + "/events.log";
  if (::unlink(cursor_path.c_str()) != 0 && errno != ENOENT) return ioError("unlink", cursor_path);
  if (auto replaced = replaceFile(dir_, log_path, content); !replaced) return replaced;
  int fd = ::open(log_path.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
  if (fd < 0) return ioError("open", log_path);
  ::close(log_fd_);
  log_fd_ = fd;
  log_size_ = content.size();
  cursor_ = 0;
  return {};
}

size_t EventQueue::pending() const {
  std::lock_guard lock(mutex_);
  return pending_.size();
}

uint64_t EventQueue::pendingBytes() const {
  std::lock_guard lock(mutex_);
  return pending_bytes_;
}

uint64_t EventQueue::dropped() const {
  std::lock_guard lock(mutex_);
  return dropped_;
}

}  // namespace portico::notify
