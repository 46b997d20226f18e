#include "backend/storage/layout.h"

#include <cstdio>
#include <ctime>
#include <string>

namespace portico::storage::layout {
namespace {

constexpr std::string_view kRoot = "/docker/registry/v2";

std::string join(std::initializer_list<std::string_view> parts) {
  std::string out;
  for (std::string_view part : parts) {
    if (!out.empty() && out.back() != '/') out += '/';
    out += part;
  }
  return out;
}

// distribution's digestPathComponents(dgst, false): <alg>/<hex>.
std::string digestDir(const Digest& digest) {
  return join({digest.algorithmName(), digest.hex()});
}

bool parseDigits(std::string_view text, size_t pos, size_t count, int& out) {
  if (pos + count > text.size()) return false;
  out = 0;
  for (size_t i = pos; i < pos + count; ++i) {
    if (text[i] < '0' || text[i] > '9') return false;
    out = out * 10 + (text[i] - '0');
  }
  return true;
}

}  // namespace

std::string root() {
  return std::string(kRoot);
}

std::string blobsRoot() {
  return join({kRoot, "blobs"});
}

std::string blobDir(const Digest& digest) {
  return join({kRoot, "blobs", digest.algorithmName(), digest.hex().substr(0, 2), digest.hex()});
}

std::string blobData(const Digest& digest) {
  return join({blobDir(digest), "data"});
}

std::string repositoriesRoot() {
  return join({kRoot, "repositories"});
}

std::string repositoryDir(std::string_view name) {
  return join({kRoot, "repositories", name});
}

std::string layersDir(std::string_view name) {
  return join({repositoryDir(name), kLayersDirName});
}

std::string layerLink(std::string_view name, const Digest& digest) {
  return join({layersDir(name), digestDir(digest), "link"});
}

std::string manifestsDir(std::string_view name) {
  return join({repositoryDir(name), kManifestsDirName});
}

std::string manifestRevisionsDir(std::string_view name) {
  return join({manifestsDir(name), "revisions"});
}

std::string manifestRevisionDir(std::string_view name, const Digest& digest) {
  return join({manifestRevisionsDir(name), digestDir(digest)});
}

std::string manifestRevisionLink(std::string_view name, const Digest& digest) {
  return join({manifestRevisionDir(name, digest), "link"});
}

std::string manifestSignaturesDir(std::string_view name, const Digest& revision) {
  return join({manifestRevisionDir(name, revision), "signatures"});
}

std::string manifestSignatureLink(std::string_view name, const Digest& revision,
                                  const Digest& signature) {
  return join({manifestSignaturesDir(name, revision), digestDir(signature), "link"});
}

std::string tagsDir(std::string_view name) {
  return join({manifestsDir(name), "tags"});
}

std::string tagDir(std::string_view name, std::string_view tag) {
  return join({tagsDir(name), tag});
}

std::string tagCurrentLink(std::string_view name, std::string_view tag) {
  return join({tagDir(name, tag), "current", "link"});
}

std::string tagIndexDir(std::string_view name, std::string_view tag) {
  return join({tagDir(name, tag), "index"});
}

std::string tagIndexEntryLink(std::string_view name, std::string_view tag, const Digest& digest) {
  return join({tagIndexDir(name, tag), digestDir(digest), "link"});
}

std::string uploadsDir(std::string_view name) {
  return join({repositoryDir(name), kUploadsDirName});
}

std::string uploadDir(std::string_view name, std::string_view id) {
  return join({uploadsDir(name), id});
}

std::string uploadData(std::string_view name, std::string_view id) {
  return join({uploadDir(name, id), "data"});
}

std::string uploadStartedAt(std::string_view name, std::string_view id) {
  return join({uploadDir(name, id), "startedat"});
}

std::string uploadHashState(std::string_view name, std::string_view id, DigestAlgorithm algorithm,
                            uint64_t offset) {
  return join({uploadDir(name, id), "hashstates", crypto::algorithmName(algorithm),
               std::to_string(offset)});
}

std::optional<Digest> digestFromLinkDir(std::string_view dir) {
  const size_t hex_slash = dir.rfind('/');
  if (hex_slash == std::string_view::npos || hex_slash == 0) return std::nullopt;
  const size_t algorithm_slash = dir.rfind('/', hex_slash - 1);
  if (algorithm_slash == std::string_view::npos) return std::nullopt;
  std::string text(dir.substr(algorithm_slash + 1, hex_slash - algorithm_slash - 1));
  text += ':';
  text += dir.substr(hex_slash + 1);
  auto digest = Digest::parse(text);
  if (!digest) return std::nullopt;
  return *digest;
}

std::string linkContent(const Digest& digest) {
  return digest.str();
}

Result<Digest> parseLinkContent(std::string_view content) {
  return Digest::parse(content);
}

std::string formatStartedAt(std::chrono::system_clock::time_point time) {
  const std::time_t seconds = std::chrono::system_clock::to_time_t(time);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char buffer[96];
  std::snprintf(buffer, sizeof(buffer), "%04d-%02d-%02dT%02d:%02d:%02dZ", utc.tm_year + 1900,
                utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec);
  return buffer;
}

std::optional<std::chrono::system_clock::time_point> parseStartedAt(std::string_view text) {
  // YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM)
  int year, month, day, hour, minute, second;
  if (!parseDigits(text, 0, 4, year) || text.size() < 20 || text[4] != '-' ||
      !parseDigits(text, 5, 2, month) || text[7] != '-' || !parseDigits(text, 8, 2, day) ||
      (text[10] != 'T' && text[10] != 't') || !parseDigits(text, 11, 2, hour) || text[13] != ':' ||
      !parseDigits(text, 14, 2, minute) || text[16] != ':' || !parseDigits(text, 17, 2, second)) {
    return std::nullopt;
  }
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) {
    return std::nullopt;
  }
  size_t pos = 19;
  std::chrono::nanoseconds fraction{0};
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    int64_t nanos = 0;
    int digits = 0;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
      if (digits < 9) nanos = nanos * 10 + (text[pos] - '0'), ++digits;
      ++pos;
    }
    if (digits == 0) return std::nullopt;
    for (; digits < 9; ++digits) nanos *= 10;
    fraction = std::chrono::nanoseconds(nanos);
  }
  int offset_minutes = 0;
  if (pos < text.size() && (text[pos] == 'Z' || text[pos] == 'z')) {
    ++pos;
  } else if (pos < text.size() && (text[pos] == '+' || text[pos] == '-')) {
    int oh, om;
    if (!parseDigits(text, pos + 1, 2, oh) || pos + 3 >= text.size() || text[pos + 3] != ':' ||
        !parseDigits(text, pos + 4, 2, om)) {
      return std::nullopt;
    }
    offset_minutes = (oh * 60 + om) * (text[pos] == '-' ? -1 : 1);
    pos += 6;
  } else {
    return std::nullopt;
  }
  if (pos != text.size()) return std::nullopt;

  std::tm utc{};
  utc.tm_year = year - 1900;
  utc.tm_mon = month - 1;
  utc.tm_mday = day;
  utc.tm_hour = hour;
  utc.tm_min = minute;
  utc.tm_sec = second;
  const std::time_t seconds = timegm(&utc);
  return std::chrono::system_clock::from_time_t(seconds) - std::chrono::minutes(offset_minutes) +
         std::chrono::duration_cast<std::chrono::system_clock::duration>(fraction);
}

bool isRepositoryDataDir(std::string_view component) {
  return component == kLayersDirName || component == kManifestsDirName ||
         component == kUploadsDirName;
}

std::string layerLinkDir(std::string_view name, const Digest& digest) {
  return join({layersDir(name), digestDir(digest)});
}

std::string tagIndexEntryDir(std::string_view name, std::string_view tag, const Digest& digest) {
  return join({tagIndexDir(name, tag), digestDir(digest)});
}

std::string gcDir() {
  return join({kRoot, "_portico", "gc"});
}

std::string gcLock() {
  return join({gcDir(), "lock"});
}

std::string gcStartMarker() {
  return join({gcDir(), "started"});
}

std::string gcTrash(const Digest& digest) {
  return join(
      {gcDir(), "trash", std::string(digest.algorithmName()) + "-" + std::string(digest.hex())});
}

}  // namespace portico::storage::layout
