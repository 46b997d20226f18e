#include "common/http/server.h"

#include <string>

namespace portico::http {

void ServerExchange::respond(int status, HeaderMap headers, std::string_view body) {
  ResponseHead head;
  head.status = status;
  head.headers = std::move(headers);
  head.headers.set("Content-Length", std::to_string(body.size()));
  sendHead(std::move(head));
  if (!body.empty()) sendBody(body);
  finish();
}

}  // namespace portico::http
