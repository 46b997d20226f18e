#include "common/lifetime.h"

#include <catch2/catch.hpp>

#include <functional>

namespace {

using portico::Liveness;

struct Object {
  Liveness liveness;
};

// An out-call as Http1ClientConnection::callOut makes it: `f` may delete `object`.
bool callOut(Object* object, const std::function<void()>& f) {
  auto watch = object->liveness.watch();
  f();
  return watch.alive();
}

}  // namespace

TEST_CASE("a watch reports the destruction of its object, nested or not", "[lifetime]") {
  auto* object = new Object;
  CHECK(callOut(object, [] {}));

  auto earlier = object->liveness.watch();
  bool inner_alive = true;
  bool outer_alive =
      callOut(object, [&] { inner_alive = callOut(object, [object] { delete object; }); });
  CHECK_FALSE(inner_alive);
  CHECK_FALSE(outer_alive);
  CHECK_FALSE(earlier.alive());
}
