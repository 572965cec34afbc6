#include "segment_drainer.hpp"

#include <algorithm>
#include <atomic>
#include <utility>

#include "absl/strings/str_cat.h"
#include "ringtail/reader/ingest/reader_limits.hpp"
#include "ringtail/shm/layout.hpp"

namespace ringtail::reader {
namespace {

// Lines are handed to the sink in chunks of about this many bytes.
constexpr size_t kChunkBytes = size_t{1} << 20;
// Records read from one ring before the next ring's turn.
constexpr uint64_t kBatchBytes = uint64_t{256} << 10;

std::string_view view_of(const absl::Status& status) {
  return std::string_view(status.message().data(), status.message().size());
}

}  // namespace

SegmentDrainer::SegmentDrainer(SegmentView view, std::optional<ConsumerLease> lease, const DrainOptions& options,
                               std::optional<SegmentResume> resume)
    : options_(options),
      view_(std::move(view)),
      lease_(std::move(lease)),
      table_(view_),
      formatter_(view_.identity(), options.redactor.get()),
      buffer_(
          view_.slot_count() + 1,
          ReorderBuffer::Limits{std::chrono::duration_cast<std::chrono::nanoseconds>(options.reorder_window).count(),
                                options.reorder_max_lines, options.reorder_max_bytes}),
      notes_lane_(view_.slot_count()),
      rings_(view_.slot_count()) {
  for (uint32_t i = 0; i < rings_.size(); ++i) rings_[i].slot = i;
  if (resume.has_value() && resume->pid == view_.identity().pid &&
      resume->start_ticks == view_.identity().process_start_ticks) {
    resume_ = std::move(*resume);
    // What the notes already said is not said again.
    loss_seen_.lost_no_ring = resume_.lost_no_ring_noted;
    loss_seen_.lost_callsite_table_full = resume_.lost_callsite_table_full_noted;
    loss_seen_.audit_lost_outside_rings = resume_.audit_lost_outside_rings_noted;
    crash_noted_ = resume_.crash_noted;
  }
  resume_.pid = view_.identity().pid;
  resume_.start_ticks = view_.identity().process_start_ticks;
  // A count past the capacity is reported by every cursor that meets an unknown id; nothing to add here.
  (void)table_.refresh();
}

SegmentDrainer::~SegmentDrainer() = default;

void SegmentDrainer::release_lease() {
  if (lease_.has_value()) lease_->release();
}

void SegmentDrainer::mark_output_stalled(uint64_t since_realtime_ns, uint32_t error_number) {
  if (lease_.has_value()) lease_->mark_stalled(since_realtime_ns, error_number);
}

void SegmentDrainer::clear_output_stalled() {
  if (lease_.has_value()) lease_->clear_stalled();
}

SegmentDrainer::Parts SegmentDrainer::take_parts() {
  // The cursors and the table point into the mapping, which moves with the
  // view without changing address; they go with this drainer.
  return Parts{std::move(view_), std::exchange(lease_, std::nullopt)};
}

void SegmentDrainer::check_producer(DrainContext& ctx) {
  if (state_ == ProducerState::kAlive) {
    state_ = producer_state(view_);
    // The pass that drains a dead producer ends where its rings ended now:
    // nothing anyone else writes into the segment later is read.
    if (state_ != ProducerState::kAlive) {
      for (Ring& ring : rings_) {
        if (ring.cursor != nullptr) ring.cursor->end_at_current_write_pos();
      }
    }
    if (state_ == ProducerState::kCrashed) {
      ctx.report(absl::StrCat("segment ", name(), ": producer pid ", identity().pid, " (service \"", identity().service,
                              "\") crashed; draining the events it committed"));
    }
  }
  // Events that never reached a ring: note the increase since the last look.
  const SegmentLossCounters now = view_.loss_counters();
  const uint64_t no_ring = now.lost_no_ring > loss_seen_.lost_no_ring ? now.lost_no_ring - loss_seen_.lost_no_ring : 0;
  const uint64_t table_full = now.lost_callsite_table_full > loss_seen_.lost_callsite_table_full
                                  ? now.lost_callsite_table_full - loss_seen_.lost_callsite_table_full
                                  : 0;
  loss_seen_.lost_no_ring = std::max(loss_seen_.lost_no_ring, now.lost_no_ring);
  loss_seen_.lost_callsite_table_full = std::max(loss_seen_.lost_callsite_table_full, now.lost_callsite_table_full);
  if (now.audit_lost_outside_rings > loss_seen_.audit_lost_outside_rings) {
    // Audit events that never reached a ring: as loud as those a ring lost.
    const uint64_t lost = now.audit_lost_outside_rings - loss_seen_.audit_lost_outside_rings;
    loss_seen_.audit_lost_outside_rings = now.audit_lost_outside_rings;
    ctx.stats.audit_lost += lost;
    ShapedLines& lines = buffer_.lane_lines(notes_lane_);
    formatter_.append_note(lines, ctx.realtime_now_ns, shm::Level::kError, "ringtail.audit_lost",
                           {{"audit_lost", lost},
                            {"audit_lost_total", now.audit_lost_outside_rings},
                            {"cause", std::string_view("no_ring_or_callsite_table_full")}});
    buffer_.push(notes_lane_, ctx.realtime_now_ns, 0, ReorderBuffer::Kind::kNote);
    ctx.report(absl::StrCat("AUDIT EVENTS LOST: segment ", name(), " (service \"", identity().service, "\", pid ",
                            identity().pid, ") lost ", lost, " audit events before they reached a ring (",
                            now.audit_lost_outside_rings,
                            " in all): a thread had no ring or the call-site table was full"));
  }
  if (no_ring == 0 && table_full == 0) return;
  ShapedLines& lines = buffer_.lane_lines(notes_lane_);
  formatter_.append_note(lines, ctx.realtime_now_ns, shm::Level::kWarn, "ringtail.lost",
                         {{"lost_no_ring", no_ring}, {"lost_callsite_table_full", table_full}});
  buffer_.push(notes_lane_, ctx.realtime_now_ns, 0, ReorderBuffer::Kind::kNote);
}

void SegmentDrainer::add_ring(DrainContext& ctx, uint32_t slot) {
  Ring& ring = rings_[slot];
  RingCursorOptions cursor_options;
  cursor_options.max_batch_bytes = kBatchBytes;
  cursor_options.mode = options_.mode == DrainOptions::Mode::kConsume ? RingCursorOptions::Mode::kConsume
                                                                      : RingCursorOptions::Mode::kPeek;
  absl::StatusOr<RingCursor> cursor = RingCursor::create(view_, slot, cursor_options);
  if (!cursor.ok()) {
    // Not expected (the slot index is in range, the view's access fits the
    // mode); leave the ring alone rather than retrying every pass.
    ring.poisoned = true;
    ctx.report(absl::StrCat("segment ", name(), " ring ", slot, ": ", cursor.status().ToString()));
  } else {
    ring.cursor = std::make_unique<RingCursor>(std::move(*cursor));
    if (producer_dead()) ring.cursor->end_at_current_write_pos();
    auto resumed = std::find_if(resume_.rings.begin(), resume_.rings.end(),
                                [&](const SegmentResume::Ring& r) { return r.slot == slot; });
    if (resumed != resume_.rings.end()) {
      if (ring.cursor->resume_from(resumed->resume)) {
        ring.audit_lost_seen = resumed->audit_lost_noted;
      } else {
        resume_.rings.erase(resumed);  // not this ring's any more (another reader went further), or garbage
      }
    }
  }
  active_.insert(std::upper_bound(active_.begin(), active_.end(), slot), slot);
}

void SegmentDrainer::scan_slots(DrainContext& ctx, bool full) {
  auto claimed = [&](uint32_t i) {
    const absl::StatusOr<const shm::RingSlot*> slot = view_.slot(i);
    // acquire: the owner fields and the thread start record come before a non-free state.
    return slot.ok() && (*slot)->state.load(std::memory_order_acquire) != static_cast<uint32_t>(shm::SlotState::kFree);
  };
  auto has_ring = [&](uint32_t i) { return rings_[i].cursor != nullptr || rings_[i].poisoned; };
  const uint32_t slots = view_.slot_count();
  if (full) {
    for (uint32_t i = next_unclaimed_; i < slots; ++i) {
      if (!has_ring(i) && claimed(i)) add_ring(ctx, i);
    }
  } else {
    // The producer claims free slots lowest first, so between full scans
    // only the lowest unclaimed one needs a look.
    while (next_unclaimed_ < slots && (has_ring(next_unclaimed_) || claimed(next_unclaimed_))) {
      if (!has_ring(next_unclaimed_)) add_ring(ctx, next_unclaimed_);
      ++next_unclaimed_;
    }
  }
  while (next_unclaimed_ < slots && has_ring(next_unclaimed_)) ++next_unclaimed_;
}

void SegmentDrainer::note_key(Ring& ring, int64_t key) {
  if (!ring.pass_has_key) ring.pass_first_key = key;
  ring.pass_has_key = true;
  ring.pass_last_key = key;
}

bool SegmentDrainer::writes_through(const Ring& ring, int64_t key) const {
  return key <= through_limit_ && buffer_.can_write_through(ring.slot, key);
}

void SegmentDrainer::hand_on(Ring& ring, bool through, int64_t key, ReorderBuffer::Kind kind, uint64_t next_seq) {
  // The cursor's position is the end of the record the line came from.
  if (through) {
    buffer_.wrote_through(ring.slot, key, ring.cursor->position(), kind, next_seq, out_.lines.back().size);
  } else {
    buffer_.push(ring.slot, key, ring.cursor->position(), kind, next_seq);
  }
}

void SegmentDrainer::on_event(const DecodedEvent& event) {
  Ring& ring = *current_;
  // The merge key is the event's time exactly as the formatter prints it.
  const int64_t key = formatter_.realtime_ns(event.timestamp_raw);
  if (!ring.pending_gaps.empty()) write_gaps(ring, key, key);
  if (!ring.has_high || key > ring.high) ring.high = key;
  ring.has_high = true;
  note_key(ring, key);
  if (!has_high_ || key > high_) high_ = key;
  has_high_ = true;
  if (options_.min_level.has_value() && event.callsite->level < *options_.min_level) return;
  const bool through = writes_through(ring, key);
  formatter_.append_event(through ? out_ : buffer_.lane_lines(ring.slot), event, key);
  hand_on(ring, through, key, ReorderBuffer::Kind::kEvent, event.seq + 1);
}

void SegmentDrainer::on_span(const SpanEdge& edge) {
  // As an event: span lines merge by their time like the thread's events.
  Ring& ring = *current_;
  const int64_t key = formatter_.realtime_ns(edge.timestamp_raw);
  if (!ring.pending_gaps.empty()) write_gaps(ring, key, key);
  if (!ring.has_high || key > ring.high) ring.high = key;
  ring.has_high = true;
  note_key(ring, key);
  if (!has_high_ || key > high_) high_ = key;
  has_high_ = true;
  if (options_.min_level.has_value() && EventJsonFormatter::span_level(edge) < *options_.min_level) return;
  const bool through = writes_through(ring, key);
  formatter_.append_span(through ? out_ : buffer_.lane_lines(ring.slot), edge, key);
  hand_on(ring, through, key, ReorderBuffer::Kind::kEvent, ReorderBuffer::kNoSeq);
}

void SegmentDrainer::on_skipped(const SkippedRecord& record) {
  // A note in the ring's own lane, where the record's line would have been.
  Ring& ring = *current_;
  const int64_t key = formatter_.realtime_ns(record.timestamp_raw);
  if (!ring.pending_gaps.empty()) write_gaps(ring, key, key);
  ShapedLines& lines = buffer_.lane_lines(ring.slot);
  formatter_.append_note(lines, key, shm::Level::kWarn, "ringtail.too_big",
                         {{"slot", uint64_t{ring.slot}},
                          {"tid", uint64_t{record.tid}},
                          {"record_seq", record.seq},
                          {"record_bytes", record.bytes},
                          {"limit_bytes", uint64_t{kMaxRecordCopyBytes}}});
  // A skipped frame pop spends no seq.
  buffer_.push(ring.slot, key, ring.cursor->position(), ReorderBuffer::Kind::kNote,
               record.callsite_id == shm::kFramePopId ? ReorderBuffer::kNoSeq : record.seq + 1);
  ++skipped_unaccounted_;
}

void SegmentDrainer::on_gap(const DropGap& gap) {
  // Stamped with the time of the event that follows (see write_gaps); the
  // cursor's position is the start of the record that revealed the gap.
  current_->pending_gaps.push_back(PendingGap{gap, current_->cursor->position()});
}

void SegmentDrainer::write_gaps(Ring& ring, int64_t key, int64_t timestamp_ns) {
  ShapedLines& lines = buffer_.lane_lines(ring.slot);
  for (const PendingGap& pending : ring.pending_gaps) {
    formatter_.append_gap(lines, pending.gap, timestamp_ns);
    buffer_.push(ring.slot, key, pending.pos, ReorderBuffer::Kind::kGap, pending.gap.last_seq + 1);
    dropped_unaccounted_ += pending.gap.count;
    if (pending.gap.cause == DropGap::Cause::kOverwritten) overwritten_unaccounted_ += pending.gap.count;
  }
  ring.pending_gaps.clear();
}

void SegmentDrainer::poisoned(DrainContext& ctx, Ring& ring, const absl::Status& error) {
  ring.poisoned = true;
  ++ctx.stats.rings_poisoned;
  if (!ring.pending_gaps.empty()) write_gaps(ring, ctx.realtime_now_ns, ctx.realtime_now_ns);
  ShapedLines& lines = buffer_.lane_lines(ring.slot);
  formatter_.append_note(lines, ctx.realtime_now_ns, shm::Level::kError, "ringtail.ring_corrupt",
                         {{"slot", uint64_t{ring.slot}}, {"reason", view_of(error)}});
  buffer_.push(ring.slot, ctx.realtime_now_ns, ring.cursor->position(), ReorderBuffer::Kind::kNote);
  ctx.report(std::string(view_of(error)));
}

bool SegmentDrainer::read_batch(DrainContext& ctx, Ring& ring) {
  BatchStats batch;
  current_ = &ring;
  const absl::Status status = ring.cursor->read_batch(table_, *this, &batch);
  current_ = nullptr;
  ring.read_this_pass += batch.bytes;
  if (!status.ok()) {
    poisoned(ctx, ring, status);
    return false;
  }
  if (batch.caught_up) return false;
  if (ring.read_this_pass >= ring.read_limit) {
    ring.lagging = true;
    return false;
  }
  // No progress cannot happen (a batch that did not catch up decoded
  // something, or resynchronised a peeking cursor), but never loop on it.
  return batch.bytes != 0 || batch.peek_resyncs != 0;
}

absl::Status SegmentDrainer::read_rings(DrainContext& ctx, bool final, bool* busy) {
  const uint64_t capacity = view_.ring_capacity();
  // A dead producer writes nothing more: read to the end, which its cursors
  // fixed when it was found dead. Otherwise at most a ring's worth per pass
  // (4 for drain_once), so that a pass ends.
  const uint64_t limit = producer_dead() ? UINT64_MAX : final ? 4 * capacity : capacity;
  reading_.clear();
  for (uint32_t slot : active_) {
    Ring& ring = rings_[slot];
    if (ring.poisoned || ring.cursor == nullptr) continue;
    ring.lagging = false;
    ring.read_this_pass = 0;
    ring.pass_has_key = false;
    ring.read_limit = limit;
    reading_.push_back(&ring);
  }
  // A live producer's final drain is bounded by its rings; every other pass
  // also by the bytes it hands on.
  const uint64_t pass_bytes = final && !producer_dead() ? UINT64_MAX : options_.pass_bytes;
  // Merge-driven order (docs/ARCHITECTURE.md, "The reorder window"): the
  // next batch comes from the ring holding the watermark back, and what the
  // merge allows is written after each batch.
  while (!reading_.empty()) {
    if (pass_line_bytes_ >= pass_bytes) {
      // The rings still in reading_ hold the watermark back (watermark())
      // until the next pass reads on.
      for (Ring* unread : reading_) unread->lagging = true;
      stopped_at_pass_bytes_ = true;
      *busy = true;
      return absl::OkStatus();
    }
    size_t next = 0;
    for (size_t i = 1; i < reading_.size() && reading_[next]->has_high; ++i) {
      if (!reading_[i]->has_high || reading_[i]->high < reading_[next]->high) next = i;
    }
    Ring* ring = reading_[next];
    // Its own high grows with each record it decodes: the other rings (and
    // the window) bound which of its lines may be written through.
    through_limit_ = watermark(ctx, final, ring);
    const bool more = read_batch(ctx, *ring);
    through_limit_ = INT64_MIN;
    if (!more) {
      if (!ring->pending_gaps.empty()) write_gaps(*ring, ctx.realtime_now_ns, ctx.realtime_now_ns);
      if (ring->lagging || ring->read_this_pass >= capacity / 4) *busy = true;
      reading_.erase(reading_.begin() + static_cast<ptrdiff_t>(next));
    }
    if (absl::Status status = release(ctx, watermark(ctx, final), false); !status.ok()) return status;
  }
  return absl::OkStatus();
}

int64_t SegmentDrainer::watermark(const DrainContext& ctx, bool final, const Ring* except) const {
  int64_t mark = INT64_MAX;
  if (!final) {
    const int64_t window = std::chrono::duration_cast<std::chrono::nanoseconds>(options_.reorder_window).count();
    mark = std::max(has_high_ ? high_ : 0, ctx.realtime_now_ns) - std::max<int64_t>(window, 0);
  }
  // A ring that still has unread data may hold older events than the
  // others: nothing above what it has reached goes out yet (the age rule in
  // the buffer still bounds the wait).
  for (const Ring* ring : reading_) {
    if (ring == except) continue;
    // One not read yet (read_rings() takes those first) may hold anything.
    if (!ring->has_high) return INT64_MIN;
    mark = std::min(mark, ring->high);
  }
  for (uint32_t slot : active_) {
    const Ring& ring = rings_[slot];
    if (&ring != except && ring.lagging && ring.has_high) mark = std::min(mark, ring.high);
  }
  return mark;
}

absl::Status SegmentDrainer::write_out(DrainContext& ctx) {
  if (out_.empty()) return absl::OkStatus();
  ctx.stats.bytes += out_.text.size();
  out_.segment = &identity();
  return ctx.output.write(out_);
}

template <class Step>
absl::Status SegmentDrainer::move_lines(DrainContext& ctx, Step step) {
  ctx.stats.dropped += std::exchange(dropped_unaccounted_, 0);
  ctx.stats.overwritten += std::exchange(overwritten_unaccounted_, 0);
  ctx.stats.records_too_big += std::exchange(skipped_unaccounted_, 0);
  for (;;) {
    const ReorderBuffer::Released r = step();
    pass_line_bytes_ += r.bytes;
    ctx.stats.events += r.events;
    ctx.stats.lines += r.lines;
    ctx.stats.gaps += r.gaps;
    ctx.stats.late_events += r.late;
    ctx.stats.reorder_forced += r.forced;
    if (r.late > 0 && !late_reported_) {
      late_reported_ = true;
      ctx.report(absl::StrCat("segment ", name(), ": events arrived more than the reorder window (",
                              options_.reorder_window.count(),
                              " ms) late and were written out of timestamp order (counted, reported once)"));
    }
    if (out_.text.size() < kChunkBytes) return absl::OkStatus();
    if (absl::Status status = write_out(ctx); !status.ok()) return status;
  }
}

absl::Status SegmentDrainer::release(DrainContext& ctx, int64_t watermark, bool flush_all) {
  return move_lines(ctx, [&] { return buffer_.release(watermark, flush_all, ctx.steady_now_ns, out_, kChunkBytes); });
}

absl::Status SegmentDrainer::relieve_rings(DrainContext& ctx) {
  const uint64_t most = view_.ring_capacity() / 2;
  for (uint32_t slot : active_) {
    const Ring& ring = rings_[slot];
    if (ring.cursor == nullptr || buffer_.lane_empty(slot)) continue;
    const uint64_t position = ring.cursor->position();
    if (position - buffer_.head_end_pos(slot) <= most) continue;
    // The producer can use only the ring space below read_pos + capacity,
    // and read_pos cannot pass this lane's oldest held line: let lines go
    // until at most half the ring is pinned.
    absl::Status status =
        move_lines(ctx, [&] { return buffer_.release_until(slot, position - most, out_, kChunkBytes); });
    if (!status.ok()) return status;
  }
  return absl::OkStatus();
}

void SegmentDrainer::crashed_note(DrainContext& ctx) {
  const SegmentLossCounters lost = view_.loss_counters();
  const size_t before = out_.size();
  const int64_t now = ctx.realtime_now_ns;
  NoteField fields[3];
  size_t count = 0;
  if (lost.lost_no_ring != 0) fields[count++] = {"lost_no_ring", lost.lost_no_ring};
  if (lost.lost_callsite_table_full != 0) fields[count++] = {"lost_callsite_table_full", lost.lost_callsite_table_full};
  // The process was gone before this reader first opened the segment: only
  // the uid in its header vouched for the file's owner.
  if (!identity().owner_checked_live) fields[count++] = {"identity", std::string_view("unverified")};
  formatter_.append_note(out_, now, shm::Level::kError, "ringtail.crashed", std::span<const NoteField>(fields, count));
  if (out_.size() > before) {
    ++ctx.stats.lines;
    ++ctx.stats.producers_crashed;
  }
}

absl::Status SegmentDrainer::drain(DrainContext& ctx, bool full_slot_scan, bool* busy) {
  stopped_at_pass_bytes_ = false;
  if (finished_ || cut()) return absl::OkStatus();
  buffer_.begin_pass(ctx.steady_now_ns);
  const bool dead = producer_dead();
  const bool final = ctx.final_drain || dead;
  scan_slots(ctx, full_slot_scan || dead);
  pass_line_bytes_ = 0;
  if (absl::Status status = read_rings(ctx, final, busy); !status.ok()) return status;
  update_rates();
  // What was read after the file was cut may be the zeros that stand in for
  // the lost pages: none of it goes out (and nothing more is read).
  if (cut()) {
    stopped_at_pass_bytes_ = false;
    return absl::OkStatus();
  }
  // A pass that stopped at pass_bytes is not the last: the final steps (no
  // window, trailing drops, the crash note) wait for the one that is.
  const bool last = final && !stopped_at_pass_bytes_;
  if (dead && last) {
    // Drops after each ring's last record, from the slot counters: final now.
    for (uint32_t slot : active_) {
      Ring& ring = rings_[slot];
      if (ring.poisoned || ring.cursor == nullptr) continue;
      current_ = &ring;
      (void)ring.cursor->report_trailing_drops(*this);  // not drained only if poisoned: skipped above
      current_ = nullptr;
      if (!ring.pending_gaps.empty()) write_gaps(ring, ctx.realtime_now_ns, ctx.realtime_now_ns);
    }
  }
  audit_notes(ctx);
  if (!final) {
    if (absl::Status status = relieve_rings(ctx); !status.ok()) return status;
  }
  // (A final pass that stopped at pass_bytes: its unread rings bound the
  // watermark, as after each batch.)
  if (absl::Status status = release(ctx, watermark(ctx, final), last); !status.ok()) return status;
  if (dead && last) {
    if (state_ == ProducerState::kCrashed && !crash_noted_) crashed_note(ctx);
    crash_noted_ = state_ == ProducerState::kCrashed;
    finished_ = true;
  }
  return write_out(ctx);
}

void SegmentDrainer::update_rates() {
  for (uint32_t slot : active_) {
    Ring& ring = rings_[slot];
    if (ring.read_this_pass != 0) {
      if (ring.pass_has_key && ring.pass_last_key > ring.pass_first_key) {
        ring.rate_bytes = ring.read_this_pass;
        ring.rate_ns = ring.pass_last_key - ring.pass_first_key;
      }
    } else if (ring.rate_ns > (int64_t{1} << 50)) {
      ring.rate_bytes = 0;  // none left to speak of
      ring.rate_ns = 0;
    } else {
      // Nothing new: a producer gone quiet (the sleep grows back to
      // idle_sleep), or one whose ring is full until the last pass's lines
      // are committed (then what is left, not the rate, sets the time to fill).
      ring.rate_ns *= 2;
    }
  }
}

int64_t SegmentDrainer::time_to_fill_ns() const {
  int64_t least = INT64_MAX;
  if (options_.mode != DrainOptions::Mode::kConsume || producer_dead()) return least;
  const uint64_t capacity = view_.ring_capacity();
  for (uint32_t slot : active_) {
    const Ring& ring = rings_[slot];
    if (ring.cursor == nullptr || ring.poisoned || ring.rate_bytes == 0 || ring.rate_ns <= 0) continue;
    const uint64_t position = ring.cursor->position();
    const uint64_t used = position - std::min(position, ring.cursor->committed_position());
    const uint64_t left = capacity > used ? capacity - used : 0;
    const double ns =
        static_cast<double>(left) * static_cast<double>(ring.rate_ns) / static_cast<double>(ring.rate_bytes);
    least = std::min(least, ns < 9e18 ? static_cast<int64_t>(ns) : INT64_MAX);
  }
  return least;
}

void SegmentDrainer::audit_notes(DrainContext& ctx) {
  for (uint32_t slot : active_) {
    Ring& ring = rings_[slot];
    if (ring.cursor == nullptr) continue;
    const uint64_t now = ring.cursor->audit_lost_untrusted();
    if (now <= ring.audit_lost_seen) continue;
    const uint64_t lost = now - ring.audit_lost_seen;
    ring.audit_lost_seen = now;
    ctx.stats.audit_lost += lost;
    ShapedLines& lines = buffer_.lane_lines(notes_lane_);
    formatter_.append_note(lines, ctx.realtime_now_ns, shm::Level::kError, "ringtail.audit_lost",
                           {{"tid", uint64_t{ring.cursor->owner_tid()}},
                            {"slot", uint64_t{slot}},
                            {"audit_lost", lost},
                            {"audit_lost_total", now}});
    buffer_.push(notes_lane_, ctx.realtime_now_ns, 0, ReorderBuffer::Kind::kNote);
    ctx.report(absl::StrCat("AUDIT EVENTS LOST: segment ", name(), " (service \"", identity().service, "\", pid ",
                            identity().pid, ") thread ", ring.cursor->owner_tid(), " dropped ", lost, " audit events (",
                            now, " in all): a full ring after waiting for room (the reader is too slow), or too big"));
  }
}

void SegmentDrainer::commit_points(std::vector<CommitPoint>& out) const {
  if (cut()) return;
  for (uint32_t slot : active_) {
    const Ring& ring = rings_[slot];
    if (ring.cursor == nullptr) continue;
    // Some of this ring's lines may still be held: then only up to the last
    // record whose lines were all handed on.
    const bool held = !buffer_.lane_empty(slot) || !ring.pending_gaps.empty();
    out.push_back(CommitPoint{ring.cursor.get(), held ? buffer_.released_end_pos(slot) : ring.cursor->position()});
  }
}

void SegmentDrainer::update_noted() {
  // A note still held in the reorder buffer is not stored yet.
  if (!buffer_.lane_empty(notes_lane_)) return;
  resume_.lost_no_ring_noted = loss_seen_.lost_no_ring;
  resume_.lost_callsite_table_full_noted = loss_seen_.lost_callsite_table_full;
  resume_.audit_lost_outside_rings_noted = loss_seen_.audit_lost_outside_rings;
  for (SegmentResume::Ring& r : resume_.rings) {
    if (r.slot < rings_.size()) r.audit_lost_noted = rings_[r.slot].audit_lost_seen;
  }
}

SegmentResume SegmentDrainer::resume_point() {
  std::vector<CommitPoint> points;
  commit_points(points);
  for (const CommitPoint& point : points) {
    const uint32_t slot = point.cursor->slot_index();
    // Past the commit point only if a line of it was written: its seq tells
    // what the ring expects next there.
    const uint64_t next_seq = buffer_.released_next_seq(slot);
    std::optional<RingResume> now = point.cursor->resume_at(
        point.position, next_seq == ReorderBuffer::kNoSeq ? std::nullopt : std::optional<uint64_t>(next_seq));
    if (!now.has_value()) continue;  // keeps the last one (still behind what is stored: at least once)
    auto it = std::lower_bound(resume_.rings.begin(), resume_.rings.end(), slot,
                               [](const SegmentResume::Ring& r, uint32_t s) { return r.slot < s; });
    if (it == resume_.rings.end() || it->slot != slot) it = resume_.rings.insert(it, SegmentResume::Ring{slot, {}, 0});
    it->resume = std::move(*now);
  }
  update_noted();
  resume_.crash_noted = crash_noted_;
  return resume_;
}

}  // namespace ringtail::reader
