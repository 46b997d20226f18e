#include "backend/registry/manifests/descriptor.h"

#include <nlohmann/json.hpp>

#include "backend/registry/manifests/parsers.h"

namespace portico::registry::manifests {

using nlohmann::json;

Result<std::map<std::string, std::string>> parseAnnotations(const json& object,
                                                            const std::string& where) {
  std::map<std::string, std::string> annotations;
  auto it = object.find("annotations");
  if (it == object.end() || it->is_null()) return annotations;
  if (!it->is_object()) return detail::invalid(where + ".annotations must be an object");
  for (const auto& [key, value] : it->items()) {
    if (!value.is_string()) {
      // NOLINTNEXTLINE(performance-inefficient-string-concatenation): runs once, then returns
      return detail::invalid(where + ".annotations[\"" + key + "\"] must be a string");
    }
    annotations.emplace(key, value.get_ref<const std::string&>());
  }
  return annotations;
}

Result<Descriptor> parseDescriptor(const json& object, const std::string& where,
                                   bool require_media_type) {
  if (!object.is_object()) return detail::invalid(where + " must be an object");
  Descriptor descriptor;

  auto media_type = object.find("mediaType");
  if (media_type != object.end() && !media_type->is_null()) {
    if (!media_type->is_string()) return detail::invalid(where + ".mediaType must be a string");
    descriptor.media_type = media_type->get_ref<const std::string&>();
  }
  if (require_media_type && descriptor.media_type.empty()) {
    return detail::invalid(where + ".mediaType is required");
  }

  auto digest = object.find("digest");
  if (digest == object.end() || !digest->is_string()) {
    return detail::invalid(where + ".digest is required and must be a string");
  }
  auto parsed = crypto::Digest::parse(digest->get_ref<const std::string&>());
  if (!parsed) {
    return detail::invalid(where + ".digest is invalid: " + parsed.error().message());
  }
  descriptor.digest = std::move(*parsed);

  auto size = object.find("size");
  if (size == object.end() || !size->is_number_integer()) {
    return detail::invalid(where + ".size is required and must be an integer");
  }
  if (size->is_number_unsigned()) {
    auto value = size->get<uint64_t>();
    if (value > static_cast<uint64_t>(INT64_MAX)) return detail::invalid(where + ".size too big");
    descriptor.size = static_cast<int64_t>(value);
  } else {
    descriptor.size = size->get<int64_t>();
    if (descriptor.size < 0) return detail::invalid(where + ".size must not be negative");
  }

  auto urls = object.find("urls");
  if (urls != object.end() && !urls->is_null()) {
    if (!urls->is_array()) return detail::invalid(where + ".urls must be an array");
    for (const auto& url : *urls) {
      if (!url.is_string() || url.get_ref<const std::string&>().empty()) {
        return detail::invalid(where + ".urls must hold non-empty strings");
      }
      descriptor.urls.push_back(url.get<std::string>());
    }
  }

  auto artifact_type = object.find("artifactType");
  if (artifact_type != object.end() && !artifact_type->is_null()) {
    if (!artifact_type->is_string()) {
      return detail::invalid(where + ".artifactType must be a string");
    }
    descriptor.artifact_type = artifact_type->get<std::string>();
  }

  auto platform = object.find("platform");
  if (platform != object.end() && !platform->is_null() && !platform->is_object()) {
    return detail::invalid(where + ".platform must be an object");
  }

  auto annotations = parseAnnotations(object, where);
  if (!annotations) return annotations.error();
  descriptor.annotations = std::move(*annotations);
  return descriptor;
}

json toJson(const Descriptor& descriptor) {
  json out = json::object();
  out["mediaType"] = descriptor.media_type;
  out["digest"] = descriptor.digest.str();
  out["size"] = descriptor.size < 0 ? 0 : descriptor.size;
  if (!descriptor.artifact_type.empty()) out["artifactType"] = descriptor.artifact_type;
  if (!descriptor.urls.empty()) out["urls"] = descriptor.urls;
  if (!descriptor.annotations.empty()) out["annotations"] = descriptor.annotations;
  return out;
}

}  // namespace portico::registry::manifests
