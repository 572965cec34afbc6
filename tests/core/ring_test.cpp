// What a thread's ring holds: drops when it is full (counted, visible as a
// seq gap), records too big for it, and string values cut to max_string_bytes.
#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

#include "fork_child.hpp"
#include "producer_options.hpp"
#include "ringtail/ringtail.hpp"
#include "segment_view.hpp"

// In ringtail::test: the core tests use its fork harness (ForkedChild,
// ChildChannel, ChildOutcome), SegmentView and small_options() as they are.
namespace ringtail::test {
namespace {

bool fill(uint64_t i) { return RINGTAIL_INFO("fill", ringtail::kv("i", i)); }  // 32-byte records
bool big(std::string_view s) { return RINGTAIL_INFO("big", ringtail::kv("s", s)); }

// The full-ring tests: one thread's 4 KiB ring, which holds the thread's start
// record, then kFits 32-byte fill() events.
constexpr uint64_t kRing = 4096;
constexpr uint64_t kFits = (kRing - sizeof(shm::ThreadStartRecord)) / 32;

Options one_small_ring_options() {
  Options options = small_options();
  options.ring_bytes = kRing;
  options.max_threads = 1;
  options.max_string_bytes = 4096;
  return options;
}

TEST(RingTest, FullRingDropsAreCountedAndSeqShowsTheGap) {
  constexpr uint64_t kCalls = 1000;
  ForkedChild child = ForkedChild::start([](ChildChannel& ch) {
    CHILD_EXPECT(ch, init(one_small_ring_options()).ok());
    uint64_t committed = 0;
    uint64_t first_false = kCalls;
    for (uint64_t i = 0; i < kCalls; ++i) {
      if (fill(i)) {
        ++committed;
        CHILD_EXPECT(ch, first_false == kCalls);  // nothing passes once the ring is full
      } else if (first_false == kCalls) {
        first_false = i;
      }
    }
    ch.value("committed", committed);
    // Bigger than max_record_bytes (ring / 2): dropped however empty the ring.
    CHILD_EXPECT(ch, !big(std::string(3000, 'x')));
    const LossCounters lost = loss_counters();
    CHILD_EXPECT_EQ(ch, lost.no_ring + lost.callsite_table_full + lost.before_init, 0U);
    ch.value("full", 1);
    ch.receive();  // the parent, as a reader, drains the ring
    CHILD_EXPECT(ch, fill(kCalls));
    CHILD_EXPECT(ch, big(std::string(2000, 'y')));  // fits max_record_bytes
    return 0;
  });
  ASSERT_TRUE(child.await("full"));
  std::optional<SegmentView> seg = SegmentView::open(child.expected_segment());
  ASSERT_TRUE(seg);
  shm::RingSlot& slot = seg->slot(0);
  EXPECT_EQ(slot.committed.load(), kFits);
  EXPECT_EQ(slot.dropped_full.load(), kCalls - kFits);
  EXPECT_EQ(slot.dropped_too_big.load(), 1U);
  EXPECT_EQ(slot.write_pos.load(), sizeof(shm::ThreadStartRecord) + kFits * 32);
  const std::vector<Record> records = seg->records(0);
  ASSERT_EQ(records.size(), kFits + 1);
  EXPECT_TRUE(records[0].is_thread_start());
  EXPECT_EQ(records[0].seq, 0U);
  for (uint64_t i = 1; i < records.size(); ++i) {
    EXPECT_EQ(records[i].seq, i - 1);
    EXPECT_EQ(seg->fields(records[i]).at(0).word, i - 1);
  }
  EXPECT_EQ(records.back().seq, slot.committed.load() - 1);
  EXPECT_EQ(slot.committed.load() + slot.dropped_full.load() + slot.dropped_too_big.load(), kCalls + 1);

  // Drain like a reader, then let the child log again.
  const uint64_t drained_to = slot.write_pos.load();
  slot.read_pos.store(drained_to, std::memory_order_release);
  child.send("drained");
  const ChildOutcome out = child.finish();
  EXPECT_CHILD_OK(out);
  EXPECT_EQ(out.value("committed"), std::to_string(kFits));
  const std::vector<Record> after = seg->records(0);
  ASSERT_EQ(after.size(), 2U);
  // Every event handled spent a seq: the gap before the new event is exactly the drops.
  EXPECT_EQ(after[0].seq, kCalls + 1);
  EXPECT_EQ(after[0].seq - records.back().seq - 1, slot.dropped_full.load() + slot.dropped_too_big.load());
  EXPECT_EQ(seg->fields(after[0]).at(0).word, kCalls);
  EXPECT_EQ(after[1].seq, kCalls + 2);
  const std::vector<FieldValue> v = seg->fields(after[1]);
  ASSERT_EQ(v.size(), 1U);
  EXPECT_EQ(v[0].text, std::string(2000, 'y'));
  EXPECT_EQ(slot.committed.load(), kFits + 2);
}

TEST(RingTest, LongStringsAreCutAndFlagged) {
  constexpr uint32_t kMax = 16;
  ForkedChild child = ForkedChild::start([](ChildChannel& ch) {
    Options options = small_options();
    options.max_string_bytes = kMax;
    CHILD_EXPECT(ch, init(options).ok());
    const std::string long_text = "0123456789abcdefghijklmnopqrstuvwxyz" + std::string(64, '!');
    CHILD_EXPECT(ch, big(long_text));
    CHILD_EXPECT(ch, big(std::string_view(long_text).substr(0, kMax + 1)));
    CHILD_EXPECT(ch, big(std::string_view(long_text).substr(0, kMax)));
    CHILD_EXPECT(ch, big("abc"));
    CHILD_EXPECT(ch, big(""));
    const char* null_text = nullptr;
    CHILD_EXPECT(ch, RINGTAIL_INFO("two strings", ringtail::kv("a", long_text), ringtail::kv("b", null_text)));
    return 0;
  });
  std::optional<SegmentView> seg = SegmentView::open_after_exit(child);
  ASSERT_TRUE(seg);
  const std::string long_text = "0123456789abcdefghijklmnopqrstuvwxyz" + std::string(64, '!');
  struct Expected {
    std::string stored;
    uint32_t original;
  };
  const std::vector<Expected> expected = {
      {long_text.substr(0, kMax), static_cast<uint32_t>(long_text.size())},
      {long_text.substr(0, kMax), kMax + 1},
      {long_text.substr(0, kMax), kMax},
      {"abc", 3},
      {"", 0},
      {long_text.substr(0, kMax), static_cast<uint32_t>(long_text.size())},
      {"", 0},
  };
  std::vector<FieldValue> values;
  for (const Record& r : seg->records(0)) {
    if (!r.is_event()) continue;
    for (FieldValue& v : seg->fields(r)) values.push_back(std::move(v));
  }
  ASSERT_EQ(values.size(), expected.size());
  for (size_t i = 0; i < values.size(); ++i) {
    EXPECT_EQ(values[i].type, shm::FieldType::kString) << i;
    EXPECT_EQ(values[i].text, expected[i].stored) << i;
    EXPECT_EQ(values[i].original_bytes, expected[i].original) << i;
    EXPECT_TRUE(values[i].padding_zero) << i;
  }
}

EmitResult try_fill(uint64_t i) { return RINGTAIL_TRY_LOG(Level::kInfo, "try fill", ringtail::kv("i", i)); }

TEST(RingTest, TryLogReportsAFullRingWithoutCountingOrSpendingASeq) {
  ForkedChild child = ForkedChild::start([](ChildChannel& ch) {
    CHILD_EXPECT(ch, init(one_small_ring_options()).ok());
    CHILD_EXPECT_EQ(ch, max_event_bytes(), kRing / 2);
    CHILD_EXPECT(ch, RINGTAIL_TRY_LOG(Level::kDebug, "filtered") == EmitResult::kFiltered);
    for (uint64_t i = 0; i < kFits; ++i) CHILD_EXPECT(ch, try_fill(i) == EmitResult::kCommitted);
    for (int k = 0; k < 100; ++k) CHILD_EXPECT(ch, try_fill(kFits) == EmitResult::kRingFull);
    CHILD_EXPECT_EQ(ch, loss_counters().ring_full, 0U);
    count_dropped();  // the caller gives up on one event: now it is counted
    CHILD_EXPECT_EQ(ch, loss_counters().ring_full, 1U);
    CHILD_EXPECT(ch, !fill(0));  // RINGTAIL_LOG counts its own drop
    CHILD_EXPECT_EQ(ch, loss_counters().ring_full, 2U);
    CHILD_EXPECT(ch, RINGTAIL_TRY_LOG(Level::kInfo, "too big", ringtail::kv("s", std::string(3000, 'x'))) ==
                         EmitResult::kTooBig);
    CHILD_EXPECT_EQ(ch, loss_counters().too_big, 1U);
    return 0;
  });
  std::optional<SegmentView> seg = SegmentView::open_after_exit(child);
  ASSERT_TRUE(seg);
  shm::RingSlot& slot = seg->slot(0);
  EXPECT_EQ(slot.committed.load(), kFits);
  EXPECT_EQ(slot.dropped_full.load(), 2U);  // the 100 reported attempts spent nothing
  EXPECT_EQ(slot.dropped_too_big.load(), 1U);
  const std::vector<Record> records = seg->records(0);
  ASSERT_EQ(records.size(), kFits + 1);
  EXPECT_EQ(records.back().seq, kFits - 1);
}

}  // namespace
}  // namespace ringtail::test
