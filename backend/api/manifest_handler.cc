// HEAD/GET/PUT/DELETE /v2/<name>/manifests/<reference> (OCI Distribution Spec "Pulling
// manifests", "Pushing Manifests", "Deleting Manifests"). GET returns the stored bytes with the
// stored media type, like distribution 2.8 for every client (no schema conversion). PUT reads
// the body into memory up to ApiOptions::max_manifest_bytes (manifests are small and must be
// parsed whole); a larger one is SIZE_INVALID.

#include <event2/buffer.h>

#include <memory>
#include <string>
#include <utility>

#include "backend/api/handlers.h"

namespace portico::api {
namespace {

using registry::ErrorCode;

Error tooLarge(size_t limit) {
  return Error{ErrorCode::SizeInvalid, "manifest too large",
               "manifests are limited to " + std::to_string(limit) + " bytes"};
}

void getManifest(Pending& pending) {
  auto& request = pending.request();
  auto& manifests = request.repository().manifests();
  const auto& reference = *request.route.reference;
  if (request.isHead()) {
    return manifests.stat(
        request.context(), reference,
        pending.then<registry::ManifestInfo>([](Pending& p, Result<registry::ManifestInfo> info) {
          auto& request = p.request();
          if (!info) return request.respondError(info.error());
          http::HeaderMap headers = request.baseHeaders();
          headers.set("Content-Type", info->media_type);
          headers.set("Docker-Content-Digest", info->digest.str());
          headers.set("ETag", "\"" + info->digest.str() + "\"");
          headers.set("Content-Length", std::to_string(info->size));
          request.sendHead(200, std::move(headers));
          request.finish();
        }));
  }
  manifests.get(request.context(), reference,
                pending.then<registry::StoredManifest>(
                    [](Pending& p, Result<registry::StoredManifest> manifest) {
                      auto& request = p.request();
                      if (!manifest) return request.respondError(manifest.error());
                      registry::Event event{.action = registry::Event::Action::Pull,
                                            .media_type = manifest->media_type,
                                            .size = manifest->bytes.size(),
                                            .digest = manifest->digest,
                                            .tag = request.route.reference->isTag()
                                                       ? request.route.reference->tag().str()
                                                       : std::string()};
                      if (request.eventsWantManifest()) {
                        event.manifest = std::make_shared<const std::string>(manifest->bytes);
                      }
                      request.emit(std::move(event), p.then<void>([manifest = std::move(*manifest)](
                                                                      Pending& p, Result<void>) {
                        auto& request = p.request();
                        http::HeaderMap headers = request.baseHeaders();
                        headers.set("Content-Type", manifest.media_type);
                        headers.set("Docker-Content-Digest", manifest.digest.str());
                        headers.set("ETag", "\"" + manifest.digest.str() + "\"");
                        request.respond(200, std::move(headers), manifest.bytes);
                      }));
                    }));
}

void storeManifest(Pending& pending, std::string bytes) {
  auto& request = pending.request();
  std::string media_type(request.request().headers.get("Content-Type").value_or(""));
  if (size_t semicolon = media_type.find(';'); semicolon != std::string::npos) {
    media_type.resize(semicolon);
    while (!media_type.empty() && media_type.back() == ' ') media_type.pop_back();
  }
  uint64_t size = bytes.size();
  std::shared_ptr<const std::string> copy;
  if (request.eventsWantManifest()) copy = std::make_shared<const std::string>(bytes);
  request.repository().manifests().put(
      request.context(), *request.route.reference, media_type, std::move(bytes),
      pending.then<registry::PutManifestResult>(
          [media_type, size, copy](Pending& p, Result<registry::PutManifestResult> stored) {
            auto& request = p.request();
            if (!stored) return request.respondError(stored.error());
            const auto& route = request.route;
            // Built before `stored` moves into the continuation.
            registry::Event event{
                .action = registry::Event::Action::Push,
                .media_type = media_type,
                .size = size,
                .digest = stored->digest,
                .tag = route.reference->isTag() ? route.reference->tag().str() : std::string(),
                .manifest = copy};
            request.emit(std::move(event),
                         p.then<void>([stored = std::move(*stored)](Pending& p, Result<void>) {
                           auto& request = p.request();
                           const auto& route = request.route;
                           http::HeaderMap headers = request.baseHeaders();
                           headers.set("Location", request.location(request.routes().manifestPath(
                                                       route.repository, stored.digest.str())));
                           headers.set("Docker-Content-Digest", stored.digest.str());
                           if (stored.subject) headers.set("OCI-Subject", stored.subject->str());
                           request.respond(201, std::move(headers));
                         }));
          }));
}

// Collects a bounded manifest body, then stores it.
class ManifestBody : public Pending::Part, public http::BodySink {
 public:
  explicit ManifestBody(Pending& pending) : pending_(pending) {}

