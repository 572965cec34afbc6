// Times as text (ringtail/reader/output/time_text.hpp) beyond what the
// --since / --until tests cover (time_bound_test.cpp): parse_rfc3339 on its
// own, and the UTC date of a store's directory.
#include "ringtail/reader/output/time_text.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>

namespace ringtail::reader {
namespace {

constexpr int64_t kSecond = 1'000'000'000;

TEST(TimeTextTest, Rfc3339AloneNamesTheBadPartWithoutAHead) {
  EXPECT_EQ(*parse_rfc3339("2026-11-22T21:00:00Z"), 1795381200 * kSecond);
  const absl::StatusOr<int64_t> february = parse_rfc3339("2026-02-30");
  ASSERT_FALSE(february.ok());
  EXPECT_EQ(february.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(february.status().message(), "day 30 does not exist in 2026-02");
  EXPECT_EQ(parse_rfc3339("2300-01-01T00:00:00Z").status().code(), absl::StatusCode::kOutOfRange);
  // No trimming, no "now", no durations: those are parse_time_bound's.
  for (const char* text : {" 2026-11-22", "2026-11-22 ", "now", "-1h", "", "2026"}) {
    EXPECT_FALSE(parse_rfc3339(text).ok()) << text;
  }
}

// The date of the second that holds `ns`, as the stored timestamp shows it;
// before 1970 too (ns rounds down to its second, not toward zero).
TEST(TimeTextTest, UtcDateIsTheTimestampsDate) {
  EXPECT_EQ(utc_date(0), "1970-01-01");
  EXPECT_EQ(utc_date(-1), "1969-12-31");
  EXPECT_EQ(utc_date(1795381200 * kSecond), "2026-11-22");
  EXPECT_EQ(utc_date(1795392000 * kSecond - 1), "2026-11-22");
  EXPECT_EQ(utc_date(1795392000 * kSecond), "2026-11-23");
  for (const int64_t ns : {int64_t{-1}, int64_t{0}, int64_t{1795391999999999999}, INT64_MAX, INT64_MIN}) {
    EXPECT_EQ(utc_date(ns), format_timestamp(ns).substr(0, 10)) << ns;
  }
}

}  // namespace
}  // namespace ringtail::reader
