// HEAD/GET/DELETE /v2/<name>/blobs/<digest> (OCI Distribution Spec "Pulling blobs",
// "Deleting Blobs"). GET sends the data file with exchange.sendFile (sendfile(2) on plain
// connections); a driver without file descriptors streams through a ReaderPump instead.

#include <event2/buffer.h>

#include <algorithm>
#include <memory>
#include <vector>

#include "backend/api/byte_range.h"
#include "backend/api/handlers.h"

namespace portico::api {
namespace {

// Streams a storage::FileReader to the client with backpressure (drivers without fds).
class ReaderPump : public http::ExchangeObserver {
 public:
  ReaderPump(ApiRequest request, std::unique_ptr<storage::FileReader> reader, uint64_t remaining)
      : request_(std::move(request)), reader_(std::move(reader)), remaining_(remaining) {}

  void start() { pump(); }

  // http::ExchangeObserver
  void onWriteDrained() override { pump(); }
  void onExchangeReset(const Error& /*reason*/) override { done_ = true; }

 private:
  void pump() {
    auto& exchange = request_.exchange();
    while (!done_ && remaining_ > 0 && !exchange.outputBlocked()) {
      size_t want = std::min<uint64_t>(buffer_.size(), remaining_);
      auto got = reader_->read(buffer_.data(), want);
      if (!got || *got == 0) {
        done_ = true;
        exchange.reset();  // the head is out: a short body must not look complete
        return;
      }
      exchange.sendBody(std::string_view(buffer_.data(), *got));
      remaining_ -= *got;
    }
    if (!done_ && remaining_ == 0) {
      done_ = true;
      request_.finish();
    }
  }

  ApiRequest request_;
  std::unique_ptr<storage::FileReader> reader_;
  uint64_t remaining_;
  bool done_ = false;
  std::vector<char> buffer_ = std::vector<char>(size_t{64} * 1024);  // one read's bytes
};

void getBlob(ApiRequest request) {
  auto& services = request.services();
  const auto& route = request.route;
  auto descriptor = services.layers.stat(route.repository, route.digest);
  if (!descriptor) return request.respondError(descriptor.error());
  uint64_t size = descriptor->size;

  http::HeaderMap headers = request.baseHeaders();
  headers.set("Docker-Content-Digest", route.digest.str());
  headers.set("ETag", "\"" + route.digest.str() + "\"");
  headers.set("Accept-Ranges", "bytes");
  headers.set("Cache-Control", "max-age=31536000");
  headers.set("Content-Type", "application/octet-stream");

  ByteRangeResult range = parseByteRange(request.request().headers.get("Range"), size);
  if (range.kind == ByteRangeResult::Kind::Unsatisfiable) {
    http::HeaderMap extra;
    extra.set("Content-Range", contentRange(range, size));
    return request.respondError(Error{registry::ErrorCode::RangeInvalid, "range not satisfiable",
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
  auto reader = services.layers.open(route.repository, route.digest, range.start);
  if (!reader) return request.respondError(reader.error());
  int fd = (*reader)->releaseFd();
  if (fd >= 0) {
    request.sendHead(status, std::move(headers));
    request.exchange().sendFile(fd, range.start, range.length);
    return request.finish();
  }
  request.sendHead(status, std::move(headers));
  auto& exchange = request.exchange();
  auto pump = std::make_unique<ReaderPump>(std::move(request), std::move(*reader), range.length);
  ReaderPump* raw = pump.get();
  exchange.attach(std::move(pump));
  raw->start();
}

void deleteBlob(ApiRequest request) {
  if (!request.options().delete_enabled) {
    return request.respondError(Error{registry::ErrorCode::Unsupported, "deletes are disabled",
                                      "storage.delete.enabled is false"});
  }
  if (request.options().read_only) {
    return request.respondError(
        Error{registry::ErrorCode::Unsupported, "read-only mode", "the registry is read-only"});
  }
  const auto& route = request.route;
  auto removed = request.services().layers.remove(route.repository, route.digest);
  if (!removed) return request.respondError(removed.error());
  http::HeaderMap headers = request.baseHeaders();
  headers.set("Docker-Content-Digest", route.digest.str());
  request.respond(202, std::move(headers));
}

}  // namespace

void handleBlob(ApiRequest request) {
  if (request.request().method == "DELETE") return deleteBlob(std::move(request));
  getBlob(std::move(request));
}

}  // namespace portico::api
