// Which events pass: before init, the minimum level, set_min_level() and the
// control word a reader writes into the segment.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "fork_child.hpp"
#include "producer_options.hpp"
#include "ringtail/ringtail.hpp"
#include "segment_view.hpp"

// In ringtail::test: the core tests use its fork harness (ForkedChild,
// ChildChannel, ChildOutcome), SegmentView and small_options() as they are.
namespace ringtail::test {
namespace {

bool log_info(int n) { return RINGTAIL_INFO("numbered", ringtail::kv("n", n)); }

// One call site per level; "1" for each level whose event was committed.
std::string which_levels_pass() {
  std::string passed;
  passed += RINGTAIL_TRACE("trace") ? '1' : '0';
  passed += RINGTAIL_DEBUG("debug") ? '1' : '0';
  passed += RINGTAIL_INFO("info") ? '1' : '0';
  passed += RINGTAIL_WARN("warn") ? '1' : '0';
  passed += RINGTAIL_ERROR("error") ? '1' : '0';
  passed += RINGTAIL_CRITICAL("critical") ? '1' : '0';
  return passed;
}

uint64_t committed_events(const SegmentView& seg) {
  uint64_t total = 0;
  for (uint32_t i = 0; i < seg.slot_count(); ++i) total += seg.slot(i).committed.load();
  return total;
}

TEST(LevelTest, EmitBeforeInitReturnsFalseAndIsCounted) {
  ForkedChild child = ForkedChild::start([](ChildChannel& ch) {
    CHILD_EXPECT(ch, !log_info(1));
    CHILD_EXPECT(ch, !RINGTAIL_TRACE("trace before init"));
    bool thread_result = true;
    std::thread early([&] { thread_result = log_info(2); });
    early.join();
    CHILD_EXPECT(ch, !thread_result);
    LossCounters lost = loss_counters();
    CHILD_EXPECT_EQ(ch, lost.before_init, 3U);
    CHILD_EXPECT_EQ(ch, lost.no_ring, 0U);
    CHILD_EXPECT_EQ(ch, lost.callsite_table_full, 0U);

    CHILD_EXPECT(ch, init(small_options()).ok());
    CHILD_EXPECT(ch, log_info(3));
    std::thread late([&] { thread_result = log_info(4); });
    late.join();
    CHILD_EXPECT(ch, thread_result);
    lost = loss_counters();
    CHILD_EXPECT_EQ(ch, lost.before_init, 3U);
    CHILD_EXPECT_EQ(ch, lost.no_ring, 0U);
    return 0;
  });
  std::optional<SegmentView> seg = SegmentView::open_after_exit(child);
  ASSERT_TRUE(seg);
  // Only the events after init are in the segment, and only their site is described.
  EXPECT_EQ(seg->callsite_count(), 1U);
  EXPECT_EQ(committed_events(*seg), 2U);
  std::vector<int64_t> numbers;
  for (const Record& r : seg->all_records()) {
    if (r.is_event()) numbers.push_back(seg->fields(r).at(0).as_i64());
  }
  std::sort(numbers.begin(), numbers.end());
  EXPECT_EQ(numbers, (std::vector<int64_t>{3, 4}));
}

TEST(LevelTest, EventsBelowTheMinimumLevelAreFilteredAndWriteNothing) {
  ForkedChild child = ForkedChild::start([](ChildChannel& ch) {
    Options options = small_options();
    options.min_level = Level::kInfo;
    CHILD_EXPECT(ch, init(options).ok());
    CHILD_EXPECT_EQ(ch, min_level(), Level::kInfo);
    CHILD_EXPECT_EQ(ch, which_levels_pass(), "001111");
    CHILD_EXPECT_EQ(ch, which_levels_pass(), "001111");
    CHILD_EXPECT_EQ(ch, loss_counters().before_init, 0U);
    return 0;
  });
  std::optional<SegmentView> seg = SegmentView::open_after_exit(child);
  ASSERT_TRUE(seg);
  EXPECT_EQ(seg->header().control_min_level.load(), static_cast<uint32_t>(Level::kInfo));
  // Filtered sites are never described; the four that passed are.
  ASSERT_EQ(seg->callsite_count(), 4U);
  for (uint32_t id = 0; id < 4; ++id) {
    EXPECT_EQ(seg->entry(id).level, static_cast<uint8_t>(Level::kInfo) + id);
  }
  EXPECT_EQ(committed_events(*seg), 8U);
}

TEST(LevelTest, SetMinLevelChangesWhatPassesAndTheControlWord) {
  ForkedChild child = ForkedChild::start([](ChildChannel& ch) {
    CHILD_EXPECT(ch, init(small_options()).ok());
    absl::StatusOr<shm::SegmentFile> own = shm::SegmentFile::open(segment_name(), shm::SegmentFile::Access::kReadOnly);
    if (!CHILD_EXPECT(ch, own.ok())) return 1;
    const auto& header = *reinterpret_cast<const shm::SegmentHeader*>(own->data());
    const std::pair<Level, const char*> steps[] = {
        {Level::kError, "000011"},    {Level::kTrace, "111111"}, {Level::kOff, "000000"},
        {Level::kCritical, "000001"}, {Level::kDebug, "011111"}, {Level::kWarn, "000111"},
    };
    for (const auto& [level, expected] : steps) {
      set_min_level(level);
      CHILD_EXPECT_EQ(ch, min_level(), level);
      CHILD_EXPECT_EQ(ch, header.control_min_level.load(), static_cast<uint32_t>(level));
      CHILD_EXPECT_EQ(ch, which_levels_pass(), std::string(expected));
    }
    return 0;
  });
  std::optional<SegmentView> seg = SegmentView::open_after_exit(child);
  ASSERT_TRUE(seg);
  EXPECT_EQ(seg->header().control_min_level.load(), static_cast<uint32_t>(Level::kWarn));
  EXPECT_EQ(committed_events(*seg), 2U + 6 + 0 + 1 + 5 + 3);
}

TEST(LevelTest, ReaderWritingTheControlWordChangesWhatCallSitesLetThrough) {
  ForkedChild child = ForkedChild::start([](ChildChannel& ch) {
    Options options = small_options();
    options.min_level = Level::kWarn;
    CHILD_EXPECT(ch, init(options).ok());
    ch.value("segment", segment_name());
    for (;;) {
      const std::string command = ch.receive();
      if (command == "stop") break;
      ch.value("min_level", static_cast<int>(min_level()));
      ch.value("passed", which_levels_pass());
    }
    return 0;
  });
  const std::optional<std::string> name = child.await("segment");
  ASSERT_EQ(name, child.expected_segment());
  std::optional<SegmentView> seg = SegmentView::open(*name);
  ASSERT_TRUE(seg);
  std::atomic<uint32_t>& control = seg->header().control_min_level;
  EXPECT_EQ(control.load(), static_cast<uint32_t>(Level::kWarn));

  // What the child's call sites let through after the reader wrote `word`.
  auto after_writing = [&](std::optional<uint32_t> word) {
    if (word) control.store(*word, std::memory_order_relaxed);
    child.send("check");
    const std::optional<std::string> level = child.await("min_level");
    const std::optional<std::string> passed = child.await("passed");
    return std::make_pair(level.value_or("?"), passed.value_or("?"));
  };
  using P = std::pair<std::string, std::string>;
  EXPECT_EQ(after_writing(std::nullopt), (P{"3", "000111"}));
  EXPECT_EQ(after_writing(0), (P{"0", "111111"}));
  EXPECT_EQ(after_writing(6), (P{"6", "000000"}));
  EXPECT_EQ(after_writing(4), (P{"4", "000011"}));
  // A word beyond kOff is no level: nothing passes and it reads as kOff.
  EXPECT_EQ(after_writing(200), (P{"6", "000000"}));
  EXPECT_EQ(after_writing(1), (P{"1", "011111"}));
  child.send("stop");

  const ChildOutcome out = child.finish();
  EXPECT_CHILD_OK(out);
  EXPECT_EQ(committed_events(*seg), 3U + 6 + 0 + 2 + 0 + 5);
}

}  // namespace
}  // namespace ringtail::test
