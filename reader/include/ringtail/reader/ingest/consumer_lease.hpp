// ConsumerLease: the one-consumer-per-segment lease (SegmentHeader::reader_lease).
//
// Only one reader may consume a segment (move read_pos), across all
// processes. The lease word holds the consuming reader's
// shm::make_reader_lease(pid, start_ticks), 0 when none:
//
//   acquire: CAS 0 -> mine. If the word holds another value, decode its
//     holder (pid = word >> 32, low 32 bits of its start ticks). A holder
//     that still runs (same pid, same low start-tick bits, not a zombie) keeps
//     it: UnavailableError "... is being drained by pid N" (also when the
//     holder is this very process: a second acquire fails). A holder that is
//     gone left a stale lease, taken over with a CAS from exactly that value,
//     so two readers racing for one stale lease cannot both win.
//   release (destructor): CAS mine -> 0, so a lease that someone has taken
//     over meanwhile (they judged us dead) is left alone.
//
// The holder's output state: while its output fails (disk full...), the
// holder says so in the two words after the lease (mark_stalled), so that
// `ringtail ls` can show why the segment is not consumed; clear_stalled() when
// it writes again. acquire clears what a previous holder left there, release
// clears them before giving the lease back. They are display only: any writer
// of the segment can set them, and nothing acts on them.
//
// A reader killed while holding the lease leaves it stale; the next reader
// takes it over. Matching only the low 32 bits of the start ticks is what the
// ABI stores; a pid reused by a process started exactly 2^32 ticks later would
// be mistaken for the holder, which at 100 ticks/s is 497 days apart.
//
// A forked child inherits the object but not the lease: release is a no-op
// in any process other than the one that acquired it.
//
// Threading: one thread owns a ConsumerLease; the word itself is shared. The
// SegmentView must outlive the lease (the lease points into its mapping).
#pragma once

#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <optional>

#include "absl/status/statusor.h"
#include "ringtail/reader/ingest/segment_view.hpp"

namespace ringtail::reader {

class ConsumerLease {
 public:
  // Takes the lease for this process. FailedPreconditionError for a
  // read-only view; UnavailableError naming the holder's pid if a live reader
  // holds it; InternalError if this process's own start ticks are unreadable.
  static absl::StatusOr<ConsumerLease> acquire(SegmentView& view);

  ~ConsumerLease() { release(); }
  ConsumerLease(ConsumerLease&& other) noexcept;
  ConsumerLease& operator=(ConsumerLease&& other) noexcept;
  ConsumerLease(const ConsumerLease&) = delete;
  ConsumerLease& operator=(const ConsumerLease&) = delete;

  // Gives the lease back now (CAS mine -> 0), clearing the stall words
  // first; idempotent.
  void release();

  // The holder's output has failed since `since_realtime_ns` (CLOCK_REALTIME
  // ns, nonzero) with `error_number` (0: not known). No-op when not held.
  void mark_stalled(uint64_t since_realtime_ns, uint32_t error_number);
  // The output works again. No-op when not held.
  void clear_stalled();

  bool held() const { return word_ != nullptr; }
  uint64_t value() const { return value_; }  // the word this lease stored
  // The pid of the dead reader whose stale lease acquire() took over, if any.
  std::optional<pid_t> took_over_from() const { return took_over_from_; }

 private:
  ConsumerLease() = default;

  std::atomic<uint64_t>* word_ = nullptr;
  std::atomic<uint64_t>* stalled_since_ = nullptr;  // beside word_ in the mapping
  std::atomic<uint32_t>* stall_errno_ = nullptr;
  uint64_t value_ = 0;
  pid_t owner_pid_ = 0;
  std::optional<pid_t> took_over_from_;
};

// The pid of the live reader holding the segment's lease; nullopt when the
// lease is free or stale. Works on a read-only view.
std::optional<pid_t> lease_holder(const SegmentView& view);

// What a lease holder says about its output (see mark_stalled), as the words
// hold it now: untrusted, for display only.
struct ReaderStall {
  uint64_t since_realtime_ns_untrusted = 0;  // 0: not stalled
  uint32_t errno_untrusted = 0;              // 0: not known
};
// The stall words (relaxed loads). Works on a read-only view. Meaningful only
// while lease_holder() names a live reader.
ReaderStall reader_stall(const SegmentView& view);

}  // namespace ringtail::reader
