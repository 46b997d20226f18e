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
// The TLS record payload limit (RFC 8446 §5.1): staged bytes up to this size are joined so
// that they leave as one record.
inline constexpr size_t kTlsRecordBytes = size_t{16} * 1024;

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

// The same for a bufferevent_openssl after its handshake: libevent reads one TLS record per
// readiness event (SSL_read, then only what SSL_pending reports), so a 16 KiB record costs a
// loop pass, an epoll_wait and a downstream write. Meant for the read callback (server and
// upstream connections), like readAvailable. This reads the next records with SSL_read
// until OpenSSL wants more from the socket or the input holds `limit` bytes. Any other
// outcome (close_notify, an alert, EOF, WANT_WRITE) is left for libevent: its read event is
// made active, and its own SSL_read meets the same state and reports it as it always does.
size_t readTlsAvailable(bufferevent* bev, size_t limit);

// The read callbacks' step after libevent's own read: readTlsAvailable on a TLS bufferevent,
// readAvailable on a plain one.
inline size_t readRest(bufferevent* bev, bool tls, size_t limit) {
  return tls ? readTlsAvailable(bev, limit) : readAvailable(bev, limit);
}

// Flushes the output of a plain socket bufferevent that keeps EV_WRITE disabled while its
// output is empty, so that a response costs one writev and no epoll_ctl: writes straight to
// the socket, without a trip through the event loop (sendfile segments included), until the
// output is empty or the socket takes no more. Does nothing while EV_WRITE is on (the socket
// was full: libevent writes as it drains). When bytes are left, or on an error, enables
// EV_WRITE, and libevent then writes the rest or reports the error as usual. True when this
// call emptied a non-empty output (the caller's "output drained" step runs then).
bool flushNow(bufferevent* bev);

// The TLS counterpart of flushNow, for a bufferevent_openssl whose owner stages a loop pass's
// bytes in `staged`: while the bufferevent's own output is empty, encrypts them straight to
// the socket with SSL_write (a staged response of up to 16 KiB is joined first, so it leaves
// as one record). Handed to bufferevent_openssl instead, bytes arm EV_WRITE and go out on the
// next loop pass: two epoll_ctl and a pass per response. What the socket does not take (or an
// error) is appended to the output, where bufferevent_openssl retries the same bytes (OpenSSL
// requires that after WANT_WRITE) or reports the error as usual. True when this call wrote
// everything (the caller's "output drained" step runs then).
bool flushTlsNow(bufferevent* bev, evbuffer* staged);

// Sets glibc malloc for buffers that come and go by the hundred kilobytes: blocks up to 1 MiB
// come from the arenas (not one mmap/munmap each), and an arena keeps up to 4 MiB of free
// top before trimming. glibc's defaults trim every worker arena with madvise(MADV_DONTNEED)
// as soon as 128 KiB are free, so a relayed body re-faulted and re-zeroed its pages on every
// pass (perf, 1 MiB HTTPS GETs: madvise, page faults and clear_page about 8% of the proxy's
// CPU). Peak RSS does not grow: only memory already touched stays mapped. Call once at start.
void tuneAllocator();

// Returns the allocator's free pages to the kernel (glibc malloc_trim(0): every arena's free
// top and the whole free pages inside it). The tuning above keeps up to 4 MiB of free top per
// arena, and free memory below live blocks is never trimmed at all: 200 connections that each
// held a few hundred KiB of output left the echo server 43 MiB above its baseline after they
// closed. Costs a walk over the arenas (locks each): call it when a worker has gone idle,
// never per request (ConnectionSet does, at most once per kIdleTrimDelay per worker).
void releaseFreeMemory();

}  // namespace portico::net
