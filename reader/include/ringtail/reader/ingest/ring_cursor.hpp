// RingCursor: reads one ring of a segment, record by record, as hostile input.
//
// Protocol (see shm/layout.hpp): the producer publishes records by a release
// store of RingSlot::write_pos and reuses ring bytes only below read_pos,
// which the consuming reader release-stores when it is done with them.
//
// read_batch() acquire-loads write_pos once and decodes the records from the
// cursor's position up to it (at most max_batch_bytes, whole records). Ring
// bytes are copied with pread() (copy_ring_bytes, segment_view.hpp: never
// through the mapping, so the reader's memory does not grow with the ring)
// into a private staging buffer, up to kRingStageBytes at a time and one per
// thread, and only that copy is read: for each record the 8-byte prefix
// gives the size, which is checked (a multiple of 8, at least 8, not past
// the end of the ring, not past write_pos, at most max_record_bytes unless
// it is padding) before the record is decoded from the same copy, so bytes
// changing under the reader cannot make a check and a use disagree.
//   - Padding (kPaddingId) must run exactly to the end of the ring; skipped.
//   - ThreadStartRecord: the ring's new owner (tid, name) for what follows;
//     its frames start empty.
//   - Frame records (kFramePushId, kFramePopId): the thread's context and
//     spans (frame_decoder.hpp). The cursor keeps the thread's frames and
//     hands them with every event (DecodedEvent::context); a span's push and
//     pop are also reported as SpanEdges, unless resent. Frames a restarted
//     reader did not see (pushed before its read_pos) are unknown to it
//     until the producer re-sends them, unless it resumes (below).
//   - Other control ids (>= kControlIdBase): skipped by their size.
//   - Events: decoded against the CallSiteTable (refreshed on an unknown id).
// What the cursor allocates does not follow what the segment claims
// (reader_limits.hpp): an event or frame pop over max_record_copy_bytes is
// not copied but skipped, its seq accounted for, and reported to the sink
// (on_skipped); a frame push over the bytes a thread's frames may hold
// poisons the ring; a record buffer grown past kRetainedRecordBufferBytes is
// given back at the end of the batch.
//
// A ring whose positions or records break the protocol is poisoned: the
// cursor stops before the first bad record, keeps the positions of the good
// ones (commit() still publishes them) and returns the same DataLossError,
// naming segment, ring, position and reason, from every later read_batch().
// Other rings and the process are unaffected. No input makes the cursor
// assert, crash or loop: every step advances the position or stops.
//
// Drop gaps: the cursor tracks the seq it expects next (see decoded_event.hpp)
// and emits a DropGap before an event (or ThreadStartRecord) whose seq is
// larger. A fresh cursor does not know the expected seq until it sees its
// first record: at read_pos 0 that is the ring's first ThreadStartRecord
// (seq 0 or the counters inherited by a reused slot), so nothing is missed;
// a cursor starting at read_pos > 0 (a restarted reader without a resume
// point, below) takes the first record's seq as given and cannot report
// drops from before it. Drops after
// the last record show up as a gap before the next event, or through
// report_trailing_drops() once the ring's writer is gone.
//
// Commit: kConsume cursors move read_pos only in commit(), which publishes the
// position reached by the batches read so far (release), once the caller has
// finished with their output; a reader killed before commit() re-reads at
// most what it had not committed. kPeek cursors never write read_pos: they
// start at the current read_pos and, if a consuming reader moves read_pos past
// them (the producer may then overwrite what they read), discard what they
// were reading and resynchronise at the consumer's read_pos (counted in
// BatchStats::peek_resyncs).
//
// Resuming (kConsume): resume_at(P) describes the cursor's state after the
// record ending at P (a position it reached and has not committed past):
// the seq it expected next, the ring's owner and the raw frame records bound
// then. A reader stores that with its output (drain: the store's checkpoint,
// written with the data) and a restarted one hands it to resume_from()
// before the first read_batch(): the cursor then starts at P instead of
// read_pos, with that state, so that it neither writes again what was
// stored nor loses the context or the drops at the restart. A resume point
// is untrusted input: it is used only if read_pos <= P <= write_pos, P is at
// most a capacity ahead of read_pos and a multiple of 8, and its frames
// decode (frame_decoder.hpp); otherwise the cursor starts at read_pos as if
// it had none. To answer for positions before its current one, the cursor
// keeps a snapshot of owner and frames at each record that changes them
// since the last commit_to() (at most kMaxResumeSnapshots; past that the
// oldest go, and resume_at() cannot answer for positions before them).
//
// Flight-mode rings (SegmentIdentity::ring_mode == kFlight; see
// docs/ARCHITECTURE.md "Flight-recorder rings"): the writer does not wait for
// read_pos and overwrites the ring's oldest chunk. Every chunk starts with a
// kChunkStartId record (owner and the seq of the owner's next event), so any
// chunk start is a place to start decoding. The torn-read rule, seqlock
// style: after each copy of ring bytes (acquire fence) the cursor reloads
// write_pos W; every position below (start of W's chunk) + chunk - capacity
// may have been overwritten during the copy, and if the copy began below it
// the copy is discarded. The cursor then jumps to that position (a chunk
// start), forgets the thread's frames and owner until the chunk's start
// record, and reports the events it skipped as a DropGap of cause
// kOverwritten (BatchStats::overwritten) before the next record with a seq.
// A batch that starts behind the oldest intact chunk jumps the same way
// before copying. A cursor starting at position 0 knows the ring's first seq
// is 0, so even a first jump is counted. kPeek cursors of a flight ring do
// not resynchronise on read_pos (the writer ignores it); the rule above is
// what keeps them safe.
//
// Threading: one thread per cursor. Cursors of different rings may run in
// parallel if each has its own CallSiteTable (the table is not thread-safe).
// At most one kConsume cursor per ring, across all processes (the reader lease
// is how processes agree). The cursor points into the view's mapping: the
// SegmentView (moved or not) must outlive it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "ringtail/reader/ingest/callsite_table.hpp"
#include "ringtail/reader/ingest/decoded_event.hpp"
#include "ringtail/reader/ingest/frame_decoder.hpp"
#include "ringtail/reader/ingest/reader_limits.hpp"
#include "ringtail/reader/ingest/segment_view.hpp"
#include "ringtail/shm/layout.hpp"

