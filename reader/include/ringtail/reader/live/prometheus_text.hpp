// The Prometheus text exposition format (version 0.0.4), written by hand:
// what the drain's `GET /metrics` answers (live/live_server.hpp), and the
// bounded label sets behind it.
//
// Label values come from producers (service names, tool and model names in
// events): untrusted. They are cut to a byte bound at a UTF-8 character
// boundary (the reader's lines are valid UTF-8 already, so a cut value
// stays valid) and escaped as the format requires: backslash, double quote
// and newline as \\, \" and \n; any other control character, which the
// format allows but which breaks terminals and line-based tools, becomes
// U+FFFD.
//
// LabelTable bounds a metric family's cardinality: at most `max_sets`
// distinct label sets; a later one is counted under the set whose every
// value is "_other" (kOtherLabel), and the caller counts the overflow. So a
// producer that logs a new tool name per event costs a fixed amount of
// reader memory, and the scrape stays small.
//
// Threading: plain values and functions; a LabelTable is used by one thread
// at a time (MetricsSink guards its tables with its lock).
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"

namespace ringtail::reader {

inline constexpr std::string_view kOtherLabel = "_other";
inline constexpr size_t kDefaultMaxLabelSets = 1000;
inline constexpr size_t kDefaultMaxLabelValueBytes = 128;

// Untrusted bytes (a segment's service name) as the reader's lines write
// them: every ill-formed UTF-8 sequence replaced by U+FFFD.
std::string utf8_label_value(std::string_view bytes);

// `value` cut to at most `max_bytes` bytes, never inside a UTF-8 sequence.
std::string_view cut_label_value(std::string_view value, size_t max_bytes);

// Appends `value` escaped for a label value (without the quotes).
void append_label_value(std::string& out, std::string_view value);

// Appends a sample value: an integer as digits (exact below 2^53), another
// finite number in the shortest text that reads back the same, NaN, +Inf, -Inf.
void append_sample_value(std::string& out, double value);

// Writes families and samples, in order, into `out`.
class PrometheusWriter {
 public:
  explicit PrometheusWriter(std::string& out) : out_(out) {}
  // "# HELP name help" (help escaped: backslash, newline) and "# TYPE name type".
  void family(std::string_view name, std::string_view help, std::string_view type);
  // name{label="value",...} value. `names` and `values` have the same size.
  void sample(std::string_view name, const std::vector<std::string_view>& names,
              const std::vector<std::string_view>& values, double value);

 private:
  std::string& out_;
};

// The distinct label sets of one family, numbered from 0 in order of first
// sight, at most `max_sets` of them plus the "_other" set.
class LabelTable {
 public:
  explicit LabelTable(size_t label_count, size_t max_sets = kDefaultMaxLabelSets,
                      size_t max_value_bytes = kDefaultMaxLabelValueBytes);

  // The number of the set of `values` (label_count of them, each cut to
  // max_value_bytes), added if there is room; else the "_other" set's, and
  // *overflowed is set (it is left alone otherwise).
  uint32_t find_or_add(std::initializer_list<std::string_view> values, bool* overflowed);
  uint32_t find_or_add(const std::vector<std::string_view>& values, bool* overflowed);

  size_t size() const { return values_.size() / label_count_; }
  size_t label_count() const { return label_count_; }
  // Value `label` of set `index`.
  std::string_view value(uint32_t index, size_t label) const { return values_[index * label_count_ + label]; }

 private:
  template <class Values>
  uint32_t find_or_add_values(const Values& values, bool* overflowed);

  size_t label_count_;
  size_t max_sets_;
  size_t max_value_bytes_;
  std::vector<std::string> values_;  // label_count_ per set
  // Key: each cut value's length (4 bytes) and bytes, so no two sets share one.
  absl::flat_hash_map<std::string, uint32_t> index_;
  std::string key_;  // scratch
};

}  // namespace ringtail::reader
