// The Filter of one command (ringtail/reader/query/filter.hpp): clauses
// ANDed, the --level floor and the --since / --until bounds, decided on the
// raw line (may_match) and on the parsed one (matches).
#include "ringtail/reader/query/filter.hpp"

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
#include "ringtail/reader/output/json_text.hpp"
#include "ringtail/reader/query/parsed_line.hpp"

namespace ringtail::reader {
namespace {

using namespace filter_testing;  // NOLINT(google-build-using-namespace)

TEST(FilterTest, MayMatchNeverRejectsAMatchingLine) {
  ValueGenerator values(99);
  std::mt19937_64& random = values.random();
  dom::parser parser;
  size_t matched = 0, skipped = 0;
  for (int round = 0; round < 300; ++round) {
    Filter filter;
    for (WhereClause& clause : random_clauses(values, random() % 3)) filter.add(std::move(clause));
    const int64_t base = k20261122T210000Z * kSecond;
    if (random() % 2) filter.set_min_level(static_cast<shm::Level>(random() % 6));
    if (random() % 2) filter.set_since(base + static_cast<int64_t>(random() % 1000) * kSecond);
    if (random() % 2) filter.set_until(base + static_cast<int64_t>(random() % 1000) * kSecond);
    for (int n = 0; n < 50; ++n) {
      const std::string json = random_line(values, base + static_cast<int64_t>(random() % (1000 * kSecond)));
      const bool matches = filter.matches(parse_line(parser, json));
      const bool may_match = filter.may_match(json);
      if (matches) {
        ++matched;
        EXPECT_TRUE(may_match) << json;
      }
      if (!may_match) ++skipped;
    }
  }
  EXPECT_GT(matched, 500U);
  EXPECT_GT(skipped, 2000U);
}

// ---------------------------------------------------------------------------
// Filter

TEST(FilterTest, DefaultKeepsEveryObject) {
  Filter filter;
  dom::parser parser;
  EXPECT_TRUE(filter.matches(parse_line(parser, R"({"a":1})")));
  EXPECT_TRUE(filter.matches(parse_line(parser, "{}")));
  EXPECT_FALSE(filter.matches(parse_line(parser, "[]")));
  EXPECT_TRUE(filter.may_match("anything"));
}

// Found by the where fuzzer: an empty raw line (a view with no data) was
// searched with memmem(nullptr, ...).
TEST(FilterTest, AnEmptyRawLineHoldsNoNeedle) {
  Filter filter;
  filter.add(parse_ok("tool=write_file"));
  EXPECT_FALSE(filter.may_match(std::string_view()));
  EXPECT_FALSE(filter.may_match(""));
  EXPECT_FALSE(filter.may_match("wri"));  // shorter than the needle
}

TEST(FilterTest, ClausesAreAnded) {
  Filter filter;
  filter.add(parse_ok("tool=write_file"));
  filter.add(parse_ok("duration_ms>1"));
  dom::parser parser;
  EXPECT_TRUE(filter.matches(parse_line(parser, R"({"tool":"write_file","duration_ms":1.5})")));
  EXPECT_FALSE(filter.matches(parse_line(parser, R"({"tool":"write_file","duration_ms":0.5})")));
  EXPECT_FALSE(filter.matches(parse_line(parser, R"({"tool":"read_file","duration_ms":1.5})")));
  EXPECT_TRUE(filter.may_match(R"({"tool":"write_file","duration_ms":1.5})"));
  EXPECT_FALSE(filter.may_match(R"({"tool":"read_file","duration_ms":1.5})"));
  EXPECT_FALSE(filter.may_match(R"({"tool":"write_file"})"));
}

TEST(FilterTest, EqualsForMessageServicePid) {
  const WhereClause service = WhereClause::equals("service", std::string("agent"));
  EXPECT_EQ(service.text(), R"("service" = "agent")");
  EXPECT_EQ(service.needle(), std::optional<std::string>(R"("service":"agent")"));
  const WhereClause pid = WhereClause::equals("pid", uint64_t{1234});
  EXPECT_EQ(pid.value(), JsonScalar(int64_t{1234}));
  EXPECT_EQ(pid.needle(), std::optional<std::string>(R"("pid":1234)"));
  // A message is a string even when it reads like a JSON literal.
  const WhereClause message = WhereClause::equals("message", std::string("true"));
  EXPECT_FALSE(message.is_path());
  const WhereClause dotted = WhereClause::equals("a.b", std::string("x"));
  EXPECT_FALSE(dotted.is_path());
  dom::parser parser;
  const dom::element line = parse_line(parser, R"({"message":"true","service":"agent","pid":1234,"a":{"b":"x"}})");
  EXPECT_TRUE(service.matches(line));
  EXPECT_TRUE(pid.matches(line));
  EXPECT_TRUE(message.matches(line));
  EXPECT_FALSE(dotted.matches(line));  // equals() names one top-level key
}

TEST(FilterTest, LevelFloor) {
  EXPECT_EQ(*parse_min_level("warn"), shm::Level::kWarn);
  EXPECT_EQ(*parse_min_level(" Error "), shm::Level::kError);
  EXPECT_EQ(*parse_min_level("CRITICAL"), shm::Level::kCritical);
  EXPECT_EQ(*parse_min_level("trace"), shm::Level::kTrace);
  EXPECT_EQ(*parse_min_level("Info"), shm::Level::kInfo);
  EXPECT_EQ(*parse_min_level("debug"), shm::Level::kDebug);
  // shm::parse_level's words: "warning" is warn, as for RINGTAIL_LEVEL.
  EXPECT_EQ(*parse_min_level("warning"), shm::Level::kWarn);
  EXPECT_EQ(*parse_min_level(" WARNING "), shm::Level::kWarn);
  for (std::string_view bad : {"verbose", "off", "OFF", "", "warnings", "INFO2"}) {
    const absl::StatusOr<shm::Level> level = parse_min_level(bad);
    ASSERT_FALSE(level.ok()) << bad;
    EXPECT_EQ(level.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(std::string(level.status().message()),
              std::string("bad --level '")
                  .append(bad)
                  .append("': expected one of TRACE, DEBUG, INFO, WARN, ERROR, CRITICAL (any case)"));
  }

  Filter filter;
  filter.set_min_level(shm::Level::kWarn);
  dom::parser parser;
  for (const std::string_view level : kLevels) {
    const std::string json = std::string(R"({"timestamp":"2026-11-22T21:00:00.000000000Z","level":")")
                                 .append(level)
                                 .append(R"(","message":"m"})");
    const bool expected = level == "WARN" || level == "ERROR" || level == "CRITICAL";
    EXPECT_EQ(filter.matches(parse_line(parser, json)), expected) << level;
    EXPECT_EQ(filter.may_match(json), expected) << level;  // decided on the raw text
  }
  EXPECT_FALSE(filter.matches(parse_line(parser, R"({"message":"m"})")));
  EXPECT_FALSE(filter.matches(parse_line(parser, R"({"level":"warn"})")));  // lines are upper case
  EXPECT_FALSE(filter.matches(parse_line(parser, R"({"level":3})")));
  // An escaped level cannot be decided on the raw text: let the parse decide.
  const std::string escaped = R"({"timestamp":"2026-11-22T21:00:00.000000000Z","level":"\u0045RROR"})";
  EXPECT_TRUE(filter.may_match(escaped));
  EXPECT_TRUE(filter.matches(parse_line(parser, escaped)));
}

TEST(FilterTest, TimeBoundsAreHalfOpen) {
  const int64_t since = k20261122T210000Z * kSecond;
  const int64_t until = since + 3600 * kSecond;
  Filter filter;
  filter.set_since(since);
  filter.set_until(until);
  EXPECT_EQ(filter.since(), since);
  EXPECT_EQ(filter.until(), until);
  dom::parser parser;
  const auto line_at = [](int64_t ns) {
    std::string json = R"({"timestamp":)";
    TimestampFormatter().append(json, ns);
    json += R"(,"level":"INFO","message":"m"})";
    return json;
  };
  const std::pair<int64_t, bool> cases[] = {
      {since - 1, false}, {since, true},      {since + 1, true}, {until - 1, true},
      {until, false},     {until + 1, false}, {0, false},        {INT64_MAX, false},
  };
  for (const auto& [ns, expected] : cases) {
    const std::string json = line_at(ns);
    EXPECT_EQ(filter.matches(parse_line(parser, json)), expected) << json;
    EXPECT_EQ(filter.may_match(json), expected) << json;
  }
  // Other timestamp forms are parsed, then compared in ns; may_match cannot tell.
  const std::pair<std::string_view, bool> others[] = {
      {R"({"timestamp":"2026-11-22T23:30:00+02:00"})", true},
      {R"({"timestamp":"2026-11-22T22:00:00Z"})", false},
      {R"({"timestamp":"2026-11-22T21:00:00Z"})", true},
      {R"({ "timestamp" : "2026-11-22T21:00:00.000000000Z" })", true},
      {R"({"timestamp":"yesterday"})", false},
      {R"({"timestamp":12})", false},
      {R"({"level":"INFO"})", false},
  };
  for (const auto& [json, expected] : others) {
    EXPECT_EQ(filter.matches(parse_line(parser, json)), expected) << json;
    EXPECT_TRUE(filter.may_match(json)) << json;
  }
}

}  // namespace
}  // namespace ringtail::reader
