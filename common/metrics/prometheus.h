#pragma once
// Prometheus text exposition format (version 0.0.4), shared by portico-proxy's admin listener
// and portico-registry's debug listener: a writer that emits one family at a time (HELP and
// TYPE before its samples), label escaping, and a lock-free fixed-bucket Histogram.
// What this does not do: register metrics globally, or check that a family is written once
// (the caller renders each family in one place).

#include <atomic>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace portico::metrics {

// Escapes a label value (backslash, double quote, newline), as the format requires.
std::string escapeLabel(std::string_view value);

// `a="x",b="y"` from name/value pairs (values escaped); "" for none.
std::string labels(std::initializer_list<std::pair<std::string_view, std::string_view>> pairs);

// Appends families to a string.
class TextWriter {
 public:
  explicit TextWriter(std::string& out) : out_(out) {}
  // Starts a family: `# HELP name help` and `# TYPE name type` (counter, gauge, histogram).
  void family(std::string_view name, std::string_view type, std::string_view help);
  // One sample line: `name{labels} value` (no braces when `labels` is empty).
  void sample(std::string_view name, std::string_view labels, uint64_t value);
  void sample(std::string_view name, std::string_view labels, int64_t value);
  void sample(std::string_view name, std::string_view labels, double value);

 private:
  void head(std::string_view name, std::string_view labels);
  std::string& out_;
};

// Upper bounds of request duration buckets (seconds; Prometheus client defaults + longer ones
// for blob transfers).
inline constexpr double kDurationBuckets[] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
                                              1,     2.5,  5,     10,   30,  60,   300};
// Upper bounds of size buckets (bytes: 1 KiB to 1 GiB in powers of 8, then 4 GiB).
inline constexpr double kSizeBuckets[] = {1024,     8192,      65536,      524288,    4194304,
                                          33554432, 268435456, 1073741824, 4294967296};

// A histogram with fixed upper bounds; observe() is lock-free (relaxed atomics), so workers
// and storage threads record without contention on a lock.
class Histogram {
 public:
  explicit Histogram(std::span<const double> bounds);
  void observe(double value);
  // The _bucket (cumulative, with le="+Inf"), _sum and _count samples under `name`; `labels`
  // are the series' other labels (may be empty). The family line is the caller's.
  void render(TextWriter& writer, std::string_view name, std::string_view labels) const;
  uint64_t count() const;

 private:
  std::vector<double> bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> buckets_;  // bounds_.size() + 1 (the +Inf bucket)
  std::atomic<double> sum_{0};
};

}  // namespace portico::metrics
