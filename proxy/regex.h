#pragma once
// A PCRE2 regular expression compiled once (with JIT when available) and matched from any
// thread. PCRE2 is the engine nginx uses, so nginx rules (lookaheads included) work unchanged.
// Patterns are byte-oriented (no UTF mode), like nginx without the (*UTF) flag.
// What this does not do: captures or replacement; it answers "does it match".

#include <memory>
#include <string>
#include <string_view>

#include "common/result.h"

namespace portico::proxy {

enum class RegexErrc { Invalid };

class Regex {
 public:
  // Compiles `pattern`; on failure the error message names the offset and PCRE2's reason.
  static Result<Regex> compile(std::string_view pattern);

  // True if the pattern matches anywhere in `subject` (anchor with ^ for prefixes).
  // A matching error (e.g. the match limit) counts as no match.
  bool matches(std::string_view subject) const;
  const std::string& pattern() const { return pattern_; }

 private:
  struct Compiled;
  Regex(std::string pattern, std::shared_ptr<const Compiled> compiled);

  std::string pattern_;
  std::shared_ptr<const Compiled> compiled_;  // immutable, shared by copies and threads
};

}  // namespace portico::proxy
