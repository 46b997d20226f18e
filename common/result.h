#pragma once
// Result<T>: a small std::expected-shaped type (C++23's std::expected is not in g++ 12).
// Request-path functions return Result<T> instead of throwing (see docs/ARCHITECTURE.md).

#include <cassert>
#include <optional>
#include <type_traits>
#include <utility>
#include <variant>

#include "common/error.h"

namespace portico {

// Wraps an error for construction of a failed Result: `return unexpected(Error{...});`
template <typename E = Error>
struct Unexpected {
  E error;
};

inline Unexpected<Error> unexpected(Error error) {
  return Unexpected<Error>{std::move(error)};
}

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : state_(std::in_place_index<0>, std::move(value)) {}  // NOLINT(implicit)
  Result(Unexpected<Error> e) : state_(std::in_place_index<1>, std::move(e.error)) {}  // NOLINT
  Result(Error e) : state_(std::in_place_index<1>, std::move(e)) {}                    // NOLINT

  bool has_value() const { return state_.index() == 0; }
  explicit operator bool() const { return has_value(); }

  T& value() & {
    assert(has_value());
    return std::get<0>(state_);
  }
  const T& value() const& {
    assert(has_value());
    return std::get<0>(state_);
  }
  T&& value() && {
    assert(has_value());
    return std::get<0>(std::move(state_));
  }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  const Error& error() const {
    assert(!has_value());
    return std::get<1>(state_);
  }
  Error& error() {
    assert(!has_value());
    return std::get<1>(state_);
  }

 private:
  std::variant<T, Error> state_;
};

// Result<void>: success carries nothing.
template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Unexpected<Error> e) : error_(std::move(e.error)) {}  // NOLINT
  Result(Error e) : error_(std::move(e)) {}                    // NOLINT

  bool has_value() const { return !error_.has_value(); }
  explicit operator bool() const { return has_value(); }
  const Error& error() const {
    assert(error_.has_value());
    return *error_;
  }

 private:
  std::optional<Error> error_;
};

inline Result<void> ok() {
  return {};
}

}  // namespace portico
