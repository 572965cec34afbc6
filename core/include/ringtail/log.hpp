// Call sites: RINGTAIL_LOG(level, "message", ringtail::kv("key", value)...).
//
//   RINGTAIL_INFO("tool call", ringtail::kv("step_id", 3),
//                 ringtail::kv("duration_ms", 1.5), ringtail::kv("tool", "write_file"));
//
// The level must be a constant and the message a string literal: both are
// written once, with the keys, into the call-site table on the first use of
// the statement. Each call evaluates to true if the event was committed to
// this thread's ring, and false if it was filtered by level or lost (counted).
//
// Cost, in order: the level test (one relaxed load of the live control word);
// then, once the thread has its ring and the site is described, one load of
// the site's sampling word (docs/FORMAT.md, "Sampling"), a timestamp, the
// record written straight into the ring and one release store. No lock,
// syscall, allocation or read-modify-write. A full ring drops the event and
// counts it; the producer never waits.
//
// Not async-signal-safe: do not log from a signal handler that may have
// interrupted the same thread's logging (the two records would share ring
// bytes) or a cold path holding the producer's lock (a deadlock). Set a flag
// in the handler and log from a thread (docs/ARCHITECTURE.md, "Signal handlers").
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "ringtail/detail/producer_state.hpp"
#include "ringtail/field.hpp"

#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#endif

