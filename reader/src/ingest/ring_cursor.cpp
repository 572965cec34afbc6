#include "ringtail/reader/ingest/ring_cursor.hpp"

#include <algorithm>
#include <atomic>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "ringtail/reader/ingest/reader_limits.hpp"
#include "ringtail/reader/ingest/record_decoder.hpp"

namespace ringtail::reader {
namespace {

std::string name_from(const char* chars, size_t max_bytes) {
  return std::string(chars, std::find(chars, chars + max_bytes, '\0'));
}

// The copy of ring bytes being decoded (8-byte aligned). One per thread, not
// one per cursor: a reader of thousands of rings keeps one stage per
// decoding thread. A cursor uses it only within one read_batch().
std::vector<uint64_t>& staging() {
  thread_local std::vector<uint64_t> words;
  return words;
}

}  // namespace

absl::StatusOr<RingCursor> RingCursor::create(const SegmentView& view, uint32_t slot_index, RingCursorOptions options) {
  if (slot_index >= view.slot_count()) {
    return absl::InvalidArgumentError(absl::StrCat("segment /dev/shm/", view.name(), ": ring ", slot_index,
                                                   " is past its ", view.slot_count(), " rings"));
  }
  if (options.max_batch_bytes < shm::kRecordPrefixBytes) {
    return absl::InvalidArgumentError(absl::StrCat("max_batch_bytes ", options.max_batch_bytes, " is below 8"));
  }
  if (options.mode == RingCursorOptions::Mode::kConsume && !view.writable()) {
    return absl::FailedPreconditionError(
        absl::StrCat("segment /dev/shm/", view.name(), " is open read-only: a consuming cursor needs it read-write"));
  }
  RingCursor cursor;
  cursor.segment_name_ = view.name();
  // The mapping is writable when the view is; only read_pos is ever written through it.
  cursor.slot_ = const_cast<shm::RingSlot*>(*view.slot(slot_index));
  cursor.source_ = *view.ring_bytes_source(slot_index);
  cursor.capacity_ = view.geometry().ring_capacity;
  cursor.data_offset_ = view.geometry().ring_data_offset(slot_index);
  cursor.slot_index_ = slot_index;
  cursor.callsite_capacity_ = view.callsite_capacity();
  cursor.max_record_bytes_ = view.geometry().max_record_bytes();
  cursor.max_string_bytes_ = view.identity().max_string_bytes;
  cursor.flight_ = view.geometry().flight();
  cursor.chunk_bytes_ = view.geometry().chunk_bytes();
  cursor.options_ = options;
  cursor.event_.slot_index = slot_index;
  cursor.gap_.slot_index = slot_index;
  cursor.thread_start_.slot_index = slot_index;
  cursor.span_edge_.slot_index = slot_index;
  return cursor;
}

absl::Status RingCursor::fail(const std::string& reason, uint64_t at) {
  poison_ = absl::DataLossError(absl::StrCat("segment /dev/shm/", segment_name_, " ring ", slot_index_, " at position ",
                                             at, ": ", reason, "; ring poisoned"));
  return poison_;
}

// kPeek: true (and the cursor resynchronised) if a consuming reader's read_pos
// passed `at`, so that what was read there may have been overwritten.
bool RingCursor::consumer_passed(uint64_t at) {
  // A flight ring's writer ignores read_pos: the torn-read rule protects peeks there.
  if (options_.mode != RingCursorOptions::Mode::kPeek || flight_) return false;
  // The record's bytes came with the staging copy, checked as a whole.
  if (at >= staged_read_pos_) return false;
  // acquire fence: the ring bytes copied before it are ordered before this
  // load, so a read_pos not past `at` means the producer could not yet
  // overwrite them while they were copied (it writes below read_pos + capacity).
  std::atomic_thread_fence(std::memory_order_acquire);
  const uint64_t read_pos = slot_->read_pos.load(std::memory_order_relaxed);
  if (read_pos <= at || read_pos % 8 != 0) return false;
  position_ = read_pos;
  forget_stream();
  return true;
}

uint64_t RingCursor::audit_lost_untrusted() const { return slot_->audit_lost.load(std::memory_order_relaxed); }

void RingCursor::forget_stream() {
  has_expected_seq_ = false;
  adopt_directory_owner();
  clear_frames();
}

namespace {
// Versions of every cursor's frames come from one counter, so a version
// names one state of one ring's frames for as long as the process runs.
std::atomic<uint64_t> g_context_versions{0};
}  // namespace

void RingCursor::clear_frames() {
  frame_records_.clear();
  if (context_.frames.empty()) return;
  context_.frames.clear();
  context_.version = g_context_versions.fetch_add(1, std::memory_order_relaxed) + 1;
}

void RingCursor::snapshot() {
  if (options_.mode != RingCursorOptions::Mode::kConsume) return;
  if (snapshots_.size() >= kMaxResumeSnapshots) {
    // Bounded: positions before the oldest kept can no longer be answered for.
    base_ = std::move(snapshots_.front());
    snapshots_.pop_front();
  }
  Snapshot& s = snapshots_.emplace_back();
  s.end_pos = position_;
  s.owner_known = owner_known_;
  s.owner_tid = owner_tid_;
  s.owner_name = owner_name_;
  s.frames = frame_records_;
}

void RingCursor::forget_snapshots_before(uint64_t position) {
  while (!snapshots_.empty() && snapshots_.front().end_pos <= position) {
    base_ = std::move(snapshots_.front());
    snapshots_.pop_front();
  }
  // No state change between the base and `position`: the base holds there too.
  base_.end_pos = std::max(base_.end_pos, position);
}

std::optional<RingResume> RingCursor::resume_at(uint64_t position, std::optional<uint64_t> expected_seq) const {
  if (options_.mode != RingCursorOptions::Mode::kConsume || !started_) return std::nullopt;
  if (position < base_.end_pos || position > position_ || position % 8 != 0) return std::nullopt;
  RingResume resume;
  resume.position = position;
  if (position == position_ && lap_pending_) {
    // Between a jump and the next seq: the records skipped still count.
    resume.lap_pending = true;
    resume.has_expected_seq = lap_has_expected_;
    resume.expected_seq = lap_expected_;
  } else if (position == position_) {
    resume.has_expected_seq = has_expected_seq_;
    resume.expected_seq = expected_seq_;
  } else if (expected_seq.has_value()) {
    resume.has_expected_seq = true;
    resume.expected_seq = *expected_seq;
  } else {
    return std::nullopt;
  }
  const Snapshot* state = &base_;
  for (const Snapshot& s : snapshots_) {
    if (s.end_pos > position) break;
    state = &s;
  }
  resume.owner_known = state->owner_known;
  resume.owner_tid = state->owner_tid;
  resume.owner_name = state->owner_name;
  resume.frames.reserve(state->frames.size());
  for (const auto& frame : state->frames) resume.frames.push_back(*frame);
  return resume;
}

bool RingCursor::resume_from(const RingResume& resume) {
  if (options_.mode != RingCursorOptions::Mode::kConsume || started_) return false;
  start();
  if (poisoned()) return false;
  // Untrusted (a stored file): only a position this ring can still hold.
  const uint64_t read_pos = position_;
  const uint64_t write_pos = std::min(slot_->write_pos.load(std::memory_order_acquire), end_limit_);
  if (resume.position % 8 != 0 || resume.position < read_pos || resume.position > write_pos ||
      (!flight_ && resume.position - read_pos > capacity_)) {
    return false;
  }
  if (resume.owner_name.size() > shm::kThreadNameBytes || resume.frames.size() > shm::kMaxFrameDepth) return false;
  if (resume.lap_pending && !flight_) return false;  // only a flight ring's cursor jumps
  // The frames, decoded as if read from the ring (then kept by depth).
  std::vector<ContextFrame> frames;
  std::vector<std::shared_ptr<const std::string>> records;
  size_t total = 0;
  for (const std::string& raw : resume.frames) {
    total += raw.size();
    if (raw.size() < shm::kRecordPrefixBytes || raw.size() % 8 != 0 || total > kMaxFrameBytesPerThread) return false;
    buffer_.resize(raw.size() / 8);
    std::memcpy(buffer_.data(), raw.data(), raw.size());
    const auto size = static_cast<uint32_t>(raw.size());
    if (!decode_frame(reinterpret_cast<const std::byte*>(buffer_.data()), size, max_string_bytes_, frame_).ok() ||
        !frame_.push || (!frames.empty() && frame_.frame.depth <= frames.back().depth)) {
      return false;
    }
    frames.push_back(frame_.frame);
    records.push_back(std::make_shared<const std::string>(raw));
  }
  position_ = resume.position;
  if (resume.lap_pending) {
    lap_pending_ = true;
    lap_has_expected_ = resume.has_expected_seq;
    lap_expected_ = resume.expected_seq;
  } else {
    has_expected_seq_ = resume.has_expected_seq;
    expected_seq_ = resume.expected_seq;
  }
  if (resume.owner_known) {
    owner_tid_ = resume.owner_tid;
    owner_name_ = resume.owner_name;
    owner_known_ = true;
  }
  context_.frames = std::move(frames);
  frame_records_ = std::move(records);
  context_.version = g_context_versions.fetch_add(1, std::memory_order_relaxed) + 1;
  snapshots_.clear();
  base_ = Snapshot{position_, owner_known_, owner_tid_, owner_name_, frame_records_};
  return true;
}

absl::Status RingCursor::apply_frame(const std::byte* record, uint32_t size, uint64_t at, RecordSink& sink) {
  if (absl::Status s = decode_frame(record, size, max_string_bytes_, frame_); !s.ok()) {
    return fail(absl::StrCat("frame record: ", s.message()), at);
  }
  // Past the record before the sink hears of it, as for events: a line is
  // committed with the position after the record it came from.
  position_ = at + size;
  std::vector<ContextFrame>& frames = context_.frames;
  const uint32_t depth = frame_.frame.depth;
  // Frames at or above `depth` end here (a pop), or are replaced (a push):
  // frames are kept by depth, so a lost record leaves no frame misplaced.
  size_t keep = 0;
  while (keep < frames.size() && frames[keep].depth < depth) ++keep;
  if (!frame_.push && !frame_.resent && keep < frames.size() && frames[keep].depth == depth &&
      frames[keep].kind == shm::FrameKind::kSpan) {
    span_edge_.end = true;
    span_edge_.tid = owner_tid_;
    span_edge_.thread_name = owner_name_;
    span_edge_.timestamp_raw = frame_.frame.timestamp_raw;
    span_edge_.context = &context_;
    span_edge_.span_index = keep;
    span_edge_.outcome.swap(frame_.frame.fields);
    sink.on_span(span_edge_);
    span_edge_.outcome.swap(frame_.frame.fields);
  }
  frames.resize(keep);
  frame_records_.resize(keep);
  if (frame_.push) {
    frames.push_back(frame_.frame);
    frame_records_.push_back(std::make_shared<const std::string>(reinterpret_cast<const char*>(record), size));
    if (frame_.frame.kind == shm::FrameKind::kSpan && !frame_.resent) {
      span_edge_.end = false;
      span_edge_.tid = owner_tid_;
      span_edge_.thread_name = owner_name_;
      span_edge_.timestamp_raw = frame_.frame.timestamp_raw;
      span_edge_.context = &context_;
      span_edge_.span_index = frames.size() - 1;
      span_edge_.outcome.clear();
      sink.on_span(span_edge_);
    }
  }
  context_.version = g_context_versions.fetch_add(1, std::memory_order_relaxed) + 1;
  snapshot();
  return absl::OkStatus();
}

void RingCursor::adopt_directory_owner() {
  // acquire: the owner fields come before the state that announces them.
  (void)slot_->state.load(std::memory_order_acquire);
  owner_tid_ = slot_->os_tid.load(std::memory_order_relaxed);
  const uint64_t words[2] = {slot_->thread_name[0].load(std::memory_order_relaxed),
                             slot_->thread_name[1].load(std::memory_order_relaxed)};
  owner_name_ = name_from(reinterpret_cast<const char*>(words), sizeof(words));
  owner_known_ = false;
}

void RingCursor::start() {
  started_ = true;
  uint64_t data_offset_untrusted = 0;
  uint64_t capacity_untrusted = 0;
  std::memcpy(&data_offset_untrusted, reinterpret_cast<const std::byte*>(slot_) + offsetof(shm::RingSlot, data_offset),
              sizeof(uint64_t));
  std::memcpy(&capacity_untrusted, reinterpret_cast<const std::byte*>(slot_) + offsetof(shm::RingSlot, capacity),
              sizeof(uint64_t));
  const uint64_t read_pos = slot_->read_pos.load(std::memory_order_acquire);
  position_ = committed_position_ = read_pos;
  adopt_directory_owner();
  base_ = Snapshot{read_pos, owner_known_, owner_tid_, owner_name_, {}};
  // The producer writes both words for every slot before the segment runs.
  if (data_offset_untrusted != data_offset_ || capacity_untrusted != capacity_) {
    (void)fail(absl::StrCat("the slot places its ring at offset ", data_offset_untrusted, " with capacity ",
                            capacity_untrusted, ", the geometry at ", data_offset_, " with ", capacity_),
               read_pos);
    return;
  }
  if (read_pos % 8 != 0) (void)fail(absl::StrCat("read_pos ", read_pos, " is not a multiple of 8"), read_pos);
}

void RingCursor::emit_gap(RecordSink& sink, uint64_t first, uint64_t last, BatchStats& stats, DropGap::Cause cause) {
  gap_.cause = cause;
  gap_.tid = owner_tid_;
  gap_.thread_name = owner_name_;
  gap_.first_seq = first;
  gap_.last_seq = last;
  gap_.count = last - first + 1;
  ++stats.gaps;
  stats.dropped += gap_.count;
  if (cause == DropGap::Cause::kOverwritten) stats.overwritten += gap_.count;
  sink.on_gap(gap_);
}

uint64_t RingCursor::oldest_intact(uint64_t write_pos) const {
  // The writer may be writing anywhere in write_pos's chunk, which holds what
  // was a capacity earlier; a write_pos so large that this overflows is
  // caught by the check against the capacity that follows every use.
  const uint64_t chunk_end = (write_pos & ~(chunk_bytes_ - 1)) + chunk_bytes_;
  return chunk_end > capacity_ ? chunk_end - capacity_ : 0;
}

void RingCursor::jump_to(uint64_t to, BatchStats& stats) {
  if (!lap_pending_) {
    // Position 0 is where the ring's first owner started, with seq 0.
    lap_has_expected_ = has_expected_seq_ || position_ == 0;
    lap_expected_ = has_expected_seq_ ? expected_seq_ : 0;
    lap_pending_ = true;
  }
  position_ = to;
  staged_begin_ = staged_end_ = to;
  forget_stream();
  ++stats.laps;
  snapshot();
}

bool RingCursor::jumped_after_copy(BatchStats& stats) {
  if (overwritten_to_ == 0) return false;
  const uint64_t to = overwritten_to_;
  overwritten_to_ = 0;
  jump_to(to, stats);
  return true;
}

absl::Status RingCursor::account_seq(RecordSink& sink, uint64_t seq, uint64_t at, const char* what, BatchStats& stats) {
  if (lap_pending_) {
    lap_pending_ = false;
    if (lap_has_expected_ && seq < lap_expected_) {
      return fail(absl::StrCat(what, " seq ", seq, " after overwritten records is below the expected ", lap_expected_),
                  at);
    }
    if (lap_has_expected_ && seq > lap_expected_) {
      emit_gap(sink, lap_expected_, seq - 1, stats, DropGap::Cause::kOverwritten);
    }
    has_expected_seq_ = true;
    expected_seq_ = seq;
    return absl::OkStatus();
  }
  if (has_expected_seq_ && seq < expected_seq_) {
    return fail(absl::StrCat(what, " seq ", seq, " is below the expected ", expected_seq_), at);
  }
  if (has_expected_seq_ && seq > expected_seq_) emit_gap(sink, expected_seq_, seq - 1, stats);
  return absl::OkStatus();
}

absl::Status RingCursor::stage(uint64_t at, uint64_t size, uint64_t write_pos, const std::byte** out) {
  if (at < staged_begin_ || at + size > staged_end_) {
    const uint64_t offset = at & (capacity_ - 1);
    // As much as there is up to the stage's size, the ring's end and
    // write_pos (records never wrap: padding fills the ring's end).
    const uint64_t bytes = std::min({std::max<uint64_t>(size, kRingStageBytes), capacity_ - offset, write_pos - at});
    std::vector<uint64_t>& words = staging();
    if (words.size() * 8 < bytes) words.resize((bytes + 7) / 8);
    staged_begin_ = staged_end_ = at;
    if (absl::Status s = copy_ring_bytes(source_, offset, words.data(), bytes); !s.ok()) {
      return fail(absl::StrCat("cannot copy ring bytes: ", s.message()), at);
    }
    staged_end_ = at + bytes;
    if (options_.mode == RingCursorOptions::Mode::kPeek && !flight_) {
      // acquire fence: the copy above is ordered before this load (as in
      // consumer_passed()): from the loaded read_pos on, nothing the copy
      // holds can have been reused by the producer while it was copied.
      std::atomic_thread_fence(std::memory_order_acquire);
      staged_read_pos_ = slot_->read_pos.load(std::memory_order_relaxed);
    }
    if (flight_) {
      // acquire fence: the copy above is ordered before the load of
      // write_pos below; a byte the copy saw that the writer wrote after
      // entering a chunk means this load sees write_pos in or past that chunk.
      std::atomic_thread_fence(std::memory_order_acquire);
      const uint64_t intact = oldest_intact(slot_->write_pos.load(std::memory_order_relaxed));
      if (at < intact) {
        overwritten_to_ = intact;  // the copy may be torn: the caller jumps (jumped_after_copy())
        staged_end_ = at;
      }
    }
  }
  *out = reinterpret_cast<const std::byte*>(staging().data()) + (at - staged_begin_);
  return absl::OkStatus();
}

absl::Status RingCursor::read_batch(CallSiteTable& table, RecordSink& sink, BatchStats* stats_out) {
  BatchStats local_stats;
  BatchStats& stats = stats_out != nullptr ? *stats_out : local_stats;
  stats = BatchStats{};
  if (!started_) start();
  if (poisoned()) return poison_;

  // acquire: publishes every record byte before write_pos. Past end_limit_
  // (a dead writer's last position) nothing is read, whoever moved it.
  const uint64_t write_pos = std::min(slot_->write_pos.load(std::memory_order_acquire), end_limit_);
  const uint64_t batch_start = position_;
  staged_read_pos_ = UINT64_MAX;  // of the last batch's copy: look again
  if (consumer_passed(position_)) {
    ++stats.peek_resyncs;
    return absl::OkStatus();
  }
  if (write_pos < position_) {
    return fail(absl::StrCat("write_pos ", write_pos, " is behind the read position"), position_);
  }
  if (flight_ && write_pos % 8 == 0 && position_ < oldest_intact(write_pos)) {
    jump_to(oldest_intact(write_pos), stats);  // the writer has lapped the cursor
  }
  if (write_pos - position_ > capacity_) {
    return fail(absl::StrCat("write_pos ", write_pos, " is more than the capacity ", capacity_, " ahead"), position_);
  }
  if (write_pos % 8 != 0) return fail(absl::StrCat("write_pos ", write_pos, " is not a multiple of 8"), position_);

  staged_begin_ = staged_end_ = position_;  // the thread's stage may hold another cursor's bytes
  absl::Status status = decode_records(write_pos, table, sink, stats);
  // Buffers grown for a large record are not kept for the next batch.
  if (buffer_.capacity() * sizeof(uint64_t) > kRetainedRecordBufferBytes) std::vector<uint64_t>().swap(buffer_);
  if (staging().capacity() * sizeof(uint64_t) > kRingStageBytes) std::vector<uint64_t>().swap(staging());
  stats.bytes = position_ - batch_start;
  stats.caught_up = position_ >= write_pos;
  return status;
}

absl::Status RingCursor::decode_records(uint64_t write_pos, CallSiteTable& table, RecordSink& sink, BatchStats& stats) {
  const uint64_t batch_start = position_;
  while (position_ < write_pos && position_ - batch_start < options_.max_batch_bytes) {
    const uint64_t at = position_;
    // Checked below before any use; from here on only the staged copy is read.
    const std::byte* staged = nullptr;
    if (absl::Status s = stage(at, shm::kRecordPrefixBytes, write_pos, &staged); !s.ok()) return s;
    if (jumped_after_copy(stats)) continue;
    uint32_t prefix_untrusted[2];
    std::memcpy(prefix_untrusted, staged, sizeof(prefix_untrusted));
    const uint32_t size = prefix_untrusted[0];
    const uint32_t id = prefix_untrusted[1];
    // To the end of the ring, or of a flight ring's chunk: no record crosses it.
    const uint64_t room = chunk_bytes_ - (at & (chunk_bytes_ - 1));  // >= 8: positions stay multiples of 8
    const char* const room_end = flight_ ? "chunk" : "ring";
    const uint64_t available = write_pos - at;
    // Any failure below may be a consumer overtaking a peeking cursor rather
    // than corruption: check that first.
    auto reject = [&](const std::string& reason) -> absl::Status {
      if (consumer_passed(at)) {
        ++stats.peek_resyncs;
        return absl::OkStatus();
      }
      return fail(reason, at);
    };
    if (size < shm::kRecordPrefixBytes || size % 8 != 0) {
      return reject(absl::StrCat("record size ", size, " is not a positive multiple of 8"));
    }
    if (size > room) return reject(absl::StrCat("record of ", size, " bytes runs past the end of the ", room_end));
    if (size > available) {
      return reject(absl::StrCat("record of ", size, " bytes runs past write_pos ", write_pos));
    }
    if (id == shm::kPaddingId) {
      if (size != room) {
        return reject(absl::StrCat("padding of ", size, " bytes does not reach the end of the ", room_end));
      }
      position_ += size;
      ++stats.records;
      ++stats.padding;
      continue;
    }
    if (size > max_record_bytes_) {
      return reject(absl::StrCat("record of ", size, " bytes exceeds max_record_bytes ", max_record_bytes_));
    }
    if (id == shm::kFramePushId && size > kMaxFrameBytesPerThread) {
      return reject(absl::StrCat("frame push of ", size, " bytes exceeds the ", kMaxFrameBytesPerThread,
                                 " bytes a thread's frames may hold"));
    }
    if (size > options_.max_record_copy_bytes && (id == shm::kFramePopId || id < shm::kControlIdBase)) {
      // Not copied: only its header, for the seq and the note.
      if (size < sizeof(shm::RecordHeader)) {
        return reject(absl::StrCat("record of ", size, " bytes is shorter than its header"));
      }
      if (absl::Status s = stage(at, sizeof(shm::RecordHeader), write_pos, &staged); !s.ok()) return s;
      if (jumped_after_copy(stats)) continue;
      shm::RecordHeader header;
      std::memcpy(&header, staged, sizeof(header));
      if (consumer_passed(at)) {
        ++stats.peek_resyncs;
        return absl::OkStatus();
      }
      if (id != shm::kFramePopId) {
        if (absl::Status s = account_seq(sink, header.seq, at, "event", stats); !s.ok()) return s;
        has_expected_seq_ = true;
        expected_seq_ = header.seq + 1;
      }
      position_ += size;
      ++stats.records;
      ++stats.skipped;
      sink.on_skipped(SkippedRecord{owner_tid_, id, header.seq, header.timestamp, size});
      continue;
    }
    if (id == shm::kFramePushId || id == shm::kFramePopId) {
      const std::byte* record = nullptr;
      if (absl::Status s = stage(at, size, write_pos, &record); !s.ok()) return s;
      if (jumped_after_copy(stats)) continue;
      if (consumer_passed(at)) {
        ++stats.peek_resyncs;
        return absl::OkStatus();
      }
      if (absl::Status s = apply_frame(record, size, at, sink); !s.ok()) return s;  // moves position_ past it
      ++stats.records;
      ++stats.frames;
      continue;
    }
    if (id >= shm::kControlIdBase && id != shm::kThreadStartId && id != shm::kChunkStartId) {
      position_ += size;  // a control record this reader does not know
      ++stats.records;
      ++stats.unknown_control;
      continue;
    }
    if (id == shm::kThreadStartId || id == shm::kChunkStartId) {
      // The owner and the seq of its next event: a thread took the ring
      // over, or (a flight ring) a chunk begins, so that a reader starting
      // there knows both. Only a thread start resets the thread's frames.
      const bool thread_start = id == shm::kThreadStartId;
      const char* const what = thread_start ? "thread start" : "chunk start";
      if (size != sizeof(shm::ThreadStartRecord)) {
        return reject(absl::StrCat(what, " record of ", size, " bytes, expected ", sizeof(shm::ThreadStartRecord)));
      }
      const std::byte* record = nullptr;
      if (absl::Status s = stage(at, size, write_pos, &record); !s.ok()) return s;
      if (jumped_after_copy(stats)) continue;
      shm::ThreadStartRecord start;
      std::memcpy(&start, record, sizeof(start));
      if (consumer_passed(at)) {
        ++stats.peek_resyncs;
        return absl::OkStatus();
      }
      const uint64_t seq = start.header.seq;
      if (absl::Status s = account_seq(sink, seq, at, what, stats); !s.ok()) return s;
      has_expected_seq_ = true;
      expected_seq_ = seq;
      owner_tid_ = start.os_tid;
      owner_name_ = name_from(start.thread_name, sizeof(start.thread_name));
      owner_known_ = true;
      position_ += size;
      if (!thread_start) {
        snapshot();
        ++stats.records;
        ++stats.chunk_starts;
        continue;
      }
      clear_frames();
      thread_start_.tid = owner_tid_;
      thread_start_.thread_name = owner_name_;
      thread_start_.seq = seq;
      snapshot();
      ++stats.records;
      ++stats.thread_starts;
      sink.on_thread_start(thread_start_);
      continue;
    }

    // An event record.
    if (id >= callsite_capacity_) {
      return reject(absl::StrCat("call-site id ", id, " is past the table's capacity ", callsite_capacity_));
    }
    if (size < sizeof(shm::RecordHeader)) {
      return reject(absl::StrCat("event record of ", size, " bytes is shorter than its header"));
    }
    const std::byte* record = nullptr;
    if (absl::Status s = stage(at, size, write_pos, &record); !s.ok()) return s;
    if (jumped_after_copy(stats)) continue;
    if (consumer_passed(at)) {
      ++stats.peek_resyncs;
      return absl::OkStatus();
    }
    shm::RecordHeader header;
    std::memcpy(&header, record, sizeof(header));
    const CallSiteInfo* site = table.find(id);
    if (site == nullptr) {
      // Published before the record, so a refresh after loading write_pos finds it.
      (void)table.refresh();  // a count past capacity is the table's report, not this ring's
      site = table.find(id);
      if (site == nullptr) {
        return fail(absl::StrCat("call-site id ", id, " is not in the table (", table.size(), " entries)"), at);
      }
    }
    if (!site->valid) return fail(absl::StrCat("record uses an invalid ", site->invalid_reason), at);
    if (absl::Status s = decode_event_fields(record, size, *site, max_string_bytes_, event_); !s.ok()) {
      return fail(absl::StrCat("event of call site ", id, " (seq ", header.seq, "): ", s.message()), at);
    }
    if (absl::Status s = account_seq(sink, header.seq, at, "event", stats); !s.ok()) return s;
    has_expected_seq_ = true;
    expected_seq_ = header.seq + 1;
    event_.tid = owner_tid_;
    event_.thread_name = owner_name_;
    event_.owner_known = owner_known_;
    event_.seq = header.seq;
    event_.timestamp_raw = header.timestamp;
    event_.callsite_id = id;
    event_.callsite = site;
    event_.context = &context_;
    position_ += size;
    ++stats.records;
    ++stats.events;
    sink.on_event(event_);
  }
  return absl::OkStatus();
}

void RingCursor::commit() {
  if (options_.mode != RingCursorOptions::Mode::kConsume || !started_ || position_ == committed_position_) return;
  // release: this reader is done with every byte before position_.
  slot_->read_pos.store(position_, std::memory_order_release);
  committed_position_ = position_;
  forget_snapshots_before(position_);
}

void RingCursor::commit_to(uint64_t position) {
  if (options_.mode != RingCursorOptions::Mode::kConsume || !started_) return;
  if (position <= committed_position_ || position > position_ || position % 8 != 0) return;
  // release: this reader is done with every byte before `position`.
  slot_->read_pos.store(position, std::memory_order_release);
  committed_position_ = position;
  forget_snapshots_before(position);
}

void RingCursor::end_at_current_write_pos() {
  if (end_limit_ != UINT64_MAX) return;
  // acquire: the records before it are read later, as by read_batch().
  end_limit_ = slot_->write_pos.load(std::memory_order_acquire);
}

absl::Status RingCursor::report_trailing_drops(RecordSink& sink) {
  if (!started_) start();
  if (poisoned()) return poison_;
  const uint64_t write_pos = std::min(slot_->write_pos.load(std::memory_order_acquire), end_limit_);
  if (write_pos != position_) {
    return absl::FailedPreconditionError(absl::StrCat("segment /dev/shm/", segment_name_, " ring ", slot_index_,
                                                      " is not drained (position ", position_, ", write_pos ",
                                                      write_pos, ")"));
  }
  if (!has_expected_seq_) return absl::OkStatus();
  const uint64_t handled = slot_->committed.load(std::memory_order_relaxed) +
                           slot_->dropped_full.load(std::memory_order_relaxed) +
                           slot_->dropped_too_big.load(std::memory_order_relaxed);
  if (handled > expected_seq_) {
    BatchStats ignored;
    emit_gap(sink, expected_seq_, handled - 1, ignored);
    expected_seq_ = handled;
  }
  return absl::OkStatus();
}

}  // namespace ringtail::reader
