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
  // Flight mode: the chunks each ring is cut into; 0 in a normal segment.
  uint32_t ring_chunk_count = 0;

  uint64_t callsite_table_offset = 0;
  uint64_t directory_offset = 0;
  uint64_t rings_offset = 0;
  uint64_t segment_bytes = 0;

  // The largest record a ring accepts. Half the capacity guarantees that a
  // record plus the padding before it always fits into an empty ring; in
  // flight mode a chunk less its start record, so that a record always fits
  // into a fresh chunk.
  uint32_t max_record_bytes() const;
  bool flight() const { return ring_chunk_count != 0; }
  uint64_t chunk_bytes() const { return flight() ? ring_capacity / ring_chunk_count : ring_capacity; }
  uint64_t ring_data_offset(uint32_t slot_index) const { return rings_offset + slot_index * ring_capacity; }
  uint64_t slot_offset(uint32_t slot_index) const;
  uint64_t callsite_offset(uint32_t id) const;
  // Bytes reserved at creation: header, call-site table and directory.
  uint64_t metadata_bytes() const { return rings_offset; }
};

// Checks the inputs against the bounds in layout.hpp and lays the segment
// out. `ring_chunk_count` is 0 for normal rings, else the flight-mode chunk
// count (a power of two in [kMinFlightChunks, kMaxFlightChunks], chunks of at
// least kMinFlightChunkBytes). Errors name the bad input.
absl::StatusOr<SegmentGeometry> make_geometry(uint64_t ring_capacity, uint32_t ring_slot_count,
                                              uint32_t callsite_capacity, uint32_t ring_chunk_count = 0);

// The chunk count a producer chooses for a flight-mode ring of `ring_capacity`
// bytes: kFlightChunks, fewer for a small ring; 0 when the ring is too small
// for two chunks (below 8 KiB).
uint32_t flight_chunk_count(uint64_t ring_capacity);

}  // namespace ringtail::shm
