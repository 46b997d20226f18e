// Fuzz target: request routing. The proxy's default routes (proxy/router.h: path prefixes,
// regexes, methods, hosts, User-Agent conditions) and the registry's API route table
// (backend/api/route_table.h: repository names, references, digests and upload ids taken
// out of the path). Input: method, NUL, target, NUL, Host, NUL, User-Agent.

#include "backend/api/route_table.h"
#include "proxy/router.h"
#include "tests/fuzz/fuzz.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  portico::fuzz::Input input(data, size);
  portico::http::RequestHead head;
  head.method = std::string(input.field());
  head.target = std::string(input.field());
  size_t q = head.target.find('?');
  head.path = head.target.substr(0, q);
  head.query = q == std::string::npos ? std::string() : head.target.substr(q + 1);
  head.headers.add("Host", std::string(input.field()));
  head.headers.add("User-Agent", std::string(input.rest()));

  static const portico::proxy::Router router(portico::proxy::Router::defaultRules());
  (void)router.match(head);

  static const portico::api::RouteTable routes;
  static const portico::api::RouteTable prefixed("/prefix");
  (void)routes.match(head.method, head.path);
  auto match = prefixed.match(head.method, head.path);
  if (const auto* route = std::get_if<portico::api::Route>(&match)) {
    // The paths the handlers build back from what was matched (Location headers).
    (void)prefixed.tagsPath(route->repository);
    if (route->reference) (void)prefixed.manifestPath(route->repository, route->reference->str());
    if (!route->upload_id.empty()) (void)prefixed.uploadPath(route->repository, route->upload_id);
  }
  return 0;
}
