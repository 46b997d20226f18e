#include "common/config/yaml_document.h"
#include "common/text.h"

#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <sstream>

namespace portico::config {
namespace {

std::string whatOf(const std::string& file, int line, const std::string& key,
                   const std::string& message) {
  // Appends piece by piece: g++ 12 at -O3 reports a false -Wrestrict on `":" + std::string`.
  std::string out = file;
  if (line > 0) {
    out.append(":");
    out.append(std::to_string(line));
  }
  out.append(": ");
  if (!key.empty()) {
    out.append(key);
    out.append(": ");
  }
  out.append(message);
  return out;
}

int lineOf(const YAML::Node& node, int fallback) {
  if (!node.IsDefined()) return fallback;
  const YAML::Mark mark = node.Mark();
  if (mark.is_null() || mark.line < 0) return fallback;
  return mark.line + 1;
}

std::string childPath(const std::string& parent, std::string_view key) {
  if (parent.empty()) return std::string(key);
  std::string out = parent;
  out += '.';
  out += key;
  return out;
}

bool isDigit(char c) {
  return c >= '0' && c <= '9';
}

// Reads "123" or "1.5" at the front of `text`; returns false if no digit.
bool takeNumber(std::string_view& text, long double& value) {
  size_t i = 0;
  long double whole = 0;
  bool digits = false;
  while (i < text.size() && isDigit(text[i])) {
    whole = whole * 10 + (text[i] - '0');
    digits = true;
    ++i;
  }
  long double fraction = 0;
  if (i < text.size() && text[i] == '.') {
    ++i;
    long double scale = 0.1L;
    while (i < text.size() && isDigit(text[i])) {
      fraction += (text[i] - '0') * scale;
      scale /= 10;
      digits = true;
      ++i;
    }
  }
  if (!digits) return false;
  value = whole + fraction;
  text.remove_prefix(i);
  return true;
}

std::string scalarText(const YAML::Node& node) {
  return node.IsScalar() ? node.Scalar()
                         : std::string(node.IsSequence() ? "a sequence" : "a mapping");
}

}  // namespace

ConfigError::ConfigError(std::string file, int line, std::string key, std::string message)
    : std::runtime_error(whatOf(file, line, key, message)),
      file_(std::move(file)),
      line_(line),
      key_(std::move(key)),
      message_(std::move(message)) {}

std::optional<std::chrono::nanoseconds> parseDuration(std::string_view text, BareNumber bare) {
  text = trimBlanks(text);
  if (text.empty()) return std::nullopt;
  if (text.front() == '+') text.remove_prefix(1);
  {
    std::string_view rest = text;
    long double value = 0;
    if (takeNumber(rest, value) && rest.empty()) {
      switch (bare) {
        case BareNumber::Seconds:
          value *= 1e9L;
          break;
        case BareNumber::Milliseconds:
          value *= 1e6L;
          break;
        case BareNumber::Nanoseconds:
          break;
        case BareNumber::Invalid:
          return value == 0 ? std::optional<std::chrono::nanoseconds>(0) : std::nullopt;
      }
      if (value > 9.2e18L) return std::nullopt;
      return std::chrono::nanoseconds(static_cast<int64_t>(std::llround(value)));
    }
  }
  struct Unit {
    std::string_view name;
    long double nanoseconds;
  };
  static constexpr Unit kUnits[] = {
      {"ns", 1},   {"us", 1e3L}, {"\xc2\xb5s", 1e3L}, {"\xce\xbcs", 1e3L}, {"ms", 1e6L},
      {"s", 1e9L}, {"m", 60e9L}, {"h", 3600e9L},      {"d", 86400e9L},
  };
  long double total = 0;
  while (!text.empty()) {
    long double value = 0;
    if (!takeNumber(text, value)) return std::nullopt;
    size_t unitLength = 0;
    while (unitLength < text.size() && !isDigit(text[unitLength]) && text[unitLength] != '.')
      ++unitLength;
    const std::string_view unit = text.substr(0, unitLength);
    const Unit* found = nullptr;
    for (const Unit& u : kUnits) {
      if (u.name == unit) found = &u;
    }
    if (found == nullptr) return std::nullopt;
    total += value * found->nanoseconds;
    text.remove_prefix(unitLength);
  }
  if (total > 9.2e18L) return std::nullopt;
  return std::chrono::nanoseconds(static_cast<int64_t>(std::llround(total)));
}

std::optional<uint64_t> parseSize(std::string_view text) {
  text = trimBlanks(text);
  long double value = 0;
  if (!takeNumber(text, value)) return std::nullopt;
  const std::string_view unit = trimBlanks(text);
  struct Unit {
    std::string_view name;
    long double bytes;
  };
  static constexpr long double kKi = 1024.0L;
  static constexpr Unit kUnits[] = {
      {"", 1},
      {"B", 1},
      {"b", 1},
      {"k", kKi},
      {"K", kKi},
      {"Ki", kKi},
      {"KiB", kKi},
      {"KB", 1e3L},
      {"kB", 1e3L},
      {"m", kKi * kKi},
      {"M", kKi * kKi},
      {"Mi", kKi * kKi},
      {"MiB", kKi * kKi},
      {"MB", 1e6L},
      {"g", kKi * kKi * kKi},
      {"G", kKi * kKi * kKi},
      {"Gi", kKi * kKi * kKi},
      {"GiB", kKi * kKi * kKi},
      {"GB", 1e9L},
      {"t", kKi * kKi * kKi * kKi},
      {"T", kKi * kKi * kKi * kKi},
      {"Ti", kKi * kKi * kKi * kKi},
      {"TiB", kKi * kKi * kKi * kKi},
      {"TB", 1e12L},
  };
  for (const Unit& u : kUnits) {
    if (u.name == unit) {
      const long double bytes = value * u.bytes;
      if (bytes > 1.8e19L) return std::nullopt;
      if (bytes != std::floor(bytes)) return std::nullopt;  // fractional bytes
      return static_cast<uint64_t>(bytes);
    }
  }
  return std::nullopt;
}

Node::Node(std::shared_ptr<const std::string> file, const YAML::Node& node, std::string path,
           int line)
    : file_(std::move(file)), node_(node), path_(std::move(path)), line_(line) {}

void Node::fail(const std::string& message) const {
  throw ConfigError(*file_, line_, path_, message);
}

void Node::requireMap() const {
  if (!isMap()) fail("must be a mapping");
}

Node Node::operator[](std::string_view key) const {
  if (!defined())
    return Node(file_, YAML::Node(YAML::NodeType::Undefined), childPath(path_, key), line_);
  requireMap();
  // Iterate rather than index: the key's own mark gives the line users expect for the value.
  for (auto it = node_.begin(); it != node_.end(); ++it) {
    if (it->first.IsScalar() && it->first.Scalar() == key)
      return Node(file_, it->second, childPath(path_, key), lineOf(it->first, line_));
  }
  return Node(file_, YAML::Node(YAML::NodeType::Undefined), childPath(path_, key), line_);
}

std::vector<std::pair<std::string, Node>> Node::entries() const {
  std::vector<std::pair<std::string, Node>> out;
  if (!defined()) return out;
  requireMap();
  for (auto it = node_.begin(); it != node_.end(); ++it) {
    const int keyLine = lineOf(it->first, line_);
    if (!it->first.IsScalar())
      throw ConfigError(*file_, keyLine, path_, "mapping keys must be plain strings");
    const std::string key = it->first.Scalar();
    out.emplace_back(key, Node(file_, it->second, childPath(path_, key), keyLine));
  }
  return out;
}

std::vector<Node> Node::items() const {
  std::vector<Node> out;
  if (!defined()) return out;
  if (!isSequence()) fail("must be a list");
  size_t index = 0;
  for (auto it = node_.begin(); it != node_.end(); ++it, ++index)
    out.emplace_back(file_, *it, path_ + "[" + std::to_string(index) + "]", lineOf(*it, line_));
  return out;
}

std::vector<Node> Node::itemsOrScalar() const {
  if (defined() && isScalar()) return {*this};
  return items();
}

void Node::checkKeys(std::initializer_list<std::string_view> known) const {
  if (!defined()) return;
  requireMap();
  for (auto it = node_.begin(); it != node_.end(); ++it) {
    const std::string key = it->first.IsScalar() ? it->first.Scalar() : std::string();
    bool ok = false;
    for (std::string_view k : known) ok = ok || k == key;
    if (!ok) {
      std::string list;
      for (std::string_view k : known) {
        if (!list.empty()) list += ", ";
        list += k;
      }
      throw ConfigError(*file_, lineOf(it->first, line_), childPath(path_, key),
                        "unknown key (known keys: " + list + ")");
    }
  }
}

std::string Node::asString() const {
  if (!defined()) fail("is required");
  if (!isScalar()) fail("expected a string, got " + scalarText(node_));
  return node_.Scalar();
}

bool Node::asBool() const {
  if (!defined()) fail("is required");
  bool value = false;
  if (!isScalar() || !YAML::convert<bool>::decode(node_, value))
    fail("expected true or false, got \"" + scalarText(node_) + "\"");
  return value;
}

int64_t Node::asInt(int64_t min, int64_t max) const {
  if (!defined()) fail("is required");
  const std::string text = isScalar() ? node_.Scalar() : scalarText(node_);
  int64_t value = 0;
  bool ok = isScalar() && !text.empty();
  if (ok) {
    size_t i = (text[0] == '-' || text[0] == '+') ? 1 : 0;
    ok = i < text.size();
    for (; ok && i < text.size(); ++i) ok = isDigit(text[i]);
  }
  if (ok) {
    errno = 0;
    char* end = nullptr;
    const long long parsed = std::strtoll(text.c_str(), &end, 10);
    ok = errno == 0 && end != nullptr && *end == '\0';
    value = parsed;
  }
  if (!ok) fail("expected an integer, got \"" + text + "\"");
  if (value < min || value > max) {
    fail("must be between " + std::to_string(min) + " and " + std::to_string(max) + ", got " +
         text);
  }
  return value;
}

std::chrono::milliseconds Node::asDuration(BareNumber bare) const {
  if (!defined()) fail("is required");
  const std::string text = isScalar() ? node_.Scalar() : scalarText(node_);
  auto parsed = isScalar() ? parseDuration(text, bare) : std::nullopt;
  if (!parsed && isScalar()) {
    // Go's time.ParseDuration takes "-1s"; no duration we read can be negative.
    const std::string_view trimmed = trimBlanks(text);
    if (trimmed.starts_with('-') && parseDuration(trimmed.substr(1), bare))
      fail("must not be negative, got \"" + text + "\"");
    if (bare == BareNumber::Invalid && parseDuration(text, BareNumber::Seconds))
      fail("needs a unit (ns, us, ms, s, m, h), got \"" + text + "\"");
  }
  if (!parsed) fail("expected a duration like 30s, 5m, 1h30m or 250ms, got \"" + text + "\"");
  return std::chrono::duration_cast<std::chrono::milliseconds>(*parsed);
}

uint64_t Node::asSize() const {
  if (!defined()) fail("is required");
  const std::string text = isScalar() ? node_.Scalar() : scalarText(node_);
  auto parsed = isScalar() ? parseSize(text) : std::nullopt;
  if (!parsed) fail("expected a size like 4096, 512k, 64KiB or 1MiB, got \"" + text + "\"");
  return *parsed;
}

std::string Node::stringOr(std::string_view key, std::string fallback) const {
  Node child = (*this)[key];
  return child.defined() ? child.asString() : std::move(fallback);
}

bool Node::boolOr(std::string_view key, bool fallback) const {
  Node child = (*this)[key];
  return child.defined() ? child.asBool() : fallback;
}

int64_t Node::intOr(std::string_view key, int64_t fallback, int64_t min, int64_t max) const {
  Node child = (*this)[key];
  return child.defined() ? child.asInt(min, max) : fallback;
}

std::chrono::milliseconds Node::durationOr(std::string_view key, std::chrono::milliseconds fallback,
                                           BareNumber bare) const {
  Node child = (*this)[key];
  return child.defined() ? child.asDuration(bare) : fallback;
}

uint64_t Node::sizeOr(std::string_view key, uint64_t fallback) const {
  Node child = (*this)[key];
  return child.defined() ? child.asSize() : fallback;
}

YamlDocument::YamlDocument(std::string file, const YAML::Node& root)
    : file_(std::make_shared<const std::string>(std::move(file))), root_(root) {}

YamlDocument YamlDocument::load(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ConfigError(path, 0, "", std::string("cannot open: ") + std::strerror(errno));
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) throw ConfigError(path, 0, "", std::string("cannot read: ") + std::strerror(errno));
  return loadString(text.str(), path);
}

YamlDocument YamlDocument::loadString(std::string_view text, std::string file_name) {
  try {
    return YamlDocument(file_name, YAML::Load(std::string(text)));
  } catch (const YAML::ParserException& e) {
    throw ConfigError(std::move(file_name), e.mark.is_null() ? 0 : e.mark.line + 1, "",
                      "YAML syntax error: " + e.msg);
  }
}

Node YamlDocument::root() const {
  return Node(file_, root_, "", lineOf(root_, 1));
}

}  // namespace portico::config
