#include "backend/api/route_table.h"

#include <vector>

#include "common/http/message.h"

namespace portico::api {
namespace {

bool methodAllowed(RouteKind kind, std::string_view method) {
  auto any = [&](std::initializer_list<std::string_view> methods) {
    for (auto m : methods) {
      if (m == method) return true;
    }
    return false;
  };
  switch (kind) {
    case RouteKind::Base:
    case RouteKind::Catalog:
    case RouteKind::Tags:
    case RouteKind::Referrers:
      return any({"GET", "HEAD"});
    case RouteKind::Manifest:
      return any({"GET", "HEAD", "PUT", "DELETE"});
    case RouteKind::Blob:
      return any({"GET", "HEAD", "DELETE"});
    case RouteKind::UploadStart:
      return any({"POST"});
    case RouteKind::Upload:
      return any({"GET", "HEAD", "PATCH", "PUT", "DELETE"});
  }
  return false;
}

std::vector<std::string_view> split(std::string_view text) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  while (true) {
    size_t slash = text.find('/', start);
    if (slash == std::string_view::npos) {
      parts.push_back(text.substr(start));
      return parts;
    }
    parts.push_back(text.substr(start, slash - start));
    start = slash + 1;
  }
}

// The structural match: kind plus the raw (decoded) name and last component.
struct Shape {
  RouteKind kind;
  std::string_view name;
  std::string_view last;
};

std::optional<Shape> shapeOf(std::string_view rest) {
  if (rest.empty()) return Shape{RouteKind::Base, {}, {}};
  if (rest == "_catalog") return Shape{RouteKind::Catalog, {}, {}};
  auto s = split(rest);
  size_t n = s.size();
  // The name is everything before the route's fixed components (at least one component).
  auto nameBefore = [&](size_t fixed) {
    size_t end = 0;
    for (size_t i = 0; i + fixed < n; ++i) end += s[i].size() + 1;
    return rest.substr(0, end - 1);
  };
  if (n >= 4 && s[n - 3] == "blobs" && s[n - 2] == "uploads") {
    if (s[n - 1].empty()) return Shape{RouteKind::UploadStart, nameBefore(3), {}};
    return Shape{RouteKind::Upload, nameBefore(3), s[n - 1]};
  }
  if (n >= 3 && s[n - 2] == "blobs" && s[n - 1] == "uploads") {
    return Shape{RouteKind::UploadStart, nameBefore(2), {}};  // without the trailing slash
  }
  if (n >= 3 && s[n - 2] == "tags" && s[n - 1] == "list") {
    return Shape{RouteKind::Tags, nameBefore(2), {}};
  }
  if (n >= 3 && !s[n - 1].empty()) {
    if (s[n - 2] == "manifests") return Shape{RouteKind::Manifest, nameBefore(2), s[n - 1]};
    if (s[n - 2] == "blobs") return Shape{RouteKind::Blob, nameBefore(2), s[n - 1]};
    if (s[n - 2] == "referrers") return Shape{RouteKind::Referrers, nameBefore(2), s[n - 1]};
  }
  return std::nullopt;
}

}  // namespace

std::string_view routeName(RouteKind kind) {
  switch (kind) {
    case RouteKind::Base:
      return "base";
    case RouteKind::Catalog:
      return "catalog";
    case RouteKind::Tags:
      return "tags";
    case RouteKind::Manifest:
      return "manifest";
    case RouteKind::Blob:
      return "blob";
    case RouteKind::UploadStart:
      return "blob-upload";
    case RouteKind::Upload:
      return "blob-upload-chunk";
    case RouteKind::Referrers:
      return "referrers";
  }
  return "unknown";
}

std::string_view allowedMethods(RouteKind kind) {
  switch (kind) {
    case RouteKind::Base:
    case RouteKind::Catalog:
    case RouteKind::Tags:
    case RouteKind::Referrers:
      return "GET, HEAD";
    case RouteKind::Manifest:
      return "GET, HEAD, PUT, DELETE";
    case RouteKind::Blob:
      return "GET, HEAD, DELETE";
    case RouteKind::UploadStart:
      return "POST";
    case RouteKind::Upload:
      return "GET, HEAD, PATCH, PUT, DELETE";
  }
  return "";
}

RouteTable::RouteTable(std::string prefix) : prefix_(std::move(prefix)) {
  while (!prefix_.empty() && prefix_.back() == '/') prefix_.pop_back();
  if (!prefix_.empty() && prefix_.front() != '/') prefix_.insert(0, "/");
}

RouteMatch RouteTable::match(std::string_view method, std::string_view path) const {
  auto decoded = http::percentDecode(path);
  if (!decoded) return RouteNotFound{};
  std::string_view p = *decoded;
  if (!p.starts_with(prefix_)) return RouteNotFound{};
  p.remove_prefix(prefix_.size());
  if (p == "/v2") p = "/v2/";  // distribution redirects /v2 to /v2/; serve it directly
  if (!p.starts_with("/v2/")) return RouteNotFound{};
  auto shape = shapeOf(p.substr(4));
  if (!shape) return RouteNotFound{};
  if (!methodAllowed(shape->kind, method)) return MethodNotAllowed{shape->kind};

  Route route;
  route.kind = shape->kind;
  if (shape->kind == RouteKind::Base || shape->kind == RouteKind::Catalog) return route;
  auto repo = registry::Repository::parse(shape->name);
  if (!repo) return repo.error();
  route.repository = std::move(*repo);
  switch (shape->kind) {
    case RouteKind::Manifest: {
      auto reference = registry::Reference::parse(shape->last);
      // A reference that is neither a tag nor a digest names no manifest: distribution's router
      // has no route for it (404), and the OCI conformance suite expects MANIFEST_UNKNOWN for
      // GET and HEAD. Only a PUT reports the malformed tag or digest itself.
      if (!reference && method != "PUT") {
        return Error{registry::ErrorCode::ManifestUnknown, "manifest unknown",
                     std::string(shape->last)};
      }
      if (!reference) return reference.error();
      route.reference = std::move(*reference);
      break;
    }
    case RouteKind::Blob:
    case RouteKind::Referrers: {
      auto digest = registry::parseDigest(shape->last);
      if (!digest) return digest.error();
      route.digest = std::move(*digest);
      break;
    }
    case RouteKind::Upload:
      if (!registry::isValidUploadId(shape->last)) {
        return Error{registry::ErrorCode::BlobUploadUnknown, "invalid upload id",
                     std::string(shape->last)};
      }
      route.upload_id = std::string(shape->last);
      break;
    default:
      break;
  }
  return route;
}

std::string RouteTable::uploadPath(const registry::Repository& repo, std::string_view id) const {
  return prefix_ + "/v2/" + repo.str() + "/blobs/uploads/" + http::percentEncode(id);
}

std::string RouteTable::blobPath(const registry::Repository& repo,
                                 const crypto::Digest& digest) const {
  return prefix_ + "/v2/" + repo.str() + "/blobs/" + digest.str();
}

std::string RouteTable::manifestPath(const registry::Repository& repo,
                                     std::string_view reference) const {
  return prefix_ + "/v2/" + repo.str() + "/manifests/" + std::string(reference);
}

std::string RouteTable::tagsPath(const registry::Repository& repo) const {
  return prefix_ + "/v2/" + repo.str() + "/tags/list";
}

std::string RouteTable::catalogPath() const {
  return prefix_ + "/v2/_catalog";
}

}  // namespace portico::api
