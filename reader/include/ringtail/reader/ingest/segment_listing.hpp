// SegmentListing: what `ringtail ls` shows of each segment in /dev/shm, as
// one row per segment and as the JSON object of `ls --json`, so that the
// verb and the drain's live endpoint (`GET /stats`, live/live_server.hpp)
// say the same thing in the same words.
//
// Read-only: a row never consumes events and never takes the reader lease.
// Every number comes from the segment's live words (segment_summary.hpp):
// a snapshot of no single instant, safe to print, trusted for nothing.
//
// Threading: plain functions; use from any thread.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>

#include "ringtail/reader/ingest/consumer_lease.hpp"
#include "ringtail/reader/ingest/segment_directory.hpp"
#include "ringtail/reader/ingest/segment_summary.hpp"

namespace ringtail::reader {

struct SegmentRow {
  DiscoveredSegment found;
  bool alive = false;
  bool valid = false;
  bool vanished = false;  // removed since it was listed
  bool refused = false;   // PermissionDenied: not its process's user's (or not ours to open)
  std::string error;      // when !valid, without the "segment /dev/shm/<name>: " prefix
  // valid only:
  std::string service, program, hostname, state;
  SegmentSummary summary;
  uint64_t ring_bytes = 0;
  uint32_t abi_version = 0;
  std::optional<pid_t> lease;
  ReaderStall stall;         // only while `lease` names a live reader
  uint64_t sampled_out = 0;  // sum of the slots' sampled_out
};

// Opens `found` read-only and reads its row.
SegmentRow inspect_segment(const DiscoveredSegment& found);

// Whether the drain holding the lease says its output fails.
bool segment_stalled(const SegmentRow& row);
// "ENOSPC: No space left on device"; "errno N" for a number this system does
// not know (the word is untrusted); empty when not known.
std::string segment_stall_error(const SegmentRow& row);

// The row as `ringtail ls --json` prints it: one JSON object (keys in
// `ls --help`), with no newline.
std::string segment_row_json(const SegmentRow& row);

}  // namespace ringtail::reader
