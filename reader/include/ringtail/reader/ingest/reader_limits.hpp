// What the reader allocates for a segment, whatever the segment claims.
//
// A segment's header may declare 1 GiB rings and records of half a ring,
// and its writer may fill them; a valid but hostile (or merely huge) segment
// must not make the reader allocate accordingly. These limits hold per ring
// cursor regardless of the segment's geometry (docs/ARCHITECTURE.md, "What
// the reader allocates").
#pragma once

#include <cstdint>

#include "ringtail/shm/layout.hpp"

namespace ringtail::reader {

// The largest record the reader copies out and decodes. A larger event (or
// frame pop) is skipped without being copied: its seq is accounted for and
// a "ringtail.too_big" note says so.
inline constexpr uint32_t kMaxRecordCopyBytes = uint32_t{16} << 20;

// A cursor keeps at most this much of its record buffer between batches;
// a buffer grown for a larger record is given back at the batch's end.
inline constexpr uint32_t kRetainedRecordBufferBytes = uint32_t{64} << 10;

// Ring bytes are copied out this many at a time (or one record, if larger),
// into a staging buffer per decoding thread; one grown past it for a large
// record is given back at the batch's end.
inline constexpr uint32_t kRingStageBytes = uint32_t{256} << 10;

// A thread's frames (contexts and spans) as the reader keeps them: no more
// than a producer's frame stack can hold (shm::kMaxFrameStackBytes), counted
// in record bytes. A push record beyond it poisons the ring: no honest
// producer writes one.
inline constexpr uint32_t kMaxFrameBytesPerThread = shm::kMaxFrameStackBytes;

}  // namespace ringtail::reader
