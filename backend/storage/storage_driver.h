#pragma once
// StorageDriver: bytes at paths, shaped like CNCF distribution's storagedriver.StorageDriver
// (registry/storage/driver/storagedriver.go). The registry services above it know what the
// paths mean (storage/layout.h); a driver only stores and lists bytes.
//
// Paths are absolute logical paths ("/docker/registry/v2/blobs/..."), rooted at the driver's
// root. A valid path starts with '/', has no empty, "." or ".." component and no NUL byte;
// anything else fails with StorageErrc::InvalidPath before touching the disk, so no hostile
// input escapes the root. "/" itself is valid only for stat, list and walk.
//
// Errors are Error{StorageErrc::..., message, detail = the logical path}.
// Locking: FileWriter::lockExclusive() is the one lock a driver offers (an advisory lock
// between writers, also across processes: the upload store's one-writer rule stands on it).
// What this does not do: interpret the content it stores.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

struct evbuffer;

namespace portico::storage {

enum class StorageErrc {
  NotFound = 1,      // no file or directory at the path (distribution's PathNotFoundError)
  InvalidPath,       // the path is not a valid logical path (InvalidPathError)
  InvalidOffset,     // reader offset past the end (InvalidOffsetError)
  Io,                // any other operating-system failure; the message names the call
  NoSpace,           // ENOSPC / EDQUOT: the volume is full
  Unsupported,       // the driver does not implement the method (ErrUnsupportedMethod)
  UnknownDriver,     // createDriver(): no driver by that name (InvalidStorageDriverError)
  InvalidParameter,  // createDriver(): a driver parameter is malformed
  Busy,              // another writer holds the file's lock (FileWriter::lockExclusive)
};

// A driver's parameters: the keys under storage.<driver> in distribution's config.yml, with
// their YAML scalars as text (distribution hands drivers a map[string]interface{}). A plain
// std::map, so a configuration's parameter map passes as it is.
using DriverParameters = std::map<std::string, std::string>;

// Largest file getContent() reads; larger files must be streamed with reader().
inline constexpr uint64_t kMaxContentSize = uint64_t{32} * 1024 * 1024;

// Metadata of one file or directory (distribution's FileInfo).
struct FileInfo {
  std::string path;   // logical path
  uint64_t size = 0;  // bytes for files; 0 for directories
  std::chrono::system_clock::time_point mod_time;
  bool is_dir = false;
};

// Sequential reader over one file, starting at the offset given to StorageDriver::reader().
class FileReader {
 public:
  virtual ~FileReader() = default;
  // Reads up to `size` bytes; 0 means end of file.
  [[nodiscard]] virtual Result<size_t> read(char* data, size_t size) = 0;
  // Total size of the file (not the remaining bytes).
  virtual uint64_t size() const = 0;
  // Offset of the next byte read() returns.
  virtual uint64_t position() const = 0;
  // Hands over a file descriptor positioned at position(), for sendfile()/evbuffer file
  // segments; the caller owns (and closes) it. The reader is unusable afterwards. -1 on error.
  virtual int releaseFd() = 0;
};

// Identifies one state of a file's bytes: equal stamps (same file, size, modification and change
// times) mean nobody wrote the file in between, as far as the driver can tell.
struct FileStamp {
  uint64_t device = 0;
  uint64_t inode = 0;
  uint64_t size = 0;
  int64_t mtime_ns = 0;
  int64_t ctime_ns = 0;
  bool operator==(const FileStamp&) const = default;
};

// Writer for one file (distribution's FileWriter). Bytes written are in the file as they are
// written (an upload's data file grows as it streams). Destruction without commit() or
// cancel() behaves as close(): the bytes stay, and a later writer(path, true) appends.
class FileWriter {
 public:
  virtual ~FileWriter() = default;
  // Appends bytes.
  [[nodiscard]] virtual Result<void> write(const char* data, size_t size) = 0;
  // Appends and drains all of `data` (writev over its chains; no copy into a string).
  [[nodiscard]] virtual Result<void> write(evbuffer& data) = 0;
  // Size of the file: bytes that were there when opened for append plus bytes written.
  virtual uint64_t size() const = 0;
  // Cuts the file back to its first `size` bytes (at most size()); writes append from there.
  // Undoes a failed write, which may have left part of its bytes (and holds their space).
  [[nodiscard]] virtual Result<void> truncate(uint64_t size) = 0;
  // Takes an exclusive advisory lock on the file for the rest of this writer's life, without
  // waiting: Busy if another writer (in this process or another) holds it. Then checks, as
  // checkPath() does, that the path still names the file this writer opened, so a writer that
  // opened a file just before it was moved away (an upload committed into blobs/) never writes
  // it. Only writers that take the lock are fenced: the lock is advisory.
  [[nodiscard]] virtual Result<void> lockExclusive() = 0;
  // NotFound if the path no longer names the file this writer opened (moved, removed, or
  // replaced by another file).
  [[nodiscard]] virtual Result<void> checkPath() = 0;
  // The file's current stamp.
  [[nodiscard]] virtual Result<FileStamp> stamp() = 0;
  // Flushes and fsyncs, keeping the writer (and its lock).
  [[nodiscard]] virtual Result<void> sync() = 0;
  // Flushes and fsyncs; no write is accepted afterwards.
  [[nodiscard]] virtual Result<void> commit() = 0;
  // Removes the file; no write is accepted afterwards.
  [[nodiscard]] virtual Result<void> cancel() = 0;
  // Releases the file, keeping what was written (no fsync).
  [[nodiscard]] virtual Result<void> close() = 0;
};

// What walk() does after visiting an entry.
enum class WalkControl {
  Continue,  // go on (into the entry if it is a directory)
  SkipDir,   // do not descend into this directory (distribution's ErrSkipDir)
  Stop,      // end the walk successfully
};

using WalkCallback = std::function<WalkControl(const FileInfo&)>;

// What StorageDriver::redirectURL() is asked for (distribution 2.8's URLFor options).
struct RedirectOptions {
  // The HTTP method the client will use: "GET" or "HEAD" (distribution's "method").
  std::string_view method = "GET";
  // When the URL stops working (distribution's "expiry"); nullopt: the driver's default.
  std::optional<std::chrono::system_clock::time_point> expiry;
};

// One child of a directory as listEntries() returns it: its name and type, nothing else.
struct DirEntry {
  std::string name;  // base name, not the full path
  bool is_dir = false;
};

// Identifies one state of a directory's list of entries (see StorageDriver::listingVersion).
struct ListingVersion {
  uint64_t device = 0;
  uint64_t inode = 0;
  int64_t mtime_ns = 0;
  int64_t ctime_ns = 0;
  uint64_t links = 0;
  bool operator==(const ListingVersion&) const = default;
};

// The driver interface. Implementations are thread-safe: distinct paths may be used from
// several workers at once; concurrent writers to one path are the caller's problem.
class StorageDriver {
 public:
  virtual ~StorageDriver() = default;

