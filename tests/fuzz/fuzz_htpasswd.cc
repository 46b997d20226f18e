// Fuzz target: htpasswd files (backend/auth/htpasswd.h): HtpasswdFile::parse and bcryptCost.
// verify() is not called: it runs bcrypt, far too slow for fuzzing and not a parser.

#include <string>

#include "backend/auth/htpasswd.h"
#include "tests/fuzz/fuzz.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  (void)portico::auth::HtpasswdFile::parse(text, "htpasswd");
  int cost = portico::auth::bcryptCost(text);
  if (cost != -1 && (cost < 0 || cost > 99)) __builtin_trap();
  return 0;
}
