#include "backend/registry/manifests/manifest.h"

#include <algorithm>
#include <cctype>

#include <nlohmann/json.hpp>

#include "backend/registry/error_code.h"
#include "backend/registry/manifests/parsers.h"

namespace portico::registry::manifests {

using nlohmann::json;

namespace detail {

Error invalid(std::string message) {
  return Error(ErrorCode::ManifestInvalid, std::move(message));
}

namespace {

// The deepest nesting of [ and { outside strings, stopping once it passes `limit`.
size_t nestingDepth(std::string_view text, size_t limit) {
  size_t depth = 0;
  size_t deepest = 0;
  bool in_string = false;
  bool escaped = false;
  for (const char c : text) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      deepest = std::max(deepest, ++depth);
      if (deepest > limit) return deepest;
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return deepest;
}

}  // namespace

Result<json> parseJson(std::string_view text, std::string_view what) {
  const std::string name(what);
  if (text.starts_with("\xEF\xBB\xBF")) {
    return invalid(name + " starts with a byte order mark");
  }
  if (text.find('\0') != std::string_view::npos) return invalid(name + " contains a NUL byte");
  if (nestingDepth(text, kMaxManifestDepth) > kMaxManifestDepth) {
    return invalid(name + " nests deeper than " + std::to_string(kMaxManifestDepth) + " levels");
  }
  auto doc = json::parse(text, nullptr, false);
  if (doc.is_discarded()) return invalid(name + " is not valid JSON");
  return doc;
}

Result<void> checkSchemaVersion(const json& doc, int expected) {
  auto version = doc.find("schemaVersion");
  if (version == doc.end() || !version->is_number_integer() ||
      version->get<int64_t>() != expected) {
    return invalid("schemaVersion must be " + std::to_string(expected));
  }
  return ok();
}

Result<void> parseArtifactTypeAndSubject(const json& doc, ParsedManifest& parsed) {
  auto artifact_type = doc.find("artifactType");
  if (artifact_type != doc.end() && !artifact_type->is_null()) {
    if (!artifact_type->is_string()) return invalid("artifactType must be a string");
    parsed.artifact_type = artifact_type->get<std::string>();
  }
  auto subject = doc.find("subject");
  if (subject != doc.end() && !subject->is_null()) {
    auto subject_descriptor = parseDescriptor(*subject, "subject");
    if (!subject_descriptor) return subject_descriptor.error();
    parsed.subject = std::move(*subject_descriptor);
  }
  return ok();
}

}  // namespace detail

std::string normalizeMediaType(std::string_view content_type) {
  auto semicolon = content_type.find(';');
  if (semicolon != std::string_view::npos) content_type = content_type.substr(0, semicolon);
  while (!content_type.empty() && std::isspace(static_cast<unsigned char>(content_type.front()))) {
    content_type.remove_prefix(1);
  }
  while (!content_type.empty() && std::isspace(static_cast<unsigned char>(content_type.back()))) {
    content_type.remove_suffix(1);
  }
  std::string out(content_type);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

bool isManifestMediaType(std::string_view media_type) {
  return media_type == kDockerSchema1 || media_type == kDockerSchema1Signed ||
         media_type == kDockerSchema2 || media_type == kDockerManifestList ||
         media_type == kOciManifest || media_type == kOciIndex;
}

bool isForeignLayer(std::string_view media_type) {
  return media_type == kDockerForeignLayer || media_type.starts_with(kOciNondistributablePrefix);
}

namespace {

// Content-Types that say nothing about the manifest type; the JSON decides.
bool isGenericContentType(std::string_view media_type) {
  return media_type.empty() || media_type == "application/json" ||
         media_type == "application/octet-stream" || media_type == "text/plain";
}

// The type a JSON document declares or implies (distribution's manifestStore.Get rules).
std::string inferMediaType(const json& doc) {
  auto media_type = doc.find("mediaType");
  if (media_type != doc.end() && media_type->is_string()) {
    return normalizeMediaType(media_type->get_ref<const std::string&>());
  }
  auto version = doc.find("schemaVersion");
  if (version != doc.end() && version->is_number_integer() && version->get<int64_t>() == 1) {
    return std::string(doc.contains("signatures") ? kDockerSchema1Signed : kDockerSchema1);
  }
  if (doc.contains("manifests")) return std::string(kOciIndex);
  return std::string(kOciManifest);
}

}  // namespace

Result<ParsedManifest> parse(std::string_view content_type, std::string_view body,
                             crypto::DigestAlgorithm algorithm) {
  if (body.size() > kMaxManifestBytes) return detail::invalid("manifest larger than 4 MiB");
  auto parsed_json = detail::parseJson(body, "manifest");
  if (!parsed_json) return parsed_json.error();
  const json& doc = *parsed_json;
  if (!doc.is_object()) return detail::invalid("manifest is not a JSON object");

  std::string declared;
  auto media_type_member = doc.find("mediaType");
  if (media_type_member != doc.end() && !media_type_member->is_null()) {
    if (!media_type_member->is_string()) return detail::invalid("mediaType must be a string");
    declared = media_type_member->get<std::string>();
  }

  const std::string header = normalizeMediaType(content_type);
  std::string media_type;
  if (isGenericContentType(header)) {
    media_type = inferMediaType(doc);
  } else {
    media_type = header;
    // Both schema1 media types name the same document; either may carry signatures.
    const bool schema1_header = header == kDockerSchema1 || header == kDockerSchema1Signed;
    if (!declared.empty() && declared != header && !schema1_header) {
      return detail::invalid("mediaType \"" + declared + "\" does not match Content-Type \"" +
                             header + "\"");
    }
  }
  if (!isManifestMediaType(media_type)) {
    return detail::invalid("unsupported manifest media type \"" + media_type + "\"");
  }

  if (media_type == kDockerSchema1 || media_type == kDockerSchema1Signed) {
    return detail::parseSchema1(doc, body, media_type == kDockerSchema1Signed, algorithm);
  }
  // Docker types must say what they are (image-manifest-v2-2.md: mediaType is required).
  if ((media_type == kDockerSchema2 || media_type == kDockerManifestList) && declared.empty()) {
    return detail::invalid("a Docker manifest must declare its mediaType");
  }

  Result<ParsedManifest> parsed = (media_type == kDockerManifestList || media_type == kOciIndex)
                                      ? detail::parseIndex(doc, media_type)
                                      : detail::parseImageManifest(doc, media_type);
  if (!parsed) return parsed;
  parsed->digest = crypto::Digest::of(body, algorithm);
  return parsed;
}

std::string storedMediaType(std::string_view body) {
  auto doc = detail::parseJson(body, "manifest");
  if (!doc || !doc->is_object()) return {};
  return inferMediaType(*doc);
}

}  // namespace portico::registry::manifests
