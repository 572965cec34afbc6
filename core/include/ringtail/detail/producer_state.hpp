// Producer state the inlined hot path reads, and the cold-path entry points
// it calls. Not API: use ringtail/log.hpp.
//
// The hot path reads two things: the live minimum level (through a pointer to
// the segment's control word) and this thread's ThreadState, a trivial struct
// in initial-exec TLS, so that reaching it costs a %fs-relative load even
// from libringtail.so (no __tls_get_addr, no TLS wrapper call).
#pragma once

#include <atomic>
#include <cstdint>

#include "ringtail/shm/layout.hpp"
#include "ringtail/shm/ring_writer.hpp"

namespace ringtail::detail {

// Call-site ids at or above this are not in the table.
inline constexpr uint32_t kSiteRejected = 0xFFFFFFFEU;      // the table was full
inline constexpr uint32_t kSiteUnregistered = 0xFFFFFFFFU;  // not described yet

// One per RINGTAIL_LOG statement, with static storage. The id is written once
// under the registration lock; a stale read only sends a thread to the cold
// path, which rereads it under the lock.
struct CallSite {
  std::atomic<uint32_t> id{kSiteUnregistered};
  shm::Level level;
  const char* message;
  const char* file;
  uint32_t line;

  constexpr CallSite(shm::Level site_level, const char* site_message, const char* site_file,
                     uint32_t site_line) noexcept
      : level(site_level), message(site_message), file(site_file), line(site_line) {}
};

enum class ThreadRingStatus : uint8_t {
  kNone = 0,    // no ring yet: the next event claims one
  kActive = 1,  // writer is attached
  kNoRing = 2,  // claiming failed; events are counted as lost until a retry succeeds
  kExited = 3,  // the thread's ring was retired at thread exit
  // Active, but a frame record was lost (or an event dropped while frames
  // are bound): the thread's frames are written again before its next event.
  kResendFrames = 4,
};

struct ThreadState {
  shm::RingWriter writer;
  shm::CallSiteEntry* callsites;  // the segment's call-site table: sample_keep of each site
  uint32_t max_string_bytes;
  uint32_t retry_countdown;  // kNoRing: events until the next claim attempt
  ThreadRingStatus status;
  bool realtime_clock;     // timestamps from CLOCK_REALTIME instead of the TSC
  bool error_stacks;       // Options::error_stacks
  bool in_trace;           // a Span is bound: sampling draws come from its trace
  uint8_t frame_depth;     // frames (ScopedContext, Span) bound on this thread
  uint32_t trace_draw;     // in_trace: the sampling draw of the innermost span's trace
  uint64_t sample_state;   // draws outside a trace: a per-thread generator's state (0: not seeded)
  uint64_t audit_wait_ns;  // Options::audit_wait
  // An ERROR event's captured stack while it is written (error_stacks), or empty.
  const char* error_stack;
  uint32_t error_stack_bytes;
};

// Never null: before init it points at a word that sends every event to the
// cold path (where it is counted), after shutdown at one that filters all.
extern std::atomic<const std::atomic<uint32_t>*> g_min_level;

// A library loaded with dlopen() (the Python module) cannot rely on static
// TLS room for initial-exec variables: its copy of the core is built with
// RINGTAIL_DLOPEN_TLS, which leaves the TLS model to the compiler (a
// __tls_get_addr call instead of a %fs-relative load).
#if defined(RINGTAIL_DLOPEN_TLS)
#define RINGTAIL_THREAD_STATE_TLS
#else
#define RINGTAIL_THREAD_STATE_TLS __attribute__((tls_model("initial-exec")))
#endif
extern constinit thread_local ThreadState t_thread_state RINGTAIL_THREAD_STATE_TLS;

// Cold path: gives the calling thread a ring. False if it cannot have one;
// the event is then already counted as lost, unless `for_event` is false
// (a frame bound before init(): nothing is lost, it waits for the ring).
bool claim_ring(bool for_event = true) noexcept;
// Cold path: describes `site` in the call-site table; returns its id, or
// kSiteRejected (the event is then already counted as lost).
uint32_t register_site(CallSite& site, const char* function, const shm::FieldType* types, const char* const* names,
                       uint32_t field_count) noexcept;
// Nanoseconds of CLOCK_REALTIME, for hosts without an invariant TSC.
uint64_t realtime_ns() noexcept;
// Cold path of an event on a thread that is not kActive: claims a ring, or
// re-sends the thread's frames (kResendFrames). kCommitted when the event may
// go on; otherwise what became of it (already counted, as `on_full` says).
uint8_t prepare_thread(uint8_t on_full) noexcept;
// Writes the thread's frames again (a pop to depth 0, then every frame,
// marked resent) and makes it kActive; false, and nothing written, if the
// ring lacks room for them all.
bool resend_frames(ThreadState& thread) noexcept;
// Flight mode, an event that opened a chunk (reserve_event() stopped at the
// hook): writes the thread's frames (resend_frames(); if they do not fit,
// the thread stays kResendFrames and the next event tries again), then
// reserves `size` bytes for the event with reserve().
shm::RingWriter::Reservation resend_frames_and_reserve(ThreadState& thread, uint32_t size) noexcept;
// Flight mode: points the thread's writer's chunk hook at its status while
// frames are bound (so every chunk gets them again), clears it otherwise.
// Called whenever frame_depth changes on a thread with a ring.
void update_chunk_hook(ThreadState& thread) noexcept;
// Bytes resend_frames() writes.
uint32_t frames_bytes(const ThreadState& thread) noexcept;
// Cold path of an event whose call site has a sampling rule (keep != 0):
// true to keep it; false when it is left out (counted in sampled_out).
bool sample_keep_event(ThreadState& thread, uint32_t keep) noexcept;
// Cold path of an ERROR (or CRITICAL) event with an error field while
// error_stacks is on: points error_stack at the calling thread's stack,
// formatted, in thread-local storage.
void capture_error_stack(ThreadState& thread) noexcept;
// Loads what stack capture needs (libgcc's unwinder) ahead of the first capture.
void warm_backtrace() noexcept;
// Cold path of an audit event that reached no ring (no ring could be
// claimed, the call-site table is full): counts it in the header's
// audit_lost_outside_rings, or before init in the process's own counter.
void count_audit_lost_outside_rings() noexcept;
// Cold path of an audit event in a full ring: retries the reservation,
// spinning and then yielding, for up to the thread's audit_wait_ns. A null
// reservation if the ring stayed full (the caller drops the event).
shm::RingWriter::Reservation wait_for_room(ThreadState& thread, uint32_t size) noexcept;

}  // namespace ringtail::detail
