// Docker image manifest v2 schema 1 (manifest-v2-1.md), signed with libtrust's "pretty" JWS:
// the manifest JSON with a `signatures` array spliced in before its closing brace. Each
// signature's protected header carries `formatLength` and `formatTail` (base64url); the
// signed payload — and the bytes the manifest digest covers — is
// body[0, formatLength) + base64url-decode(formatTail) (libtrust ParsePrettySignature;
// distribution's schema1 SignedManifest.Canonical). Signatures are checked for structure and
// agreement, not cryptographically.

#include <optional>
#include <set>

#include <nlohmann/json.hpp>

#include "backend/registry/manifests/parsers.h"

namespace portico::registry::manifests::detail {

using nlohmann::json;

namespace {

// RFC 4648 §5 base64url, padding optional (JOSE omits it). nullopt on a bad character.
std::optional<std::string> base64UrlDecode(std::string_view text) {
  while (!text.empty() && text.back() == '=') text.remove_suffix(1);
  std::string out;
  uint32_t accumulator = 0;
  int bits = 0;
  for (char c : text) {
    int value;
    if (c >= 'A' && c <= 'Z') {
      value = c - 'A';
    } else if (c >= 'a' && c <= 'z') {
      value = c - 'a' + 26;
    } else if (c >= '0' && c <= '9') {
      value = c - '0' + 52;
    } else if (c == '-') {
      value = 62;
    } else if (c == '_') {
      value = 63;
    } else {
      return std::nullopt;
    }
    accumulator = (accumulator << 6) | static_cast<uint32_t>(value);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((accumulator >> bits) & 0xff));
    }
  }
  if (bits >= 6) return std::nullopt;  // a lone trailing character encodes no byte
  return out;
}

// Extracts the signed payload from a prettyjws body, checking every signature's structure.
Result<std::string> signedPayload(const json& signatures, std::string_view body) {
  if (!signatures.is_array() || signatures.empty()) {
    return invalid("signatures must be a non-empty array");
  }
  std::optional<int64_t> format_length;
  std::optional<std::string> format_tail;
  for (size_t i = 0; i < signatures.size(); ++i) {
    const auto& signature = signatures[i];
    const std::string where = "signatures[" + std::to_string(i) + "]";
    if (!signature.is_object()) return invalid(where + " must be an object");
    auto header = signature.find("header");
    if (header == signature.end() || !header->is_object()) {
      return invalid(where + ".header must be an object");
    }
    auto sig = signature.find("signature");
    if (sig == signature.end() || !sig->is_string()) {
      return invalid(where + ".signature must be a string");
    }
    auto protected_member = signature.find("protected");
    if (protected_member == signature.end() || !protected_member->is_string()) {
      return invalid(where + ".protected must be a string");
    }
    auto protected_bytes = base64UrlDecode(protected_member->get_ref<const std::string&>());
    if (!protected_bytes) return invalid(where + ".protected is not base64url");
    auto protected_json = parseJson(*protected_bytes, where + ".protected");
    if (!protected_json || !protected_json->is_object()) {
      return invalid(where + ".protected is not a JSON object");
    }
    const json& protected_header = *protected_json;
    auto length = protected_header.find("formatLength");
    if (length == protected_header.end() || !length->is_number_integer()) {
      return invalid(where + ": protected header lacks formatLength");
    }
    auto tail = protected_header.find("formatTail");
    if (tail == protected_header.end() || !tail->is_string()) {
      return invalid(where + ": protected header lacks formatTail");
    }
    auto decoded_tail = base64UrlDecode(tail->get_ref<const std::string&>());
    if (!decoded_tail) return invalid(where + ": formatTail is not base64url");
    const int64_t this_length = length->get<int64_t>();
    if (format_length && *format_length != this_length) {
      return invalid("signatures disagree on formatLength");
    }
    if (format_tail && *format_tail != *decoded_tail) {
      return invalid("signatures disagree on formatTail");
    }
    format_length = this_length;
    format_tail = std::move(*decoded_tail);
  }
  if (*format_length < 0 || static_cast<uint64_t>(*format_length) > body.size()) {
    return invalid("formatLength is outside the manifest");
  }
  std::string payload(body.substr(0, static_cast<size_t>(*format_length)));
  payload += *format_tail;
  return payload;
}

}  // namespace