  void start() { body().setSink(this); }

  // http::BodySink
  void onBodyData(evbuffer& data) override {
    size_t length = evbuffer_get_length(&data);
    if (done_) {
      evbuffer_drain(&data, length);
      return;
    }
    size_t limit = pending_.request().options().max_manifest_bytes;
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
    body().setSink(nullptr);
    storeManifest(pending_, std::move(bytes_));
  }
  void onBodyError(const Error& /*error*/) override {
    if (done_) return;
    done_ = true;
    body().setSink(nullptr);
    pending_.request().reset();
  }

  // Pending::Part
  void onReset() override { done_ = true; }

 private:
  http::BodySource& body() { return pending_.request().exchange().requestBody(); }

  void fail(const Error& error) {
    done_ = true;
    body().setSink(nullptr);
    pending_.request().respondError(error);
  }

  Pending& pending_;
  std::string bytes_;
  bool done_ = false;
};

void putManifest(Pending& pending) {
  auto& request = pending.request();
  auto& body = request.exchange().requestBody();
  size_t limit = request.options().max_manifest_bytes;
  if (auto declared = body.declaredLength(); declared && *declared > limit) {
    return request.respondError(tooLarge(limit));
  }
  if (body.empty()) return storeManifest(pending, "");
  auto part = std::make_unique<ManifestBody>(pending);
  ManifestBody* raw = part.get();
  pending.hold(std::move(part));
  raw->start();
}

// Emits events[index...] one after the other (each durable before the next), then 202.
void emitAll(Pending& pending, std::vector<registry::Event> events, size_t index) {
  auto& request = pending.request();
  if (index == events.size()) return request.respond(202, request.baseHeaders());
  registry::Event event = events[index];
  request.emit(std::move(event),
               pending.then<void>([events = std::move(events), index](Pending& p, Result<void>) {
                 emitAll(p, std::move(events), index + 1);
               }));
}

void deleteManifest(Pending& pending) {
  auto& request = pending.request();
  const auto& reference = *request.route.reference;
  // OCI 1.1: deleting by tag removes the tag only; by digest the manifest and its tags.
  // distribution emits the digest delete, then one tag delete per tag the manifest had.
  auto deleted = [](std::vector<std::string> tags) {
    return [tags = std::move(tags)](Pending& p, Result<void> removed) {
      auto& request = p.request();
      if (!removed) return request.respondError(removed.error());
      const auto& reference = *request.route.reference;
      std::vector<registry::Event> events;
      if (reference.isTag()) {
        events.push_back({.action = registry::Event::Action::Delete, .tag = reference.tag().str()});
      } else {
        events.push_back({.action = registry::Event::Action::Delete, .digest = reference.digest()});
        for (const auto& tag : tags) {
          events.push_back({.action = registry::Event::Action::Delete,
                            .digest = reference.digest(),
                            .tag = tag});
        }
      }
      emitAll(p, std::move(events), 0);
    };
  };
  auto& repository = request.repository();
  if (reference.isTag()) {
    return repository.tags().untag(request.context(), reference.tag(),
                                   pending.then<void>(deleted({})));
  }
  // The tags first: once the manifest is gone they no longer name it.
  repository.tags().lookup(
      request.context(), reference.digest(),
      pending.then<std::vector<std::string>>(
          [deleted](Pending& p, Result<std::vector<std::string>> tags) {
            auto& request = p.request();
            request.repository().manifests().remove(
                request.context(), request.route.reference->digest(),
                p.then<void>(deleted(tags ? std::move(*tags) : std::vector<std::string>())));
          }));
}

}  // namespace

void handleManifest(Pending& pending) {
  const std::string& method = pending.request().request().method;
  if (method == "PUT") return putManifest(pending);
  if (method == "DELETE") return deleteManifest(pending);
  getManifest(pending);
}

}  // namespace portico::api