namespace ringtail::reader {

struct RingCursorOptions {
  enum class Mode { kConsume, kPeek };
  Mode mode = Mode::kConsume;
  // A batch stops at the first record boundary at or past this many bytes.
  uint64_t max_batch_bytes = uint64_t{1} << 20;
  // Larger events and frame pops are skipped, not copied (RecordSink::on_skipped).
  uint32_t max_record_copy_bytes = kMaxRecordCopyBytes;
};

// The state of a ring's reader after the record ending at `position`
// (see "Resuming" above).
struct RingResume {
  uint64_t position = 0;
  bool has_expected_seq = false;
  uint64_t expected_seq = 0;
  // Flight rings: the cursor had jumped to `position` over overwritten
  // records and not yet read a seq there; `expected_seq` (if any) is the one
  // expected before the jump, and the next seq closes a gap of cause
  // kOverwritten.
  bool lap_pending = false;
  bool owner_known = false;  // owner from a ThreadStartRecord (else the directory's, at resume)
  uint32_t owner_tid = 0;
  std::string owner_name;
  std::vector<std::string> frames;  // the raw frame push records bound there, outermost first
};

// Snapshots a cursor keeps for resume_at() between commits.
inline constexpr size_t kMaxResumeSnapshots = 16384;

// What one read_batch() did.
struct BatchStats {
  uint64_t bytes = 0;  // position advance
  uint64_t records = 0;
  uint64_t events = 0;
  uint64_t padding = 0;
  uint64_t thread_starts = 0;
  uint64_t frames = 0;
  uint64_t skipped = 0;  // records over max_record_copy_bytes, not decoded
  uint64_t unknown_control = 0;
  uint64_t gaps = 0;
  uint64_t dropped = 0;  // sum of the gaps' counts
  uint64_t peek_resyncs = 0;
  uint64_t chunk_starts = 0;  // flight mode: chunk start records read
  uint64_t laps = 0;          // flight mode: jumps past overwritten bytes
  uint64_t overwritten = 0;   // flight mode: events lost to overwriting (also in gaps and dropped)
  bool caught_up = false;     // reached the write_pos loaded at the start of the batch
};

class RingCursor {
 public:
  // InvalidArgumentError for a slot index past the segment's slots or a
  // max_batch_bytes below 8; FailedPreconditionError for kConsume on a
  // read-only view. Reads nothing from the ring yet.
  static absl::StatusOr<RingCursor> create(const SegmentView& view, uint32_t slot_index,
                                           RingCursorOptions options = {});

