#pragma once
// Pending: the one ExchangeObserver of a registry request, and the lifetime rule for every
// asynchronous service call (docs/ARCHITECTURE.md, "Registry core"):
//
//   A completion may arrive after the client went away (the connection reset, the exchange
//   ended, the worker is shutting down). So before its first asynchronous call a request
//   attaches its Pending to the exchange (the exchange owns it), and every completion is
//   wrapped by Pending::then, which holds only a weak handle: once the exchange ended, or the
//   Pending was destroyed, the completion does nothing.
//
// The pipeline attaches the Pending right after routing (RegistryHandler), so handlers start
// with one and never attach an observer themselves. State with its own reactions to the
// exchange (an upload body, a reader pump) is a Part the Pending holds; it hears
// onExchangeReset and onWriteDrained.
//
//   handler                     storage thread                  worker (later)
//   svc.stat(ctx, d, p.then(f)) ──► work() ──post──► weak.lock()? ended? → f(p, result)

#include <memory>
#include <utility>

#include "backend/api/api_request.h"
#include "backend/storage/executor.h"
#include "common/result.h"

namespace portico::api {

class Pending final : public http::ExchangeObserver {
 public:
  // Per-request state that reacts to the exchange (streamed bodies).
  class Part {
   public:
    virtual ~Part() = default;
    // The connection failed; the request is already marked ended.
    virtual void onReset() {}
    // Output fell below the low watermark.
    virtual void onDrained() {}
  };

  // Makes a Pending owning `request`, attaches it to the request's exchange and returns it.
  // The reference is valid until the exchange ends (use it only synchronously; completions
  // get theirs from then()).
  static Pending& attach(ApiRequest request);

  explicit Pending(ApiRequest request);
  ~Pending() override;
  Pending(const Pending&) = delete;
  Pending& operator=(const Pending&) = delete;

  ApiRequest& request() { return request_; }
  // Hands `part` the exchange's events from now on (replaces any previous part).
  void hold(std::unique_ptr<Part> part) { part_ = std::move(part); }
  Part* part() { return part_.get(); }

  // A completion that runs f(Pending&, Result<T>) on the worker, only while the exchange is
  // alive and unanswered; otherwise it drops the result.
  template <typename T, typename F>
  storage::Done<T> then(F f) {
    return [token = std::weak_ptr<Pending*>(token_), f = std::move(f)](Result<T> result) mutable {
      auto self = token.lock();
      if (!self || (*self)->request_.ended()) return;
      f(**self, std::move(result));
    };
  }

  // http::ExchangeObserver
  void onExchangeReset(const Error& reason) override;
  void onWriteDrained() override;

 private:
  ApiRequest request_;
  std::unique_ptr<Part> part_;
  std::shared_ptr<Pending*> token_;  // completions hold weak handles to it
};

}  // namespace portico::api
