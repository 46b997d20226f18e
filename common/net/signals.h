#pragma once
// Process signal setup: SIGPIPE is ignored (writes to closed sockets return EPIPE), and the
// termination signals (SIGINT, SIGTERM, SIGHUP) are blocked in every thread but taken by the
// main thread with waitForSignal(). Call blockSignals() in main() before any thread starts;
// threads created afterwards (workers, spdlog's async thread) inherit the mask.

namespace portico::net {

// Ignores SIGPIPE and blocks SIGINT, SIGTERM and SIGHUP in the calling thread.
void blockSignals();
// Waits for SIGINT, SIGTERM or SIGHUP (blocked by blockSignals()); returns its number.
int waitForSignal();

}  // namespace portico::net
