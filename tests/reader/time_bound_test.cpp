// Time bounds (ringtail/reader/output/time_text.hpp): RFC 3339 and relative
// --since / --until values, the text order of formatted timestamps, and the
// timestamp of a line head (ringtail/reader/output/line_head.hpp).
#include "ringtail/reader/output/time_text.hpp"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <limits>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "filter_test_support.hpp"
#include "ringtail/reader/output/line_head.hpp"

namespace ringtail::reader {
namespace {

using namespace filter_testing;  // NOLINT(google-build-using-namespace)

// ---------------------------------------------------------------------------
// Time bounds

int64_t time_ok(std::string_view text, int64_t now_ns = 0) {
  const absl::StatusOr<int64_t> ns = parse_time_bound(text, now_ns);
  EXPECT_TRUE(ns.ok()) << text << ": " << ns.status();
  return ns.ok() ? *ns : INT64_MIN;
}

std::string time_error(std::string_view text, int64_t now_ns = 0) {
  const absl::StatusOr<int64_t> ns = parse_time_bound(text, now_ns);
  EXPECT_FALSE(ns.ok()) << text << " parsed as " << *ns;
  if (ns.ok()) return "";
  EXPECT_EQ(ns.status().code(), absl::StatusCode::kInvalidArgument);
  return std::string(ns.status().message());
}

TEST(TimeBoundTest, Rfc3339) {
  const int64_t base = k20261122T210000Z * kSecond;
  EXPECT_EQ(time_ok("2026-11-22T21:00:00Z"), base);
  EXPECT_EQ(time_ok("2026-11-22T21:00:00.123456789Z"), base + 123456789);
  EXPECT_EQ(time_ok("2026-11-22T21:00:00.5Z"), base + 500000000);
  EXPECT_EQ(time_ok("2026-11-22T21:00:00.000000001Z"), base + 1);
  EXPECT_EQ(time_ok("2026-11-22T21:00:00.120Z"), base + 120000000);
  EXPECT_EQ(time_ok("2026-11-22t21:00:00z"), base);
  EXPECT_EQ(time_ok("2026-11-22 21:00:00Z"), base);
  EXPECT_EQ(time_ok("  2026-11-22T21:00:00Z  "), base);
  EXPECT_EQ(time_ok("2026-11-22T23:00:00+02:00"), base);
  EXPECT_EQ(time_ok("2026-11-22T15:30:00-05:30"), base);
  EXPECT_EQ(time_ok("2026-11-23T06:45:00.25+09:45"), base + 250000000);
  EXPECT_EQ(time_ok("2026-11-22T21:00:00-00:00"), base);
  EXPECT_EQ(time_ok("2026-11-22"), base - 21 * 3600 * kSecond);
  EXPECT_EQ(time_ok("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(time_ok("1969-12-31T23:59:59.999999999Z"), -1);
  EXPECT_EQ(time_ok("2016-12-31T23:59:60Z"), time_ok("2017-01-01T00:00:00Z"));  // leap second
  EXPECT_EQ(time_ok("2024-02-29T00:00:00Z") + 86400 * kSecond, time_ok("2024-03-01T00:00:00Z"));
  EXPECT_EQ(time_ok("2000-02-29"), 951782400 * kSecond);
  EXPECT_EQ(time_ok("2262-04-11T23:47:16.854775807Z"), INT64_MAX);
  EXPECT_EQ(time_ok("1677-09-21T00:12:43.145224192Z"), INT64_MIN);
  EXPECT_EQ(time_ok("2262-04-12T01:47:16.854775807+02:00"), INT64_MAX);
}

TEST(TimeBoundTest, Rfc3339AgreesWithTimegm) {
  std::mt19937_64 random(3339);
  for (int round = 0; round < 2000; ++round) {
    std::tm tm{};
    tm.tm_year = static_cast<int>(random() % 580) + 1680 - 1900;
    tm.tm_mon = static_cast<int>(random() % 12);
    tm.tm_mday = static_cast<int>(random() % 28) + 1;
    tm.tm_hour = static_cast<int>(random() % 24);
    tm.tm_min = static_cast<int>(random() % 60);
    tm.tm_sec = static_cast<int>(random() % 60);
    const int offset_minutes = static_cast<int>(random() % (2 * 24 * 60 - 1)) - (24 * 60 - 1);
    const uint32_t nanos = static_cast<uint32_t>(random() % 1000000000);
    char text[128];
    std::snprintf(text, sizeof(text), "%04d-%02d-%02dT%02d:%02d:%02d.%09u%c%02d:%02d", tm.tm_year + 1900, tm.tm_mon + 1,
                  tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, nanos, offset_minutes < 0 ? '-' : '+',
                  std::abs(offset_minutes) / 60, std::abs(offset_minutes) % 60);
    const int64_t seconds = static_cast<int64_t>(timegm(&tm)) - int64_t{offset_minutes} * 60;
    EXPECT_EQ(time_ok(text), seconds * kSecond + nanos) << text;
  }
}

TEST(TimeBoundTest, Relative) {
  const int64_t now = k20261122T210000Z * kSecond + 123;
  EXPECT_EQ(time_ok("-1h", now), now - 3600 * kSecond);
  EXPECT_EQ(time_ok("1h", now), now - 3600 * kSecond);  // no sign: before now
  EXPECT_EQ(time_ok("+1h", now), now + 3600 * kSecond);
  EXPECT_EQ(time_ok("-7d", now), now - 7 * 86400 * kSecond);
  EXPECT_EQ(time_ok("-2w", now), now - 14 * 86400 * kSecond);
  EXPECT_EQ(time_ok("-30m", now), now - 1800 * kSecond);
  EXPECT_EQ(time_ok("-10s", now), now - 10 * kSecond);
  EXPECT_EQ(time_ok("-500ms", now), now - 500'000'000);
  EXPECT_EQ(time_ok("-250us", now), now - 250'000);
  EXPECT_EQ(time_ok("-9ns", now), now - 9);
  EXPECT_EQ(time_ok("-1h30m", now), now - 5400 * kSecond);
  EXPECT_EQ(time_ok("1d2h3m4s5ms", now), now - ((86400 + 7200 + 180 + 4) * kSecond + 5'000'000));
  EXPECT_EQ(time_ok("-0s", now), now);
  EXPECT_EQ(time_ok(" -1h ", now), now - 3600 * kSecond);
  EXPECT_EQ(time_ok("now", now), now);
  EXPECT_EQ(time_ok("NOW", now), now);
  EXPECT_EQ(time_ok("-106000d", now), now - int64_t{106000} * 86400 * kSecond);
}

TEST(TimeBoundTest, ErrorsNameTheBadPart) {
  const std::pair<std::string_view, std::string_view> cases[] = {
      {"", "empty; expected an RFC 3339 time"},
      {"yesterday",
       "expected an RFC 3339 time (2026-11-22T21:00:00Z) or a duration before now (-1h, 7d, 500ms), "
       "got 'yesterday'"},
      {"-", "expected a duration after '-'"},
      {"-h", "got 'h'"},
      {"-5", "expected a unit after '5' (ns, us, ms, s, m, h, d, w)"},
      {"2026", "expected a unit after '2026'"},
      {"-5x", "unknown unit 'x' (ns, us, ms, s, m, h, d, w)"},
      {"-5H", "unknown unit 'H'"},
      {"-1h-5m", "got '-5m'"},
      {"1.5h", "fractions are not accepted (at '1.5h'): use a smaller unit, e.g. 1h30m"},
      {"-200000d", "the duration '-200000d' is too long"},
      {"-99999999999999999999d", "out of range"},
      {"+100000d", "out of range (1677-09-21T00:12:43.145224192Z to 2262-04-11T23:47:16.854775807Z)"},
      {"2026-13-01T00:00:00Z", "month 13 does not exist"},
      {"2026-00-01", "month 00 does not exist"},
      {"2026-02-29", "day 29 does not exist in 2026-02"},
      {"1900-02-29", "day 29 does not exist in 1900-02"},
      {"2026-11-31", "day 31 does not exist in 2026-11"},
      {"2026-11-22T24:00:00Z", "time 24:00:00 does not exist"},
      {"2026-11-22T21:60:00Z", "time 21:60:00 does not exist"},
      {"2026-11-22T21:00:00", "expected 'Z' or an offset like +02:00 after the time (local time is not accepted)"},
      {"2026-11-22T21:00:00+0200", "expected an offset like +02:00, got '+0200'"},
      {"2026-11-22T21:00:00+2:00", "expected an offset like +02:00"},
      {"2026-11-22T21:00:00+24:00", "expected an offset like +02:00"},
      {"2026-11-22T21:00:00ZZ", "unexpected 'Z' after the time"},
      {"2026-11-22T21:00:00+02:00x", "unexpected 'x' after the time"},
      {"2026-11-22T21:00Z", "expected a time hh:mm:ss after the date, got '21:00Z'"},
      {"2026-11-22T21:00:00.Z", "expected digits after '.'"},
      {"2026-11-22T21:00:00.1234567891Z", "at most 9 fractional digits"},
      {"2026-11-22X21:00:00Z", "expected 'T' and a time hh:mm:ss after the date, got 'X21:00:00Z'"},
      {"2026-1-2", "expected a date YYYY-MM-DD"},
      {"2300-01-01T00:00:00Z", "out of range"},
      {"0000-01-01", "out of range"},
      {"2262-04-11T23:47:16.854775808Z", "out of range"},
  };
  for (const auto& [text, part] : cases) {
    const std::string message = time_error(text, k20261122T210000Z * kSecond);
    EXPECT_NE(message.find(part), std::string::npos) << "'" << text << "' gave: " << message;
    EXPECT_EQ(message.rfind(std::string("bad time '").append(text).append("': "), 0), 0U) << message;
  }
}

TEST(TimeBoundTest, FormattedBoundsOrderLikeNanoseconds) {
  EXPECT_EQ(format_timestamp(k20261122T210000Z * kSecond + 123456789), "2026-11-22T21:00:00.123456789Z");
  EXPECT_EQ(format_timestamp(0), "1970-01-01T00:00:00.000000000Z");
  EXPECT_EQ(format_timestamp(-1), "1969-12-31T23:59:59.999999999Z");
  EXPECT_EQ(format_timestamp(INT64_MAX), "2262-04-11T23:47:16.854775807Z");
  EXPECT_EQ(format_timestamp(INT64_MIN), "1677-09-21T00:12:43.145224192Z");
  std::mt19937_64 random(30);
  const auto random_ns = [&]() -> int64_t {
    switch (random() % 3) {
      case 0:
        return static_cast<int64_t>(random());  // anywhere
      case 1:
        return k20261122T210000Z * kSecond + static_cast<int64_t>(random() % (2 * kSecond)) - kSecond;
      default:
        return static_cast<int64_t>(random() % 4000) - 2000;  // around the epoch, across the sign
    }
  };
  for (int round = 0; round < 20000; ++round) {
    const int64_t a = random_ns();
    const bool extreme = a == INT64_MAX || a == INT64_MIN;
    const int64_t b = round % 2 || extreme ? random_ns() : a + static_cast<int64_t>(random() % 3) - 1;
    const std::string ta = format_timestamp(a);
    const std::string tb = format_timestamp(b);
    ASSERT_TRUE(is_canonical_timestamp(ta)) << ta;
    EXPECT_EQ(ta < tb, a < b) << ta << " " << tb;
    EXPECT_EQ(ta == tb, a == b) << ta << " " << tb;
    EXPECT_EQ(time_ok(ta), a) << ta;  // and it reads back
  }
}

TEST(TimeBoundTest, CanonicalLineTimestamp) {
  EXPECT_EQ(head_timestamp(R"({"timestamp":"2026-11-22T21:00:00.123456789Z","level":"INFO"})"),
            std::optional<std::string_view>("2026-11-22T21:00:00.123456789Z"));
  EXPECT_EQ(head_timestamp(R"({"timestamp":"2026-11-22T21:00:00.123456789Z"})"),
            std::optional<std::string_view>("2026-11-22T21:00:00.123456789Z"));
  for (std::string_view line : {
           R"({ "timestamp":"2026-11-22T21:00:00.123456789Z"})",
           R"({"timestamp":"2026-11-22T21:00:00Z","level":"INFO"})",
           R"({"timestamp":"2026-11-22T21:00:00.123456789+00:00"})",
           R"({"timestamp":"2026-11-22T21:00:00.12345678Z"})",
           R"({"timestamp":"2026-11-22T21:00:00.123456789Z)",
           R"({"level":"INFO","timestamp":"2026-11-22T21:00:00.123456789Z"})",
           R"({"timestamp":"2026-11-22T21:00:00.123456789Zx"})",
           "",
       }) {
    EXPECT_EQ(head_timestamp(line), std::nullopt) << line;
  }
  EXPECT_TRUE(is_canonical_timestamp("0000-00-00T00:00:00.000000000Z"));
  EXPECT_FALSE(is_canonical_timestamp("2026-11-22T21:00:00.123456789z"));
  EXPECT_FALSE(is_canonical_timestamp("2026-11-22 21:00:00.123456789Z"));
}

}  // namespace
}  // namespace ringtail::reader
