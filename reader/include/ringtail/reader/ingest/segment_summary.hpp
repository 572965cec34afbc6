// SegmentSummary: a segment's occupancy and losses in a few numbers, from
// its live words (what `ringtail ls` shows and `ringtail gc` decides on).
//
// Every number comes from untrusted shared memory, read once, without
// locking: a live producer may move them while summarize() reads, so the
// summary is a snapshot of no single instant. It is made safe to print and
// to compare, never trusted: each ring's pending bytes are clamped to the
// ring's capacity, and the loss sums saturate instead of wrapping.
//
// Threading: a plain function of the view; use from any thread.
#pragma once

#include <cstdint>

#include "ringtail/reader/ingest/segment_view.hpp"

namespace ringtail::reader {

struct SegmentSummary {
  uint32_t slots = 0;
  uint32_t active = 0;   // slots in state active
  uint32_t retired = 0;  // slots in state retired
  // Sum over slots of write_pos - read_pos, each clamped to [0, ring capacity].
  uint64_t pending_bytes = 0;
  // Sum of every slot's dropped_full + dropped_too_big, plus the header's
  // lost_no_ring + lost_callsite_table_full (saturating).
  uint64_t dropped_events = 0;
  // Sum of every slot's audit_lost and the header's audit_lost_outside_rings:
  // audit events lost for any cause (also in dropped_events).
  uint64_t audit_lost = 0;
  // dropped_events by cause (each saturating): the slots' dropped_full and
  // dropped_too_big, the header's lost_no_ring and lost_callsite_table_full.
  uint64_t dropped_full = 0;
  uint64_t dropped_too_big = 0;
  uint64_t lost_no_ring = 0;
  uint64_t lost_callsite_table_full = 0;
  uint32_t control_level = 0;  // the control word as the producer left it, unvalidated
};

SegmentSummary summarize(const SegmentView& view);

}  // namespace ringtail::reader
