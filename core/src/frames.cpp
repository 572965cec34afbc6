// A thread's frames (ScopedContext, Span): the stack of push records the
// thread has bound, and writing them to its ring.
//
// The stack keeps each bound frame's push record exactly as it was written,
// so that after a loss (a frame record or an event the ring had no room for)
// the whole stack can be written again before the thread's next event. The
// reader, told by kFrameResent, replaces its copy of the stack and writes no
// span lines for the copies.
#include <cstring>
#include <mutex>

#include "ringtail/detail/frame_encoding.hpp"
#include "ringtail/log.hpp"
#include "ringtail/span.hpp"
#include "runtime.hpp"

namespace ringtail::detail {
namespace {

struct FrameStack {
  alignas(8) std::byte bytes[kFrameStackBytes];
  uint32_t ends[shm::kMaxFrameDepth];   // end of frame i's record in `bytes`
  uint32_t draws[shm::kMaxFrameDepth];  // a span's trace draw
  bool spans[shm::kMaxFrameDepth];
  bool sent[shm::kMaxFrameDepth];  // written to the ring at least once: a re-send is marked resent
};

// Plain thread_local (not the hot path's initial-exec TLS): only binding and
// unbinding touch it, and 8 KiB would crowd the static TLS of a library.
thread_local FrameStack t_frames;

uint32_t frame_start(uint32_t depth) { return depth == 0 ? 0 : t_frames.ends[depth - 1]; }

bool has_ring(const ThreadState& t) {
  return t.status == ThreadRingStatus::kActive || t.status == ThreadRingStatus::kResendFrames;
}

// Sets the sampling draw to the innermost span's after the stack changed.
void refresh_trace(ThreadState& t) {
  t.in_trace = false;
  for (uint32_t i = t.frame_depth; i-- > 0;) {
    if (t_frames.spans[i]) {
      t.in_trace = true;
      t.trace_draw = t_frames.draws[i];
      return;
    }
  }
}

// Copies a record into the ring as a control record; false when it lacks room.
bool write_control(ThreadState& t, const std::byte* record, uint32_t size) {
  const shm::RingWriter::Reservation r = t.writer.reserve(size);
  if (r.at == nullptr) return false;
  std::memcpy(r.at, record, size);
  t.writer.commit_control(r);
  return true;
}

// A frame record the ring had no room for: counted as a dropped event, and
// the thread's frames go again before its next event.
void lose_frame_record(ThreadState& t) {
  t.writer.drop_full();
  t.status = ThreadRingStatus::kResendFrames;
}

}  // namespace

uint32_t frame_string_cap() noexcept {
  const ThreadState& t = t_thread_state;
  if (t.max_string_bytes != 0) return t.max_string_bytes;
  Runtime& rt = runtime();
  std::lock_guard lock(rt.mu);
  return rt.options.max_string_bytes;
}

std::byte* begin_push(uint32_t size, shm::FrameKind kind, uint32_t field_count) noexcept {
  ThreadState& t = t_thread_state;
  // A thread's first frame usually comes before its first event: claim the
  // ring now, so the frame goes out with its own time (before init() this
  // claims nothing and counts nothing; the first event's claim sends it).
  if (t.status == ThreadRingStatus::kNone) (void)claim_ring(/*for_event=*/false);
  const uint32_t depth = t.frame_depth;
  const uint32_t start = frame_start(depth);
  if (depth >= shm::kMaxFrameDepth || size > kFrameStackBytes - start ||
      (has_ring(t) && size > t.writer.max_record_bytes)) {
    if (has_ring(t)) t.writer.drop_too_big();
    return nullptr;
  }
  std::byte* record = t_frames.bytes + start;
  shm::FrameHeader header{};
  header.header.size = size;
  header.header.callsite_id = shm::kFramePushId;
  header.depth = static_cast<uint16_t>(depth);
  header.kind = static_cast<uint8_t>(kind);
  header.field_count = field_count;
  std::memcpy(record, &header, sizeof(header));
  return record + sizeof(header);
}

int finish_push(const std::byte* end, bool is_span, uint32_t trace_draw, uint64_t stamp) noexcept {
  ThreadState& t = t_thread_state;
  const uint32_t depth = t.frame_depth;
  std::byte* record = t_frames.bytes + frame_start(depth);
  // The encoders wrote exactly the size begin_push was given.
  const auto size = static_cast<uint32_t>(end - record);
  // Before the thread has a ring the clock may not be calibrated: the
  // timestamp is stamped when the frame first reaches the ring.
  const uint64_t seq = has_ring(t) ? t.writer.next_seq() : 0;
  const uint64_t now = stamp != 0 ? stamp : has_ring(t) ? timestamp(t.realtime_clock) : 0;
  std::memcpy(record + offsetof(shm::RecordHeader, seq), &seq, sizeof(seq));
  std::memcpy(record + offsetof(shm::RecordHeader, timestamp), &now, sizeof(now));
  t_frames.ends[depth] = frame_start(depth) + size;
  t_frames.spans[depth] = is_span;
  t_frames.draws[depth] = trace_draw;
  t_frames.sent[depth] = false;
  t.frame_depth = static_cast<uint8_t>(depth + 1);
  if (has_ring(t)) update_chunk_hook(t);
  if (is_span) {
    t.in_trace = true;
    t.trace_draw = trace_draw;
  }
  // kResendFrames: the re-send carries it; no ring yet: the claim does.
  if (t.status == ThreadRingStatus::kActive) {
    t_frames.sent[depth] = write_control(t, record, size);
    if (!t_frames.sent[depth]) lose_frame_record(t);
  }
  return static_cast<int>(depth);
}

PopWrite begin_pop(int depth, uint32_t size, shm::FrameKind kind, uint32_t field_count, uint8_t flags) noexcept {
  ThreadState& t = t_thread_state;
  if (depth < 0 || static_cast<uint32_t>(depth) >= t.frame_depth) return {nullptr, {}};
  t.frame_depth = static_cast<uint8_t>(depth);
  refresh_trace(t);
  if (!has_ring(t)) return {nullptr, {}};
  update_chunk_hook(t);
  if (size > t.writer.max_record_bytes) {
    t.writer.drop_too_big();
    t.status = ThreadRingStatus::kResendFrames;
    return {nullptr, {}};
  }
  const shm::RingWriter::Reservation r = t.writer.reserve(size);
  if (r.at == nullptr) {
    lose_frame_record(t);
    return {nullptr, {}};
  }
  shm::FrameHeader header{};
  header.header = {size, shm::kFramePopId, t.writer.next_seq(), timestamp(t.realtime_clock)};
  header.depth = static_cast<uint16_t>(depth);
  header.kind = static_cast<uint8_t>(kind);
  header.flags = flags;
  header.field_count = field_count;
  std::memcpy(r.at, &header, sizeof(header));
  return {r.at + sizeof(header), r};
}

void finish_pop(const PopWrite& pop) noexcept { t_thread_state.writer.commit_control(pop.reservation); }

uint32_t frames_bytes(const ThreadState& thread) noexcept {
  return static_cast<uint32_t>(sizeof(shm::FrameHeader)) + frame_start(thread.frame_depth);
}

bool resend_frames(ThreadState& t) noexcept {
  // First a pop to depth 0 (the reader forgets what it holds, whatever was
  // lost), then every frame, all marked resent.
  shm::FrameHeader reset{};
  reset.header = {sizeof(reset), shm::kFramePopId, t.writer.next_seq(), timestamp(t.realtime_clock)};
  reset.flags = shm::kFrameResent;
  reset.kind = static_cast<uint8_t>(shm::FrameKind::kContext);
  if (!write_control(t, reinterpret_cast<const std::byte*>(&reset), sizeof(reset))) return false;
  for (uint32_t i = 0; i < t.frame_depth; ++i) {
    std::byte* record = t_frames.bytes + frame_start(i);
    const uint32_t size = t_frames.ends[i] - frame_start(i);
    // Bound before the thread had a ring this small: it cannot be sent (the
    // reader then lacks this frame; its depth numbering still holds).
    if (size > t.writer.max_record_bytes) continue;
    shm::FrameHeader header;
    std::memcpy(&header, record, sizeof(header));
    // A frame the reader may have seen is resent; one it cannot have (bound
    // before the ring, or lost when first written) goes out as new, so that
    // its span still gets a span.start line.
    if (t_frames.sent[i]) header.flags |= shm::kFrameResent;
    header.header.seq = t.writer.next_seq();
    if (header.header.timestamp == 0) header.header.timestamp = timestamp(t.realtime_clock);
    std::memcpy(record, &header, sizeof(header));
    if (!write_control(t, record, size)) return false;
    t_frames.sent[i] = true;
  }
  t.status = ThreadRingStatus::kActive;
  return true;
}

shm::RingWriter::Reservation resend_frames_and_reserve(ThreadState& t, uint32_t size) noexcept {
  // The hook set kResendFrames; a re-send that fails leaves it set.
  if (t.status == ThreadRingStatus::kResendFrames) (void)resend_frames(t);
  // Plain reserve(): should the frames have filled the chunk, the event
  // opens the next one without them (its hook marks the thread again), and
  // this never loops.
  return t.writer.reserve(size);
}

CurrentSpan current_span() noexcept {
  const ThreadState& t = t_thread_state;
  for (uint32_t i = t.frame_depth; i-- > 0;) {
    if (!t_frames.spans[i]) continue;
    shm::SpanIds ids;
    std::memcpy(&ids, t_frames.bytes + frame_start(i) + sizeof(shm::FrameHeader), sizeof(ids));
    return CurrentSpan{TraceId{ids.trace_id_high, ids.trace_id_low}, ids.span_id, ids.trace_flags};
  }
  return CurrentSpan{};
}

uint32_t trace_draw(const TraceId& trace_id) noexcept {
  // A 64-bit finaliser (murmur3's fmix64) over both halves: every bit of the
  // id moves the draw, whichever half a trace id generator randomises.
  uint64_t x = trace_id.high ^ (trace_id.low * 0x9E3779B97F4A7C15ULL);
  x ^= x >> 33;
  x *= 0xFF51AFD7ED558CCDULL;
  x ^= x >> 33;
  x *= 0xC4CEB9FE1A85EC53ULL;
  x ^= x >> 33;
  return static_cast<uint32_t>(x >> 32);
}

}  // namespace ringtail::detail
