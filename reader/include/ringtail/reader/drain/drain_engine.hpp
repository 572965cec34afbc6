// DrainEngine: finds producers' segments, drains their rings, hands the
// JSONL lines with their shapes (sinks/event_batch.hpp) to an EventSink and
// (consume mode) publishes the read positions and removes the segments of
// producers that are gone. docs/ARCHITECTURE.md
// ("The reader") describes the same flow for readers of the ABI.
//
// One pass of the engine, per segment:
//   1. Discovery (every rescan_interval in run(), always in drain_once()):
//      discover_segments(); a new segment is opened (read-write in consume
//      mode, read-only in peek mode) and validated. An invalid one is
//      reported once (one line naming it) and skipped until its name goes
//      away; one still being initialised is retried silently. Consume mode
//      takes the ConsumerLease: a segment leased by another live reader is
//      reported once and retried at every rescan. The producer's state
//      (alive / exited / crashed) and its header loss counters are checked
//      here too.
//   2. Rings: a RingCursor per slot that is not free (slots claimed later are
//      picked up on the next pass). The rings are read one batch (<= 256 KiB;
//      the cursor acquire-loads write_pos once per batch) at a time, always
//      from the ring that has reached the lowest timestamp (one not read yet
//      first: it holds the merge back), until each has caught up or one
//      ring's capacity was read in this pass (4 for drain_once, no limit for
//      a dead producer), or the segment has handed pass_bytes of lines on
//      (not in a live producer's drain_once: the rings bound it); the next
//      pass reads on from there. Events go through
//      EventJsonFormatter straight into the segment's ReorderBuffer; a
//      DropGap becomes a "ringtail.dropped" line stamped with the time of the
//      event that revealed it (the drain time if none follows yet); a
//      poisoned ring a "ringtail.ring_corrupt" ERROR note (slot, reason) and
//      one report line; increased header loss counters a "ringtail.lost" WARN
//      note with the deltas. min_level drops events below it (gaps and notes
//      always pass).
//   3. Reorder: after each batch and at the end of the pass, lines leave
//      the segment's ReorderBuffer (reorder_buffer.hpp) up to the
//      segment's watermark. The watermark rule, the merge order of the
//      batches and the bounds (window plus one pass; memory; half a ring)
//      are stated once, in docs/ARCHITECTURE.md, "The reorder window".
//      Per-ring order is always kept; late lines count in
//      DrainStats::late_events (one report line per segment), lines sent
//      early in DrainStats::reorder_forced. drain_once() and the final
//      drain of a dead producer use no window.
//   4. Output: the lines are handed to the sink per segment (in chunks of
//      about 1 MiB), then, once per pass, EventSink::flush() (both on the
//      writer thread, see below).
//   5. Commit (consume mode), only after that pass's flush() returned OK:
//      each ring's read_pos is published (RingCursor::commit_to) up to the
//      end of the last record whose lines were all handed on at the end of
//      the pass; a ring whose lines are still held in the reorder buffer is
//      committed only up to its oldest held record. A reader killed at any
//      instant therefore loses nothing. The flush also hands the sink each
//      changed segment's resume point (segment_resume.hpp; built at the
//      commit points): a sink that stores it with the data (StoreSink)
//      gives it back when the segment is opened again, and the segment's
//      rings start there, so a restarted reader writes nothing twice and
//      keeps the threads' context (docs/ARCHITECTURE.md, "Exactly once").
//      Without one it repeats what it had written since its last commit.
//   6. Dead producers (exited or crashed, checked in step 1 before the final
//      read, so nothing can be written after it): every ring is read to its
//      end (drain_once() runs passes of pass_bytes until then; the rest of
//      this step is the last pass's), trailing drops are reported (RingCursor::report_trailing_drops),
//      the reorder buffer is written out whole, then a crashed producer gets
//      a "ringtail.crashed" ERROR note (with its lost_no_ring /
//      lost_callsite_table_full totals when nonzero); a clean exit gets no
//      extra line. After flush and commit, consume mode with
//      remove_drained_dead_segments releases the lease and removes the
//      segment (EventSink::segment_finished is called for it). Peek mode, or
//      consume mode without removal, only stops reading it.
//
// Output errors: a failed EventSink::write() or flush() makes the pass (the
// one that sees it) fail: nothing more is committed, the sink's discard() is
// called (on the writer thread, once it has reached that point), and every
// segment starts over: a new SegmentDrainer on the same open view and lease
// (nothing is re-validated, and no other drain can take the segment
// meanwhile) reads again from the committed read positions. drain_once()
// returns the error. run() with sink_error_backoff 0 reports it and returns
// (last_error()); with sink_error_backoff > 0 a daemon survives it (a full
// disk, a closed pipe, a planted link in the store): it reports the first
// failure at once, pauses, and tries again, doubling the pause after each
// failed try up to sink_error_backoff_max, and says at most once per
// sink_error_report_interval that the output still fails. Meanwhile nothing
// is committed, so the producers' data stays in their rings: a full ring
// drops and counts (an audit event waits its bound first), and the drops
// reach the output as "ringtail.dropped" lines once it works again. Every
// segment it leases is marked stalled (ConsumerLease::mark_stalled: since
// when, and the errno when known) for `ringtail ls`, and on_sink_error is
// called once per failed try (the CLI frees space with retention there).
// The output counts as working again once a batch with lines has been
// flushed: one line says so, the marks are cleared, and the next failure
// starts over from the first pause.
//
// Threading model. The engine's thread (the caller of drain_once() / run())
// does discovery, the producer checks and the commits. Decoding, formatting
// and the reorder merge (steps 2-4) run per segment: on the engine's thread
// when a pass has one segment (or decode_threads is 1), else on a DecodePool
// of decode_threads workers, one segment per worker at a time (segments share
// nothing: each has its own view, table, cursors, formatter and buffer); the
// workers' chunks reach the writer through the engine's thread, which keeps
// the writer's queue in order (decode_pool.hpp). A writer thread owns the
// sink: the engine hands it
// ~1 MiB chunks of lines and a flush marker per pass through a
// moodycamel::BlockingConcurrentQueue, bounded by max_output_bytes_in_flight
// (a slow sink makes the engine wait, so the producers' rings fill, rather
// than the reader's memory grow). A pass's read positions are committed once
// the writer reports that pass's flush done, normally at the start of the
// next pass (drain_once() waits for it). writer_thread = false calls the sink
// on the engine's thread instead. drain_once() and run() must not run
// concurrently; stats() and last_error() may be called from any thread.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "ringtail/reader/drain/segment_resume.hpp"
#include "ringtail/reader/ingest/consumer_lease.hpp"
#include "ringtail/reader/ingest/segment_directory.hpp"
#include "ringtail/reader/output/redaction.hpp"
#include "ringtail/reader/sinks/event_sink.hpp"
#include "ringtail/shm/layout.hpp"

