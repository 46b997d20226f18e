// Fuzz target: repository names, tags, references and digests (backend/registry/reference.h).
// Whatever parses must print back as given (the registry stores and compares the text).

#include "backend/registry/reference.h"
#include "tests/fuzz/fuzz.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  using namespace portico::registry;
  if (auto repo = Repository::parse(text)) {
    if (repo->str() != text || text.size() > kMaxRepositoryNameLength) __builtin_trap();
  }
  if (auto tag = Tag::parse(text)) {
    if (tag->str() != text || text.size() > kMaxTagLength) __builtin_trap();
  }
  if (auto digest = parseDigest(text)) {
    if (digest->str() != text) __builtin_trap();
  }
  if (auto reference = Reference::parse(text)) {
    if (reference->str() != text) __builtin_trap();
    if (reference->isDigest() == reference->isTag()) __builtin_trap();
  }
  (void)isValidUploadId(text);
  return 0;
}