  // Decodes one batch into `sink`. OK also when there was nothing to read.
  // The poisoning DataLossError when the ring is (or became) corrupt; the
  // items before the bad record were delivered.
  absl::Status read_batch(CallSiteTable& table, RecordSink& sink, BatchStats* stats = nullptr);

  // kConsume: publishes position() as read_pos (release). kPeek: no-op.
  void commit();
  // kConsume: publishes `position` as read_pos (release), for a caller that
  // has finished with the records before it but not yet with all it read
  // (e.g. it holds some back to merge them with other rings). `position`
  // must be a record boundary this cursor reached (the value position() had
  // after some record); values at or below committed_position(), past
  // position() or not a multiple of 8 are ignored. kPeek: no-op.
  void commit_to(uint64_t position);

  // kConsume, before the first read_batch(): start at `resume` rather than
  // read_pos if it passes the checks above. False (nothing changed) if not.
  bool resume_from(const RingResume& resume);
  // The state after the record ending at `position`, which must lie between
  // the last commit_to() position (or the start) and position(); nullopt
  // otherwise. `expected_seq`: the seq expected after that record if the
  // caller knows it (the cursor knows only its current one).
  std::optional<RingResume> resume_at(uint64_t position, std::optional<uint64_t> expected_seq) const;

  // The ring's writer is gone (its process is dead): from now on the cursor
  // reads nothing past the write_pos it loads here, so that another process
  // that can write the segment cannot keep a dead producer's drain going by
  // moving write_pos on. Later calls keep the first bound.
  void end_at_current_write_pos();

  // Emits a DropGap for events the ring's writers dropped after the last
  // record this cursor decoded, from the slot's counters. Only meaningful
  // once the writer is gone (segment kFinished, slot retired or producer
  // dead) and the ring is drained: the counters are not ordered with the
  // records while a writer runs. FailedPreconditionError if not drained.
  absl::Status report_trailing_drops(RecordSink& sink);

  // The slot's audit_lost counter now (untrusted; it only grows while a
  // producer is honest) and the ring's current owner, for the note the drain
  // writes about audit losses.
  uint64_t audit_lost_untrusted() const;
  uint32_t owner_tid() const { return owner_tid_; }

  uint32_t slot_index() const { return slot_index_; }
  uint64_t position() const { return position_; }                      // next record to decode
  uint64_t committed_position() const { return committed_position_; }  // last read_pos this cursor stored
  bool poisoned() const { return !poison_.ok(); }
  const absl::Status& poison_status() const { return poison_; }

 private:
  RingCursor() = default;