namespace ringtail::reader {

// Where the engine stands, for DrainOptions::on_progress.
struct DrainProgress {
  uint64_t segments = 0;       // segments opened so far (DrainStats::segments_seen)
  uint64_t segments_done = 0;  // of those, with nothing left to read in drain_once() (not stopped at pass_bytes)
  uint64_t events = 0;         // DrainStats::events so far
  uint64_t bytes = 0;          // DrainStats::bytes so far: bytes of lines handed to the sink
};

struct DrainOptions {
  enum class Mode { kConsume, kPeek } mode = Mode::kConsume;  // peek: never advances read_pos, takes no lease (tail)
  DiscoveryOptions discovery;
  std::chrono::milliseconds reorder_window{100};
  std::optional<shm::Level> min_level;             // only events at or above (tail --level); gaps/notes always pass
  bool remove_drained_dead_segments = true;        // consume mode: remove a dead producer's segment once drained
  std::chrono::microseconds idle_sleep{2000};      // back-off when little was pending (less while rings fill fast)
  std::chrono::milliseconds rescan_interval{500};  // how often run() looks for new segments
  // Memory bound of each segment's reorder buffer: past either, its oldest
  // lines are written early (DrainStats::reorder_forced).
  uint64_t reorder_max_lines = uint64_t{1} << 20;
  uint64_t reorder_max_bytes = uint64_t{256} << 20;
  // A pass over a segment ends once it has handed this many bytes of lines
  // on (the next pass goes on where it stopped; drain_once() runs passes
  // until a dead producer's rings are read to their end), so that a backlog
  // is flushed and committed as it goes: a store file that fills up is
  // closed, and compressed, at the end of the pass that filled it, not at
  // the end of the backlog. A live producer's drain_once() pass is bounded
  // by its rings instead (step 2).
  uint64_t pass_bytes = uint64_t{32} << 20;
  // run() after a sink error: 0 returns (the error in last_error()); more
  // reports it, waits this long and starts over from the committed
  // positions, doubling the wait after each failed try up to
  // sink_error_backoff_max ("Output errors" above).
  std::chrono::milliseconds sink_error_backoff{0};
  std::chrono::milliseconds sink_error_backoff_max{30000};
  // While the output keeps failing, run() says so at most this often.
  std::chrono::milliseconds sink_error_report_interval{60000};
  // run() with a backoff: called on the engine's thread after each failed
  // try, with its error (e.g. to free space by applying retention early).
  std::function<void(const absl::Status&)> on_sink_error;
  // Call the sink on a writer thread, fed through a bounded queue, while the
  // engine's thread decodes the next pass; false: on the engine's thread.
  bool writer_thread = true;
  // Writer thread: at most this many bytes of lines (and their shapes) queued; the engine waits beyond.
  uint64_t max_output_bytes_in_flight = uint64_t{8} << 20;
  // Threads that decode segments in parallel (one segment per thread at a
  // time) when a pass has several: 0 picks min(4, hardware threads); 1 (or
  // writer_thread = false) decodes on the engine's thread.
  unsigned decode_threads = 0;
  // Applied to every event's fields before any output (redaction.hpp); none: values as logged.
  std::shared_ptr<const Redactor> redactor;
  // Called on the engine's thread at the end of every pass (a progress
  // display for drain_once(), which runs passes of pass_bytes until the
  // backlogs are read); none by default.
  std::function<void(const DrainProgress&)> on_progress;
};

// Counters only: DrainEngine sums the counts of parallel decoders field by field.
struct DrainStats {
  uint64_t events = 0;            // event lines written to the sink
  uint64_t lines = 0;             // all lines written: events, gaps, notes
  uint64_t bytes = 0;             // bytes written to the sink
  uint64_t gaps = 0;              // "ringtail.dropped" lines
  uint64_t dropped = 0;           // events those lines report
  uint64_t overwritten = 0;       // of those, overwritten by a flight-recorder ring before they were read
  uint64_t segments_seen = 0;     // segments opened
  uint64_t segments_removed = 0;  // dead producers' segments drained and removed
  uint64_t segments_invalid = 0;  // segments that failed to open or validate
  uint64_t rings_poisoned = 0;
  uint64_t late_events = 0;        // written out of timestamp order (later than the window)
  uint64_t reorder_forced = 0;     // written early: a reorder buffer was over its limits
  uint64_t segments_busy = 0;      // lease refusals (another live reader consumes the segment)
  uint64_t producers_crashed = 0;  // "ringtail.crashed" notes written
  uint64_t audit_lost = 0;         // audit events producers lost ("ringtail.audit_lost" notes)
  uint64_t sink_errors = 0;
  uint64_t passes = 0;
  uint64_t records_too_big = 0;  // records over the reader's copy limit ("ringtail.too_big" notes)
  uint64_t output_stalls = 0;    // times run()'s output began failing (sink_errors counts every failed try)
};

class SegmentDrainer;
class OutputPipeline;
class OutputStall;
class DecodePool;

class DrainEngine {
 public:
  // report: one-line diagnostics (the CLI prints them to stderr with "ringtail: ").
  DrainEngine(DrainOptions options, EventSink& sink, std::function<void(std::string_view)> report);
  ~DrainEngine();
  DrainEngine(const DrainEngine&) = delete;
  DrainEngine& operator=(const DrainEngine&) = delete;

