// shm::make_geometry: bounds, errors and the layout it derives.
#include "ringtail/shm/geometry.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>

#include "ringtail/shm/layout.hpp"

namespace ringtail::shm {
namespace {

TEST(GeometryTest, SmallestSegmentLayout) {
  absl::StatusOr<SegmentGeometry> g = make_geometry(kMinRingCapacity, 1, kMinCallSites);
  ASSERT_TRUE(g.ok()) << g.status();
  EXPECT_EQ(g->ring_capacity, 4096U);
  EXPECT_EQ(g->ring_slot_count, 1U);
  EXPECT_EQ(g->callsite_capacity, 16U);
  EXPECT_EQ(g->callsite_table_offset, kHeaderBytes);
  // 16 entries of 1 KiB after the 4 KiB header: the directory starts at 20 KiB.
  EXPECT_EQ(g->directory_offset, 4096U + 16 * 1024);
  // One 256-byte slot, rounded up to a page.
  EXPECT_EQ(g->rings_offset, 4096U + 16 * 1024 + 4096);
  EXPECT_EQ(g->segment_bytes, g->rings_offset + 4096);
  EXPECT_EQ(g->metadata_bytes(), g->rings_offset);
  EXPECT_EQ(g->max_record_bytes(), 2048U);
}

TEST(GeometryTest, RegionsAreOrderedAlignedAndDoNotOverlap) {
  for (uint64_t capacity : {kMinRingCapacity, uint64_t{65536}, uint64_t{1} << 20}) {
    for (uint32_t slots : {1U, 3U, 16U, 17U, 255U, kMaxRingSlots}) {
      for (uint32_t sites : {kMinCallSites, 17U, 4096U, kMaxCallSites}) {
        absl::StatusOr<SegmentGeometry> g = make_geometry(capacity, slots, sites);
        ASSERT_TRUE(g.ok()) << g.status();
        EXPECT_GE(g->callsite_table_offset, kHeaderBytes);
        EXPECT_GE(g->directory_offset, g->callsite_offset(sites - 1) + kCallSiteEntryBytes);
        EXPECT_GE(g->rings_offset, g->slot_offset(slots - 1) + kRingSlotBytes);
        EXPECT_EQ(g->directory_offset % kPageBytes, 0U);
        EXPECT_EQ(g->rings_offset % kPageBytes, 0U);
        EXPECT_EQ(g->callsite_offset(0), g->callsite_table_offset);
        EXPECT_EQ(g->callsite_offset(5), g->callsite_table_offset + 5 * kCallSiteEntryBytes);
        EXPECT_EQ(g->slot_offset(2), g->directory_offset + 2 * kRingSlotBytes);
        EXPECT_EQ(g->slot_offset(0) % alignof(RingSlot), 0U);
        for (uint32_t i : {0U, slots / 2, slots - 1}) {
          EXPECT_EQ(g->ring_data_offset(i), g->rings_offset + i * capacity);
          EXPECT_EQ(g->ring_data_offset(i) % kPageBytes, 0U);
        }
        EXPECT_EQ(g->segment_bytes, g->ring_data_offset(slots - 1) + capacity);
        EXPECT_EQ(g->max_record_bytes(), capacity / 2);
      }
    }
  }
}

TEST(GeometryTest, LargestSegmentDoesNotOverflow) {
  absl::StatusOr<SegmentGeometry> g = make_geometry(kMaxRingCapacity, kMaxRingSlots, kMaxCallSites);
  ASSERT_TRUE(g.ok()) << g.status();
  // 4096 rings of 1 GiB: 4 TiB of (sparse) ring data.
  EXPECT_EQ(g->segment_bytes, g->rings_offset + (uint64_t{1} << 42));
  EXPECT_EQ(g->ring_data_offset(kMaxRingSlots - 1), g->rings_offset + (uint64_t{kMaxRingSlots} - 1) * kMaxRingCapacity);
  EXPECT_EQ(g->max_record_bytes(), uint32_t{1} << 29);
}

void expect_invalid(uint64_t capacity, uint32_t slots, uint32_t sites, const std::string& names) {
  absl::StatusOr<SegmentGeometry> g = make_geometry(capacity, slots, sites);
  ASSERT_FALSE(g.ok()) << "accepted " << capacity << ", " << slots << ", " << sites;
  EXPECT_EQ(g.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(std::string(g.status().message()).find(names), std::string::npos)
      << "'" << g.status().message() << "' does not name '" << names << "'";
}

TEST(GeometryTest, RejectsRingCapacityOutOfBoundsOrNotAPowerOfTwo) {
  for (uint64_t capacity :
       {uint64_t{0}, uint64_t{1}, uint64_t{2048}, uint64_t{4095}, uint64_t{4097}, uint64_t{3 * 4096}, uint64_t{65535},
        kMaxRingCapacity * 2, kMaxRingCapacity + 4096, UINT64_MAX, uint64_t{1} << 63}) {
    SCOPED_TRACE(capacity);
    expect_invalid(capacity, 4, 64, "ring capacity " + std::to_string(capacity));
  }
  EXPECT_TRUE(make_geometry(kMaxRingCapacity, 1, kMinCallSites).ok());
  EXPECT_TRUE(make_geometry(8192, 1, kMinCallSites).ok());
}

TEST(GeometryTest, RejectsSlotCountOutOfBounds) {
  expect_invalid(4096, 0, 64, "ring slot count 0");
  expect_invalid(4096, kMaxRingSlots + 1, 64, "ring slot count 4097");
  expect_invalid(4096, UINT32_MAX, 64, "ring slot count");
  EXPECT_TRUE(make_geometry(4096, kMaxRingSlots, 64).ok());
}

TEST(GeometryTest, RejectsCallSiteCapacityOutOfBounds) {
  expect_invalid(4096, 4, 0, "call-site capacity 0");
  expect_invalid(4096, 4, kMinCallSites - 1, "call-site capacity 15");
  expect_invalid(4096, 4, kMaxCallSites + 1, "call-site capacity 65537");
  EXPECT_TRUE(make_geometry(4096, 4, kMinCallSites).ok());
  EXPECT_TRUE(make_geometry(4096, 4, kMaxCallSites).ok());
}

}  // namespace
}  // namespace ringtail::shm
