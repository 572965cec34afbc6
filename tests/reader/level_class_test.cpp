// Which stored file a line goes to (ringtail/reader/storage/store_names.hpp): the
// level class by shm's stored level names, read from the line's head.
#include <gtest/gtest.h>

#include <string_view>

#include "ringtail/reader/storage/store_names.hpp"
#include "ringtail/shm/level.hpp"

namespace ringtail::reader {
namespace {

TEST(LevelClassTest, ByStoredName) {
  EXPECT_EQ(level_class_of("TRACE"), LevelClass::kDebug);
  EXPECT_EQ(level_class_of("DEBUG"), LevelClass::kDebug);
  EXPECT_EQ(level_class_of("INFO"), LevelClass::kInfo);
  EXPECT_EQ(level_class_of("WARN"), LevelClass::kWarn);
  EXPECT_EQ(level_class_of("ERROR"), LevelClass::kError);
  EXPECT_EQ(level_class_of("CRITICAL"), LevelClass::kError);
  // Not a stored event level: info.
  for (const std::string_view other : {"OFF", "error", "WARNING", "", "LEVEL(9)"}) {
    EXPECT_EQ(level_class_of(other), LevelClass::kInfo) << other;
  }
}

TEST(LevelClassTest, OfALineByItsHead) {
  EXPECT_EQ(level_class_of_line(R"({"timestamp":"2026-11-30T10:00:00.000000000Z","level":"ERROR","message":"m"})"),
            LevelClass::kError);
  EXPECT_EQ(level_class_of_line(R"({"timestamp":"2026-11-30T10:00:00.000000000Z","level":"TRACE"})"),
            LevelClass::kDebug);
  // No head as the reader writes it: info, and no timestamp.
  const std::string_view short_stamp = R"({"timestamp":"2026-11-30T10:00:00Z","level":"ERROR"})";
  EXPECT_EQ(level_class_of_line(short_stamp), LevelClass::kInfo);
  EXPECT_EQ(line_timestamp(short_stamp), "");
  EXPECT_EQ(level_class_of_line(R"({"level":"ERROR"})"), LevelClass::kInfo);
}

}  // namespace
}  // namespace ringtail::reader
