// Fuzz target: the `n` and `last` parameters of _catalog and tags/list
// (backend/registry/catalog.h): parsePaginationNumber, then pageRange and paginate over a
// fixed sorted list; the page must lie inside the list and hold at most n entries, all after
// `last`. Input: n, NUL, last.

#include <algorithm>
#include <string>
#include <vector>

#include "backend/registry/catalog.h"
#include "tests/fuzz/fuzz.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace portico::registry;
  static const std::vector<std::string> sorted = [] {
    std::vector<std::string> v = {"",  "1.0",    "a",      "a/b", "a/b/c", "alpine",
                                  "b", "latest", "v1.2.3", "z",   "~",     "\xff"};
    std::sort(v.begin(), v.end());
    return v;
  }();
  portico::fuzz::Input input(data, size);
  std::string_view n_text = input.field();
  std::string_view last = input.rest();
  auto n = parsePaginationNumber(n_text, 1000);
  if (!n) return 0;
  if (*n && **n > 1000) __builtin_trap();
  PageRange range = pageRange(sorted, *n, last);
  if (range.begin > range.end || range.end > sorted.size()) __builtin_trap();
  if (*n && range.end - range.begin > **n) __builtin_trap();
  for (size_t i = range.begin; i < range.end; ++i) {
    if (!last.empty() && !(std::string_view(sorted[i]) > last)) __builtin_trap();
  }
  Page page = paginate(sorted, *n, last);
  if (page.entries.size() != range.end - range.begin) __builtin_trap();
  if (page.next_last.has_value() != range.more) __builtin_trap();
  (void)lessRepositoryName(n_text, last);
  return 0;
}