Result<ParsedManifest> parseSchema1(const json& doc, std::string_view body, bool signed_type,
                                    crypto::DigestAlgorithm algorithm) {
  if (auto version = checkSchemaVersion(doc, 1); !version) return version.error();

  ParsedManifest parsed;
  parsed.schema_version = 1;

  auto signatures = doc.find("signatures");
  const bool has_signatures = signatures != doc.end();
  if (signed_type && !has_signatures) return invalid("a signed schema1 manifest needs signatures");
  if (has_signatures) {
    auto payload = signedPayload(*signatures, body);
    if (!payload) return payload.error();
    // The payload must be the manifest itself minus its signatures: valid JSON, no
    // signatures member.
    auto payload_doc = parseJson(*payload, "the signed payload");
    if (!payload_doc || !payload_doc->is_object() || payload_doc->contains("signatures")) {
      return invalid("the signed payload (formatLength/formatTail) is not the manifest");
    }
    parsed.schema1_payload = std::move(*payload);
    parsed.media_type = std::string(kDockerSchema1Signed);
    parsed.digest = crypto::Digest::of(parsed.schema1_payload, algorithm);
  } else {
    parsed.media_type = std::string(kDockerSchema1);
    parsed.digest = crypto::Digest::of(body, algorithm);
  }

  auto name = doc.find("name");
  if (name == doc.end() || !name->is_string() || name->get_ref<const std::string&>().empty()) {
    return invalid("name must be a non-empty string");
  }
  parsed.schema1_name = name->get<std::string>();
  auto tag = doc.find("tag");
  if (tag == doc.end() || !tag->is_string()) return invalid("tag must be a string");
  parsed.schema1_tag = tag->get<std::string>();
  if (auto architecture = doc.find("architecture");
      architecture != doc.end() && !architecture->is_string()) {
    return invalid("architecture must be a string");
  }

  auto fs_layers = doc.find("fsLayers");
  if (fs_layers == doc.end() || !fs_layers->is_array()) {
    return invalid("fsLayers must be an array");
  }
  auto history = doc.find("history");
  if (history == doc.end() || !history->is_array()) return invalid("history must be an array");
  if (history->size() != fs_layers->size()) {
    return invalid("mismatched history and fsLayers cardinality " +
                   std::to_string(history->size()) + " != " + std::to_string(fs_layers->size()));
  }
  for (size_t i = 0; i < history->size(); ++i) {
    const auto& entry = (*history)[i];
    auto compat = entry.is_object() ? entry.find("v1Compatibility") : entry.end();
    if (!entry.is_object() || compat == entry.end() || !compat->is_string()) {
      return invalid("history[" + std::to_string(i) + "].v1Compatibility must be a string");
    }
  }

  std::set<crypto::Digest> seen;
  for (size_t i = 0; i < fs_layers->size(); ++i) {
    const auto& layer = (*fs_layers)[i];
    const std::string where = "fsLayers[" + std::to_string(i) + "]";
    auto blob_sum = layer.is_object() ? layer.find("blobSum") : layer.end();
    if (!layer.is_object() || blob_sum == layer.end() || !blob_sum->is_string()) {
      return invalid(where + ".blobSum must be a string");
    }
    auto digest = crypto::Digest::parse(blob_sum->get_ref<const std::string&>());
    if (!digest) return invalid(where + ".blobSum is invalid: " + digest.error().message());
    if (!seen.insert(*digest).second) continue;
    Descriptor descriptor;
    descriptor.media_type = std::string(kDockerSchema1Layer);
    descriptor.digest = std::move(*digest);
    parsed.blobs.push_back(std::move(descriptor));
  }
  return parsed;
}

}  // namespace portico::registry::manifests::detail