  void start();
  void adopt_directory_owner();
  void forget_stream();
  absl::Status decode_records(uint64_t write_pos, CallSiteTable& table, RecordSink& sink, BatchStats& stats);
  absl::Status fail(const std::string& reason, uint64_t at);
  bool consumer_passed(uint64_t at);
  void emit_gap(RecordSink& sink, uint64_t first, uint64_t last, BatchStats& stats,
                DropGap::Cause cause = DropGap::Cause::kDropped);
  // Flight mode: the oldest position whose bytes cannot have been overwritten
  // while write_pos was at most `write_pos` (a chunk start).
  uint64_t oldest_intact(uint64_t write_pos) const;
  // Flight mode: moves the cursor to `to` (a chunk start past position_),
  // forgetting the stream; the skipped events are reported at the next seq.
  void jump_to(uint64_t to, BatchStats& stats);
  // Flight mode: after a stage(), true (and the cursor moved on) if the copy
  // may hold overwritten bytes.
  bool jumped_after_copy(BatchStats& stats);
  // The seq checks for a record carrying `seq` (an event's, or the next
  // event's); emits the gap before it. An error when seq goes back.
  absl::Status account_seq(RecordSink& sink, uint64_t seq, uint64_t at, const char* what, BatchStats& stats);
  // Points *out at a private copy of ring positions [at, at + size), which
  // lie below write_pos and within the ring; refills the staging copy from
  // `at` when it does not hold them. Valid until the next stage().
  absl::Status stage(uint64_t at, uint64_t size, uint64_t write_pos, const std::byte** out);

  std::string segment_name_;
  shm::RingSlot* slot_ = nullptr;  // written only through read_pos, and only in kConsume
  RingBytesSource source_;
  uint64_t capacity_ = 0;
  uint64_t data_offset_ = 0;
  uint32_t slot_index_ = 0;
  uint32_t callsite_capacity_ = 0;
  uint32_t max_record_bytes_ = 0;
  uint32_t max_string_bytes_ = 0;
  uint64_t chunk_bytes_ = 0;  // the ring's capacity, or a flight ring's chunk size
  bool flight_ = false;
  RingCursorOptions options_;

  bool started_ = false;
  uint64_t end_limit_ = UINT64_MAX;  // end_at_current_write_pos(): read no further
  uint64_t position_ = 0;
  uint64_t committed_position_ = 0;
  bool has_expected_seq_ = false;
  uint64_t expected_seq_ = 0;
  uint32_t owner_tid_ = 0;
  std::string owner_name_;
  bool owner_known_ = false;
  absl::Status poison_;
  // Flight mode.
  uint64_t overwritten_to_ = 0;  // set by stage(): the copy began below this, jump there
  bool lap_pending_ = false;     // jumped: the next seq closes an overwritten gap
  bool lap_has_expected_ = false;
  uint64_t lap_expected_ = 0;  // the seq expected where the cursor jumped from

  absl::Status apply_frame(const std::byte* record, uint32_t size, uint64_t at, RecordSink& sink);
  void clear_frames();
  // Owner and frames, shared between snapshots (resume_at()).
  struct Snapshot {
    uint64_t end_pos = 0;  // after the record that made this state
    bool owner_known = false;
    uint32_t owner_tid = 0;
    std::string owner_name;
    std::vector<std::shared_ptr<const std::string>> frames;
  };
  // Records the state after the record ending at position_ (kConsume only).
  void snapshot();
  // Drops the snapshots a commit at `position` no longer needs.
  void forget_snapshots_before(uint64_t position);

  std::vector<std::shared_ptr<const std::string>> frame_records_;  // raw, parallel to context_.frames
  Snapshot base_;                   // the state at base_.end_pos (the last commit, or the start)
  std::deque<Snapshot> snapshots_;  // later states, by end_pos

  // Positions the thread's staging copy holds for this cursor (empty at the
  // start of every batch: the staging buffer is shared by the thread's cursors).
  uint64_t staged_begin_ = 0;
  uint64_t staged_end_ = 0;
  // A peeking cursor (not flight): the consumer's read_pos loaded just after
  // the staging copy. A record at or past it was not reused while copied,
  // which spares consumer_passed() a fence and a load of shared memory per
  // record. UINT64_MAX: not known, look again.
  uint64_t staged_read_pos_ = UINT64_MAX;
  std::vector<uint64_t> buffer_;  // resume_from(): a stored frame record being checked (8-byte aligned)
  ThreadContext context_;         // the frames of the ring's current thread
  DecodedFrame frame_;            // the frame record being decoded (storage reused)
  SpanEdge span_edge_;
  DecodedEvent event_;
  DropGap gap_;
  ThreadStart thread_start_;
};

}  // namespace ringtail::reader
