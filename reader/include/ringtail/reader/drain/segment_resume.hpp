// SegmentResume: what a consuming drain needs to continue a segment exactly
// where its stored output ends, after a restart or an output error: per ring
// the cursor's resume point (ring_cursor.hpp, RingResume), and the loss
// counters it has already written notes about, so that neither lines nor
// notes are written twice and no context is lost.
//
// The engine builds one per segment with every pass and hands it to the
// sink with the flush of that pass's lines (EventSink::flush_with); a sink
// that keeps it with its data (StoreSink's checkpoint) gives it back when
// the segment is opened again (EventSink::resume_point). The bytes are
// encode()'s, read back by decode() as untrusted input: every count and
// length is checked against the limits below, and anything wrong makes
// decode() fail (the drain then starts at the rings' read positions, as
// without a resume point: at least once, nothing lost).
//
// Threading: plain values and pure functions.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "ringtail/reader/ingest/ring_cursor.hpp"

namespace ringtail::reader {

struct SegmentResume {
  struct Ring {
    uint32_t slot = 0;
    RingResume resume;
    uint64_t audit_lost_noted = 0;  // the slot's audit_lost as far as "ringtail.audit_lost" notes went
  };
  uint32_t pid = 0;
  uint64_t start_ticks = 0;
  // Header loss counters as far as "ringtail.lost" / "ringtail.audit_lost" notes went.
  uint64_t lost_no_ring_noted = 0;
  uint64_t lost_callsite_table_full_noted = 0;
  uint64_t audit_lost_outside_rings_noted = 0;
  bool crash_noted = false;  // the "ringtail.crashed" note is written
  std::vector<Ring> rings;   // by slot, ascending, at most one per slot
};

// Limits decode() enforces (a segment has at most 65,536 slots).
inline constexpr uint32_t kMaxResumeRings = 65536;
inline constexpr size_t kMaxResumeBytes = size_t{64} << 20;

std::string encode(const SegmentResume& resume);
// InvalidArgument naming the first problem.
absl::StatusOr<SegmentResume> decode_segment_resume(std::string_view bytes);

}  // namespace ringtail::reader
