// Segment garbage collection: which segments of gone producers may leave
// /dev/shm, and why the others stay (what `ringtail gc` does, one segment at
// a time).
//
// collect_segment() looks at one discovered segment:
//   - its producer still runs: nothing (nullopt), it is not ours to judge;
//   - it vanished since it was listed: nothing (nullopt);
//   - it fails validation (corrupt, truncated, another ABI, never finished
//     initialising): kept (kKeptInvalid), or removed with remove_invalid;
//   - a live reader holds its lease: kept (kKeptLeased), being drained;
//   - a ring still holds bytes past its read position: kept (kKeptPending),
//     there is something left to drain;
//   - else removed (kRemoved): exited or crashed, nothing pending.
// Anything else (not allowed to open it, the lease cannot be taken, the
// unlink fails) is kFailed with the error.
//
// Unless dry_run, the decision is taken while holding the segment's reader
// lease, so a `ringtail drain` cannot start consuming it in between; the
// lease is let go only after the unlink (the mapping outlives the name). A
// dry run opens read-only, takes no lease and removes nothing.
//
// Threading: plain functions; one call per segment at a time.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "ringtail/reader/ingest/segment_directory.hpp"

namespace ringtail::reader {

struct GcOptions {
  bool dry_run = false;         // decide only: open read-only, remove nothing
  bool remove_invalid = false;  // also remove gone producers' segments that fail validation
};

struct GcDecision {
  enum class Outcome {
    kRemoved,      // unlinked (in a dry run: would be)
    kKeptPending,  // pending_bytes left to drain
    kKeptLeased,   // lease_holder is draining it
    kKeptInvalid,  // failed validation (invalid_status) and remove_invalid is off
    kFailed,       // error: could not open, lease or unlink it
  };
  Outcome outcome = Outcome::kFailed;
  // "exited" or "crashed" (producer_state_name); empty for an invalid segment.
  std::string state;
  // Why a segment failed validation, for kKeptInvalid and for a kRemoved
  // invalid one (then state is empty); OK otherwise.
  absl::Status invalid_status;
  uint64_t pending_bytes = 0;  // kKeptPending
  pid_t lease_holder = 0;      // kKeptLeased
  // kFailed: the SegmentView or ConsumerLease error, or "cannot remove: <errno text>".
  absl::Status error;
};

// True for the open errors that mean the segment fails validation (as
// opposed to not being allowed to open it, or its having vanished).
bool is_invalid_segment(const absl::Status& open_status);

// Decides on (and unless dry_run, acts on) one segment of discover_segments().
// nullopt: its producer runs, or it vanished; nothing to say.
std::optional<GcDecision> collect_segment(const DiscoveredSegment& found, const GcOptions& options);

}  // namespace ringtail::reader
