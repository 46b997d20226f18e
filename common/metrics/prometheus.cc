#include "common/metrics/prometheus.h"

#include <charconv>
#include <cmath>

namespace portico::metrics {
namespace {

// The shortest text that reads back as `value` (so le="0.1", not 0.10000000000000001).
std::string number(double value) {
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  if (std::isnan(value)) return "NaN";
  char buffer[40];
  auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, value);
  return std::string(buffer, end);
}

}  // namespace

std::string escapeLabel(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string labels(std::initializer_list<std::pair<std::string_view, std::string_view>> pairs) {
  std::string out;
  for (const auto& [name, value] : pairs) {
    if (!out.empty()) out += ',';
    out += name;
    out += "=\"";
    out += escapeLabel(value);
    out += '"';
  }
  return out;
}

void TextWriter::family(std::string_view name, std::string_view type, std::string_view help) {
  out_ += "# HELP ";
  out_ += name;
  out_ += ' ';
  out_ += help;
  out_ += "\n# TYPE ";
  out_ += name;
  out_ += ' ';
  out_ += type;
  out_ += '\n';
}

void TextWriter::head(std::string_view name, std::string_view labels) {
  out_ += name;
  if (!labels.empty()) {
    out_ += '{';
    out_ += labels;
    out_ += '}';
  }
  out_ += ' ';
}

void TextWriter::sample(std::string_view name, std::string_view labels, uint64_t value) {
  head(name, labels);
  out_ += std::to_string(value);
  out_ += '\n';
}

void TextWriter::sample(std::string_view name, std::string_view labels, int64_t value) {
  head(name, labels);
  out_ += std::to_string(value);
  out_ += '\n';
}

void TextWriter::sample(std::string_view name, std::string_view labels, double value) {
  head(name, labels);
  out_ += number(value);
  out_ += '\n';
}

Histogram::Histogram(std::span<const double> bounds)
    : bounds_(bounds.begin(), bounds.end()),
      buckets_(std::make_unique<std::atomic<uint64_t>[]>(bounds.size() + 1)) {}

void Histogram::observe(double value) {
  size_t bucket = 0;
  while (bucket < bounds_.size() && value > bounds_[bucket]) ++bucket;
  buckets_[bucket].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(value, std::memory_order_relaxed);
}

uint64_t Histogram::count() const {
  uint64_t total = 0;
  for (size_t b = 0; b <= bounds_.size(); ++b) total += buckets_[b].load(std::memory_order_relaxed);
  return total;
}

void Histogram::render(TextWriter& writer, std::string_view name,
                       std::string_view series_labels) const {
  std::string bucket_name = std::string(name) + "_bucket";
  std::string prefix(series_labels);
  if (!prefix.empty()) prefix += ',';
  uint64_t cumulative = 0;
  for (size_t b = 0; b <= bounds_.size(); ++b) {
    cumulative += buckets_[b].load(std::memory_order_relaxed);
    std::string le = b < bounds_.size() ? number(bounds_[b]) : "+Inf";
    writer.sample(bucket_name, prefix + "le=\"" + le + "\"", cumulative);
  }
  writer.sample(std::string(name) + "_sum", series_labels, sum_.load(std::memory_order_relaxed));
  writer.sample(std::string(name) + "_count", series_labels, cumulative);
}

}  // namespace portico::metrics
