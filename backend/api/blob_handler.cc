// HEAD/GET/DELETE /v2/<name>/blobs/<digest> (OCI Distribution Spec "Pulling blobs",
// "Deleting Blobs"). GET sends the data file with exchange.sendFile (sendfile(2) on plain
// connections); a driver without file descriptors streams through a ReaderPump, whose reads
// run on the storage executor.

#include <algorithm>
#include <memory>
#include <string>

#include "backend/api/byte_range.h"
#include "backend/api/handlers.h"

namespace portico::api {
namespace {

constexpr size_t kPumpReadBytes = size_t{64} * 1024;  // one read's bytes

// Streams a registry::BlobReader to the client with backpressure: one read in flight at a
// time, and none while the output is above its high watermark.
class ReaderPump : public Pending::Part {
 public:
  ReaderPump(Pending& pending, std::unique_ptr<registry::BlobReader> reader, uint64_t remaining)
      : pending_(pending), reader_(std::move(reader)), remaining_(remaining) {}

  void pump() {
    auto& request = pending_.request();
    if (reading_ || request.ended()) return;
    if (remaining_ == 0) return request.finish();
    if (request.exchange().outputBlocked()) return;  // onDrained() calls again
    reading_ = true;
    size_t want = std::min<uint64_t>(kPumpReadBytes, remaining_);
    reader_->read(request.context(), want,
                  pending_.then<std::string>([](Pending& p, Result<std::string> got) {
                    auto* self = static_cast<ReaderPump*>(p.part());
                    self->reading_ = false;
                    if (!got || got->empty()) {
                      return p.request().reset();  // the head is out: a short body must not
                                                   // look complete
                    }
                    size_t n = std::min<uint64_t>(got->size(), self->remaining_);
                    p.request().exchange().sendBody(std::string_view(got->data(), n));
                    self->remaining_ -= n;
                    self->pump();
                  }));
  }

  // Pending::Part
  void onDrained() override { pump(); }

 private:
  Pending& pending_;
  std::unique_ptr<registry::BlobReader> reader_;
  uint64_t remaining_;
  bool reading_ = false;
};

void getBlob(Pending& pending) {
  auto& request = pending.request();
  const auto digest = request.route.digest;
  request.repository().blobs().stat(
      request.context(), digest,
      pending.then<registry::Descriptor>([](Pending& p, Result<registry::Descriptor> descriptor) {
        auto& request = p.request();
        if (!descriptor) return request.respondError(descriptor.error());
        uint64_t size = descriptor->size;
        const auto& digest = request.route.digest;

        http::HeaderMap headers = request.baseHeaders();
        headers.set("Docker-Content-Digest", digest.str());
        headers.set("ETag", "\"" + digest.str() + "\"");
        headers.set("Accept-Ranges", "bytes");
        headers.set("Cache-Control", "max-age=31536000");
        headers.set("Content-Type", "application/octet-stream");

        ByteRangeResult range = parseByteRange(request.request().headers.get("Range"), size);
        if (range.kind == ByteRangeResult::Kind::Unsatisfiable) {
          http::HeaderMap extra;
          extra.set("Content-Range", contentRange(range, size));
          return request.respondError(
              Error{registry::ErrorCode::RangeInvalid, "range not satisfiable",
                    std::string(*request.request().headers.get("Range"))},
              extra);
        }
        int status = 200;
        if (range.kind == ByteRangeResult::Kind::Partial) {
          status = 206;
          headers.set("Content-Range", contentRange(range, size));
        }
        headers.set("Content-Length", std::to_string(range.length));

        if (request.isHead() || range.length == 0) {
          request.sendHead(status, std::move(headers));
          return request.finish();
        }
        request.repository().blobs().open(
            request.context(), digest, range.start,
            p.then<registry::BlobContent>(
                [status, headers = std::move(headers), range, size = *descriptor](
                    Pending& p, Result<registry::BlobContent> content) mutable {
                  auto& request = p.request();
                  if (!content) return request.respondError(content.error());
                  auto shared = std::make_shared<registry::BlobContent>(std::move(*content));
                  request.emit(registry::Event{.action = registry::Event::Action::Pull,
                                               .media_type = size.media_type,
                                               .size = size.size,
                                               .digest = size.digest},
                               p.then<void>([status, headers = std::move(headers), range, shared](
                                                Pending& p, Result<void>) mutable {
                                 auto& request = p.request();
                                 request.sendHead(status, std::move(headers));
                                 if (shared->fd >= 0) {
                                   request.exchange().sendFile(std::exchange(shared->fd, -1),
                                                               range.start, range.length);
                                   return request.finish();
                                 }
                                 auto pump = std::make_unique<ReaderPump>(
                                     p, std::move(shared->reader), range.length);
                                 ReaderPump* raw = pump.get();
                                 p.hold(std::move(pump));
                                 raw->pump();
                               }));
                }));
      }));
}

void deleteBlob(Pending& pending) {
  auto& request = pending.request();
  request.repository().blobs().remove(
      request.context(), request.route.digest,
      pending.then<void>([](Pending& p, Result<void> removed) {
        auto& request = p.request();
        if (!removed) return request.respondError(removed.error());
        request.emit(registry::Event{.action = registry::Event::Action::Delete,
                                     .digest = request.route.digest},
                     p.then<void>([](Pending& p, Result<void>) {
                       auto& request = p.request();
                       http::HeaderMap headers = request.baseHeaders();
                       headers.set("Docker-Content-Digest", request.route.digest.str());
                       request.respond(202, std::move(headers));
                     }));
      }));
}

}  // namespace

void handleBlob(Pending& pending) {
  if (pending.request().request().method == "DELETE") return deleteBlob(pending);
  getBlob(pending);
}

}  // namespace portico::api
