#pragma once
// Startup configuration primitives over yaml-cpp: a YAML document that remembers its file
// name, and config::Node, a YAML node that knows its key path, so that every bad value or
// unknown key becomes a ConfigError that reads
//   proxy.yml:14: routes[2].match.user_agent: unknown operator "<<"
// (file, 1-based line, key path, message). Exceptions are for startup only: nothing here is
// used on the request path.

#include <yaml-cpp/yaml.h>

#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace portico::config {

// A configuration error at a known place. line is 1-based; 0 when unknown.
class ConfigError : public std::runtime_error {
 public:
  ConfigError(std::string file, int line, std::string key, std::string message);

  const std::string& file() const { return file_; }
  int line() const { return line_; }
  const std::string& key() const { return key_; }
  const std::string& message() const { return message_; }

 private:
  std::string file_;
  int line_;
  std::string key_;
  std::string message_;
};

// How a bare number (no unit) is read by parseDuration.
enum class BareNumber { Seconds, Milliseconds, Nanoseconds, Invalid };

// Durations: Go's time.ParseDuration syntax ("300s", "10ms", "1h30m", "1.5h", "250us", "5ns")
// plus "d" for days. A bare number is read per `bare` (proxy.yml: seconds, as nginx does;
// distribution's time.Duration fields decoded from YAML: nanoseconds; distribution's values
// passed to time.ParseDuration as strings: Invalid, "0" only). Negative durations are invalid
// (Node::asDuration says so: "must not be negative").
std::optional<std::chrono::nanoseconds> parseDuration(std::string_view text,
                                                      BareNumber bare = BareNumber::Seconds);
// Sizes in bytes: "4096", "512k"/"512K" (nginx: KiB), "64KiB", "1MiB", "2GiB", "1TiB",
// "1m"/"1g" (nginx: MiB, GiB), "10KB"/"10MB"/"10GB" (SI: 1000^n), "100B".
std::optional<uint64_t> parseSize(std::string_view text);

class YamlDocument;

// A YAML node with its document's file name and its key path ("routes[2].match").
// A missing child is an undefined Node (defined() false) that still knows its path and the
// line of its parent, so "missing key" errors point somewhere useful.
class Node {
 public:
  Node(std::shared_ptr<const std::string> file, const YAML::Node& node, std::string path, int line);

  const std::string& path() const { return path_; }
  const std::string& file() const { return *file_; }
  int line() const { return line_; }
  const YAML::Node& yaml() const { return node_; }

  bool defined() const { return node_.IsDefined() && !node_.IsNull(); }
  bool isMap() const { return node_.IsMap(); }
  bool isSequence() const { return node_.IsSequence(); }
  bool isScalar() const { return node_.IsScalar(); }

  // Child of a mapping (undefined Node when absent). Throws if this node is not a mapping.
  Node operator[](std::string_view key) const;
  bool has(std::string_view key) const { return (*this)[key].defined(); }
  // Entries of a mapping in document order (throws if not a mapping); keys must be scalars.
  std::vector<std::pair<std::string, Node>> entries() const;
  // Items of a sequence (throws if not a sequence); a single scalar is NOT promoted.
  std::vector<Node> items() const;
  // Items of a sequence, or this node alone when it is a scalar (`expect: 200` = [200]).
  std::vector<Node> itemsOrScalar() const;

  // Throws a ConfigError naming the first key of this mapping not in `known`, at its line.
  // An undefined node passes.
  void checkKeys(std::initializer_list<std::string_view> known) const;
  // Throws unless this node is a mapping (message: "must be a mapping").
  void requireMap() const;

  // Typed scalars; each throws a ConfigError ("expected ..., got ...") on a wrong value.
  std::string asString() const;
  bool asBool() const;
  int64_t asInt(int64_t min = INT64_MIN, int64_t max = INT64_MAX) const;
  std::chrono::milliseconds asDuration(BareNumber bare = BareNumber::Seconds) const;
  uint64_t asSize() const;

  // The same with a default when the key is absent (or null).
  std::string stringOr(std::string_view key, std::string fallback) const;
  bool boolOr(std::string_view key, bool fallback) const;
  int64_t intOr(std::string_view key, int64_t fallback, int64_t min = INT64_MIN,
                int64_t max = INT64_MAX) const;
  std::chrono::milliseconds durationOr(std::string_view key, std::chrono::milliseconds fallback,
                                       BareNumber bare = BareNumber::Seconds) const;
  uint64_t sizeOr(std::string_view key, uint64_t fallback) const;

  // Throws a ConfigError at this node: "file:line: path: message".
  [[noreturn]] void fail(const std::string& message) const;

 private:
  std::shared_ptr<const std::string> file_;
  YAML::Node node_;
  std::string path_;
  int line_;
};

// A loaded YAML file (or string). Syntax errors throw ConfigError with the parser's line.
class YamlDocument {
 public:
  static YamlDocument load(const std::string& path);
  static YamlDocument loadString(std::string_view text, std::string file_name = "<string>");

  const std::string& fileName() const { return *file_; }
  // The document's root; an empty document gives an undefined root (treat as all defaults).
  Node root() const;
  // The raw yaml-cpp tree (e.g. to apply environment overrides before reading).
  YAML::Node& yaml() { return root_; }

 private:
  YamlDocument(std::string file, const YAML::Node& root);

  std::shared_ptr<const std::string> file_;
  YAML::Node root_;
};

}  // namespace portico::config
