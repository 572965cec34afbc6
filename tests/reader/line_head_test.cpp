// The line head (ringtail/reader/output/line_head.hpp): the level keys spell
// shm's stored names, and what the formatter's pieces write reads back; a
// line whose head is not exactly as written has none.
#include "ringtail/reader/output/line_head.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "ringtail/reader/output/json_text.hpp"
#include "ringtail/reader/output/time_text.hpp"
#include "ringtail/shm/level.hpp"

namespace ringtail::reader {
namespace {

static_assert(head_level_key(shm::Level::kInfo) == R"(,"level":"INFO","message":)");

// A line as EventJsonFormatter starts it.
std::string line_at(int64_t ns, shm::Level level) {
  std::string line(kHeadStart);
  TimestampFormatter().append(line, ns);
  line += head_level_key(level);
  line += R"("m","service":"s"})";
  return line;
}

TEST(LineHeadTest, LevelKeysSpellTheStoredNames) {
  for (size_t i = 0; i < shm::kLevelNames.size(); ++i) {
    EXPECT_EQ(head_level_key(static_cast<shm::Level>(i)),
              std::string(R"(,"level":")").append(shm::kLevelNames[i]).append(R"(","message":)"));
  }
  // Not a level: OFF, as no honest producer logs at it.
  EXPECT_EQ(head_level_key(static_cast<shm::Level>(7)), R"(,"level":"OFF","message":)");
  EXPECT_EQ(head_level_key(static_cast<shm::Level>(255)), R"(,"level":"OFF","message":)");
}

TEST(LineHeadTest, ReadsBackWhatIsWritten) {
  for (const int64_t ns : {int64_t{0}, int64_t{-1}, int64_t{1795381200123456789}, INT64_MAX, INT64_MIN}) {
    for (size_t i = 0; i < shm::kLevelNames.size(); ++i) {
      const std::string line = line_at(ns, static_cast<shm::Level>(i));
      EXPECT_EQ(head_timestamp(line), std::optional<std::string_view>(format_timestamp(ns))) << line;
      EXPECT_EQ(head_level(line), std::optional<std::string_view>(shm::kLevelNames[i])) << line;
    }
  }
}

TEST(LineHeadTest, OnlyAHeadAsWritten) {
  for (const std::string_view line : {
           std::string_view(),
           std::string_view(R"({"timestamp":"2026-11-22T21:00:00Z","level":"INFO"})"),
           std::string_view(R"({ "timestamp":"2026-11-22T21:00:00.123456789Z","level":"INFO"})"),
           std::string_view(R"({"level":"INFO","timestamp":"2026-11-22T21:00:00.123456789Z"})"),
           std::string_view(R"({"timestamp":"2026-11-22T21:00:00.123456789z","level":"INFO"})"),
       }) {
    EXPECT_EQ(head_timestamp(line), std::nullopt) << line;
    EXPECT_EQ(head_level(line), std::nullopt) << line;
  }
  // A timestamp, but no level where the formatter writes it.
  for (const std::string_view line : {
           std::string_view(R"({"timestamp":"2026-11-22T21:00:00.123456789Z"})"),
           std::string_view(R"({"timestamp":"2026-11-22T21:00:00.123456789Z","message":"m","level":"INFO"})"),
           std::string_view(R"({"timestamp":"2026-11-22T21:00:00.123456789Z","level":"\u0045RROR"})"),
           std::string_view(R"({"timestamp":"2026-11-22T21:00:00.123456789Z","level":"INFO)"),
       }) {
    EXPECT_EQ(head_timestamp(line), std::optional<std::string_view>("2026-11-22T21:00:00.123456789Z")) << line;
    EXPECT_EQ(head_level(line), std::nullopt) << line;
  }
  // The word is returned as written, level or not: callers judge it.
  EXPECT_EQ(head_level(R"({"timestamp":"2026-11-22T21:00:00.123456789Z","level":"info"})"),
            std::optional<std::string_view>("info"));
}

}  // namespace
}  // namespace ringtail::reader
