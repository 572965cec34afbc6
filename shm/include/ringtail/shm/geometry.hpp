// Where each region of a segment lies, derived from three numbers.
//
// The whole layout follows from (ring_capacity, ring_slot_count,
// callsite_capacity), so a producer computes it once at creation and a reader
// recomputes it from the header and requires every stored offset to match:
// a header that disagrees with its own geometry is rejected, not trusted.
#pragma once

#include <cstdint>

#include "absl/status/statusor.h"

namespace ringtail::shm {

struct SegmentGeometry {
  uint64_t ring_capacity = 0;  // power of two, data bytes per ring
  uint32_t ring_slot_count = 0;
  uint32_t callsite_capacity = 0;

  uint64_t callsite_table_offset = 0;
  uint64_t directory_offset = 0;
  uint64_t rings_offset = 0;
  uint64_t segment_bytes = 0;

  // The largest record a ring accepts. Half the capacity guarantees that a
  // record plus the padding before it always fits into an empty ring.
  uint32_t max_record_bytes() const;
  uint64_t ring_data_offset(uint32_t slot_index) const { return rings_offset + slot_index * ring_capacity; }
  uint64_t slot_offset(uint32_t slot_index) const;
  uint64_t callsite_offset(uint32_t id) const;
  // Bytes reserved at creation: header, call-site table and directory.
  uint64_t metadata_bytes() const { return rings_offset; }
};

// Checks the three inputs against the bounds in layout.hpp and lays the
// segment out. Errors name the bad input.
absl::StatusOr<SegmentGeometry> make_geometry(uint64_t ring_capacity, uint32_t ring_slot_count,
                                              uint32_t callsite_capacity);

}  // namespace ringtail::shm