  // Discover, drain everything pending in every segment (writing out every
  // line held for reordering), write, flush, commit; finish dead producers.
  // Returns non-OK only for sink errors.
  absl::Status drain_once();
  // Follow: keep draining, pick up new segments, back off when idle; on
  // stop: a final drain_once(). Returns early on a sink error unless
  // sink_error_backoff is set (see last_error(), which also holds the final
  // drain's error).
  void run(const std::atomic<bool>& stop);

  DrainStats stats() const;
  // The last sink error of run() or drain_once(); OK if none.
  absl::Status last_error() const;

 private:
  struct PassResult {
    bool busy = false;  // some ring had more than a little pending: do not sleep
    bool more = false;  // some segment stopped at pass_bytes: drain_once() goes on
    // The least of the drained segments' SegmentDrainer::time_to_fill_ns():
    // run() sleeps no more than a sixteenth of it.
    int64_t fill_ns = INT64_MAX;
  };

  // What to publish once the output of batch `batch` is flushed.
  struct PendingCommit;

  // `continuing`: a further pass of drain_once(), over the segments whose
  // last pass stopped at pass_bytes only.
  absl::Status pass(bool rescan, bool final_drain, PassResult* result, bool continuing = false);
  // Step 2-4 for every segment not retiring: in turn, or on the DecodePool.
  absl::Status drain_segments(const std::vector<SegmentDrainer*>& drainers, bool rescan_now, bool final_drain,
                              int64_t realtime_now_ns, int64_t steady_now_ns, PassResult* result);
  void rescan();
  void open_segment(const DiscoveredSegment& found);
  // The sink's stored resume point for the segment, decoded (consume mode).
  std::optional<SegmentResume> stored_resume_point(const SegmentIdentity& identity);
  // The drainer of an open (and, consume mode, leased) segment, fresh: it
  // reads from the segment's stored resume point (consume mode, if the sink
  // has one), else from the committed read positions. Every drainer is made
  // here, for a new segment and again after an output error.
  std::unique_ptr<SegmentDrainer> make_drainer(SegmentView view, std::optional<ConsumerLease> lease);
  // Commits what was flushed and retires the segments finished then; on an
  // output error, resets and returns it.
  absl::Status apply_flushed();
  void retire_segment(const std::string& name);
  // Lets go of a segment whose file was cut short (kept in /dev/shm, not reopened).
  void abandon_segment(const std::string& name);
  void reset_after_sink_error(const absl::Status& error);
  // run() with a backoff: a failed try (report, marks, pause) and the first
  // flushed batch with lines after it.
  std::chrono::milliseconds output_failed(const absl::Status& error);
  void check_output_resumed();
  // The highest batch handed to the output so far.
  uint64_t last_batch() const;
  void publish_stats();
  void report(std::string_view line);

