// The producer trusts nothing in its segment that others can write. A reader
// must be able to write the segment (read_pos, the level and sampling words),
// so with mode 0660 or 0666 anyone in the group can write all of it; the
// producer keeps every value it acts on (call-site count, which slots are
// whose, ring geometry, string limit) in its own memory. These tests rewrite
// those words under a live producer, as a hostile or buggy reader would,
// and check the producer goes on correctly.
#include <gtest/gtest.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdint>
#include <optional>
#include <string>
#include <thread>

#include "fork_child.hpp"
#include "producer_options.hpp"
#include "ringtail/ringtail.hpp"
#include "segment_view.hpp"

// In ringtail::test: the core tests use its fork harness (ForkedChild,
// ChildChannel, ChildOutcome), SegmentView and small_options() as they are.
namespace ringtail::test {
namespace {

TEST(HostileSegmentTest, RewrittenCallSiteCountDoesNotMoveNewSites) {
  ForkedChild child = ForkedChild::start([](ChildChannel& ch) {
    CHILD_EXPECT(ch, init(small_options()).ok());
    CHILD_EXPECT(ch, RINGTAIL_INFO("site zero"));
    CHILD_EXPECT(ch, RINGTAIL_INFO("site one"));
    std::optional<SegmentView> self = SegmentView::open(segment_name());
    if (!CHILD_EXPECT(ch, self.has_value())) return 1;
    // A reader that says the table is empty, then one that says it is huge.
    self->header().callsite_count.store(0);
    CHILD_EXPECT(ch, RINGTAIL_INFO("site two"));
    self->header().callsite_count.store(0x7FFFFFFF);
    self->header().callsite_capacity = 0xFFFFFFFF;
    CHILD_EXPECT(ch, RINGTAIL_INFO("site three"));
    self->header().callsite_capacity = 256;
    return 0;
  });
  std::optional<SegmentView> seg = SegmentView::open_after_exit(child);
  ASSERT_TRUE(seg);
  ASSERT_EQ(seg->callsite_count(), 4U) << "the producer published its own count again";
  EXPECT_EQ(seg->site_text(0).message, "site zero") << "a new site overwrote an old one";
  EXPECT_EQ(seg->site_text(1).message, "site one");
  EXPECT_EQ(seg->site_text(2).message, "site two");
  EXPECT_EQ(seg->site_text(3).message, "site three");
  for (const Record& r : seg->all_records()) {
    if (r.is_event()) {
      EXPECT_LT(r.callsite_id, 4U);
    }
  }
}

TEST(HostileSegmentTest, RewrittenSlotWordsNeitherShareARingNorLeaveIt) {
  constexpr int kEvents = 500;  // about 24 KiB: far more than a 4 KiB ring holds with no reader
  ForkedChild child = ForkedChild::start([](ChildChannel& ch) {
    Options options = small_options();
    options.ring_bytes = 4 << 10;
    options.max_string_bytes = 64;
    CHILD_EXPECT(ch, init(options).ok());
    CHILD_EXPECT(ch, RINGTAIL_INFO("main", kv("tid", gettid_now())));  // slot 0, still in use
    std::optional<SegmentView> self = SegmentView::open(segment_name());
    if (!CHILD_EXPECT(ch, self.has_value())) return 1;
    // Slot 0 "retired" under its live owner; every other slot a huge ring;
    // the string limit far above the producer's.
    self->slot(0).state.store(static_cast<uint32_t>(shm::SlotState::kRetired));
    for (uint32_t i = 1; i < self->slot_count(); ++i) self->slot(i).capacity = uint64_t{1} << 40;
    self->header().max_string_bytes = 16 << 20;
    uint64_t committed = 0;
    std::thread worker([&] {
      const std::string long_text(1000, 'x');
      ch.value("worker_tid", gettid_now());
      for (int i = 0; i < kEvents; ++i) committed += RINGTAIL_INFO("worker", kv("i", i), kv("text", long_text));
    });
    worker.join();
    ch.value("worker_committed", committed);
    CHILD_EXPECT(ch, RINGTAIL_INFO("main again", kv("tid", gettid_now())));
    for (uint32_t i = 1; i < self->slot_count(); ++i) self->slot(i).capacity = options.ring_bytes;
    self->slot(0).state.store(static_cast<uint32_t>(shm::SlotState::kActive));
    return 0;
  });
  const ChildOutcome out = child.finish();
  EXPECT_CHILD_OK(out);
  std::optional<SegmentView> seg = SegmentView::open(child.expected_segment());
  ASSERT_TRUE(seg);
  const uint32_t worker_tid = static_cast<uint32_t>(std::stoul(out.value_or("worker_tid", "0")));
  // The worker took a free slot, not the one its "retired" state offered.
  EXPECT_NE(seg->slot(0).os_tid.load(), worker_tid) << "the worker shared the main thread's ring";
  EXPECT_EQ(seg->slot(1).os_tid.load(), worker_tid);
  // Its ring stayed 4 KiB: full after a few events, the rest dropped, and
  // the ring after it untouched.
  const uint64_t committed = std::stoull(out.value_or("worker_committed", "0"));
  EXPECT_GT(committed, 0U);
  EXPECT_LT(committed, uint64_t{kEvents}) << "the ring never filled: it was larger than its 4 KiB";
  EXPECT_EQ(seg->slot(1).committed.load() + seg->slot(1).dropped_full.load(), uint64_t{kEvents});
  const std::byte* next_ring = seg->ring(2);
  for (size_t i = 0; i < (4 << 10); ++i) {
    if (next_ring[i] != std::byte{0}) {
      ADD_FAILURE() << "byte " << i << " of the next ring was written";
      break;
    }
  }
  // Strings were cut at the producer's own limit, so the events fit.
  EXPECT_EQ(seg->slot(1).dropped_too_big.load(), 0U);
  for (const Record& r : seg->records(1)) {
    if (!r.is_event()) continue;
    const std::vector<FieldValue> fields = seg->fields(r);
    ASSERT_EQ(fields.size(), 2U);
    EXPECT_EQ(fields[1].text.size(), 64U);
    EXPECT_EQ(fields[1].original_bytes, 1000U);
  }
  // The main thread's events are all in its own ring, in order.
  int main_events = 0;
  for (const Record& r : seg->records(0)) main_events += r.is_event() ? 1 : 0;
  EXPECT_EQ(main_events, 2);
}

}  // namespace
}  // namespace ringtail::test
