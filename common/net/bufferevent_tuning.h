#pragma once
// Per-connection socket I/O sizes. libevent moves at most 16 KiB per read or write callback by
// default (bufferevent.c, MAX_SINGLE_READ_DEFAULT/MAX_SINGLE_WRITE_DEFAULT): a 1 GiB layer
// then costs 65,536 loop passes each way. Larger single reads and writes let one pass move
// what the kernel has, while the watermarks still bound what a connection buffers.

#include <event2/bufferevent.h>

#include <cstddef>

namespace portico::net {

inline constexpr size_t kMaxSingleIoBytes = 256 * 1024;

// Applies the I/O sizes above to a new bufferevent (plain or TLS).
inline void tuneBufferevent(bufferevent* bev) {
  bufferevent_set_max_single_read(bev, kMaxSingleIoBytes);
  bufferevent_set_max_single_write(bev, kMaxSingleIoBytes);
}

}  // namespace portico::net
