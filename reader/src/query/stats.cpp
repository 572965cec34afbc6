#include "ringtail/reader/query/stats.hpp"

#include <algorithm>
#include <cmath>

#include "ringtail/reader/output/time_text.hpp"
#include "ringtail/reader/query/json_path.hpp"
#include "ringtail/reader/query/json_value.hpp"

namespace ringtail::reader {
namespace {

std::string compact(simdjson::dom::element value) { return json_value_text(value); }

// The nearest-rank percentile of sorted values: the smallest value with at
// least p of them at or below it.
double nearest_rank(const std::vector<double>& sorted, double p) {
  const double rank = std::ceil(p * static_cast<double>(sorted.size()));
  const size_t index = rank < 1 ? 0 : static_cast<size_t>(rank) - 1;
  return sorted[std::min(index, sorted.size() - 1)];
}

// Success, failure, or no outcome (see the header).
std::optional<bool> outcome(simdjson::dom::element line) {
  std::string_view text;
  bool flag = false;
  simdjson::dom::element value;
  if (line["status"].get(value) == simdjson::SUCCESS && value.get(text) == simdjson::SUCCESS) {
    if (text == "SUCCESS" || text == "OK") return true;  // OK / ERROR: a span's status
    if (text == "FAILURE" || text == "PARTIAL" || text == "ERROR") return false;
  }
  if (line["allow"].get(flag) == simdjson::SUCCESS) return flag;
  if (line["decision"].get(text) == simdjson::SUCCESS) {
    if (text == "ALLOW") return true;
    if (text == "BLOCK") return false;
  }
  return std::nullopt;
}

}  // namespace

std::optional<int64_t> timestamp_ns(std::string_view timestamp) {
  if (!is_canonical_timestamp(timestamp)) return std::nullopt;
  absl::StatusOr<int64_t> ns = parse_rfc3339(timestamp);
  if (!ns.ok()) return std::nullopt;
  return *ns;
}

StatsAccumulator::StatsAccumulator(StatsOptions options) : options_(std::move(options)) {}

void StatsAccumulator::add(simdjson::dom::element line) {
  scratch_.clear();
  for (size_t i = 0; i < options_.by.size(); ++i) {
    if (i != 0) scratch_.push_back('\x1f');
    simdjson::dom::element value;
    if (lookup(line, options_.by[i], &value)) {
      append_json_value(scratch_, value);
    } else {
      scratch_ += "null";
    }
  }
  auto found = groups_.find(scratch_);
  if (found == groups_.end()) {
    Group fresh;
    size_t begin = 0;
    for (size_t i = 0; i < options_.by.size(); ++i) {
      const size_t end = std::min(scratch_.find('\x1f', begin), scratch_.size());
      fresh.key.push_back(scratch_.substr(begin, end - begin));
      begin = end + 1;
    }
    found = groups_.emplace(scratch_, std::move(fresh)).first;
  }
  Group& group = found->second;
  ++group.count;
  ++total_;
  std::string_view timestamp;
  if (line["timestamp"].get(timestamp) == simdjson::SUCCESS) {
    if (group.first.empty() || timestamp < group.first) group.first.assign(timestamp);
    if (group.last.empty() || timestamp > group.last) group.last.assign(timestamp);
    if (first_.empty() || timestamp < first_) first_.assign(timestamp);
    if (last_.empty() || timestamp > last_) last_.assign(timestamp);
  }
  if (const std::optional<bool> result = outcome(line)) {
    ++group.outcomes;
    group.successes += *result ? 1 : 0;
  }
  if (!options_.duration_field.empty()) {
    simdjson::dom::element value;
    double number = 0;
    if (lookup(line, options_.duration_field, &value) && value.is_number() && value.get(number) == simdjson::SUCCESS &&
        std::isfinite(number)) {
      group.durations.push_back(number);
    }
  }
  if (!options_.most_common_key.empty()) {
    simdjson::dom::element value;
    if (lookup(line, options_.most_common_key, &value)) ++group.values[compact(value)];
  }
}

StatsResult StatsAccumulator::finish(size_t top) {
  StatsResult result;
  result.total = total_;
  result.first_timestamp = first_;
  result.last_timestamp = last_;
  double span_s = 0;
  if (options_.span_ns) {
    span_s = static_cast<double>(*options_.span_ns) / 1e9;
  } else {
    const std::optional<int64_t> first = timestamp_ns(first_), last = timestamp_ns(last_);
    if (first && last) span_s = static_cast<double>(*last - *first) / 1e9;
  }
  result.span_s = std::max(span_s, 1.0);
  for (auto& [joined, group] : groups_) {
    GroupStats stats;
    stats.key = group.key;
    stats.count = group.count;
    stats.share = total_ == 0 ? 0 : static_cast<double>(group.count) / static_cast<double>(total_);
    stats.rate_per_s = static_cast<double>(group.count) / result.span_s;
    stats.first_timestamp = group.first;
    stats.last_timestamp = group.last;
    stats.outcomes = group.outcomes;
    stats.successes = group.successes;
    if (group.outcomes != 0) {
      stats.success_rate = static_cast<double>(group.successes) / static_cast<double>(group.outcomes);
    }
    if (!group.durations.empty()) {
      std::vector<double>& d = group.durations;
      std::sort(d.begin(), d.end());
      double sum = 0;
      for (double v : d) sum += v;
      stats.duration_count = d.size();
      stats.duration_avg = sum / static_cast<double>(d.size());
      stats.duration_p50 = nearest_rank(d, 0.50);
      stats.duration_p95 = nearest_rank(d, 0.95);
      stats.duration_p99 = nearest_rank(d, 0.99);
      stats.duration_max = d.back();
    }
    for (const auto& [value, n] : group.values) {
      if (n > stats.most_common_count) {  // map order: ties keep the smallest text
        stats.most_common = value;
        stats.most_common_count = n;
      }
    }
    result.groups.push_back(std::move(stats));
  }
  // Largest first; ties by key text (the hash map has no order of its own).
  std::sort(result.groups.begin(), result.groups.end(), [](const GroupStats& a, const GroupStats& b) {
    return a.count != b.count ? a.count > b.count : a.key < b.key;
  });
  if (top != 0 && result.groups.size() > top) result.groups.resize(top);
  return result;
}

}  // namespace ringtail::reader
