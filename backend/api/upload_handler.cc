// Blob uploads (OCI Distribution Spec "Pushing blobs"): POST to start (or monolithic with
// ?digest=, or a cross-repository mount with ?mount=&from=), PATCH chunks, PUT ?digest= to
// complete, GET for the status, DELETE to cancel. Request bodies stream from the exchange into
// a BlobWriter whose writes run on the storage executor: each chunk is moved (no copy) into
// the buffer of the next write; while one write is in flight the following chunks accumulate,
// and the body source is paused when they pass kBodyHighWatermark and resumed below
// kBodyLowWatermark, so an upload holds at most about twice the high watermark whatever its
// size.
//
// Failures: a chunk that cannot be written (full volume: 503 UNAVAILABLE) is cut off again by
// the UploadWriter, so a PATCH/PUT upload stays resumable at its Range. A monolithic POST
// ?digest= that fails, or whose client goes away, is removed whole: its client never learnt the
// upload's id, so nobody could resume it, and its bytes would hold the space until purging.

#include <event2/buffer.h>

#include <memory>
#include <optional>
#include <utility>

#include "backend/api/byte_range.h"
#include "backend/api/handlers.h"

namespace portico::api {
namespace {

using registry::ErrorCode;

constexpr size_t kBodyHighWatermark = size_t{512} * 1024;  // pause the body above this
constexpr size_t kBodyLowWatermark = size_t{128} * 1024;   // resume it below this

// distribution's Range header for uploads: "0-<last byte>", and "0-0" when empty.
std::string uploadRange(uint64_t offset) {
  return "0-" + std::to_string(offset == 0 ? 0 : offset - 1);
}

// 202 (or 204 for GET status) with Location, Range and Docker-Upload-UUID.
void respondProgress(ApiRequest& request, int status, const registry::UploadSession& session) {
  http::HeaderMap headers = request.baseHeaders();
  headers.set("Location",
              request.location(request.routes().uploadPath(session.repository, session.id)));
  headers.set("Range", uploadRange(session.offset));
  headers.set("Docker-Upload-UUID", session.id);
  request.respond(status, std::move(headers));
}

// Removes an upload nobody can resume (a failed monolithic POST); it may already be gone.
// Fire and forget, also from onExchangeReset (the worker may be stopping): the completion runs
// on the storage thread and does nothing.
void discardUpload(ApiRequest& request, const registry::UploadSession& session) {
  auto ctx = std::make_shared<registry::RequestContext>(*request.context());
  ctx->worker = nullptr;
  request.repository().uploads().cancel(ctx, session.id, [](Result<void> /*cancelled*/) {});
}

// 201 with Location and Docker-Content-Digest of the committed blob.
void respondCreated(ApiRequest& request, const registry::Repository& repo,
                    const crypto::Digest& digest) {
  http::HeaderMap headers = request.baseHeaders();
  headers.set("Location", request.location(request.routes().blobPath(repo, digest)));
  headers.set("Docker-Content-Digest", digest.str());
  request.respond(201, std::move(headers));
}

// The first byte of a Content-Range request header (parseUploadContentRange, byte_range.h).
// Checks the length against Content-Length when both are known. Errors are RANGE_INVALID (416).
Result<std::optional<uint64_t>> contentRangeStart(ApiRequest& request) {
  auto header = request.request().headers.get("Content-Range");
  if (!header) return std::optional<uint64_t>{};
  Error invalid{ErrorCode::RangeInvalid, "invalid Content-Range", std::string(*header)};
  auto range = parseUploadContentRange(*header);
  if (!range) return invalid;
  auto declared = request.exchange().requestBody().declaredLength();
  if (declared && *declared != range->length) return invalid;
  return std::optional<uint64_t>{range->start};
}

Result<crypto::Digest> digestParam(ApiRequest& request) {
  auto text = request.request().queryParam("digest");
  if (!text || text->empty()) {
    return Error{ErrorCode::DigestInvalid, "digest missing",
                 "the digest query parameter is required"};
  }
  return registry::parseDigest(*text);
}

// What receiveBody does with the body, and with the upload when something fails.
struct BodyPlan {
  std::optional<uint64_t> range_start;   // Content-Range's first byte, when sent
  std::optional<crypto::Digest> commit;  // PUT / monolithic POST: commit after the body
  bool discard_on_failure = false;       // monolithic POST: remove the upload on any failure
};

// The error response; a monolithic upload is removed first.
void failed(ApiRequest& request, const registry::UploadSession& session, const BodyPlan& plan,
            const Error& error) {
  if (plan.discard_on_failure) discardUpload(request, session);
  request.respondError(error);
}

// The completion of a commit: 201 and a push event, or the error.
registry::Done<registry::Descriptor> onCommitted(Pending& pending,
                                                 const registry::UploadSession& session,
                                                 const BodyPlan& plan) {
  return pending.then<registry::Descriptor>(
      [session, plan](Pending& p, Result<registry::Descriptor> committed) {
        auto& request = p.request();
        if (!committed) return failed(request, session, plan, committed.error());
        request.emit(registry::Event{.action = registry::Event::Action::Push,
                                     .media_type = std::string(registry::kOctetStream),
                                     .size = committed->size,
                                     .digest = committed->digest},
                     p.then<void>([session, digest = committed->digest](Pending& p, Result<void>) {
                       respondCreated(p.request(), session.repository, digest);
                     }));
      });
}

// After a body-less request: 202 with the offset, or commit (taking the upload's lock) and 201.
void finishUpload(Pending& pending, const registry::UploadSession& session, const BodyPlan& plan) {
  auto& request = pending.request();
  if (!plan.commit) return respondProgress(request, 202, session);
  request.repository().uploads().commit(request.context(), session.id, *plan.commit, std::nullopt,
                                        onCommitted(pending, session, plan));
}

// Streams the request body into a BlobWriter (see the top of this file); then reports
// progress (PATCH) or commits (PUT, monolithic POST).
class UploadBody : public Pending::Part, public http::BodySink {
 public:
  UploadBody(Pending& pending, registry::UploadSession session,
             std::unique_ptr<registry::BlobWriter> writer, BodyPlan plan)
      : pending_(pending),
        session_(std::move(session)),
        writer_(std::move(writer)),
        plan_(std::move(plan)),
        accumulated_(evbuffer_new()) {}

