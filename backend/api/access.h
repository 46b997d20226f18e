#pragma once
// Access control seam of the request pipeline (docs/ARCHITECTURE.md, "Request pipeline").
//
// requiredAccess() computes what a request needs, exactly as distribution's
// handlers/app.go (appendAccessRecords, appendCatalogAccessRecord):
//   GET/HEAD on a repository route          repository:<name>:pull
//   POST/PUT/PATCH                          repository:<name>:pull + push
//   DELETE                                  repository:<name>:delete
//   POST .../blobs/uploads/?from=<repo>     also repository:<from>:pull (cross-mount)
//   /v2/_catalog                            registry:catalog:*
//   /v2/                                    nothing (but still authenticated)
// An AccessController then decides: allowed (with the user it authenticated, for events and
// logs), or denied with the error and the challenge headers to send (401 UNAUTHORIZED with
// WWW-Authenticate, or 403 DENIED). AllowAll serves when no `auth` is configured;
// backend/auth has the others (htpasswd, token).

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "backend/api/route_table.h"
#include "common/error.h"
#include "common/http/message.h"

namespace portico::net {
class Worker;
}

namespace portico::api {

// One access record (distribution's auth.Access: resource type, name, action).
struct Access {
  std::string type;    // "repository" or "registry"
  std::string name;    // repository name, or "catalog"
  std::string action;  // "pull", "push", "delete", "*"
  bool operator==(const Access&) const = default;
};

// What `route` needs for `method` (the mount source comes from the request's query).
std::vector<Access> requiredAccess(const Route& route, const http::RequestHead& head);

// An access decision.
struct AccessDecision {
  bool allowed = true;
  std::string user;  // authenticated user name; empty for anonymous access
  Error error;       // when denied: UNAUTHORIZED (401) or DENIED (403), with detail
  std::vector<std::pair<std::string, std::string>> headers;  // e.g. WWW-Authenticate
};

class AccessController {
 public:
  virtual ~AccessController() = default;
  // Decides `head` needing `access`; calls `done` exactly once, on `worker`'s thread (possibly
  // inside this call: a cached decision needs no storage thread). `worker` is the calling
  // worker (null in tools and tests without a loop: `done` may then run on any thread).
  virtual void authorize(const http::RequestHead& head, const std::vector<Access>& access,
                         net::Worker* worker, std::function<void(AccessDecision)> done) = 0;
};

// Allows everything, anonymously (no `auth` section in the config).
class AllowAll : public AccessController {
 public:
  void authorize(const http::RequestHead& /*head*/, const std::vector<Access>& /*access*/,
                 net::Worker* /*worker*/, std::function<void(AccessDecision)> done) override {
    done(AccessDecision{});
  }
};

}  // namespace portico::api
