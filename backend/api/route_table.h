#pragma once
// RouteTable: maps a request's method and path to one route of the Docker Registry HTTP API
// v2 / OCI Distribution Spec 1.1, validating the names in it:
//
//   /v2/                               Base        GET HEAD
//   /v2/_catalog                       Catalog     GET HEAD
//   /v2/<name>/tags/list               Tags        GET HEAD
//   /v2/<name>/manifests/<reference>   Manifest    GET HEAD PUT DELETE
//   /v2/<name>/blobs/<digest>          Blob        GET HEAD DELETE
//   /v2/<name>/blobs/uploads/          UploadStart POST
//   /v2/<name>/blobs/uploads/<uuid>    Upload      GET HEAD PATCH PUT DELETE
//   /v2/<name>/referrers/<digest>      Referrers   GET HEAD
//
// Names contain slashes, so a path is matched from the right, like distribution's router
// (registry/api/v2/routes.go). The path is percent-decoded first (Go's URL.Path), then every
// component is validated (registry/reference.h): "%2e%2e" is "..", which is NAME_INVALID.
// Outcomes: a Route; NotFound (no route: 404); MethodNotAllowed (known route, other method:
// 405 UNSUPPORTED, with `allow`); or an Error (NAME_INVALID, TAG_INVALID, DIGEST_INVALID,
// BLOB_UPLOAD_UNKNOWN for a malformed upload id).

#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "backend/registry/reference.h"
#include "common/crypto/digest.h"
#include "common/result.h"

namespace portico::api {

enum class RouteKind { Base, Catalog, Tags, Manifest, Blob, UploadStart, Upload, Referrers };

// "base", "catalog", ... (access logs, tests).
std::string_view routeName(RouteKind kind);
// The methods a route accepts, as an Allow header value ("GET, HEAD").
std::string_view allowedMethods(RouteKind kind);

// A matched and validated route.
struct Route {
  RouteKind kind = RouteKind::Base;
  registry::Repository repository;               // every kind but Base and Catalog
  std::optional<registry::Reference> reference;  // Manifest
  crypto::Digest digest;                         // Blob, Referrers
  std::string upload_id;                         // Upload
};

struct RouteNotFound {};
struct MethodNotAllowed {
  RouteKind kind;
};

using RouteMatch = std::variant<Route, RouteNotFound, MethodNotAllowed, Error>;

class RouteTable {
 public:
  // `prefix` is distribution's http.prefix ("" or "/path/"): routes live under it.
  explicit RouteTable(std::string prefix = {});

  // Matches an encoded request path (no query) and method.
  RouteMatch match(std::string_view method, std::string_view path) const;

  // The path of a route's resource below the prefix, for Location headers:
  // "/v2/<name>/blobs/uploads/<id>" etc. (percent-encoded where needed).
  std::string uploadPath(const registry::Repository& repo, std::string_view id) const;
  std::string blobPath(const registry::Repository& repo, const crypto::Digest& digest) const;
  std::string manifestPath(const registry::Repository& repo, std::string_view reference) const;
  std::string tagsPath(const registry::Repository& repo) const;
  std::string catalogPath() const;

 private:
  std::string prefix_;  // without the trailing '/': "" or "/path"
};

}  // namespace portico::api
