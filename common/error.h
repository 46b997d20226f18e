#pragma once
// Error: a domain (which layer's enum), a code in that domain, a message and optional detail.
// Each layer has its own enum (storage::StorageErrc, registry::ErrorCode, http::ParseError,
// http::ClientErrc, net::NetErrc); Error keeps the enum's value and a pointer to the domain's name
// so that one type can travel through Result<T> across layers. Translate at layer boundaries.

#include <string>
#include <string_view>
#include <utility>

namespace portico {

class Error {
 public:
  Error() = default;
  // Builds an error from any layer's enum. The domain is the enum's type, so two enums with
  // equal numeric values never compare equal.
  template <typename Enum>
  Error(Enum code, std::string message, std::string detail = {})
      : domain_(domainOf<Enum>()),
        code_(static_cast<int>(code)),
        message_(std::move(message)),
        detail_(std::move(detail)) {}

  // True if this error belongs to Enum's domain and has the given code.
  template <typename Enum>
  bool is(Enum code) const {
    return domain_ == domainOf<Enum>() && code_ == static_cast<int>(code);
  }
  // True if this error is of Enum's domain.
  template <typename Enum>
  bool inDomain() const {
    return domain_ == domainOf<Enum>();
  }
  // The code as Enum; only meaningful when inDomain<Enum>().
  template <typename Enum>
  Enum code() const {
    return static_cast<Enum>(code_);
  }

  const std::string& message() const { return message_; }
  const std::string& detail() const { return detail_; }

 private:
  template <typename Enum>
  static const void* domainOf() {
    static const char tag = 0;
    return &tag;
  }

  const void* domain_ = nullptr;
  int code_ = 0;
  std::string message_;
  std::string detail_;
};

}  // namespace portico
