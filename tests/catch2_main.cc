// The one Catch2 main for every test binary (compiled once), and the TAP reporter that lets
// meson count each TEST_CASE (tests run with `-r tap`, protocol 'tap').
//
// The reporter registered as "tap" is Catch2's own TAP format (catch_reporter_tap.hpp) with
// one difference: every line it writes is a TAP line of bounded length. Catch2's reporter
// writes an assertion's expansion whole, so `CHECK(body == expected)` on two 400 KiB bodies
// made one 800 KiB line; meson reads test output in lines of at most 64 KiB (asyncio's
// limit) and printed the rest as pages of "UNKNOWN: 1111..." lines that buried the real
// failures. Here each expression, expansion and message is cut to kMaxField characters (the
// length it had is said) and its line breaks become spaces.
// As Catch2's: a "# <test case>" line before each result (tests/count_results.py counts test
// cases by them); "1..N" at the end, N the number of assertions.

#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>

#include <cstddef>
#include <string>

namespace {

constexpr size_t kMaxField = 1000;

// `text` on one line, at most kMaxField characters of it.
std::string oneLine(std::string text) {
  for (char& c : text) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  if (text.size() > kMaxField) {
    size_t length = text.size();
    text.resize(kMaxField);
    text += "... (" + std::to_string(length) + " characters)";
  }
  return text;
}

class BoundedTapReporter : public Catch::StreamingReporterBase<BoundedTapReporter> {
 public:
  explicit BoundedTapReporter(const Catch::ReporterConfig& config) : StreamingReporterBase(config) {
    m_reporterPrefs.shouldReportAllAssertions = true;
  }

  static std::string getDescription() {
    return "TAP for meson: Catch2's TAP format, every line a TAP line of bounded length";
  }

  void noMatchingTestCases(const std::string& spec) override {
    stream << "# No test cases matched '" << oneLine(spec) << "'" << std::endl;
  }

  void assertionStarting(const Catch::AssertionInfo& /*info*/) override {}

  bool assertionEnded(const Catch::AssertionStats& stats) override {
    using Catch::ResultWas;
    const Catch::AssertionResult& result = stats.assertionResult;
    if (result.getResultType() == ResultWas::Info || result.getResultType() == ResultWas::Warning) {
      // Not a test point (Catch2 does not count them in the plan): a comment line.
      stream << "#> warning: " << oneLine(result.getMessage()) << std::endl;
      return true;
    }
    ++counter_;
    stream << "# " << oneLine(currentTestCaseInfo->name) << "\n";
    std::string line = (result.isOk() ? "ok " : "not ok ") + std::to_string(counter_) + " -";
    std::string expression = result.hasExpression() ? oneLine(result.getExpression()) : "";
    switch (result.getResultType()) {
      case ResultWas::Ok:
      case ResultWas::ExpressionFailed:
        if (!expression.empty()) line += " " + expression;
        if (result.hasExpandedExpression()) {
          line += " for: " + oneLine(result.getExpandedExpression());
        }
        if (result.getResultType() == ResultWas::ExpressionFailed && result.isOk()) {
          line += " # TODO";
        }
        break;
      case ResultWas::ThrewException:
        line += " unexpected exception with message: '" + oneLine(result.getMessage()) + "'";
        break;
      case ResultWas::FatalErrorCondition:
        line += " fatal error condition with message: '" + oneLine(result.getMessage()) + "'";
        break;
      case ResultWas::DidntThrowException:
        line += " expected exception, got none";
        break;
      case ResultWas::ExplicitFailure:
        line += " explicitly";
        break;
      case ResultWas::Info:
      case ResultWas::Warning:  // handled above
      case ResultWas::Unknown:
      case ResultWas::FailureBit:
      case ResultWas::Exception:
        line += " " + oneLine(result.getMessage());
        break;
    }
    if (!result.isOk() && result.hasExpression() &&
        result.getResultType() != ResultWas::ExpressionFailed) {
      line += "; expression was: " + expression;
    }
    if (!stats.infoMessages.empty()) {
      line += " with " + std::to_string(stats.infoMessages.size()) + " message(s):";
      for (const auto& message : stats.infoMessages) line += " '" + oneLine(message.message) + "'";
    }
    if (!result.isOk()) {
      line += " at " + std::string(result.getSourceInfo().file) + ":" +
              std::to_string(result.getSourceInfo().line);
    }
    stream << line << "\n" << std::endl;
    return true;
  }

  void testRunEnded(const Catch::TestRunStats& stats) override {
    stream << "1.." << stats.totals.assertions.total();
    if (stats.totals.testCases.total() == 0) stream << " # Skipped: No tests ran.";
    stream << "\n" << std::endl;
    StreamingReporterBase::testRunEnded(stats);
  }

 private:
  size_t counter_ = 0;
};

}  // namespace

CATCH_REGISTER_REPORTER("tap", BoundedTapReporter)
