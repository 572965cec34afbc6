// Statistics over the lines a query keeps (`ringtail stats`): counts, shares,
// rates, first and last time, success rate and a duration field's
// distribution, per group of --by keys.
//
// Rules (docs/QUERY.md repeats them for users):
//   * Groups: the JSON values (as compact text; "null" when missing) of the
//     --by keys; a dotted key reaches into nested objects (json_path.hpp).
//     Without --by, one group holds everything.
//   * share = count / total count; rate = count / span seconds, where span is
//     --until - --since when both are given, else from the first to the last
//     kept line (at least one second).
//   * Outcome of a line, for the success rate, from the first of these it has:
//     "status" SUCCESS or OK (success), FAILURE, PARTIAL or ERROR (not; OK
//     and ERROR are a span.end's); "allow" true
//     (success) or false (not); "decision" ALLOW (success) or BLOCK (not).
//     Lines with none of them (or other values, e.g. decision WARN) do not
//     count. success_rate = successes / lines with an outcome; absent when
//     no line of the group has one.
//   * Duration (--duration FIELD): the numeric values of FIELD; avg, and the
//     nearest-rank p50, p95, p99 (the smallest value with at least that share
//     of values at or below it) and max. Non-numeric or missing values are
//     not counted.
//   * --most-common KEY: per group, the most frequent value of KEY and how
//     often it occurs (ties: the smallest value text).
//
// Threading: one thread per StatsAccumulator.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "simdjson.h"

namespace ringtail::reader {

struct StatsOptions {
  std::vector<std::string> by;     // group keys
  std::string duration_field;      // empty: none
  std::string most_common_key;     // empty: none
  std::optional<int64_t> span_ns;  // --until - --since when both were given
};

struct GroupStats {
  std::vector<std::string> key;  // one compact JSON text per --by key
  uint64_t count = 0;
  double share = 0;
  double rate_per_s = 0;
  std::string first_timestamp;
  std::string last_timestamp;
  uint64_t outcomes = 0;
  uint64_t successes = 0;
  std::optional<double> success_rate;
  uint64_t duration_count = 0;
  double duration_avg = 0, duration_p50 = 0, duration_p95 = 0, duration_p99 = 0, duration_max = 0;
  std::string most_common;  // compact JSON text
  uint64_t most_common_count = 0;
};

struct StatsResult {
  uint64_t total = 0;
  double span_s = 0;
  std::string first_timestamp;
  std::string last_timestamp;
  std::vector<GroupStats> groups;  // by count, largest first (ties: key text)
};

class StatsAccumulator {
 public:
  explicit StatsAccumulator(StatsOptions options);
  void add(simdjson::dom::element line);
  // top: at most this many groups (0: all).
  StatsResult finish(size_t top = 0);

 private:
  struct Group {
    std::vector<std::string> key;
    uint64_t count = 0;
    std::string first, last;
    uint64_t outcomes = 0, successes = 0;
    std::vector<double> durations;
    std::map<std::string, uint64_t> values;  // --most-common
  };
  StatsOptions options_;
  // By the --by values' texts joined with '\x1f' (a byte compact JSON text
  // never holds raw), looked up without allocating through scratch_.
  absl::flat_hash_map<std::string, Group> groups_;
  std::string scratch_;
  std::vector<std::string> parts_;
  uint64_t total_ = 0;
  std::string first_, last_;
};

// Nanoseconds since the epoch of an RFC 3339 "…Z" timestamp as the reader
// writes it; nullopt for another shape.
std::optional<int64_t> timestamp_ns(std::string_view timestamp);

}  // namespace ringtail::reader
