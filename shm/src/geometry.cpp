#include "ringtail/shm/geometry.hpp"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "ringtail/shm/layout.hpp"

namespace ringtail::shm {
namespace {

constexpr uint64_t round_up(uint64_t value, uint64_t alignment) {
  return (value + alignment - 1) / alignment * alignment;
}

}  // namespace

uint32_t SegmentGeometry::max_record_bytes() const {
  if (flight())
    return static_cast<uint32_t>(std::min<uint64_t>(chunk_bytes(), uint64_t{1} << 31) - sizeof(ThreadStartRecord));
  return static_cast<uint32_t>(std::min<uint64_t>(ring_capacity / 2, uint64_t{1} << 31));
}

uint64_t SegmentGeometry::slot_offset(uint32_t slot_index) const {
  return directory_offset + uint64_t{slot_index} * kRingSlotBytes;
}

uint64_t SegmentGeometry::callsite_offset(uint32_t id) const {
  return callsite_table_offset + uint64_t{id} * kCallSiteEntryBytes;
}

uint32_t flight_chunk_count(uint64_t ring_capacity) {
  const uint64_t chunks = std::min<uint64_t>(kFlightChunks, ring_capacity / kMinFlightChunkBytes);
  return chunks >= kMinFlightChunks ? static_cast<uint32_t>(chunks) : 0;
}

absl::StatusOr<SegmentGeometry> make_geometry(uint64_t ring_capacity, uint32_t ring_slot_count,
                                              uint32_t callsite_capacity, uint32_t ring_chunk_count) {
  if (ring_capacity < kMinRingCapacity || ring_capacity > kMaxRingCapacity ||
      (ring_capacity & (ring_capacity - 1)) != 0) {
    return absl::InvalidArgumentError(absl::StrCat("ring capacity ", ring_capacity, " is not a power of two between ",
                                                   kMinRingCapacity, " and ", kMaxRingCapacity, " bytes"));
  }
  if (ring_slot_count < 1 || ring_slot_count > kMaxRingSlots) {
    return absl::InvalidArgumentError(
        absl::StrCat("ring slot count ", ring_slot_count, " is not between 1 and ", kMaxRingSlots));
  }
  if (callsite_capacity < kMinCallSites || callsite_capacity > kMaxCallSites) {
    return absl::InvalidArgumentError(absl::StrCat("call-site capacity ", callsite_capacity, " is not between ",
                                                   kMinCallSites, " and ", kMaxCallSites));
  }
  if (ring_chunk_count != 0 &&
      (ring_chunk_count < kMinFlightChunks || ring_chunk_count > kMaxFlightChunks ||
       (ring_chunk_count & (ring_chunk_count - 1)) != 0 || ring_capacity / ring_chunk_count < kMinFlightChunkBytes)) {
    return absl::InvalidArgumentError(
        absl::StrCat("ring chunk count ", ring_chunk_count, " is not a power of two between ", kMinFlightChunks,
                     " and ", kMaxFlightChunks, " leaving chunks of at least ", kMinFlightChunkBytes, " bytes of the ",
                     ring_capacity, "-byte ring"));
  }
  SegmentGeometry g;
  g.ring_capacity = ring_capacity;
  g.ring_chunk_count = ring_chunk_count;
  g.ring_slot_count = ring_slot_count;
  g.callsite_capacity = callsite_capacity;
  g.callsite_table_offset = kHeaderBytes;
  g.directory_offset =
      round_up(g.callsite_table_offset + uint64_t{callsite_capacity} * kCallSiteEntryBytes, kPageBytes);
  // Ring data is aligned to its own capacity's page boundary so each ring can
  // be reserved with one fallocate of whole pages.
  g.rings_offset = round_up(g.directory_offset + uint64_t{ring_slot_count} * kRingSlotBytes, kPageBytes);
  g.segment_bytes = g.rings_offset + uint64_t{ring_slot_count} * ring_capacity;
  return g;
}

}  // namespace ringtail::shm
