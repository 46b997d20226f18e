#include "common/http/message.h"
#include "common/text.h"

#include <algorithm>
#include <array>
#include <charconv>

namespace portico::http {
namespace {

char lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

void appendVersion(std::string& out, const Version& version) {
  out += "HTTP/";
  out += static_cast<char>('0' + version.major);
  out += '.';
  out += static_cast<char>('0' + version.minor);
}

void appendHeaders(std::string& out, const HeaderMap& headers) {
  for (const auto& [name, value] : headers) {
    out += name;
    out += ": ";
    out += value;
    out += "\r\n";
  }
  out += "\r\n";
}

size_t headersSize(const HeaderMap& headers) {
  size_t n = 2;
  for (const auto& [name, value] : headers) n += name.size() + value.size() + 4;
  return n;
}

}  // namespace

std::string quotedString(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  out.push_back('"');
  return out;
}

bool equalsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

void HeaderMap::add(std::string name, std::string value) {
  fields_.emplace_back(std::move(name), std::move(value));
}

void HeaderMap::set(std::string_view name, std::string value) {
  auto it = std::find_if(fields_.begin(), fields_.end(),
                         [&](const Field& f) { return equalsIgnoreCase(f.first, name); });
  if (it == fields_.end()) {
    fields_.emplace_back(std::string(name), std::move(value));
    return;
  }
  it->second = std::move(value);
  // Remove any later duplicates, keeping the first field's position.
  auto rest = std::remove_if(std::next(it), fields_.end(),
                             [&](const Field& f) { return equalsIgnoreCase(f.first, name); });
  fields_.erase(rest, fields_.end());
}

size_t HeaderMap::remove(std::string_view name) {
  auto rest = std::remove_if(fields_.begin(), fields_.end(),
                             [&](const Field& f) { return equalsIgnoreCase(f.first, name); });
  size_t removed = static_cast<size_t>(fields_.end() - rest);
  fields_.erase(rest, fields_.end());
  return removed;
}

std::optional<std::string_view> HeaderMap::get(std::string_view name) const {
  for (const auto& f : fields_) {
    if (equalsIgnoreCase(f.first, name)) return std::string_view(f.second);
  }
  return std::nullopt;
}

std::vector<std::string_view> HeaderMap::getAll(std::string_view name) const {
  std::vector<std::string_view> values;
  for (const auto& f : fields_) {
    if (equalsIgnoreCase(f.first, name)) values.emplace_back(f.second);
  }
  return values;
}

bool HeaderMap::hasToken(std::string_view name, std::string_view token) const {
  for (const auto& f : fields_) {
    if (!equalsIgnoreCase(f.first, name)) continue;
    std::string_view list = f.second;
    while (!list.empty()) {
      size_t comma = list.find(',');
      std::string_view item = trimBlanks(list.substr(0, comma));
      if (equalsIgnoreCase(item, token)) return true;
      if (comma == std::string_view::npos) break;
      list.remove_prefix(comma + 1);
    }
  }
  return false;
}

std::optional<std::string> RequestHead::queryParam(std::string_view name) const {
  std::string_view rest = query;
  while (!rest.empty()) {
    size_t amp = rest.find('&');
    std::string_view pair = rest.substr(0, amp);
    size_t eq = pair.find('=');
    std::string_view key = pair.substr(0, eq);
    std::string_view value =
        eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1);
    auto decodedKey = percentDecode(key, true);
    if (decodedKey && *decodedKey == name) return percentDecode(value, true);
    if (amp == std::string_view::npos) break;
    rest.remove_prefix(amp + 1);
  }
  return std::nullopt;
}

std::string RequestHead::originForm() const {
  if (!absolute_form) return target;
  std::string out = path;
  if (target.find('?') != std::string::npos) {
    out += '?';
    out += query;
  }
  return out;
}

