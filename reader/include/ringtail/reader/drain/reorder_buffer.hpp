// ReorderBuffer: one segment's formatted lines, held back for a short window
// so that the lines of its rings (one per producer thread) come out merged by
// timestamp.
//
// Lanes: one per ring slot, plus one for the segment's own notes. Each lane is
// a FIFO of lines in the order they were pushed (ring order). Lines are
// formatted, with their shapes (sinks/event_batch.hpp), straight into the
// lane's ShapedLines (lane_lines(), then push()), so buffering costs no
// allocation per line; they leave with their shapes.
//
// The merge rule (window W):
//   - Output is a k-way merge of the lanes: the next line written is always
//     the head of some lane, the one with the smallest key (timestamp, then
//     lane index). Lines of one lane therefore come out in lane order, ALWAYS,
//     even when a thread's timestamps go backwards: a lane's line is never
//     written before the lines pushed to that lane before it.
//   - The smallest head is written when any of these holds:
//       key <= watermark (the caller's: docs/ARCHITECTURE.md, "The reorder
//         window", says how the drain computes it);
//       flush_all (the drain is final, or the producer is gone);
//       the buffer holds more than max_lines lines or max_bytes bytes (the
//         memory bound: the oldest go out early, counted in `forced`);
//       the oldest line still held was read (pushed) W or more ago by the
//         reader's monotonic clock, so that no line waits more than W plus
//         one pass of the drain, whatever its timestamp says;
//       release_until(): a lane's held lines pin too much of its ring (the
//         caller's rule: more than half the ring), so lines go out until
//         that lane's oldest held line is recent enough (counted in `forced`).
//   - A line whose key is below the highest key already written (it arrived
//     more than W late, or its thread's clock went backwards) is still
//     written as soon as it is the smallest head: out of order, counted in
//     `late` (events only).
//
// Positions: each line carries the ring position after the record it came
// from (`end_pos`); released_end_pos(lane) is that of the lane's last written
// line, which is how far its ring's read_pos may be committed while the lane
// still holds lines (see drain_engine.hpp, commit discipline). A line may
// also carry the seq its ring expects after its record (`next_seq`: an
// event's seq + 1, a gap's last + 1); released_next_seq(lane) is that of the
// last written line that had one, the expected seq at released_end_pos.
//
// Threading: not thread-safe; one thread per buffer.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>
#include <vector>

#include "ringtail/reader/sinks/event_batch.hpp"

namespace ringtail::reader {

class ReorderBuffer {
 public:
  enum class Kind : uint8_t { kEvent, kGap, kNote };

  struct Limits {
    int64_t window_ns = 100'000'000;
    uint64_t max_lines = uint64_t{1} << 20;
    uint64_t max_bytes = uint64_t{256} << 20;
  };

  // What one release() wrote.
  struct Released {
    uint64_t lines = 0;
    uint64_t events = 0;
    uint64_t gaps = 0;
    uint64_t notes = 0;
    uint64_t bytes = 0;
    uint64_t late = 0;    // events written with a key below one already written
    uint64_t forced = 0;  // lines written early because the buffer was over its limits
  };

  ReorderBuffer(uint32_t lanes, Limits limits);

  uint32_t lane_count() const { return static_cast<uint32_t>(lanes_.size()); }

  // Starts a pass of the reader: lines pushed from now on were read at
  // `steady_now_ns` (monotonic clock), for the age rule.
  void begin_pass(int64_t steady_now_ns);

  // Format a line (with its shape) into lane_lines(lane), then push() it:
  // the lane's last line is the one pushed.
  ShapedLines& lane_lines(uint32_t lane) { return lanes_[lane].lines; }
  static constexpr uint64_t kNoSeq = UINT64_MAX;
  void push(uint32_t lane, int64_t key, uint64_t end_pos, Kind kind, uint64_t next_seq = kNoSeq);

  // Write-through: a line that would be the very next one written may skip
  // the buffer (formatted straight into the caller's output, saving its copy
  // through the lane). That holds when `lane` holds nothing (lane order), no
  // held line comes first in merge order, and the line would not be late;
  // the caller adds that its key is at or below the watermark (no line not
  // read yet can come first). wrote_through() then accounts it as pushed and
  // written at once (the lane's released_end_pos and next seq); its counts
  // are added to what the next release() or release_until() returns.
  bool can_write_through(uint32_t lane, int64_t key) const {
    if (!lane_empty(lane) || (wrote_any_ && key < highest_written_)) return false;
    if (heap_.empty()) return true;
    const HeapItem& top = heap_.front();
    return top.key > key || (top.key == key && top.lane > lane);
  }
  void wrote_through(uint32_t lane, int64_t key, uint64_t end_pos, Kind kind, uint64_t next_seq, uint32_t bytes);