namespace ringtail {

using Level = shm::Level;

// What became of one event, for callers that act on it (RINGTAIL_TRY_LOG).
enum class EmitResult : uint8_t {
  kCommitted = 0,  // written to the thread's ring
  kFiltered,       // below the live minimum level
  kRingFull,       // RINGTAIL_TRY_LOG only: the ring lacked room; nothing was counted
  kTooBig,         // larger than the ring's largest record; counted as dropped_too_big
  kLost,           // no ring, not initialised, or the call site could not be described; counted
  kSampledOut,     // left out by a sampling rule; counted in the ring's sampled_out
};

// How a call site treats a full ring.
enum class FullRing : uint8_t {
  kDrop,    // count the event as dropped (it takes a seq number): RINGTAIL_LOG
  kReport,  // count nothing and return kRingFull; the caller retries or gives up
  kWait,    // wait (spin, then yield) up to Options::audit_wait; then drop and count audit_lost: RINGTAIL_AUDIT
};

// True if an event at `level` passes the live minimum level.
inline bool enabled(Level level) noexcept {
  // acquire: pairs with init()'s release, so the control word's mapping is visible.
  const std::atomic<uint32_t>* word = detail::g_min_level.load(std::memory_order_acquire);
  return static_cast<uint32_t>(level) >= word->load(std::memory_order_relaxed);
}

namespace detail {

[[gnu::always_inline]] inline uint64_t timestamp(bool realtime_clock) noexcept {
#if defined(__x86_64__) || defined(__i386__)
  if (!realtime_clock) [[likely]]
    return __rdtsc();
#endif
  (void)realtime_clock;
  return realtime_ns();
}

// The steps of one event, shared by emit() below and the run-time typed call
// sites of language bindings (ringtail/binding.hpp); each is inlined.

// A thread that is not kActive claims its ring or re-sends its frames first.
// kCommitted when the event may go on; otherwise what became of it (counted).
template <FullRing kOnFull>
[[gnu::always_inline]] inline EmitResult ready_thread(ThreadState& thread) noexcept {
  if (thread.status != ThreadRingStatus::kActive) [[unlikely]] {
    return static_cast<EmitResult>(prepare_thread(static_cast<uint8_t>(kOnFull)));
  }
  return EmitResult::kCommitted;
}

// One load of the site's sampling word, in the segment (a reader may change
// it live). True when a sampling rule leaves the event out (counted). Audit
// events are never sampled: they must have no holes.
template <FullRing kOnFull>
[[gnu::always_inline]] inline bool sampled_out(ThreadState& thread, uint32_t id) noexcept {
  if constexpr (kOnFull != FullRing::kWait) {
    if (const uint32_t keep =
            std::atomic_ref<uint32_t>(thread.callsites[id].sample_keep).load(std::memory_order_relaxed);
        keep != 0) [[unlikely]] {
      return !sample_keep_event(thread, keep);
    }
  }
  return false;
}

// Writes one event record of `size` bytes for call site `id`: the header,
// then encode(out) writes the fields and returns their end. kCheckSize:
// the record may exceed the ring's largest (a record the field types bound
// below the smallest ring's limit needs no test against this ring's).
template <FullRing kOnFull, bool kCheckSize, class Encode>
[[gnu::always_inline]] inline EmitResult write_event(ThreadState& thread, uint32_t id, uint64_t size,
                                                     const Encode& encode) noexcept {
  shm::RingWriter& ring = thread.writer;
  if (kCheckSize && size > ring.max_record_bytes) [[unlikely]] {
    if constexpr (kOnFull == FullRing::kWait) {
      ring.drop_audit_too_big();
    } else {
      ring.drop_too_big();
    }
    if (thread.frame_depth != 0) thread.status = ThreadRingStatus::kResendFrames;
    return EmitResult::kTooBig;
  }
  shm::RingWriter::Reservation reservation = ring.reserve_event(static_cast<uint32_t>(size));
  if (reservation.at == nullptr && reservation.end == shm::RingWriter::kHookFired) [[unlikely]] {
    // A flight ring's chunk started: the thread's frames go first, so that a
    // reader starting at that chunk has this event's context too.
    reservation = resend_frames_and_reserve(thread, static_cast<uint32_t>(size));
  }
  if (reservation.at == nullptr) [[unlikely]] {
    if constexpr (kOnFull == FullRing::kReport) return EmitResult::kRingFull;
    if constexpr (kOnFull == FullRing::kWait) {
      reservation = wait_for_room(thread, static_cast<uint32_t>(size));
      if (reservation.at == nullptr) {
        ring.drop_audit();
        if (thread.frame_depth != 0) thread.status = ThreadRingStatus::kResendFrames;
        return EmitResult::kRingFull;
      }
    } else {
      ring.drop_full();
      // The reader learns of the drop from a seq gap; the frames follow it again.
      if (thread.frame_depth != 0) thread.status = ThreadRingStatus::kResendFrames;
      return EmitResult::kRingFull;
    }
  }
  shm::RingSlot* const slot = ring.slot;
  const uint64_t next_committed = ring.committed + 1;
  const uint64_t seq = ring.next_seq();
  // Stamped once there is room: a dropped event costs no timestamp.
  const uint64_t now = timestamp(thread.realtime_clock);
  std::byte* out = reservation.at;
  // Three 8-byte stores straight into the ring; a RecordHeader built on the
  // stack first would be stored in halves and reloaded (a store-forwarding stall).
  const uint32_t prefix[2] = {static_cast<uint32_t>(size), id};
  std::memcpy(out, prefix, sizeof(prefix));
  std::memcpy(out + offsetof(shm::RecordHeader, seq), &seq, sizeof(seq));
  std::memcpy(out + offsetof(shm::RecordHeader, timestamp), &now, sizeof(now));
  (void)encode(out + sizeof(shm::RecordHeader));
  ring.commit(reservation, slot, next_committed);
  return EmitResult::kCommitted;
}

template <FullRing kOnFull, class... V>
[[gnu::always_inline]] inline EmitResult emit(CallSite& site, const char* function,
                                              const Field<V>&... fields) noexcept {
  static_assert(sizeof...(V) <= shm::kMaxFields, "a call site has at most 32 fields");
  ThreadState& thread = t_thread_state;
  if (const EmitResult ready = ready_thread<kOnFull>(thread); ready != EmitResult::kCommitted) return ready;
  uint32_t id = site.id.load(std::memory_order_relaxed);
  if (id >= kSiteRejected) [[unlikely]] {
    static constexpr shm::FieldType kTypes[] = {detail::field_type<V>()..., shm::FieldType::kBool};
    const char* const names[] = {fields.key..., nullptr};
    id = register_site(site, function, kTypes, names, sizeof...(V));
    if (id >= kSiteRejected) {
      if constexpr (kOnFull == FullRing::kWait) count_audit_lost_outside_rings();
      return EmitResult::kLost;
    }
  }
  if (sampled_out<kOnFull>(thread, id)) return EmitResult::kSampledOut;
  const uint32_t max_string = thread.max_string_bytes;
  (void)max_string;  // unused by call sites without string fields
  if constexpr ((kIsErrorValue<V> || ...)) {
    // Opt-in, cold: an ERROR event's error fields carry the thread's stack
    // (field.hpp, ErrorValue::stack); others carry none, even a field object
    // reused from an earlier event, and the thread keeps none past this one.
    std::string_view stack;
    if (site.level >= Level::kError && thread.error_stacks) [[unlikely]] {
      capture_error_stack(thread);
      stack = std::string_view(thread.error_stack, thread.error_stack_bytes);
      thread.error_stack_bytes = 0;
    }
    (attach_error_stack(fields.value, stack), ...);
  }
  const uint64_t size = sizeof(shm::RecordHeader) + (uint64_t{0} + ... + encoded_bytes(fields.value, max_string));
  constexpr uint64_t kMaxSize = sizeof(shm::RecordHeader) + (uint64_t{0} + ... + kMaxFieldBytes<V>);
  return write_event<kOnFull, (kMaxSize > shm::kMinMaxRecordBytes)>(
      thread, id, size, [&](std::byte * out) __attribute__((always_inline)) {
        ((out = encode(out, fields.value, max_string)), ...);
        return out;
      });
}

}  // namespace detail
}  // namespace ringtail

