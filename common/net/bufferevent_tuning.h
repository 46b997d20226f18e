#pragma once
// Per-connection socket I/O sizes and reads. libevent moves at most 16 KiB per read or write
// callback by default (bufferevent.c, MAX_SINGLE_READ_DEFAULT/MAX_SINGLE_WRITE_DEFAULT), and
// libevent 2.1's evbuffer_read caps every socket read at EVBUFFER_MAX_READ = 4 KiB, one read
// per readiness event: a 1 GiB layer then costs 262,144 loop passes. Larger single writes
// and our own reads (readAvailable) let one pass move what the kernel has, while the
// watermarks still bound what a connection buffers.

#include <event2/bufferevent.h>

#include <cstddef>

namespace portico::net {

inline constexpr size_t kMaxSingleIoBytes = size_t{256} * 1024;

// Applies the I/O sizes above to a new bufferevent (plain or TLS).
inline void tuneBufferevent(bufferevent* bev) {
  bufferevent_set_max_single_read(bev, kMaxSingleIoBytes);
  bufferevent_set_max_single_write(bev, kMaxSingleIoBytes);
}

// Reads from the socket of a plain (not TLS) socket bufferevent into its input until the
// socket has nothing more, a read comes back short, or the input holds `limit` bytes; at most
// kMaxSingleIoBytes per readv. Meant for the read callback, after libevent's own 4 KiB read
// (an input below 4 KiB means that read was short: nothing is read then).
// EOF and errors are not consumed as such: reading just stops, and libevent's next read event
// (level-triggered) reports them as it always does. Returns the bytes added.
size_t readAvailable(bufferevent* bev, size_t limit);

// Flushes the output of a plain socket bufferevent that keeps EV_WRITE disabled while its
// output is empty, so that a response costs one writev and no epoll_ctl: writes straight to
// the socket, without a trip through the event loop (sendfile segments included), until the
// output is empty or the socket takes no more. Does nothing while EV_WRITE is on (the socket
// was full: libevent writes as it drains). When bytes are left, or on an error, enables
// EV_WRITE, and libevent then writes the rest or reports the error as usual. True when this
// call emptied a non-empty output (the caller's "output drained" step runs then).
bool flushNow(bufferevent* bev);

// Sets glibc malloc for buffers that come and go by the hundred kilobytes: blocks up to 1 MiB
// come from the arenas (not one mmap/munmap each), and an arena keeps up to 4 MiB of free
// top before trimming. glibc's defaults trim every worker arena with madvise(MADV_DONTNEED)
// as soon as 128 KiB are free, so a relayed body re-faulted and re-zeroed its pages on every
// pass (perf, 1 MiB HTTPS GETs: madvise, page faults and clear_page about 8% of the proxy's
// CPU). Peak RSS does not grow: only memory already touched stays mapped. Call once at start.
void tuneAllocator();

}  // namespace portico::net