  // Appends the lines the rule above lets go to `out`, in merge order.
  // Stops early (returns) once `out` holds at least `out_limit` bytes, so the
  // caller can hand `out` on and call again.
  Released release(int64_t watermark, bool flush_all, int64_t steady_now_ns, ShapedLines& out,
                   size_t out_limit = SIZE_MAX);

  // Writes lines in merge order (counted in `forced`) until `lane` holds no
  // line with an end_pos below `end_pos`, so that its ring's read_pos can be
  // committed up to there: the caller's bound on how much of a ring held
  // lines may pin (see drain_engine.hpp). Stops early like release().
  Released release_until(uint32_t lane, uint64_t end_pos, ShapedLines& out, size_t out_limit = SIZE_MAX);

  // The end_pos of the oldest line `lane` holds; the lane must not be empty.
  uint64_t head_end_pos(uint32_t lane) const { return lanes_[lane].entries[lanes_[lane].head].end_pos; }
  bool lane_empty(uint32_t lane) const { return lanes_[lane].head == lanes_[lane].entries.size(); }
  uint64_t released_end_pos(uint32_t lane) const { return lanes_[lane].released_end_pos; }
  // kNoSeq until a written line of the lane had a next_seq.
  uint64_t released_next_seq(uint32_t lane) const { return lanes_[lane].released_next_seq; }
  bool empty() const { return held_lines_ == 0; }
  uint64_t held_lines() const { return held_lines_; }
  uint64_t held_bytes() const { return held_bytes_; }

  // Drops everything held (after an output error: the reader reads it again).
  void clear();

 private:
  // What the merge needs of a line; its text and shape are lines.lines[i]
  // for entries[i].
  struct Entry {
    int64_t key;
    uint64_t end_pos;
    uint64_t pass;
    uint64_t next_seq;
    Kind kind;
  };
  struct Lane {
    ShapedLines lines;  // of entries[head..] (and maybe some already written, until compacted)
    std::vector<Entry> entries;
    size_t head = 0;
    uint64_t released_end_pos = 0;
    uint64_t released_next_seq = kNoSeq;
  };
  struct HeapItem {
    int64_t key;
    uint32_t lane;
  };
  struct PassCount {
    uint64_t pass;
    int64_t steady_ns;
    uint64_t lines;
  };

  static bool heap_after(const HeapItem& a, const HeapItem& b) {
    return a.key != b.key ? a.key > b.key : a.lane > b.lane;
  }
  // Lines being written that are consecutive in one lane, its lines
  // [first, last) at bytes [begin, end): copied to `out` in one piece by
  // flush_run().
  struct Run {
    bool active = false;
    uint32_t lane = 0;
    size_t first = 0;
    size_t last = 0;
    uint64_t begin = 0;
    uint64_t end = 0;
    uint64_t bytes() const { return active ? end - begin : 0; }
  };

  void heap_push(uint32_t lane);
  void sift_down_top();
  // Takes the smallest head out (into `run`; the lane is compacted when the
  // run is flushed, never while a run points into it).
  void write_top(ShapedLines& out, Released& r, Run& run);
  void flush_run(ShapedLines& out, Run& run);
  // Counts a line written (from its lane or through) in `r`, and moves the
  // lane's commit point and the highest key written.
  void account_written(Released& r, Lane& lane, int64_t key, uint64_t end_pos, Kind kind, uint64_t next_seq,
                       uint32_t bytes);
  void compact(Lane& lane);
  void forget_line(uint64_t pass);

  Limits limits_;
  std::vector<Lane> lanes_;
  std::vector<HeapItem> heap_;    // one item per non-empty lane: its head's key
  std::deque<PassCount> passes_;  // passes that still have lines held, oldest first
  uint64_t pass_ = 0;
  int64_t pass_steady_ns_ = 0;
  uint64_t held_lines_ = 0;
  uint64_t held_bytes_ = 0;
  bool wrote_any_ = false;
  int64_t highest_written_ = INT64_MIN;
  Released through_;  // lines written through since the last release
};

}  // namespace ringtail::reader
