// Finding producers' segments in /dev/shm, and telling whether their
// producers still run.
//
// discover_segments() lists a directory (/dev/shm by default) and returns the
// entries named "ringtail.<pid>.<start_ticks>" (shm::parse_segment_name),
// sorted by pid, then start ticks. It only lists: nothing is opened or
// validated (SegmentView::open does that, and takes the name, which always
// means /dev/shm/<name>: `directory` is for listing only, e.g. in tests).
//
// What it leaves out:
//   - files not starting with "ringtail.": silently;
//   - "ringtail." names that do not parse (when `pids` is empty: they belong
//     to no pid), and non-regular files with a segment name: in `skipped`,
//     with the reason;
//   - segments of other users (file owner != the effective uid): in
//     `skipped`, unless all_users is set, the effective uid is 0 (root reads
//     every segment anyway), or the segment's pid is named in `pids`;
//   - segments of pids not named in `pids` (when it is not empty): silently.
//
// producer_state() tells a segment's producer apart as alive (the creator,
// by pid and start ticks, still runs: shm::process_alive, a zombie counts as
// gone), exited (gone, and its header says it finished: shutdown() ran), or
// crashed (gone while its header still says running).
//
// Threading: plain functions; use from any thread.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "ringtail/reader/ingest/segment_view.hpp"
#include "ringtail/shm/process_identity.hpp"

namespace ringtail::reader {

struct DiscoveredSegment {
  std::string name;  // "ringtail.<pid>.<start_ticks>", for SegmentView::open
  shm::SegmentId id;
  uint32_t file_uid = 0;
  uint64_t file_bytes = 0;       // st_size
  uint64_t allocated_bytes = 0;  // st_blocks * 512: what the segment really holds of /dev/shm
};

struct DiscoveryOptions {
  std::vector<pid_t> pids;  // empty: all
  bool all_users = false;   // also other users' segments; root sees all anyway
  std::string directory = "/dev/shm";
  // Tests: decide ownership as if the effective uid were this (default: geteuid()).
  std::optional<uid_t> as_uid;
};

struct Discovery {
  std::vector<DiscoveredSegment> segments;  // sorted by pid, then start
  std::vector<std::string> skipped;         // one line each: "<name>: <reason>"
  // Not OK when the directory itself could not be listed (then nothing else is set).
  absl::Status status;
};

Discovery discover_segments(const DiscoveryOptions& options);

enum class ProducerState { kAlive, kExited, kCrashed };

// Alive: the creator runs. Exited: gone, header state finished. Crashed:
// gone while the state is running (or the state word is no longer valid).
ProducerState producer_state(const SegmentView& view);
std::string_view producer_state_name(ProducerState state);  // "alive", "exited", "crashed"

}  // namespace ringtail::reader