// The level test stays outside the lambda so that a filtered call is only
// that test, inlined at the call site. The lambda is not marked noexcept:
// GCC and Clang accept __attribute__((always_inline)) on either side of
// noexcept but not the same side; everything it calls is noexcept anyway.
// clang-format off
#define RINGTAIL_LOG(level, message, ...)                                                              \
  (::ringtail::enabled(level) &&                                                                       \
   [&](const char* ringtail_function_) __attribute__((always_inline)) -> bool {                       \
     static constinit ::ringtail::detail::CallSite ringtail_site_{(level), (message), __FILE__,        \
                                                                   __LINE__};                          \
     return ::ringtail::detail::emit<::ringtail::FullRing::kDrop>(                                     \
                ringtail_site_, ringtail_function_ __VA_OPT__(, ) __VA_ARGS__) ==                      \
            ::ringtail::EmitResult::kCommitted;                                                        \
   }(static_cast<const char*>(__func__)))

// Like RINGTAIL_LOG, but says what became of the event, and a full ring is
// reported (kRingFull) instead of counted: the event was not written and took
// no seq number, so a caller that retries until kCommitted loses nothing. A
// caller that gives up must call ringtail::count_dropped() so that the loss
// stays visible to the reader.
#define RINGTAIL_TRY_LOG(level, message, ...)                                                          \
  (!::ringtail::enabled(level)                                                                         \
       ? ::ringtail::EmitResult::kFiltered                                                             \
       : [&](const char* ringtail_function_) __attribute__((always_inline))                            \
             -> ::ringtail::EmitResult {                                                               \
           static constinit ::ringtail::detail::CallSite ringtail_site_{(level), (message), __FILE__,  \
                                                                         __LINE__};                    \
           return ::ringtail::detail::emit<::ringtail::FullRing::kReport>(                             \
               ringtail_site_, ringtail_function_ __VA_OPT__(, ) __VA_ARGS__);                         \
         }(static_cast<const char*>(__func__)))
// clang-format on

// An audit event: for policy decisions, breakglass activations and audit
// decisions, records that must not have holes. Unlike RINGTAIL_LOG it is
// never filtered: not by the live level (`ringtail level PID off` included),
// not by sampling rules, not after shutdown() (it still goes into the
// thread's ring). A full ring does not drop it at once: it waits for the
// reader to make room (spinning, then yielding) for up to Options::audit_wait
// (RINGTAIL_AUDIT_WAIT_MS, 200 ms by default). Every audit event that is not
// committed, for any cause (still a full ring, too big, no ring, call-site
// table full), is counted as audit lost (the ring's audit_lost, or the
// header's audit_lost_outside_rings) besides its cause's counter, and the
// reader reports audit losses loudly. Before init() there is no segment: such
// events count in loss_counters().audit_before_init only.
// clang-format off
#define RINGTAIL_AUDIT(level, message, ...)                                                            \
  (static_cast<void>(level),                                                                           \
   [&](const char* ringtail_function_) __attribute__((always_inline)) -> bool {                       \
     static constinit ::ringtail::detail::CallSite ringtail_site_{(level), (message), __FILE__,        \
                                                                   __LINE__};                          \
     return ::ringtail::detail::emit<::ringtail::FullRing::kWait>(                                     \
                ringtail_site_, ringtail_function_ __VA_OPT__(, ) __VA_ARGS__) ==                      \
            ::ringtail::EmitResult::kCommitted;                                                        \
   }(static_cast<const char*>(__func__)))
// clang-format on

#define RINGTAIL_TRACE(message, ...) RINGTAIL_LOG(::ringtail::Level::kTrace, message __VA_OPT__(, ) __VA_ARGS__)
#define RINGTAIL_DEBUG(message, ...) RINGTAIL_LOG(::ringtail::Level::kDebug, message __VA_OPT__(, ) __VA_ARGS__)
#define RINGTAIL_INFO(message, ...) RINGTAIL_LOG(::ringtail::Level::kInfo, message __VA_OPT__(, ) __VA_ARGS__)
#define RINGTAIL_WARN(message, ...) RINGTAIL_LOG(::ringtail::Level::kWarn, message __VA_OPT__(, ) __VA_ARGS__)
#define RINGTAIL_ERROR(message, ...) RINGTAIL_LOG(::ringtail::Level::kError, message __VA_OPT__(, ) __VA_ARGS__)
#define RINGTAIL_CRITICAL(message, ...) RINGTAIL_LOG(::ringtail::Level::kCritical, message __VA_OPT__(, ) __VA_ARGS__)
