// GET /v2/, /v2/_catalog and /v2/<name>/tags/list (OCI Distribution Spec "Listing Tags",
// Docker Registry API "Catalog"), and GET /v2/<name>/referrers/<digest> (OCI 1.1
// "Listing Referrers").

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "backend/api/error_response.h"
#include "backend/api/handlers.h"
#include "backend/registry/catalog.h"
#include "backend/registry/manifests/media_types.h"
#include "backend/registry/referrer_index.h"

namespace portico::api {
namespace {

// `Link: <path?n=N&last=X>; rel="next"` (RFC 8288), relative like distribution's.
std::string nextLink(const std::string& path, size_t n, const std::string& last) {
  return "<" + path + "?n=" + std::to_string(n) + "&last=" + http::percentEncode(last) +
         ">; rel=\"next\"";
}

// Length of the valid UTF-8 sequence at the start of `s` (RFC 3629: no overlongs, no
// surrogates, at most U+10FFFF), 0 if it is not one.
size_t utf8SequenceLength(std::string_view s) {
  const auto byte = [&](size_t i) { return static_cast<unsigned char>(s[i]); };
  const unsigned char b0 = byte(0);
  size_t length = 0;
  unsigned char low = 0x80;
  unsigned char high = 0xbf;
  if (b0 >= 0xc2 && b0 <= 0xdf) {
    length = 2;
  } else if (b0 >= 0xe0 && b0 <= 0xef) {
    length = 3;
    if (b0 == 0xe0) low = 0xa0;
    if (b0 == 0xed) high = 0x9f;
  } else if (b0 >= 0xf0 && b0 <= 0xf4) {
    length = 4;
    if (b0 == 0xf0) low = 0x90;
    if (b0 == 0xf4) high = 0x8f;
  } else {
    return 0;
  }
  if (s.size() < length || byte(1) < low || byte(1) > high) return 0;
  for (size_t i = 2; i < length; ++i) {
    if (byte(i) < 0x80 || byte(i) > 0xbf) return 0;
  }
  return length;
}

// Appends `text` as a JSON string (RFC 8259): quotes, backslash and control characters
// escaped; invalid UTF-8 (a name on disk can be any bytes) becomes U+FFFD, as Go's
// encoding/json does in distribution. Names as the API accepts them pass in one append.
void appendJsonString(std::string& out, std::string_view text) {
  out += '"';
  size_t plain = 0;  // start of the run not yet appended
  for (size_t i = 0; i < text.size();) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
      ++i;
      continue;
    }
    if (c >= 0x80) {
      if (const size_t length = utf8SequenceLength(text.substr(i)); length > 0) {
        i += length;
        continue;
      }
    }
    out.append(text, plain, i - plain);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20) {
      static constexpr char kHex[] = "0123456789abcdef";
      out += "\\u00";
      out += kHex[c >> 4];
      out += kHex[c & 0xf];
    } else {
      out += "\\ufffd";
    }
    plain = ++i;
  }
  out.append(text, plain, text.size() - plain);
  out += '"';
}

// {"<key>":[...names...]} preceded by `prefix` members ("\"name\":\"x\","); the listing bodies
// are written directly: 10,000 tags do not go through a JSON tree.
std::string listBody(std::string_view prefix, std::string_view key,
                     std::vector<std::string>::const_iterator begin,
                     std::vector<std::string>::const_iterator end) {
  std::string body;
  size_t size = prefix.size() + key.size() + 8;
  for (auto it = begin; it != end; ++it) size += it->size() + 3;
  body.reserve(size);
  body += '{';
  body += prefix;
  appendJsonString(body, key);
  body += ":[";
  for (auto it = begin; it != end; ++it) {
    if (it != begin) body += ',';
    appendJsonString(body, *it);
  }
  body += "]}";
  return body;
}

