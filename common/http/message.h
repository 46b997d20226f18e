#pragma once
// HTTP/1.1 message heads (RFC 9110 §6, RFC 9112 §2-3) and an ordered, case-insensitive
// header multimap. Bodies are never part of a head: they stream (see body.h).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace portico::http {

// ASCII case-insensitive equality, as header field names require (RFC 9110 §5.1).
bool equalsIgnoreCase(std::string_view a, std::string_view b);

// `s` as a quoted-string (RFC 9110 §5.6.4): in double quotes, '"' and '\\' escaped (auth
// challenges' realm, service, scope).
std::string quotedString(std::string_view s);

// Ordered multimap of header fields; lookups ignore case, insertion order is kept on output.
class HeaderMap {
 public:
  using Field = std::pair<std::string, std::string>;

  // Appends a field (keeps any existing field of that name).
  void add(std::string name, std::string value);
  // Replaces every field of that name with one field.
  void set(std::string_view name, std::string value);
  // Removes every field of that name; returns how many were removed.
  size_t remove(std::string_view name);
  // The first value of the named field, if any.
  std::optional<std::string_view> get(std::string_view name) const;
  // Every value of the named field, in order.
  std::vector<std::string_view> getAll(std::string_view name) const;
  bool has(std::string_view name) const { return get(name).has_value(); }
  // True if the comma-separated list in any `name` field has `token` (case-insensitive).
  bool hasToken(std::string_view name, std::string_view token) const;

  size_t size() const { return fields_.size(); }
  bool empty() const { return fields_.empty(); }
  void clear() { fields_.clear(); }
  auto begin() const { return fields_.begin(); }
  auto end() const { return fields_.end(); }
  std::vector<Field>& fields() { return fields_; }

 private:
  std::vector<Field> fields_;
};

struct Version {
  int major = 1;
  int minor = 1;
  friend bool operator==(const Version&, const Version&) = default;
};

struct RequestHead {
  std::string method;  // as sent, e.g. "GET"
  std::string target;  // request-target as sent, e.g. "/v2/foo/blobs/uploads/?digest=sha256:..."
  std::string path;    // target up to '?', still percent-encoded
  std::string query;   // after '?', without it; empty when absent
  Version version;
  HeaderMap headers;
  bool absolute_form = false;  // target was "http(s)://authority/path?query" (RFC 9112 §3.2.2)

  // Value of a query parameter (first occurrence), percent-decoded.
  std::optional<std::string> queryParam(std::string_view name) const;
  // The target in origin-form ("/path?query"): as sent, unless it was absolute-form.
  std::string originForm() const;
  // Serialises "METHOD target HTTP/x.y\r\nheaders\r\n\r\n".
  std::string serialize() const;
};

struct ResponseHead {
  int status = 200;
  std::string reason;  // empty: the standard reason phrase for status
  Version version;
  HeaderMap headers;

  // Serialises "HTTP/x.y status reason\r\nheaders\r\n\r\n".
  std::string serialize() const;
};

// Sets head.path and head.query from head.target (RFC 9112 §3.2). An absolute-form target
// with an http or https scheme gives its path ("/" if empty) and query, and its authority
// replaces the value of each Host field (§3.2.3: the received value is ignored; an HTTP/1.0
// head without Host gets one; a missing or repeated Host in HTTP/1.1 stays for the server's
// 400); false if that authority is empty or has userinfo (RFC 9110 §4.2.1, §4.2.4).
// Needs head.version. Any other target ("*", authority-form, another
// scheme, origin-form) is split at the first '?' as it is.
bool splitRequestTarget(RequestHead& head);

// The standard reason phrase for a status code ("Not Found"), or "Unknown".
std::string_view reasonPhrase(int status);

// Percent-decodes a URL component; returns nullopt on a malformed escape.
// `plusAsSpace` applies to query strings (application/x-www-form-urlencoded).
std::optional<std::string> percentDecode(std::string_view in, bool plusAsSpace = false);
// Percent-encodes everything outside RFC 3986 unreserved characters (and '/' if keepSlash).
std::string percentEncode(std::string_view in, bool keepSlash = false);

}  // namespace portico::http
