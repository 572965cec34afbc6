// shm level table: the one parser every input goes through (environment, CLI,
// sampling rules) and the stored spelling the reader writes and reads back.
#include "ringtail/shm/level.hpp"

#include <gtest/gtest.h>

#include <string>

namespace ringtail::shm {
namespace {

TEST(LevelTest, NamesRoundTripThroughTheParserInAnyCase) {
  for (size_t i = 0; i < kLevelNames.size(); ++i) {
    const auto level = static_cast<Level>(i);
    const std::string upper(level_name(level));
    std::string lower = upper;
    for (char& c : lower) c = static_cast<char>(c - 'A' + 'a');
    EXPECT_EQ(parse_level(upper), level) << upper;
    EXPECT_EQ(parse_level(lower), level) << lower;
  }
  EXPECT_EQ(parse_level("Critical"), Level::kCritical);
  EXPECT_EQ(level_name(Level::kOff), "OFF");
}

TEST(LevelTest, WarningIsWarnAndNothingElseIsALevel) {
  EXPECT_EQ(parse_level("warning"), Level::kWarn);
  EXPECT_EQ(parse_level("WARNING"), Level::kWarn);
  for (const char* bad : {"", "warnings", "fatal", "err", "info ", " info", "7", "LEVEL(3)", "inf"}) {
    EXPECT_EQ(parse_level(bad), std::nullopt) << '"' << bad << '"';
  }
}

TEST(LevelTest, OutOfRangeValuesHaveNoName) {
  EXPECT_TRUE(is_level(6));
  EXPECT_FALSE(is_level(7));
  EXPECT_FALSE(is_level(UINT32_MAX));
  EXPECT_EQ(level_name(static_cast<Level>(7)), "");
  EXPECT_EQ(level_name(static_cast<Level>(255)), "");
}

TEST(LevelTest, StoredLevelsAreExactAndNeverOff) {
  EXPECT_EQ(stored_event_level("TRACE"), Level::kTrace);
  EXPECT_EQ(stored_event_level("CRITICAL"), Level::kCritical);
  // A stored line is read as written: no case folding, no alias, and "OFF"
  // is not a level an event is written at.
  EXPECT_EQ(stored_event_level("warn"), std::nullopt);
  EXPECT_EQ(stored_event_level("WARNING"), std::nullopt);
  EXPECT_EQ(stored_event_level("OFF"), std::nullopt);
  EXPECT_EQ(stored_event_level(""), std::nullopt);
}

}  // namespace
}  // namespace ringtail::shm
