// TimeBuckets: named series of amounts over time, in at most kMaxBuckets
// buckets of one width, for the report's charts.
//
// Lines come in any order (a scan reads file after file) and the time range
// is not known in advance, so the width adapts: it starts at a millisecond
// and, whenever the buckets in use would span more than kMaxBuckets, steps up
// a ladder of widths (1 ms, 5 ms, 10 ms, ... 1 s, 5 s, ... 1 day, 1 week,
// ...), each a multiple of the one before, so that buckets merge whole and
// every amount stays in exactly one bucket. Bucket i covers
// [i * width, (i + 1) * width) milliseconds since the epoch (UTC).
//
// Threading: one thread per TimeBuckets.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"

namespace ringtail::reader {

class TimeBuckets {
 public:
  static constexpr int64_t kMaxBuckets = 240;

  // The widths a TimeBuckets steps through, in ms: each a whole multiple of
  // the one before (1 ms, 5 ms, ... 1 s, 5 s, 10 s, 30 s, 1 min, ... 1 day,
  // 1 week, 4 weeks, 48 weeks, 480 weeks).
  // clang-format off
  static constexpr int64_t kWidthsMs[] = {
      1, 5, 10, 50, 100, 500, 1'000, 5'000,
      10'000, 30'000, 60'000, 300'000, 600'000, 1'800'000, 3'600'000, 10'800'000,
      21'600'000, 43'200'000, 86'400'000, 604'800'000, 2'419'200'000, 29'030'400'000, 290'304'000'000};
  // clang-format on

  // Adds `amount` to `series` (created on first use) in the bucket of
  // `time_ns` (nanoseconds since the epoch).
  void add(std::string_view series, int64_t time_ns, double amount);

  // Whether any amount was added.
  bool empty() const { return first_index_ > last_index_; }
  int64_t width_ms() const { return kWidthsMs[rung_]; }
  // Epoch milliseconds of the first bucket in use (0 when empty).
  int64_t start_ms() const { return empty() ? 0 : first_index_ * width_ms(); }
  // Buckets from the first to the last in use (0 when empty).
  size_t bucket_count() const { return empty() ? 0 : static_cast<size_t>(last_index_ - first_index_ + 1); }

  // Series names, largest total first (ties: by name).
  std::vector<std::string> series_by_total() const;
  // One amount per bucket (bucket_count() of them; 0 where nothing was added).
  std::vector<double> values(std::string_view series) const;
  double total(std::string_view series) const;

 private:
  // Floor division: an index for times before the epoch too.
  int64_t index_of(int64_t time_ns) const;
  void widen();

  size_t rung_ = 0;
  int64_t first_index_ = 1;  // first > last: empty
  int64_t last_index_ = 0;
  absl::flat_hash_map<std::string, std::map<int64_t, double>> series_;
};

}  // namespace ringtail::reader
