// HEAD/GET/PUT/DELETE /v2/<name>/manifests/<reference> (OCI Distribution Spec "Pulling
// manifests", "Pushing Manifests", "Deleting Manifests"). GET returns the stored bytes with the
// stored media type, like distribution 2.8 for every client (no schema conversion). PUT reads
// the body into memory up to ApiOptions::max_manifest_bytes (manifests are small and must be
// parsed whole); a larger one is SIZE_INVALID.

#include <event2/buffer.h>

#include <memory>
#include <string>

#include "backend/api/handlers.h"

namespace portico::api {
namespace {

using registry::ErrorCode;

Error tooLarge(size_t limit) {
  return Error{ErrorCode::SizeInvalid, "manifest too large",
               "manifests are limited to " + std::to_string(limit) + " bytes"};
}

void getManifest(ApiRequest request) {
  auto& manifests = request.services().manifests;
  const auto& route = request.route;
  http::HeaderMap headers = request.baseHeaders();
  if (request.isHead()) {
    auto info = manifests.stat(route.repository, *route.reference);
    if (!info) return request.respondError(info.error());
    headers.set("Content-Type", info->media_type);
    headers.set("Docker-Content-Digest", info->digest.str());
    headers.set("ETag", "\"" + info->digest.str() + "\"");
    headers.set("Content-Length", std::to_string(info->size));
    request.sendHead(200, std::move(headers));
    return request.finish();
  }
  auto manifest = manifests.get(route.repository, *route.reference);
  if (!manifest) return request.respondError(manifest.error());
  headers.set("Content-Type", manifest->media_type);
  headers.set("Docker-Content-Digest", manifest->digest.str());
  headers.set("ETag", "\"" + manifest->digest.str() + "\"");
  request.respond(200, std::move(headers), manifest->bytes);
}

void storeManifest(ApiRequest& request, const std::string& bytes) {
  const auto& route = request.route;
  std::string media_type(request.request().headers.get("Content-Type").value_or(""));
  if (size_t semicolon = media_type.find(';'); semicolon != std::string::npos) {
    media_type.resize(semicolon);
    while (!media_type.empty() && media_type.back() == ' ') media_type.pop_back();
  }
  auto stored =
      request.services().manifests.put(route.repository, *route.reference, media_type, bytes);
  if (!stored) return request.respondError(stored.error());
  http::HeaderMap headers = request.baseHeaders();
  headers.set("Location", request.location(request.routes().manifestPath(route.repository,
                                                                         stored->digest.str())));
  headers.set("Docker-Content-Digest", stored->digest.str());
  if (stored->subject) headers.set("OCI-Subject", stored->subject->str());
  request.respond(201, std::move(headers));
}

// Collects a bounded manifest body, then stores it.
class ManifestBody : public http::ExchangeObserver, public http::BodySink {
 public:
  explicit ManifestBody(ApiRequest request) : request_(std::move(request)) {}

  void start() { request_.exchange().requestBody().setSink(this); }

  // http::BodySink
  void onBodyData(evbuffer& data) override {
    size_t length = evbuffer_get_length(&data);
    if (done_) {
      evbuffer_drain(&data, length);
      return;
    }
    size_t limit = request_.options().max_manifest_bytes;
    if (bytes_.size() + length > limit) {
      evbuffer_drain(&data, length);
      return fail(tooLarge(limit));
    }
    size_t old = bytes_.size();
    bytes_.resize(old + length);
    evbuffer_remove(&data, bytes_.data() + old, length);
  }
  void onBodyEnd() override {
    if (done_) return;
    done_ = true;
    request_.exchange().requestBody().setSink(nullptr);
    storeManifest(request_, bytes_);
  }
  void onBodyError(const Error& /*error*/) override {
    if (done_) return;
    done_ = true;
    request_.exchange().requestBody().setSink(nullptr);
    request_.exchange().reset();
  }

  // http::ExchangeObserver
  void onExchangeReset(const Error& /*reason*/) override { done_ = true; }

 private:
  void fail(const Error& error) {
    done_ = true;
    request_.exchange().requestBody().setSink(nullptr);
    request_.respondError(error);
  }

  ApiRequest request_;
  std::string bytes_;
  bool done_ = false;
};

void putManifest(ApiRequest request) {
  if (request.options().read_only) {
    return request.respondError(
        Error{ErrorCode::Unsupported, "read-only mode", "the registry is in read-only mode"});
  }
  auto& body = request.exchange().requestBody();
  size_t limit = request.options().max_manifest_bytes;
  if (auto declared = body.declaredLength(); declared && *declared > limit) {
    return request.respondError(tooLarge(limit));
  }
  if (body.empty()) return storeManifest(request, "");
  auto& exchange = request.exchange();
  auto state = std::make_unique<ManifestBody>(std::move(request));
  ManifestBody* raw = state.get();
  exchange.attach(std::move(state));
  raw->start();
}

void deleteManifest(ApiRequest request) {
  if (!request.options().delete_enabled) {
    return request.respondError(
        Error{ErrorCode::Unsupported, "deletes are disabled", "storage.delete.enabled is false"});
  }
  if (request.options().read_only) {
    return request.respondError(
        Error{ErrorCode::Unsupported, "read-only mode", "the registry is in read-only mode"});
  }
  const auto& route = request.route;
  auto& services = request.services();
  // OCI 1.1: deleting by tag removes the tag only; by digest the manifest and its tags.
  Result<void> removed =
      route.reference->isTag()
          ? services.tags.untag(route.repository, route.reference->tag())
          : services.manifests.remove(route.repository, route.reference->digest());
  if (!removed) return request.respondError(removed.error());
  request.respond(202, request.baseHeaders());
}

}  // namespace

void handleManifest(ApiRequest request) {
  const std::string& method = request.request().method;
  if (method == "PUT") return putManifest(std::move(request));
  if (method == "DELETE") return deleteManifest(std::move(request));
  getManifest(std::move(request));
}

}  // namespace portico::api