  void start() { body().setSink(this); }

  // http::BodySink
  void onBodyData(evbuffer& data) override {
    if (done_) {
      evbuffer_drain(&data, evbuffer_get_length(&data));
      return;
    }
    evbuffer_add_buffer(accumulated_.get(), &data);  // moves the chains, no copy
    if (!in_flight_) return startWrite();
    if (!paused_ && evbuffer_get_length(accumulated_.get()) > kBodyHighWatermark) {
      paused_ = true;
      body().pause();
    }
  }
  void onBodyEnd() override {
    if (done_) return;
    body_ended_ = true;
    body().setSink(nullptr);
    if (in_flight_) return;  // written() goes on
    if (evbuffer_get_length(accumulated_.get()) > 0) return startWrite();
    closeWriter();
  }
  void onBodyError(const Error& /*error*/) override {
    if (done_) return;
    done_ = true;
    body().setSink(nullptr);
    writer_.reset();  // the bytes received so far stay; a PATCH/PUT client may resume
    auto& request = pending_.request();
    if (plan_.discard_on_failure) discardUpload(request, session_);
    request.reset();
  }

  // Pending::Part
  void onReset() override {
    const bool streaming = !done_;
    done_ = true;
    writer_.reset();
    if (streaming && plan_.discard_on_failure) discardUpload(pending_.request(), session_);
  }

 private:
  http::BodySource& body() { return pending_.request().exchange().requestBody(); }

  // Hands everything accumulated to one write on the storage executor.
  void startWrite() {
    in_flight_ = true;
    net::EvbufferPtr chunk(evbuffer_new());
    evbuffer_add_buffer(chunk.get(), accumulated_.get());
    if (paused_ && evbuffer_get_length(accumulated_.get()) < kBodyLowWatermark) {
      paused_ = false;
      body().resume();
    }
    writer_->write(pending_.request().context(), std::move(chunk),
                   pending_.then<void>([](Pending& p, Result<void> written) {
                     static_cast<UploadBody*>(p.part())->written(written);
                   }));
  }

  void written(const Result<void>& result) {
    in_flight_ = false;
    if (done_) return;
    if (!result) return fail(result.error());
    if (evbuffer_get_length(accumulated_.get()) > 0) return startWrite();
    if (body_ended_) closeWriter();
  }

  // The whole body is written: commit with the writer's lock (nothing can come between the
  // last byte and the commit), or close the chunk and report progress.
  void closeWriter() {
    done_ = true;
    session_.offset = writer_->offset();
    auto writer = std::move(writer_);
    if (plan_.commit) {
      return writer->commit(pending_.request().context(), *plan_.commit, std::nullopt,
                            onCommitted(pending_, session_, plan_));
    }
    writer->close(
        pending_.request().context(),
        pending_.then<void>([session = session_, plan = plan_](Pending& p, Result<void> closed) {
          if (!closed) return failed(p.request(), session, plan, closed.error());
          finishUpload(p, session, plan);
        }));
  }

  void fail(const Error& error) {
    done_ = true;
    body().setSink(nullptr);
    writer_.reset();
    failed(pending_.request(), session_, plan_, error);
  }

