// Times as text (ringtail/reader/output/time_text.hpp) beyond what the
// --since / --until tests cover (time_bound_test.cpp): parse_rfc3339 on its
// own, and the UTC date of a store's directory.
#include "ringtail/reader/output/time_text.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <optional>
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

// The cached reader gives parse_rfc3339's answer for every stored timestamp,
// within a second, across seconds, days and years, in any order.
TEST(TimeTextTest, StoredTimestampReaderEqualsTheFullParse) {
  StoredTimestampReader reader;
  const char* stamps[] = {
      "2026-12-06T21:00:00.000000000Z", "2026-12-06T21:00:00.000000001Z", "2026-12-06T21:00:00.999999999Z",
      "2026-12-06T21:00:01.000000000Z", "2026-12-06T20:59:59.500000000Z", "2024-02-29T23:59:59.123456789Z",
      "2024-03-01T00:00:00.000000000Z", "1970-01-01T00:00:00.000000000Z", "1969-12-31T23:59:59.999999999Z",
      "1677-09-21T00:12:43.145224192Z", "2262-04-11T23:47:16.854775807Z", "2026-12-06T21:00:00.000000000Z",
  };
  for (const char* stamp : stamps) {
    const absl::StatusOr<int64_t> expected = parse_rfc3339(stamp);
    ASSERT_TRUE(expected.ok()) << stamp;
    EXPECT_EQ(reader.ns(stamp), std::optional<int64_t>(*expected)) << stamp;
  }
  EXPECT_EQ(reader.ns("2262-04-11T23:47:16.854775807Z"), INT64_MAX);
  // Past int64 ns, in the cached second and in a new one: none, never a wrapped value.
  EXPECT_EQ(reader.ns("2262-04-11T23:47:16.854775808Z"), std::nullopt);
  EXPECT_EQ(reader.ns("2262-04-11T23:47:17.000000000Z"), std::nullopt);
  for (const char* other :
       {"2026-12-06T21:00:00Z", "2026-12-06T21:00:00.000000000+00:00", "2026-13-06T21:00:00.000000000Z",
        "2026-12-06 21:00:00.000000000Z", "", "2026-12-06T21:00:00.00000000xZ"}) {
    EXPECT_EQ(reader.ns(other), std::nullopt) << other;
  }
}

}  // namespace
}  // namespace ringtail::reader