void respondJson(ApiRequest& request, std::string_view body, http::HeaderMap headers) {
  headers.set("Content-Type", std::string(kJsonContentType));
  request.respond(200, std::move(headers), body);
}

// The `n` and `last` query parameters; false after answering PAGINATION_NUMBER_INVALID.
bool pagination(ApiRequest& request, std::optional<size_t>& n, std::string& last) {
  std::string n_text = request.request().queryParam("n").value_or("");
  auto parsed = registry::parsePaginationNumber(n_text, request.options().max_page_size);
  if (!parsed) {
    request.respondError(parsed.error());
    return false;
  }
  n = *parsed;
  last = request.request().queryParam("last").value_or("");
  return true;
}

}  // namespace

void handleBase(Pending& pending) {
  auto& request = pending.request();
  http::HeaderMap headers = request.baseHeaders();
  headers.set("Content-Type", std::string(kJsonContentType));
  request.respond(200, std::move(headers), "{}");
}

void handleCatalog(Pending& pending) {
  auto& request = pending.request();
  std::optional<size_t> n;
  std::string last;
  if (!pagination(request, n, last)) return;
  size_t page_size = n.value_or(registry::kDefaultPageSize);
  request.names().catalog(
      request.context(), page_size, last,
      pending.then<registry::Page>([page_size](Pending& p, Result<registry::Page> page) {
        auto& request = p.request();
        if (!page) return request.respondError(page.error());
        http::HeaderMap headers = request.baseHeaders();
        if (page->next_last) {
          headers.set("Link",
                      nextLink(request.routes().catalogPath(), page_size, *page->next_last));
        }
        respondJson(request,
                    listBody("", "repositories", page->entries.begin(), page->entries.end()),
                    std::move(headers));
      }));
}

void handleTags(Pending& pending) {
  auto& request = pending.request();
  std::optional<size_t> n;
  std::string last;
  if (!pagination(request, n, last)) return;
  request.repository().tags().list(
      request.context(),
      pending.then<std::shared_ptr<const registry::TagStore::TagList>>(
          [n, last](Pending& p, Result<std::shared_ptr<const registry::TagStore::TagList>> tags) {
            auto& request = p.request();
            if (!tags) return request.respondError(tags.error());
            const auto& repo = request.route.repository;
            const registry::TagStore::TagList& all = **tags;
            const registry::PageRange page = registry::pageRange(all, n, last);
            const auto begin = all.begin() + static_cast<std::ptrdiff_t>(page.begin);
            const auto end = all.begin() + static_cast<std::ptrdiff_t>(page.end);
            http::HeaderMap headers = request.baseHeaders();
            if (page.more && n) {
              headers.set("Link", nextLink(request.routes().tagsPath(repo), *n, *(end - 1)));
            }
            std::string name_member;
            appendJsonString(name_member, "name");
            name_member += ':';
            appendJsonString(name_member, repo.str());
            name_member += ',';
            respondJson(request, listBody(name_member, "tags", begin, end), std::move(headers));
          }));
}

void handleReferrers(Pending& pending) {
  auto& request = pending.request();
  std::optional<std::string> artifact_type = request.request().queryParam("artifactType");
  if (artifact_type && artifact_type->empty()) artifact_type.reset();
  const bool filtered = artifact_type.has_value();
  request.repository().manifests().referrers(
      request.context(), request.route.digest, std::move(artifact_type),
      pending.then<std::vector<registry::manifests::Descriptor>>(
          [filtered](Pending& p, Result<std::vector<registry::manifests::Descriptor>> referrers) {
            auto& request = p.request();
            if (!referrers) return request.respondError(referrers.error());
            http::HeaderMap headers = request.baseHeaders();
            headers.set("Content-Type", std::string(registry::manifests::kOciIndex));
            if (filtered) headers.set("OCI-Filters-Applied", "artifactType");
            request.respond(200, std::move(headers),
                            registry::ReferrerIndex::renderIndex(*referrers));
          }));
}

}  // namespace portico::api
