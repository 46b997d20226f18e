// Blob uploads (OCI Distribution Spec "Pushing blobs"): POST to start (or monolithic with
// ?digest=, or a cross-repository mount with ?mount=&from=), PATCH chunks, PUT ?digest= to
// complete, GET for the status, DELETE to cancel. Request bodies stream from the exchange into
// an UploadWriter chunk by chunk; nothing holds a whole body.
//
// Failures: a chunk that cannot be written (full volume: 503 UNAVAILABLE) is cut off again by
// the UploadWriter, so a PATCH/PUT upload stays resumable at its Range. A monolithic POST
// ?digest= that fails, or whose client goes away, is removed whole: its client never learnt the
// upload's id, so nobody could resume it, and its bytes would hold the space until purging.

#include <event2/buffer.h>

#include <charconv>
#include <memory>
#include <optional>

#include "backend/api/handlers.h"

namespace portico::api {
namespace {

using registry::ErrorCode;

Error readOnly() {
  return Error{ErrorCode::Unsupported, "read-only mode", "the registry is in read-only mode"};
}

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
void discardUpload(ApiRequest& request, const registry::UploadSession& session) {
  (void)request.services().uploads.cancel(session.repository, session.id);
}

// 201 with Location and Docker-Content-Digest of the committed blob.
void respondCreated(ApiRequest& request, const registry::Repository& repo,
                    const crypto::Digest& digest) {
  http::HeaderMap headers = request.baseHeaders();
  headers.set("Location", request.location(request.routes().blobPath(repo, digest)));
  headers.set("Docker-Content-Digest", digest.str());
  request.respond(201, std::move(headers));
}

// The first byte of a Content-Range request header: "start-end", also with a "bytes " or
// "bytes=" unit and a "/total" suffix. Checks the length against Content-Length when both are
// known. Errors are RANGE_INVALID (416).
Result<std::optional<uint64_t>> contentRangeStart(ApiRequest& request) {
  auto header = request.request().headers.get("Content-Range");
  if (!header) return std::optional<uint64_t>{};
  std::string_view value = *header;
  if (value.starts_with("bytes")) value.remove_prefix(5);
  while (!value.empty() && (value.front() == ' ' || value.front() == '=')) value.remove_prefix(1);
  value = value.substr(0, value.find('/'));
  size_t dash = value.find('-');
  Error invalid{ErrorCode::RangeInvalid, "invalid Content-Range", std::string(*header)};
  if (dash == std::string_view::npos) return invalid;
  uint64_t start = 0;
  uint64_t end = 0;
  auto a = std::from_chars(value.data(), value.data() + dash, start);
  auto b = std::from_chars(value.data() + dash + 1, value.data() + value.size(), end);
  if (a.ec != std::errc() || a.ptr != value.data() + dash || b.ec != std::errc() ||
      b.ptr != value.data() + value.size() || end < start) {
    return invalid;
  }
  auto declared = request.exchange().requestBody().declaredLength();
  if (declared && *declared != end - start + 1) return invalid;
  return std::optional<uint64_t>{start};
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

// Streams the request body into an upload; then reports progress (PATCH) or commits (PUT,
// monolithic POST).
class UploadBody : public http::ExchangeObserver, public http::BodySink {
 public:
  UploadBody(ApiRequest request, registry::UploadSession session,
             std::unique_ptr<registry::UploadWriter> writer, BodyPlan plan)
      : request_(std::move(request)),
        session_(std::move(session)),
        writer_(std::move(writer)),
        plan_(std::move(plan)) {}

  void start() { request_.exchange().requestBody().setSink(this); }

  // http::BodySink
  void onBodyData(evbuffer& data) override {
    if (done_) {
      evbuffer_drain(&data, evbuffer_get_length(&data));
      return;
    }
    auto written = writer_->write(data);
    if (!written) fail(written.error());
  }
  void onBodyEnd() override {
    if (done_) return;
    done_ = true;
    request_.exchange().requestBody().setSink(nullptr);
    session_.offset = writer_->offset();
    // A commit takes the writer with the upload's lock: nothing comes between its last byte
    // and the commit.
    if (plan_.commit) return finishUpload(request_, session_, plan_, std::move(writer_));
    auto closed = writer_->close();
    writer_.reset();
    if (!closed) return failed(request_, session_, plan_, closed.error());
    finishUpload(request_, session_, plan_);
  }
  void onBodyError(const Error& /*error*/) override {
    if (done_) return;
    done_ = true;
    request_.exchange().requestBody().setSink(nullptr);
    writer_.reset();  // the bytes received so far stay; a PATCH/PUT client may resume
    if (plan_.discard_on_failure) discardUpload(request_, session_);
    request_.exchange().reset();
  }

  // http::ExchangeObserver
  void onExchangeReset(const Error& /*reason*/) override {
    const bool streaming = !done_;
    done_ = true;
    writer_.reset();
    if (streaming && plan_.discard_on_failure) discardUpload(request_, session_);
  }

  // After the body: 202 with the new offset, or commit and 201.
  static void finishUpload(ApiRequest& request, const registry::UploadSession& session,
                           const BodyPlan& plan,
                           std::unique_ptr<registry::UploadWriter> writer = nullptr) {
    if (!plan.commit) return respondProgress(request, 202, session);
    auto committed = request.services().uploads.commit(session.repository, session.id, *plan.commit,
                                                       std::nullopt, std::move(writer));
    if (!committed) return failed(request, session, plan, committed.error());
    respondCreated(request, session.repository, committed->digest);
  }

  // The error response; a monolithic upload is removed first.
  static void failed(ApiRequest& request, const registry::UploadSession& session,
                     const BodyPlan& plan, const Error& error) {
    if (plan.discard_on_failure) discardUpload(request, session);
    request.respondError(error);
  }

 private:
  void fail(const Error& error) {
    done_ = true;
    request_.exchange().requestBody().setSink(nullptr);
    writer_.reset();
    failed(request_, session_, plan_, error);
  }

  ApiRequest request_;
  registry::UploadSession session_;
  std::unique_ptr<registry::UploadWriter> writer_;
  BodyPlan plan_;
  bool done_ = false;
};

// Appends the request body (if any) to `session`, then progress or commit.
void receiveBody(ApiRequest request, registry::UploadSession session, BodyPlan plan) {
  auto& body = request.exchange().requestBody();
  if (body.empty() && plan.commit) return UploadBody::finishUpload(request, session, plan);
  auto writer = request.services().uploads.append(session, plan.range_start);
  if (!writer) return UploadBody::failed(request, session, plan, writer.error());
  if (body.empty()) {
    session.offset = (*writer)->offset();
    auto closed = (*writer)->close();
    if (!closed) return UploadBody::failed(request, session, plan, closed.error());
    return UploadBody::finishUpload(request, session, plan);
  }
  auto& exchange = request.exchange();
  auto state = std::make_unique<UploadBody>(std::move(request), std::move(session),
                                            std::move(*writer), std::move(plan));
  UploadBody* raw = state.get();
  exchange.attach(std::move(state));
  raw->start();
}

void startUpload(ApiRequest request) {
  auto& services = request.services();
  const auto& repo = request.route.repository;
  // Cross-repository mount; any failure falls back to a normal upload (202), as the spec says.
  auto mount = request.request().queryParam("mount");
  auto from = request.request().queryParam("from");
  if (mount && from) {
    auto digest = registry::parseDigest(*mount);
    auto source = registry::Repository::parse(*from);
    if (digest && source) {
      auto mounted = services.layers.mount(*source, repo, *digest);
      if (mounted) return respondCreated(request, repo, mounted->digest);
    }
  }
  std::optional<crypto::Digest> monolithic;
  if (request.request().queryParam("digest")) {
    auto digest = digestParam(request);
    if (!digest) return request.respondError(digest.error());
    monolithic = *digest;
  }
  auto session = services.uploads.start(repo);
  if (!session) return request.respondError(session.error());
  if (monolithic) {
    return receiveBody(std::move(request), *session,
                       BodyPlan{std::nullopt, monolithic, /*discard_on_failure=*/true});
  }
  respondProgress(request, 202, *session);
}

}  // namespace

void handleUploadStart(ApiRequest request) {
  if (request.options().read_only) return request.respondError(readOnly());
  startUpload(std::move(request));
}

void handleUpload(ApiRequest request) {
  const std::string& method = request.request().method;
  if (request.options().read_only && method != "GET" && method != "HEAD") {
    return request.respondError(readOnly());
  }
  auto& uploads = request.services().uploads;
  auto session = uploads.resume(request.route.repository, request.route.upload_id);
  if (!session) return request.respondError(session.error());

  if (method == "GET" || method == "HEAD") return respondProgress(request, 204, *session);
  if (method == "DELETE") {
    auto cancelled = uploads.cancel(session->repository, session->id);
    if (!cancelled) return request.respondError(cancelled.error());
    return request.respond(204, request.baseHeaders());
  }
  auto range_start = contentRangeStart(request);
  if (!range_start) return request.respondError(range_start.error());
  if (method == "PATCH") {
    return receiveBody(std::move(request), *session, BodyPlan{*range_start, std::nullopt});
  }
  // PUT ?digest=: the final chunk (optional), then commit.
  auto digest = digestParam(request);
  if (!digest) return request.respondError(digest.error());
  receiveBody(std::move(request), *session, BodyPlan{*range_start, *digest});
}

}  // namespace portico::api
