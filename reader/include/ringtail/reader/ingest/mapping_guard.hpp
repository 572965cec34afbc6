// MappingGuard: a segment's mapping survives its file being cut short.
//
// The reader maps a producer's segment and reads it for as long as the
// producer runs. Its owner can ftruncate() the file at any moment, and then
// the next access to a page past the new end raises SIGBUS, which would kill
// the reader and with it the drain of every other producer on the host.
//
// A MappingGuard registers one mapping in a process-wide, lock-free table.
// The reader's SIGBUS handler (installed once, on the first registration)
// looks the faulting address up there; inside a registered mapping it
// replaces the lost page with a private zero page, marks the mapping cut and
// returns, so the access completes (reading zeros, which the reader's checks
// treat like any other bad record). The owner of the mapping asks cut() and
// abandons it: what it read after the cut is not trusted. A fault outside
// every registered mapping goes to the handler that was there before, or
// ends the process as SIGBUS would have.
//
// Why a handler and not a size check before each access: the owner can cut
// the file between any check and the access. Why not pread() for every
// access: the ring protocol needs atomic loads and stores of shared words,
// which a copy through the kernel cannot give. (Ring *data* is copied with
// pread(), segment_view.hpp: a read that finds the file short marks the
// registration cut through mark_cut().)
//
// Threading: register and unregister from any thread; cut() from any thread.
// The handler itself is async-signal-safe (atomics and the raw mmap call).
#pragma once

#include <cstddef>
#include <cstdint>

#include "absl/status/statusor.h"

namespace ringtail::reader {

class MappingGuard {
 public:
  MappingGuard() = default;
  MappingGuard(MappingGuard&& other) noexcept : slot_(other.slot_) { other.slot_ = -1; }
  MappingGuard& operator=(MappingGuard&& other) noexcept;
  ~MappingGuard();
  MappingGuard(const MappingGuard&) = delete;
  MappingGuard& operator=(const MappingGuard&) = delete;

  // Guards [base, base + bytes) until the guard is destroyed (before the
  // mapping goes). ResourceExhausted when kMaxMappings are guarded already.
  static absl::StatusOr<MappingGuard> guard(const void* base, size_t bytes);

  // True once an access to the mapping found its file cut short.
  bool cut() const;
  // The registration's index (-1 if none); stays the same when the guard moves.
  int slot() const { return slot_; }
  // Marks registration `slot` cut, as the handler does: for code that found
  // the file short through its descriptor. Ignores a slot out of range.
  static void mark_cut(int slot);

  static constexpr int kMaxMappings = 16384;

 private:
  int slot_ = -1;
};

}  // namespace ringtail::reader
