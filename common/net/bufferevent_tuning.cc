#include "common/net/bufferevent_tuning.h"

#include <event2/buffer.h>
#include <event2/bufferevent_ssl.h>
#include <event2/bufferevent_struct.h>
#include <event2/event.h>
#include <malloc.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/uio.h>

#include <algorithm>

namespace portico::net {
namespace {

constexpr size_t kLibeventMaxRead = 4096;

}  // namespace

size_t readAvailable(bufferevent* bev, size_t limit) {
  evutil_socket_t fd = bufferevent_getfd(bev);
  if (fd < 0) return 0;
  evbuffer* input = bufferevent_get_input(bev);
  // libevent's own read takes at most EVBUFFER_MAX_READ (4 KiB): when the input holds less,
  // that read came back short and the socket is empty (no readv just to see EAGAIN).
  if (evbuffer_get_length(input) < kLibeventMaxRead) return 0;
  size_t total = 0;
  // A socket bufferevent keeps the end of its input frozen outside its own reads.
  evbuffer_unfreeze(input, 0);
  while (true) {
    size_t have = evbuffer_get_length(input);
    if (have >= limit) break;
    size_t want = std::min(limit - have, kMaxSingleIoBytes);
    evbuffer_iovec space[2];
    int chunks = evbuffer_reserve_space(input, static_cast<ev_ssize_t>(want), space, 2);
    if (chunks <= 0) break;
    iovec vec[2];
    size_t offered = 0;
    for (int i = 0; i < chunks; ++i) {
      vec[i].iov_base = space[i].iov_base;
      vec[i].iov_len = std::min(space[i].iov_len, want - offered);
      offered += vec[i].iov_len;
    }
    ssize_t got = readv(fd, vec, chunks);
    if (got <= 0) break;  // would block, EOF or error: left for libevent's next read event
    size_t left = static_cast<size_t>(got);
    int used = 0;
    for (int i = 0; i < chunks && left > 0; ++i, ++used) {
      space[i].iov_len = std::min(vec[i].iov_len, left);
      left -= space[i].iov_len;
    }
    evbuffer_commit_space(input, space, used);
    total += static_cast<size_t>(got);
    if (static_cast<size_t>(got) < offered) break;  // the socket is empty
  }
  evbuffer_freeze(input, 0);
  return total;
}

size_t readTlsAvailable(bufferevent* bev, size_t limit) {
  SSL* ssl = bufferevent_openssl_get_ssl(bev);
  if (ssl == nullptr || SSL_is_init_finished(ssl) == 0) return 0;
  if ((bufferevent_get_enabled(bev) & EV_READ) == 0) return 0;
  evbuffer* input = bufferevent_get_input(bev);
  size_t total = 0;
  while (evbuffer_get_length(input) < limit) {
    evbuffer_iovec space{};
    if (evbuffer_reserve_space(input, static_cast<ev_ssize_t>(kTlsRecordBytes), &space, 1) < 1) {
      break;
    }
    ERR_clear_error();
    const int n = SSL_read(ssl, space.iov_base, static_cast<int>(space.iov_len));
    if (n <= 0) {
      evbuffer_commit_space(input, nullptr, 0);
      if (SSL_get_error(ssl, n) != SSL_ERROR_WANT_READ) {
        event_active(&bev->ev_read, EV_READ, 1);  // libevent's SSL_read reports it
      }
      break;
    }
    space.iov_len = static_cast<size_t>(n);
    evbuffer_commit_space(input, &space, 1);
    total += static_cast<size_t>(n);
  }
  return total;
}

namespace {

// Writes the output until it is empty or the socket takes no more; true when it is empty.
bool writeNow(bufferevent* bev) {
  evutil_socket_t fd = bufferevent_getfd(bev);
  evbuffer* output = bufferevent_get_output(bev);
  if (fd < 0) return evbuffer_get_length(output) == 0;
  // A socket bufferevent keeps the front of its output frozen outside its own writes.
  evbuffer_unfreeze(output, 1);
  size_t written = 0;
  while (evbuffer_get_length(output) > 0 && written < 4 * kMaxSingleIoBytes) {
    int n = evbuffer_write_atmost(output, fd, static_cast<ev_ssize_t>(kMaxSingleIoBytes));
    // Would block, or an error that libevent's own write then reports.
    if (n <= 0) break;
    written += static_cast<size_t>(n);
  }
  evbuffer_freeze(output, 1);
  return evbuffer_get_length(output) == 0;
}

}  // namespace

bool flushNow(bufferevent* bev) {
  if ((bufferevent_get_enabled(bev) & EV_WRITE) != 0) return false;
  if (evbuffer_get_length(bufferevent_get_output(bev)) == 0) return false;
  if (writeNow(bev)) return true;
  bufferevent_enable(bev, EV_WRITE);
  return false;
}

bool flushTlsNow(bufferevent* bev, evbuffer* staged) {
  const size_t length = evbuffer_get_length(staged);
  if (length == 0) return false;
  if (length <= kTlsRecordBytes) evbuffer_pullup(staged, -1);
  evbuffer* output = bufferevent_get_output(bev);
  SSL* ssl = bufferevent_openssl_get_ssl(bev);
  if (ssl != nullptr && evbuffer_get_length(output) == 0) {
    size_t written = 0;
    while (evbuffer_get_length(staged) > 0 && written < 4 * kMaxSingleIoBytes) {
      evbuffer_iovec chunk{};
      if (evbuffer_peek(staged, -1, nullptr, &chunk, 1) < 1) break;
      // The same length bufferevent_openssl would pass for this chain: a retry after
      // WANT_WRITE must repeat it.
      const size_t size = std::min(chunk.iov_len, kMaxSingleIoBytes);
      ERR_clear_error();
      const int n = SSL_write(ssl, chunk.iov_base, static_cast<int>(size));
      if (n <= 0) break;
      evbuffer_drain(staged, static_cast<size_t>(n));
      written += static_cast<size_t>(n);
    }
    if (evbuffer_get_length(staged) == 0) return true;
  }
  evbuffer_add_buffer(output, staged);
  return false;
}

void releaseFreeMemory() {
  malloc_trim(0);
}

void tuneAllocator() {
  mallopt(M_MMAP_THRESHOLD, 1024 * 1024);
  mallopt(M_TRIM_THRESHOLD, 4 * 1024 * 1024);
}

}  // namespace portico::net
