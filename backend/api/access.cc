#include "backend/api/access.h"

#include "backend/registry/reference.h"

namespace portico::api {

std::vector<Access> requiredAccess(const Route& route, const http::RequestHead& head) {
  std::vector<Access> access;
  switch (route.kind) {
    case RouteKind::Base:
      return access;
    case RouteKind::Catalog:
      access.push_back({"registry", "catalog", "*"});
      return access;
    default:
      break;
  }
  const std::string& name = route.repository.str();
  const std::string& method = head.method;
  if (method == "GET" || method == "HEAD") {
    access.push_back({"repository", name, "pull"});
  } else if (method == "POST" || method == "PUT" || method == "PATCH") {
    access.push_back({"repository", name, "pull"});
    access.push_back({"repository", name, "push"});
  } else if (method == "DELETE") {
    access.push_back({"repository", name, "delete"});
  }
  if (route.kind == RouteKind::UploadStart && method == "POST") {
    // As distribution, `from` alone asks for pull on the source. A name that is not valid asks
    // for nothing: the mount then falls back to a normal upload and reads nothing from it.
    if (auto from = head.queryParam("from")) {
      if (auto source = registry::Repository::parse(*from)) {
        access.push_back({"repository", source->str(), "pull"});
      }
    }
  }
  return access;
}

}  // namespace portico::api