  // Driver name ("filesystem", "inmemory"), as in distribution's config.
  virtual std::string_view name() const = 0;

  // How many calls the driver wants in flight at once at most: the storage executor's thread
  // count (distribution's maxthreads, which its regulator enforces around every call). nullopt
  // (the default): the driver sets no limit of its own.
  virtual std::optional<size_t> maxThreads() const { return std::nullopt; }

  // True when the driver keeps the NoWaitScope promise (storage/nowait.h): inside a scope,
  // each call answers without waiting for a disk or a network, or throws WouldBlock first.
  // False (the default): read-only calls always go to a storage thread. A decorator forwards
  // this only if its own work never waits either.
  virtual bool supportsNoWait() const { return false; }

  // Whole content of a small file (≤ kMaxContentSize, else Io).
  [[nodiscard]] virtual Result<std::string> getContent(std::string_view path) = 0;
  // Replaces the file's content atomically: a reader sees the old or the new content, never a
  // mix (temporary file in the same directory, fsync, rename). Creates parent directories.
  [[nodiscard]] virtual Result<void> putContent(std::string_view path, std::string_view data) = 0;
  // Reader positioned at `offset` (offset == size is valid and reads nothing; beyond is
  // InvalidOffset).
  [[nodiscard]] virtual Result<std::unique_ptr<FileReader>> reader(std::string_view path,
                                                                   uint64_t offset) = 0;
  // Writer to the file; `append` keeps existing content (NotFound is not an error: the file
  // is created), otherwise the file is truncated. Creates parent directories.
  [[nodiscard]] virtual Result<std::unique_ptr<FileWriter>> writer(std::string_view path,
                                                                   bool append) = 0;
  // Metadata of the file or directory.
  [[nodiscard]] virtual Result<FileInfo> stat(std::string_view path) = 0;
  // Full logical paths of the directory's direct children, sorted. NotFound if the directory
  // does not exist (distribution returns PathNotFoundError too).
  [[nodiscard]] virtual Result<std::vector<std::string>> list(std::string_view path) = 0;
  // The directory's direct children with their type, sorted by name: list() + stat() without
  // the other metadata, so a driver can answer from one directory read (the filesystem
  // driver takes the type from readdir's d_type). NotFound as list(). The default
  // implementation calls list() and stat(); a child removed meanwhile is left out.
  [[nodiscard]] virtual Result<std::vector<DirEntry>> listEntries(std::string_view path);
  // A version of the directory's entries for caching a listing: if two calls return equal
  // versions, no entry was added or removed in between. nullopt when the driver cannot
  // promise that for this directory now (the default; the filesystem driver when the
  // directory changed too recently for its timestamp to tell a further change apart).
  [[nodiscard]] virtual Result<std::optional<ListingVersion>> listingVersion(std::string_view path);
  // Renames src to dst (replacing dst), creating dst's parents. Atomic on one filesystem.
  [[nodiscard]] virtual Result<void> move(std::string_view src, std::string_view dst) = 0;
  // Removes the file or the directory recursively. NotFound if nothing is there.
  [[nodiscard]] virtual Result<void> remove(std::string_view path) = 0;
  // Visits every entry under `path` depth first, children in sorted order, a directory before
  // its children (distribution's Walk). The start path itself is not visited.
  [[nodiscard]] virtual Result<void> walk(std::string_view path, const WalkCallback& callback) = 0;

  // A URL from which a client can fetch the file at `path` directly (an S3 presigned URL), for
  // a 307 redirect instead of serving the bytes (distribution 2.8's URLFor). A read is answered
  // in one of three ways, best first: this URL; a file descriptor for sendfile
  // (reader()->releaseFd()); a stream (reader()->read()). The default, and every driver that
  // stores bytes itself (filesystem, inmemory), answers Unsupported (distribution's
  // ErrUnsupportedMethod): the caller then serves the bytes. Does not check that the file
  // exists unless the driver says so.
  [[nodiscard]] virtual Result<std::string> redirectURL(std::string_view path,
                                                        const RedirectOptions& options);
};

// Checks a logical path (see the top of this file). `allow_root` admits "/".
[[nodiscard]] Result<void> validatePath(std::string_view path, bool allow_root = false);

// The parent of a valid logical path ("/a/b" → "/a", "/a" → "/").
std::string_view parentPath(std::string_view path);

// The last component of a valid logical path ("/a/b" → "b").
std::string_view baseName(std::string_view path);

}  // namespace portico::storage
