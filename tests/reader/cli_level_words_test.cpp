// The `ringtail` tool reads every level a person types by one rule
// (shm::parse_level): any case, and "warning" for warn, in `level`, `tail
// --level` and `query --level`. Needs $RINGTAIL_TEST_BIN_DIR/tools/ringtail
// (fails without).
#include <unistd.h>

#include <filesystem>
#include <string>

#include <gtest/gtest.h>

#include "producer_child.hpp"
#include "ringtail/reader/ingest/segment_view.hpp"
#include "ringtail/shm/layout.hpp"
#include "subprocess.hpp"

namespace ringtail::reader {
namespace {

using ringtail::test::ProducerChild;
using ringtail::test::Result;
using ringtail::test::run;

class CliLevelWordsTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(ringtail::test::tool_built("ringtail")); }
};

TEST_F(CliLevelWordsTest, WarningIsWarnForTheLevelVerb) {
  ProducerChild child = ProducerChild::start_held(ringtail::test::small_producer_options("rt-level-words"));
  ASSERT_TRUE(child.ok()) << child.error();
  ASSERT_TRUE(child.wait_signal());
  const std::string pid = std::to_string(child.pid());

  const Result r = run({"level", pid, "Warning"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "pid " + pid + ": level INFO -> WARN\n");
  absl::StatusOr<SegmentView> view = SegmentView::open(child.segment_name(), SegmentView::Access::kReadOnly);
  ASSERT_TRUE(view.ok()) << view.status();
  EXPECT_EQ(view->control_min_level_untrusted(), static_cast<uint32_t>(shm::Level::kWarn));
  const Result bad = run({"level", pid, "warnings"});
  EXPECT_EQ(bad.code, 2) << bad.err;

  child.resume();
  ASSERT_EQ(child.join(), 0);
}

TEST_F(CliLevelWordsTest, WarningIsAFloorForQueryAndTail) {
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("ringtail-level-words-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  // An empty store: whatever query answers, the floor is not a usage error.
  const Result warning = run({"query", dir.string(), "--level", "WARNING"});
  EXPECT_NE(warning.code, 2) << warning.err;
  EXPECT_EQ(warning.err.find("--level"), std::string::npos) << warning.err;
  const Result bad = run({"query", dir.string(), "--level", "warnings"});
  EXPECT_EQ(bad.code, 2) << bad.err;
  EXPECT_NE(bad.err.find("--level"), std::string::npos) << bad.err;
  std::filesystem::remove_all(dir);

  EXPECT_EQ(run({"tail", "--level", "warnings"}).code, 2);
}

}  // namespace
}  // namespace ringtail::reader