  DrainOptions options_;
  EventSink& sink_;
  std::function<void(std::string_view)> report_;
  std::map<std::string, std::unique_ptr<SegmentDrainer>> segments_;  // by name
  int64_t once_steady_ns_ = 0;  // the reader's clock at the start of the current pass (drain_once(): of its first)
  std::vector<PendingCommit> pending_;  // oldest batch first (few: the writer is at most a pass or two behind)
  // Declared after segments_ so that it goes first: the writer may still
  // point at a segment's identity.
  std::unique_ptr<OutputPipeline> output_;
  std::unique_ptr<DecodePool> pool_;  // null when decoding on the engine's thread
  std::unique_ptr<OutputStall> stall_;
  // While stalled: the output works again once this batch (one with lines,
  // ended after the last failure) is flushed; 0 until there is one.
  uint64_t resume_batch_ = 0;
  uint64_t bytes_before_pass_ = 0;  // work_.bytes when run()'s current pass began
  std::set<std::string> rejected_;  // invalid: reported once, skipped while the name exists
  std::set<std::string> busy_;      // leased by another reader: reported once, retried
  std::set<std::string> finished_;  // drained to the end but not removed (peek, or no removal)
  std::set<std::string> skipped_reported_;
  std::string discovery_error_;  // last reported discovery error (reported once while it lasts)
  DrainStats work_;              // the engine thread's counters
  mutable std::mutex mutex_;
  DrainStats published_ ABSL_GUARDED_BY(mutex_);  // a copy of work_ for stats()
  absl::Status last_error_ ABSL_GUARDED_BY(mutex_);
};

}  // namespace ringtail::reader
