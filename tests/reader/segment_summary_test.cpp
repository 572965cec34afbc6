// reader::summarize(): a segment's occupancy and losses, from a real
// producer's segment, then with its counters poked to hostile values.
#include <cstdint>
#include <optional>
#include <string>

#include <gtest/gtest.h>

#include "producer_child.hpp"
#include "ringtail/reader/ingest/segment_summary.hpp"
#include "ringtail/reader/ingest/segment_view.hpp"
#include "ringtail/ringtail.hpp"
#include "ringtail/shm/layout.hpp"
#include "ringtail/shm/segment_file.hpp"

namespace ringtail::reader {
namespace {

using ringtail::test::ProducerChild;

constexpr uint64_t kRing = 4096;

class SegmentSummaryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Options options;
    options.service = "rt-summary";
    options.ring_bytes = kRing;
    options.max_threads = 2;
    options.max_callsites = 16;
    // Far more than one 4 KiB ring holds, never drained: the ring fills and drops.
    child_.emplace(ProducerChild::start(options, [](ProducerChild::Link&) {
      for (int i = 0; i < 500; ++i) RINGTAIL_INFO("fill", kv("i", i), kv("s", std::string(40, 'x')));
      return 0;
    }));
    ASSERT_TRUE(child_->ok()) << child_->error();
    ASSERT_EQ(child_->join(), 0);
    absl::StatusOr<shm::SegmentFile> file =
        shm::SegmentFile::open(child_->segment_name(), shm::SegmentFile::Access::kReadWrite);
    ASSERT_TRUE(file.ok()) << file.status();
    file_ = std::move(*file);
  }

  SegmentView view() {
    absl::StatusOr<SegmentView> v = SegmentView::open(child_->segment_name(), SegmentView::Access::kReadOnly);
    EXPECT_TRUE(v.ok()) << v.status();
    return std::move(*v);
  }
  shm::SegmentHeader& header() { return *reinterpret_cast<shm::SegmentHeader*>(file_.data()); }
  shm::RingSlot& slot(uint32_t i) {
    return *reinterpret_cast<shm::RingSlot*>(file_.data() + header().directory_offset + i * shm::kRingSlotBytes);
  }

  std::optional<ProducerChild> child_;
  shm::SegmentFile file_;
};

TEST_F(SegmentSummaryTest, AddsUpTheSlotsAndTheHeader) {
  const SegmentView v = view();
  const SegmentSummary s = summarize(v);
  EXPECT_EQ(s.slots, 2u);
  uint32_t active = 0;
  uint32_t retired = 0;
  uint64_t pending = 0;
  uint64_t dropped = header().lost_no_ring.load() + header().lost_callsite_table_full.load();
  for (uint32_t i = 0; i < 2; ++i) {
    active += slot(i).state.load() == static_cast<uint32_t>(shm::SlotState::kActive);
    retired += slot(i).state.load() == static_cast<uint32_t>(shm::SlotState::kRetired);
    pending += slot(i).write_pos.load() - slot(i).read_pos.load();
    dropped += slot(i).dropped_full.load() + slot(i).dropped_too_big.load();
  }
  EXPECT_EQ(s.active, active);
  EXPECT_EQ(s.retired, retired);
  EXPECT_EQ(active + retired, 1u) << "one thread logged";
  EXPECT_EQ(s.pending_bytes, pending);
  EXPECT_GT(s.pending_bytes, 0u) << "nothing drained it";
  EXPECT_LE(s.pending_bytes, kRing);
  EXPECT_EQ(s.dropped_events, dropped);
  EXPECT_GT(s.dropped_events, 0u) << "500 events do not fit in 4 KiB";
  EXPECT_EQ(s.audit_lost, 0u);
  EXPECT_EQ(s.control_level, v.control_min_level_untrusted());
}

TEST_F(SegmentSummaryTest, ADrainedSegmentHasNothingPending) {
  for (uint32_t i = 0; i < 2; ++i) slot(i).read_pos.store(slot(i).write_pos.load());
  EXPECT_EQ(summarize(view()).pending_bytes, 0u);
  // A read position past the write position (hostile or torn) is not "negative pending".
  slot(0).read_pos.store(slot(0).write_pos.load() + 100);
  EXPECT_EQ(summarize(view()).pending_bytes, 0u);
}

TEST_F(SegmentSummaryTest, HostileCountersAreClampedAndSaturate) {
  for (uint32_t i = 0; i < 2; ++i) {
    slot(i).read_pos.store(0);
    slot(i).write_pos.store(UINT64_MAX);  // claims far more than the ring holds
    slot(i).dropped_full.store(UINT64_MAX - 1);
    slot(i).audit_lost.store(UINT64_MAX / 2 + 1);
  }
  header().lost_no_ring.store(7);
  header().audit_lost_outside_rings.store(3);
  const SegmentSummary s = summarize(view());
  EXPECT_EQ(s.pending_bytes, 2 * kRing) << "each ring clamped to its capacity";
  EXPECT_EQ(s.dropped_events, UINT64_MAX);
  EXPECT_EQ(s.audit_lost, UINT64_MAX);
}

}  // namespace
}  // namespace ringtail::reader