  Pending& pending_;
  registry::UploadSession session_;
  std::unique_ptr<registry::BlobWriter> writer_;
  BodyPlan plan_;
  net::EvbufferPtr accumulated_;  // chunks that arrived while a write was in flight
  bool in_flight_ = false;
  bool paused_ = false;
  bool body_ended_ = false;
  bool done_ = false;
};

// Appends the request body (if any) to `session`, then progress or commit.
void receiveBody(Pending& pending, registry::UploadSession session, BodyPlan plan) {
  auto& request = pending.request();
  if (request.exchange().requestBody().empty() && plan.commit) {
    return finishUpload(pending, session, plan);
  }
  auto range_start = plan.range_start;
  request.repository().uploads().append(
      request.context(), session, range_start,
      pending.then<std::unique_ptr<registry::BlobWriter>>(
          [session, plan](Pending& p,
                          Result<std::unique_ptr<registry::BlobWriter>> writer) mutable {
            auto& request = p.request();
            if (!writer) return failed(request, session, plan, writer.error());
            if (request.exchange().requestBody().empty()) {
              session.offset = (*writer)->offset();
              (*writer)->close(request.context(),
                               p.then<void>([session, plan](Pending& p, Result<void> closed) {
                                 if (!closed) {
                                   return failed(p.request(), session, plan, closed.error());
                                 }
                                 finishUpload(p, session, plan);
                               }));
              return;
            }
            auto part = std::make_unique<UploadBody>(p, std::move(session), std::move(*writer),
                                                     std::move(plan));
            UploadBody* raw = part.get();
            p.hold(std::move(part));
            raw->start();
          }));
}

// A new upload (202), or a monolithic one (?digest=) receiving its body.
void startNewUpload(Pending& pending) {
  auto& request = pending.request();
  std::optional<crypto::Digest> monolithic;
  if (request.request().queryParam("digest")) {
    auto digest = digestParam(request);
    if (!digest) return request.respondError(digest.error());
    monolithic = *digest;
  }
  request.repository().uploads().start(
      request.context(),
      pending.then<registry::UploadSession>(
          [monolithic](Pending& p, Result<registry::UploadSession> session) {
            if (!session) return p.request().respondError(session.error());
            if (monolithic) {
              return receiveBody(p, *session,
                                 BodyPlan{std::nullopt, monolithic, /*discard_on_failure=*/true});
            }
            respondProgress(p.request(), 202, *session);
          }));
}

}  // namespace

void handleUploadStart(Pending& pending) {
  auto& request = pending.request();
  // Cross-repository mount; any failure falls back to a normal upload (202), as the spec says.
  auto mount = request.request().queryParam("mount");
  auto from = request.request().queryParam("from");
  if (mount && from) {
    auto digest = registry::parseDigest(*mount);
    auto source = registry::Repository::parse(*from);
    if (digest && source) {
      return request.repository().blobs().mount(
          request.context(), *source, *digest,
          pending.then<registry::Descriptor>(
              [from = source->str()](Pending& p, Result<registry::Descriptor> mounted) {
                if (!mounted) return startNewUpload(p);
                auto& request = p.request();
                request.emit(registry::Event{.action = registry::Event::Action::Mount,
                                             .media_type = std::string(registry::kOctetStream),
                                             .size = mounted->size,
                                             .digest = mounted->digest,
                                             .from_repository = from},
                             p.then<void>([digest = mounted->digest](Pending& p, Result<void>) {
                               auto& request = p.request();
                               respondCreated(request, request.route.repository, digest);
                             }));
              }));
    }
  }
  startNewUpload(pending);
}

void handleUpload(Pending& pending) {
  auto& request = pending.request();
  request.repository().uploads().resume(
      request.context(), request.route.upload_id,
      pending.then<registry::UploadSession>([](Pending& p,
                                               Result<registry::UploadSession> session) {
        auto& request = p.request();
        if (!session) return request.respondError(session.error());
        const std::string& method = request.request().method;
        if (method == "GET" || method == "HEAD") return respondProgress(request, 204, *session);
        if (method == "DELETE") {
          return request.repository().uploads().cancel(
              request.context(), session->id, p.then<void>([](Pending& p, Result<void> cancelled) {
                auto& request = p.request();
                if (!cancelled) return request.respondError(cancelled.error());
                request.respond(204, request.baseHeaders());
              }));
        }
        auto range_start = contentRangeStart(request);
        if (!range_start) return request.respondError(range_start.error());
        if (method == "PATCH") {
          return receiveBody(p, *session, BodyPlan{*range_start, std::nullopt});
        }
        // PUT ?digest=: the final chunk (optional), then commit.
        auto digest = digestParam(request);
        if (!digest) return request.respondError(digest.error());
        receiveBody(p, *session, BodyPlan{*range_start, *digest});
      }));
}

}  // namespace portico::api
