// SegmentDrainer: the drain engine's state for one segment, and the steps of
// a pass over it (private to the engine; drain_engine.hpp describes the flow,
// reorder_buffer.hpp the merge rule).
//
// Holds the open SegmentView, the consumer lease (consume mode), the call-site
// table, a RingCursor per claimed slot, the JSON formatter and the reorder
// buffer (one lane per slot plus one for the segment's notes).
//
// Threading: one thread at a time (the engine's, or a DecodePool worker's
// during a pass); drainers share nothing but the options and the output.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "chunk_output.hpp"
#include "ringtail/reader/drain/drain_engine.hpp"
#include "ringtail/reader/drain/reorder_buffer.hpp"
#include "ringtail/reader/drain/segment_resume.hpp"
#include "ringtail/reader/ingest/callsite_table.hpp"
#include "ringtail/reader/ingest/consumer_lease.hpp"
#include "ringtail/reader/ingest/decoded_event.hpp"
#include "ringtail/reader/ingest/ring_cursor.hpp"
#include "ringtail/reader/ingest/segment_directory.hpp"
#include "ringtail/reader/ingest/segment_view.hpp"
#include "ringtail/reader/output/event_json.hpp"
#include "ringtail/reader/sinks/event_batch.hpp"

namespace ringtail::reader {

// What a pass hands every segment.
struct DrainContext {
  ChunkOutput& output;
  DrainStats& stats;
  const std::function<void(std::string_view)>& report;
  int64_t realtime_now_ns = 0;
  int64_t steady_now_ns = 0;
  bool final_drain = false;  // drain_once(): read everything pending and write everything held
};

class SegmentDrainer : private RecordSink {
 public:
  // `resume`: where a consuming drain's stored output of this segment ends
  // (segment_resume.hpp), from the sink; each ring starts there if its
  // cursor accepts it (RingCursor::resume_from), else at its read_pos.
  SegmentDrainer(SegmentView view, std::optional<ConsumerLease> lease, const DrainOptions& options,
                 std::optional<SegmentResume> resume = std::nullopt);
  ~SegmentDrainer() override;

  const std::string& name() const { return view_.name(); }
  const SegmentIdentity& identity() const { return view_.identity(); }

  // Step 1: the producer's state (once dead, it stays dead) and its header
  // loss counters (a "ringtail.lost" note for any increase).
  void check_producer(DrainContext& ctx);
  bool producer_dead() const { return state_ != ProducerState::kAlive; }

  // Steps 2-4 (and 6 for a dead producer): picks up newly claimed rings,
  // reads every ring, hands the lines the reorder rule lets go to the sink.
  // `full_slot_scan` looks at every unclaimed slot, not only the next one.
  // Sets *busy when a ring had much pending. Errors are the sink's.
  absl::Status drain(DrainContext& ctx, bool full_slot_scan, bool* busy);

  // Step 5: each ring's committable position now (the end of the last record
  // whose lines were all handed on), to be published once what was handed
  // on is flushed.
  struct CommitPoint {
    RingCursor* cursor;
    uint64_t position;
  };
  void commit_points(std::vector<CommitPoint>& out) const;
  // Where a restarted drain continues once this pass's lines and commit
  // points are stored (consume mode; call right after commit_points()).
  // Rings whose state at their commit point is unknown keep their last
  // resume point.
  SegmentResume resume_point();

  // After a drain(): how long (ns) the ring that fills fastest would take,
  // at its producer's last rate (Ring::rate_bytes), to fill what the
  // producer cannot reuse yet (up to the last read_pos committed);
  // INT64_MAX when no ring has a rate, in peek mode (read_pos is not this
  // reader's to advance) and for a dead producer.
  int64_t time_to_fill_ns() const;
  // Dead producer, drained to the end and written out (after a drain()).
  bool finished() const { return finished_; }
  // The last drain() stopped at DrainOptions::pass_bytes with data left to read.
  bool stopped_at_pass_bytes() const { return stopped_at_pass_bytes_; }
  // The segment's file was cut short under its mapping (its owner's
  // ftruncate): nothing more is read or committed; the engine lets it go.
  bool cut() const { return view_.cut(); }
  // Gives the lease back (before the segment is removed).
  void release_lease();
  // The lease holder's output-stall words (consumer_lease.hpp): set while
  // the engine's output fails, cleared when it works again. No-op without a
  // lease (peek mode).
  void mark_output_stalled(uint64_t since_realtime_ns, uint32_t error_number);
  void clear_output_stalled();
  // Moves the open view and the lease out, for a new drainer of the same
  // segment that starts over from the committed read positions (the
  // engine's reset after an output error). This drainer is then only
  // destroyed.
  struct Parts {
    SegmentView view;
    std::optional<ConsumerLease> lease;
  };
  Parts take_parts();
  // Finished, and its last commit points are queued (the engine's bookkeeping).
  bool retiring = false;
  // The encoded resume point last handed to the sink (the engine's bookkeeping).
  std::string resume_sent;

