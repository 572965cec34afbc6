#include "ringtail/reader/drain/reorder_buffer.hpp"

#include <algorithm>
#include <utility>

namespace ringtail::reader {

ReorderBuffer::ReorderBuffer(uint32_t lanes, Limits limits) : limits_(limits), lanes_(lanes) { heap_.reserve(lanes); }

void ReorderBuffer::begin_pass(int64_t steady_now_ns) {
  ++pass_;
  pass_steady_ns_ = steady_now_ns;
}

void ReorderBuffer::heap_push(uint32_t lane) {
  const Lane& l = lanes_[lane];
  heap_.push_back(HeapItem{l.entries[l.head].key, lane});
  std::push_heap(heap_.begin(), heap_.end(), heap_after);
}

void ReorderBuffer::push(uint32_t lane, int64_t key, uint64_t end_pos, Kind kind, uint64_t next_seq) {
  Lane& l = lanes_[lane];
  const bool was_empty = l.head == l.entries.size();
  const uint32_t size = l.lines.lines.back().size;
  l.entries.push_back(Entry{key, end_pos, pass_, next_seq, kind});
  if (was_empty) heap_push(lane);
  ++held_lines_;
  held_bytes_ += size;
  if (passes_.empty() || passes_.back().pass != pass_) passes_.push_back(PassCount{pass_, pass_steady_ns_, 0});
  ++passes_.back().lines;
}

void ReorderBuffer::forget_line(uint64_t pass) {
  // Lines mostly go out in the order they came in: the oldest pass first.
  if (!passes_.empty() && passes_.front().pass == pass) {
    if (--passes_.front().lines == 0) {
      while (!passes_.empty() && passes_.front().lines == 0) passes_.pop_front();
    }
    return;
  }
  // Otherwise: passes are few (a line is held about W) and sorted.
  auto it = std::lower_bound(passes_.begin(), passes_.end(), pass,
                             [](const PassCount& p, uint64_t value) { return p.pass < value; });
  if (it != passes_.end() && it->pass == pass && it->lines > 0) --it->lines;
  while (!passes_.empty() && passes_.front().lines == 0) passes_.pop_front();
}

void ReorderBuffer::compact(Lane& lane) {
  if (lane.head == lane.entries.size()) {
    // Everything written: start over without freeing the capacity.
    lane.lines.clear();
    lane.entries.clear();
    lane.head = 0;
    return;
  }
  // Drop the written prefix once it is at least half of what the lane holds,
  // so that each byte is moved O(1) times on average.
  if (lane.head < 1024 || lane.head * 2 < lane.entries.size()) return;
  std::vector<LineShape>& shapes = lane.lines.lines;
  const uint64_t drop_bytes = shapes[lane.head].offset;
  const uint32_t drop_fields = shapes[lane.head].first_field;
  lane.lines.text.erase(0, drop_bytes);
  lane.lines.fields.erase(lane.lines.fields.begin(), lane.lines.fields.begin() + drop_fields);
  const auto head = static_cast<ptrdiff_t>(lane.head);
  shapes.erase(shapes.begin(), shapes.begin() + head);
  for (LineShape& shape : shapes) {
    shape.offset -= drop_bytes;
    shape.first_field -= drop_fields;
  }
  lane.entries.erase(lane.entries.begin(), lane.entries.begin() + head);
  lane.head = 0;
}

void ReorderBuffer::sift_down_top() {
  // The top's key grew: move it down to its place (what std::pop_heap +
  // push_heap would do, in one pass and without moving it to the back).
  const size_t n = heap_.size();
  const HeapItem item = heap_[0];
  size_t i = 0;
  for (;;) {
    size_t child = 2 * i + 1;
    if (child >= n) break;
    if (child + 1 < n && heap_after(heap_[child], heap_[child + 1])) ++child;
    if (!heap_after(item, heap_[child])) break;
    heap_[i] = heap_[child];
    i = child;
  }
  heap_[i] = item;
}

void ReorderBuffer::flush_run(ShapedLines& out, Run& run) {
  if (!run.active) return;
  Lane& lane = lanes_[run.lane];
  const uint64_t text_start = out.text.size();
  out.text.append(lane.lines.text.data() + run.begin, run.end - run.begin);
  // The run's lines' fields are consecutive too.
  const std::vector<LineShape>& shapes = lane.lines.lines;
  const uint32_t first_field = shapes[run.first].first_field;
  const uint32_t end_field = shapes[run.last - 1].first_field + shapes[run.last - 1].field_count;
  const auto field_start = static_cast<uint32_t>(out.fields.size());
  out.fields.insert(out.fields.end(), lane.lines.fields.begin() + first_field, lane.lines.fields.begin() + end_field);
  for (size_t i = run.first; i < run.last; ++i) {
    LineShape& shape = out.lines.emplace_back(shapes[i]);
    shape.offset = shape.offset - run.begin + text_start;
    shape.first_field = shape.first_field - first_field + field_start;
  }
  run.active = false;
  compact(lane);  // only now: the run's bytes are copied out
}

void ReorderBuffer::write_top(ShapedLines& out, Released& r, Run& run) {
  const uint32_t top = heap_.front().lane;
  Lane& lane = lanes_[top];
  const Entry& e = lane.entries[lane.head];
  const LineShape& shape = lane.lines.lines[lane.head];
  // Consecutive lines of one lane are consecutive bytes: copy them as one run.
  if (run.active && (run.lane != top || run.last != lane.head)) flush_run(out, run);
  if (run.active) {
    run.end += shape.size;
    ++run.last;
  } else {
    run = Run{true, top, lane.head, lane.head + 1, shape.offset, shape.offset + shape.size};
  }
  account_written(r, lane, e.key, e.end_pos, e.kind, e.next_seq, shape.size);
  --held_lines_;
  held_bytes_ -= shape.size;
  forget_line(e.pass);
  ++lane.head;
  if (lane.head < lane.entries.size()) {
    // The lane's next line takes its place (usually the top again).
    heap_.front().key = lane.entries[lane.head].key;
    sift_down_top();
  } else {
    std::pop_heap(heap_.begin(), heap_.end(), heap_after);
    heap_.pop_back();
  }
}

void ReorderBuffer::account_written(Released& r, Lane& lane, int64_t key, uint64_t end_pos, Kind kind,
                                    uint64_t next_seq, uint32_t bytes) {
  ++r.lines;
  r.bytes += bytes;
  switch (kind) {
    case Kind::kEvent:
      ++r.events;
      if (wrote_any_ && key < highest_written_) ++r.late;
      break;
    case Kind::kGap:
      ++r.gaps;
      break;
    case Kind::kNote:
      ++r.notes;
      break;
  }
  if (!wrote_any_ || key > highest_written_) highest_written_ = key;
  wrote_any_ = true;
  lane.released_end_pos = std::max(lane.released_end_pos, end_pos);
  if (next_seq != kNoSeq) lane.released_next_seq = next_seq;
}

void ReorderBuffer::wrote_through(uint32_t lane, int64_t key, uint64_t end_pos, Kind kind, uint64_t next_seq,
                                  uint32_t bytes) {
  account_written(through_, lanes_[lane], key, end_pos, kind, next_seq, bytes);
}

ReorderBuffer::Released ReorderBuffer::release(int64_t watermark, bool flush_all, int64_t steady_now_ns,
                                               ShapedLines& out, size_t out_limit) {
  Released r = std::exchange(through_, Released{});
  Run run;
  while (!heap_.empty() && out.text.size() + run.bytes() < out_limit) {
    const int64_t key = heap_.front().key;
    const bool over_limits = held_lines_ > limits_.max_lines || held_bytes_ > limits_.max_bytes;
    const bool aged = !passes_.empty() && steady_now_ns - passes_.front().steady_ns >= limits_.window_ns;
    if (!(flush_all || key <= watermark || aged || over_limits)) break;
    if (over_limits && !flush_all && key > watermark && !aged) ++r.forced;
    write_top(out, r, run);
  }
  flush_run(out, run);
  return r;
}

ReorderBuffer::Released ReorderBuffer::release_until(uint32_t lane, uint64_t end_pos, ShapedLines& out,
                                                     size_t out_limit) {
  Released r = std::exchange(through_, Released{});
  Run run;
  while (!lane_empty(lane) && head_end_pos(lane) < end_pos && out.text.size() + run.bytes() < out_limit) {
    write_top(out, r, run);
    ++r.forced;
  }
  flush_run(out, run);
  return r;
}

void ReorderBuffer::clear() {
  for (Lane& lane : lanes_) {
    lane.lines.clear();
    lane.entries.clear();
    lane.head = 0;
  }
  heap_.clear();
  passes_.clear();
  through_ = Released{};
  held_lines_ = 0;
  held_bytes_ = 0;
}

}  // namespace ringtail::reader