bool splitRequestTarget(RequestHead& head) {
  std::string_view target = head.target;
  head.absolute_form = false;
  if (size_t scheme_end = target.find("://");
      scheme_end != std::string_view::npos && !target.starts_with('/')) {
    std::string_view scheme = target.substr(0, scheme_end);
    if (equalsIgnoreCase(scheme, "http") || equalsIgnoreCase(scheme, "https")) {
      std::string_view rest = target.substr(scheme_end + 3);
      size_t authority_end = rest.find_first_of("/?");
      std::string_view authority = rest.substr(0, authority_end);
      if (authority.empty() || authority.find_first_of("@#") != std::string_view::npos) {
        return false;
      }
      head.absolute_form = true;
      // Each received Host takes the authority's value: their number stays what was sent, so
      // a missing (HTTP/1.1) or repeated Host is still the 400 RFC 9112 §3.2 requires.
      size_t hosts = 0;
      for (auto& [name, value] : head.headers.fields()) {
        if (equalsIgnoreCase(name, "Host")) {
          value = authority;
          ++hosts;
        }
      }
      if (hosts == 0 && head.version != Version{1, 1}) {
        head.headers.add("Host", std::string(authority));
      }
      target = authority_end == std::string_view::npos ? std::string_view("/")
                                                       : rest.substr(authority_end);
      if (target.starts_with('?')) {
        head.path = "/";
        head.query = target.substr(1);
        return true;
      }
    }
  }
  size_t question = target.find('?');
  head.path = target.substr(0, question);
  head.query =
      question == std::string_view::npos ? std::string_view() : target.substr(question + 1);
  return true;
}

std::string RequestHead::serialize() const {
  std::string out;
  out.reserve(method.size() + target.size() + 12 + headersSize(headers));
  out += method;
  out += ' ';
  out += target;
  out += ' ';
  appendVersion(out, version);
  out += "\r\n";
  appendHeaders(out, headers);
  return out;
}

std::string ResponseHead::serialize() const {
  std::string_view phrase = reason.empty() ? reasonPhrase(status) : std::string_view(reason);
  std::string out;
  out.reserve(phrase.size() + 16 + headersSize(headers));
  appendVersion(out, version);
  out += ' ';
  std::array<char, 8> digits{};
  auto [end, ec] = std::to_chars(digits.data(), digits.data() + digits.size(), status);
  (void)ec;
  out.append(digits.data(), end);
  out += ' ';
  out += phrase;
  out += "\r\n";
  appendHeaders(out, headers);
  return out;
}

std::string_view reasonPhrase(int status) {
  switch (status) {
    case 100:
      return "Continue";
    case 101:
      return "Switching Protocols";
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 202:
      return "Accepted";
    case 203:
      return "Non-Authoritative Information";
    case 204:
      return "No Content";
    case 205:
      return "Reset Content";
    case 206:
      return "Partial Content";
    case 300:
      return "Multiple Choices";
    case 301:
      return "Moved Permanently";
    case 302:
      return "Found";
    case 303:
      return "See Other";
    case 304:
      return "Not Modified";
    case 307:
      return "Temporary Redirect";
    case 308:
      return "Permanent Redirect";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 402:
      return "Payment Required";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 406:
      return "Not Acceptable";
    case 407:
      return "Proxy Authentication Required";
    case 408:
      return "Request Timeout";
    case 409:
      return "Conflict";
    case 410:
      return "Gone";
    case 411:
      return "Length Required";
    case 412:
      return "Precondition Failed";
    case 413:
      return "Content Too Large";
    case 414:
      return "URI Too Long";
    case 415:
      return "Unsupported Media Type";
    case 416:
      return "Range Not Satisfiable";
    case 417:
      return "Expectation Failed";
    case 421:
      return "Misdirected Request";
    case 422:
      return "Unprocessable Content";
    case 426:
      return "Upgrade Required";
    case 428:
      return "Precondition Required";
    case 429:
      return "Too Many Requests";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 502:
      return "Bad Gateway";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    case 505:
      return "HTTP Version Not Supported";
    default:
      return "Unknown";
  }
}

std::optional<std::string> percentDecode(std::string_view in, bool plusAsSpace) {
  std::string out;
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '%') {
      if (i + 2 >= in.size()) return std::nullopt;
      int hi = hexValue(in[i + 1]);
      int lo = hexValue(in[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      out += static_cast<char>(hi * 16 + lo);
      i += 2;
    } else if (c == '+' && plusAsSpace) {
      out += ' ';
    } else {
      out += c;
    }
  }
  return out;
}

std::string percentEncode(std::string_view in, bool keepSlash) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(in.size());
  for (char c : in) {
    bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                      c == '-' || c == '.' || c == '_' || c == '~' || (keepSlash && c == '/');
    if (unreserved) {
      out += c;
    } else {
      auto byte = static_cast<unsigned char>(c);
      out += '%';
      out += kHex[byte >> 4];
      out += kHex[byte & 0xF];
    }
  }
  return out;
}

}  // namespace portico::http
