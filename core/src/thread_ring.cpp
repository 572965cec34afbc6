// A thread's ring: claimed on its first event, retired when it exits.
//
// Claiming prefers a retired slot (its memory is already allocated) over a
// free one, so a process that churns through short-lived threads holds only
// as many rings as it has threads alive at once. A reused ring may still hold
// its previous owner's undrained records: the new owner starts with a
// ThreadStartRecord, so the reader attributes every record to the right
// thread without the producer ever waiting for it.
#include <pthread.h>
#include <sched.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>

#include "ringtail/detail/producer_state.hpp"
#include "ringtail/log.hpp"
#include "runtime.hpp"

namespace ringtail::detail {

constinit thread_local ThreadState t_thread_state RINGTAIL_THREAD_STATE_TLS{};

namespace {

// Events a thread without a ring drops before it tries to claim one again.
constexpr uint32_t kClaimRetryInterval = 4096;

// Retires the thread's ring when the thread exits. A separate thread_local,
// touched only on the cold path, so t_thread_state stays trivial.
struct RingRetirer {
  uint64_t epoch = 0;
  uint32_t slot_index = 0;
  bool armed = false;

  ~RingRetirer() {
    ThreadState& t = t_thread_state;
    // Every state that holds a ring returns it: a thread that dropped an
    // event with frames bound exits in kResendFrames and still owns its slot.
    if (armed && (t.status == ThreadRingStatus::kActive || t.status == ThreadRingStatus::kResendFrames)) {
      Runtime& rt = runtime();
      std::lock_guard lock(rt.mu);
      if (rt.segment != nullptr && rt.segment_epoch == epoch) {
        // The next owner continues from what this thread knows, not from
        // the slot's words in the segment.
        SlotLedger& ledger = rt.segment->ledger(slot_index);
        ledger = {SlotLedger::Use::kRetired, t.writer.write_pos, t.writer.committed, t.writer.dropped};
        // release: the slot's last records and counters come before the state.
        rt.segment->slot(slot_index)
            .state.store(static_cast<uint32_t>(shm::SlotState::kRetired), std::memory_order_release);
      }
    }
    t.writer = shm::RingWriter{};
    t.status = ThreadRingStatus::kExited;
  }
};

thread_local RingRetirer t_retirer;

void store_thread_name(shm::RingSlot& slot, const char (&name)[shm::kThreadNameBytes]) {
  uint64_t words[2];
  std::memcpy(words, name, sizeof(words));
  slot.thread_name[0].store(words[0], std::memory_order_relaxed);
  slot.thread_name[1].store(words[1], std::memory_order_relaxed);
}

// Attaches `writer` to slot `index` and writes the new owner's start record.
// False when the ring is too full of a previous owner's records for it.
bool take_slot(ProducerSegment& segment, uint32_t index, shm::RingWriter& writer, uint32_t tid,
               const char (&name)[shm::kThreadNameBytes], bool realtime_clock) {
  shm::RingSlot& slot = segment.slot(index);
  const SlotLedger& ledger = segment.ledger(index);
  writer.attach(
      &slot, segment.ring_data(index),
      {segment.geometry().ring_capacity, segment.geometry().max_record_bytes(), ledger.write_pos, ledger.committed,
       ledger.dropped, segment.geometry().flight() ? segment.geometry().chunk_bytes() : 0, tid, name});
  const shm::RingWriter::Reservation reservation = writer.reserve(sizeof(shm::ThreadStartRecord));
  if (reservation.at == nullptr) return false;
  shm::ThreadStartRecord start{};
  start.header = {sizeof(shm::ThreadStartRecord), shm::kThreadStartId, writer.next_seq(), timestamp(realtime_clock)};
  start.os_tid = tid;
  std::memcpy(start.thread_name, name, sizeof(name));
  std::memcpy(reservation.at, &start, sizeof(start));
  writer.commit_control(reservation);

  segment.ledger(index).use = SlotLedger::Use::kActive;
  slot.os_tid.store(tid, std::memory_order_relaxed);
  store_thread_name(slot, name);
  slot.generation.store(slot.generation.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  // release: the slot's owner fields come before the state that announces them.
  slot.state.store(static_cast<uint32_t>(shm::SlotState::kActive), std::memory_order_release);
  return true;
}

}  // namespace

bool claim_ring(bool for_event) noexcept {
  ThreadState& t = t_thread_state;
  Runtime& rt = runtime();
  if (t.status == ThreadRingStatus::kExited || (t.status == ThreadRingStatus::kNoRing && --t.retry_countdown != 0)) {
    count_lost_no_ring(rt);
    return false;
  }

  const uint32_t tid = static_cast<uint32_t>(::syscall(SYS_gettid));
  char name[shm::kThreadNameBytes] = {};
  ::pthread_getname_np(::pthread_self(), name, sizeof(name));

  std::lock_guard lock(rt.mu);
  if (rt.segment == nullptr || rt.shut_down) {
    if (for_event) rt.lost_before_init.fetch_add(1, std::memory_order_relaxed);
    return false;
  }
  if (rt.segment->pid() != ::getpid()) {
    if (absl::Status s = adopt_child_segment(rt); !s.ok()) {
      std::fprintf(stderr, "ringtail: forked child cannot create its segment: %s\n", s.ToString().c_str());
      rt.lost_before_init.fetch_add(1, std::memory_order_relaxed);
      return false;
    }
  }
  ProducerSegment& segment = *rt.segment;
  shm::SegmentHeader& header = segment.header();
  const uint32_t slots = segment.geometry().ring_slot_count;

  bool claimed = false;
  uint32_t index = 0;
  // Retired slots first: their memory is already allocated. Which slots are
  // whose comes from the producer's ledger, never from the segment's words.
  for (index = 0; index < slots && !claimed; ++index) {
    if (segment.ledger(index).use == SlotLedger::Use::kRetired) {
      claimed = take_slot(segment, index, t.writer, tid, name, rt.clock.realtime);
    }
  }
  absl::Status memory_error;
  for (index = claimed ? index : 0; index < slots && !claimed; ++index) {
    if (segment.ledger(index).use != SlotLedger::Use::kFree) continue;
    memory_error = segment.reserve_ring(index);
    if (!memory_error.ok()) break;  // /dev/shm is full: no free slot will do better
    claimed = take_slot(segment, index, t.writer, tid, name, rt.clock.realtime);
  }

  if (!claimed) {
    header.lost_no_ring.fetch_add(1, std::memory_order_relaxed);
    t.writer = shm::RingWriter{};
    t.status = ThreadRingStatus::kNoRing;
    t.retry_countdown = kClaimRetryInterval;
    if (!rt.warned_no_ring) {
      rt.warned_no_ring = true;
      std::fprintf(stderr, "ringtail: thread %u has no ring, its events are dropped and counted: %s\n", tid,
                   memory_error.ok() ? "all ring slots are in use (raise RINGTAIL_MAX_THREADS)"
                                     : memory_error.ToString().c_str());
    }
    return false;
  }
  header.threads_started.fetch_add(1, std::memory_order_relaxed);
  t.callsites = &segment.entry(0);
  t.error_stacks = rt.options.error_stacks;
  t.max_string_bytes = rt.options.max_string_bytes;
  t.realtime_clock = rt.clock.realtime;
  t.audit_wait_ns = static_cast<uint64_t>(std::chrono::nanoseconds(rt.options.audit_wait).count());
  // Frames bound before the thread had this ring go into it before its first event.
  t.status = t.frame_depth != 0 ? ThreadRingStatus::kResendFrames : ThreadRingStatus::kActive;
  update_chunk_hook(t);
  t_retirer.epoch = rt.segment_epoch;
  t_retirer.slot_index = index - 1;
  t_retirer.armed = true;
  return true;
}

uint8_t prepare_thread(uint8_t on_full) noexcept {
  ThreadState& t = t_thread_state;
  if (t.status != ThreadRingStatus::kActive && t.status != ThreadRingStatus::kResendFrames) {
    if (!claim_ring()) {
      if (static_cast<FullRing>(on_full) == FullRing::kWait) count_audit_lost_outside_rings();
      return static_cast<uint8_t>(EmitResult::kLost);
    }
  }
  if (t.status == ThreadRingStatus::kResendFrames && !resend_frames(t)) {
    // The event cannot follow frames that are not in the ring: it is lost
    // with them, as a full ring loses it.
    switch (static_cast<FullRing>(on_full)) {
      case FullRing::kReport:
        break;
      case FullRing::kWait: {
        // Wait as for the event itself, for room for the frames.
        const shm::RingWriter::Reservation room = wait_for_room(t, frames_bytes(t));
        if (room.at != nullptr && resend_frames(t)) return static_cast<uint8_t>(EmitResult::kCommitted);
        t.writer.drop_audit();
        break;
      }
      case FullRing::kDrop:
        t.writer.drop_full();
        break;
    }
    return static_cast<uint8_t>(EmitResult::kRingFull);
  }
  return static_cast<uint8_t>(EmitResult::kCommitted);
}

void update_chunk_hook(ThreadState& thread) noexcept {
  shm::RingWriter& ring = thread.writer;
  // Flight mode: while frames are bound, each chunk gets them again (before
  // the thread's next event), so a reader starting at a chunk knows them.
  const bool resend = ring.chunk_mask != 0 && thread.frame_depth != 0;
  ring.chunk_hook = resend ? reinterpret_cast<uint8_t*>(&thread.status) : nullptr;
  ring.chunk_hook_value = static_cast<uint8_t>(ThreadRingStatus::kResendFrames);
}

shm::RingWriter::Reservation wait_for_room(ThreadState& thread, uint32_t size) noexcept {
  // Spin a little first (a reader mid-pass frees room within microseconds),
  // then yield the core to it; give up after the bound.
  constexpr int kSpins = 2000;
  shm::RingWriter& ring = thread.writer;
  for (int i = 0; i < kSpins; ++i) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
    const shm::RingWriter::Reservation r = ring.reserve(size);
    if (r.at != nullptr) return r;
  }
  timespec start{};
  ::clock_gettime(CLOCK_MONOTONIC, &start);
  for (;;) {
    ::sched_yield();
    const shm::RingWriter::Reservation r = ring.reserve(size);
    if (r.at != nullptr) return r;
    timespec now{};
    ::clock_gettime(CLOCK_MONOTONIC, &now);
    const uint64_t waited = static_cast<uint64_t>(now.tv_sec - start.tv_sec) * 1'000'000'000 +
                            static_cast<uint64_t>(now.tv_nsec) - static_cast<uint64_t>(start.tv_nsec);
    if (waited >= thread.audit_wait_ns) return r;
  }
}

}  // namespace ringtail::detail
