#include "ringtail/reader/ingest/segment_summary.hpp"

#include <algorithm>

#include "absl/status/statusor.h"
#include "ringtail/shm/layout.hpp"

namespace ringtail::reader {
namespace {

// Loss counters are producer-written: a hostile or wrapped value must not
// wrap the sum back to a small number.
uint64_t saturating_add(uint64_t a, uint64_t b) { return b > UINT64_MAX - a ? UINT64_MAX : a + b; }

}  // namespace

SegmentSummary summarize(const SegmentView& view) {
  SegmentSummary s;
  s.slots = view.slot_count();
  const uint64_t capacity = view.ring_capacity();
  for (uint32_t i = 0; i < s.slots; ++i) {
    const absl::StatusOr<RingSlotSnapshot> slot = view.slot_snapshot(i);
    if (!slot.ok()) continue;  // cannot happen: i < slot_count
    if (slot->state_untrusted == static_cast<uint32_t>(shm::SlotState::kActive)) ++s.active;
    if (slot->state_untrusted == static_cast<uint32_t>(shm::SlotState::kRetired)) ++s.retired;
    const uint64_t w = slot->write_pos_untrusted;
    const uint64_t r = slot->read_pos_untrusted;
    s.pending_bytes += w > r ? std::min(w - r, capacity) : 0;  // at most 4096 * 2^30: no overflow
    s.dropped_events = saturating_add(s.dropped_events, slot->dropped_full_untrusted);
    s.dropped_events = saturating_add(s.dropped_events, slot->dropped_too_big_untrusted);
    s.dropped_full = saturating_add(s.dropped_full, slot->dropped_full_untrusted);
    s.dropped_too_big = saturating_add(s.dropped_too_big, slot->dropped_too_big_untrusted);
    s.audit_lost = saturating_add(s.audit_lost, slot->audit_lost_untrusted);
  }
  const SegmentLossCounters loss = view.loss_counters();
  s.dropped_events = saturating_add(s.dropped_events, loss.lost_no_ring);
  s.dropped_events = saturating_add(s.dropped_events, loss.lost_callsite_table_full);
  s.audit_lost = saturating_add(s.audit_lost, loss.audit_lost_outside_rings);
  s.lost_no_ring = loss.lost_no_ring;
  s.lost_callsite_table_full = loss.lost_callsite_table_full;
  s.control_level = view.control_min_level_untrusted();
  return s;
}

}  // namespace ringtail::reader
