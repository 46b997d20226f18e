#pragma once
// Streaming bodies. A body is a sequence of chunks handed from a BodySource to a BodySink.
// Backpressure: the consumer calls BodySource::pause() when its own output passes its high
// watermark and resume() when it drains below the low watermark; a paused source stops
// reading its socket, so each direction holds one bounded buffer (docs/ARCHITECTURE.md).
//
// Chunks are libevent evbuffers so that bytes move between connections without copies
// (evbuffer_add_buffer). A sink must drain what it is given before returning.
// What this does not do: buffer a whole body. Nothing here ever waits for the end.

#include <cstdint>
#include <optional>

#include "common/error.h"

struct evbuffer;

namespace portico::http {

// Receives a streamed body.
class BodySink {
 public:
  virtual ~BodySink() = default;
  // The next bytes of the body (already de-chunked). The sink must drain `data` fully.
  virtual void onBodyData(evbuffer& data) = 0;
  // The body ended normally (all Content-Length bytes, or the last chunk).
  virtual void onBodyEnd() = 0;
  // The body will not complete: peer reset, timeout, malformed framing.
  virtual void onBodyError(const Error& error) = 0;
};

// A body arriving from a peer, delivered to one sink with pause/resume.
class BodySource {
 public:
  virtual ~BodySource() = default;
  // Attaches the sink that receives the body. Bytes that arrived before are delivered
  // (from the event loop, not from inside this call). Null detaches: data is then held and
  // reading pauses until a sink is attached again.
  virtual void setSink(BodySink* sink) = 0;
  // Stops delivering chunks and reading from the socket.
  virtual void pause() = 0;
  // Resumes delivery and reading.
  virtual void resume() = 0;
  // Content-Length if the framing declares it; nullopt for chunked bodies.
  virtual std::optional<uint64_t> declaredLength() const = 0;
  // True when the message has no body at all (no Content-Length/Transfer-Encoding, or 0).
  virtual bool empty() const = 0;
  // True once onBodyEnd has been (or would be) delivered.
  virtual bool complete() const = 0;
  // Bytes of body delivered so far.
  virtual uint64_t bytesReceived() const = 0;
};

}  // namespace portico::http
