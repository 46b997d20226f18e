#include "backend/api/pending.h"

namespace portico::api {

Pending& Pending::attach(ApiRequest request) {
  auto& exchange = request.exchange();
  auto pending = std::make_unique<Pending>(std::move(request));
  Pending& raw = *pending;
  exchange.attach(std::move(pending));
  return raw;
}

Pending::Pending(ApiRequest request)
    : request_(std::move(request)), token_(std::make_shared<Pending*>(this)) {}

Pending::~Pending() {
  token_.reset();  // completions still queued find nothing
  part_.reset();   // before the request it may refer to
}

void Pending::onExchangeReset(const Error& /*reason*/) {
  request_.markEnded();
  if (part_) part_->onReset();
}

void Pending::onWriteDrained() {
  if (part_ && !request_.ended()) part_->onDrained();
}

}  // namespace portico::api