 private:
  struct PendingGap {
    DropGap gap;
    uint64_t pos;  // cursor position when the gap was seen: the start of the record that revealed it
  };
  struct Ring {
    uint32_t slot = 0;
    std::unique_ptr<RingCursor> cursor;  // null until the slot is claimed
    bool poisoned = false;
    bool lagging = false;         // did not catch up in the last pass
    uint64_t read_this_pass = 0;  // bytes
    uint64_t read_limit = 0;      // bytes this pass may read
    bool has_high = false;
    int64_t high = 0;  // highest event timestamp read from this ring
    std::vector<PendingGap> pending_gaps;
    // The producer's rate in the last pass that read something: the bytes
    // read, over the time between the first and the last event among them
    // (by their timestamps: what the reader's clock cannot tell when the
    // ring was full or first seen); halved by each pass that reads nothing.
    // rate_bytes 0: none known.
    bool pass_has_key = false;
    int64_t pass_first_key = 0;
    int64_t pass_last_key = 0;
    uint64_t rate_bytes = 0;
    int64_t rate_ns = 0;
    uint64_t audit_lost_seen = 0;  // the slot's audit_lost when last noted
  };
  // Noted counters as far as their notes have left the reorder buffer.
  void update_noted();

  // A line of `ring` with `key` is the next in merge order (below
  // through_limit_, ReorderBuffer::can_write_through): it is formatted
  // straight into out_ rather than into its lane.
  bool writes_through(const Ring& ring, int64_t key) const;
  // Notes an event's time for the ring's rate (time_to_fill_ns()).
  static void note_key(Ring& ring, int64_t key);
  // After read_rings(): each ring's rate from what this pass read, or
  // halved when it read nothing.
  void update_rates();
  // Accounts the line just formatted (into out_ if `through`, else into
  // the ring's lane) with the buffer.
  void hand_on(Ring& ring, bool through, int64_t key, ReorderBuffer::Kind kind, uint64_t next_seq);

  void on_event(const DecodedEvent& event) override;
  void on_gap(const DropGap& gap) override;
  void on_span(const SpanEdge& edge) override;
  void on_skipped(const SkippedRecord& record) override;

  void scan_slots(DrainContext& ctx, bool full);
  void add_ring(DrainContext& ctx, uint32_t slot);
  // Reads the rings a batch at a time, round robin, writing out what the
  // merge allows after each round. Stops early (stopped_at_pass_bytes_,
  // the rings left unread marked lagging) once the pass has released
  // pass_bytes, unless this is a live producer's final drain.
  absl::Status read_rings(DrainContext& ctx, bool final, bool* busy);
  // One batch of one ring; false once the ring is done for this pass.
  bool read_batch(DrainContext& ctx, Ring& ring);
  void write_gaps(Ring& ring, int64_t key, int64_t timestamp_ns);
  void poisoned(DrainContext& ctx, Ring& ring, const absl::Status& error);
  // Lines with keys up to this may be written: the rule of
  // docs/ARCHITECTURE.md, "The reorder window" (final: no window, only the
  // rings with unread data hold lines back). `except`: leave that ring out.
  int64_t watermark(const DrainContext& ctx, bool final, const Ring* except = nullptr) const;
  // Moves what release() lets go to the sink, in chunks.
  absl::Status release(DrainContext& ctx, int64_t watermark, bool flush_all);
  // Bounds how much of each ring held lines pin (half of it).
  absl::Status relieve_rings(DrainContext& ctx);
  // Repeats `step` (one ReorderBuffer release into out_) while it fills
  // chunks, handing each to the sink.
  template <class Step>
  absl::Status move_lines(DrainContext& ctx, Step step);
  absl::Status write_out(DrainContext& ctx);
  void crashed_note(DrainContext& ctx);
  // A "ringtail.audit_lost" ERROR note (and a report line) for each ring
  // whose audit_lost grew since the last look.
  void audit_notes(DrainContext& ctx);

  const DrainOptions& options_;
  SegmentView view_;
  std::optional<ConsumerLease> lease_;
  CallSiteTable table_;
  EventJsonFormatter formatter_;
  ReorderBuffer buffer_;
  uint32_t notes_lane_;
  std::vector<Ring> rings_;       // by slot; only those in active_ have a cursor
  std::vector<uint32_t> active_;  // slots with a cursor, ascending
  std::vector<Ring*> reading_;    // rings still being read in this pass
  uint32_t next_unclaimed_ = 0;   // lowest slot index that has no cursor yet
  Ring* current_ = nullptr;       // the ring being read (for the RecordSink callbacks)
  ProducerState state_ = ProducerState::kAlive;
  SegmentLossCounters loss_seen_;
  bool has_high_ = false;
  int64_t high_ = 0;                      // highest event timestamp read from the segment
  uint64_t dropped_unaccounted_ = 0;      // events of gap lines made since the last release(), for DrainStats
  uint64_t overwritten_unaccounted_ = 0;  // of those, overwritten in a flight-recorder ring
  bool late_reported_ = false;
  uint64_t skipped_unaccounted_ = 0;  // "ringtail.too_big" notes made since the last release(), for DrainStats
  bool finished_ = false;
  bool stopped_at_pass_bytes_ = false;
  uint64_t pass_line_bytes_ = 0;  // bytes of lines released in this pass
  // While a ring's batch is read: its events with keys up to this may be
  // written through (ReorderBuffer::can_write_through) into out_.
  int64_t through_limit_ = INT64_MIN;
  bool crash_noted_ = false;  // the "ringtail.crashed" note was written (or was, before a restart)
  EventBatch out_;            // lines released, handed to the output in chunks
  SegmentResume resume_;      // the last resume point built (or the one this drainer started from)
};

}  // namespace ringtail::reader
