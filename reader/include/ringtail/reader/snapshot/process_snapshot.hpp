// Process snapshot: the events a live (or dead) producer's rings hold now,
// as JSONL, without consuming them (`ringtail snapshot PID --out FILE`).
//
// For a flight-mode producer (RINGTAIL_MODE=flight) that is its flight
// recorder: the last events of each thread, as far back as each ring still
// holds them; events the writer overwrote before or while they were copied
// are not written, only counted (a "ringtail.dropped" line per ring). For a
// normal-mode producer it is what no reader has consumed yet.
//
// Peek mode: no lease is taken and no read_pos is moved, so a running
// `ringtail drain` loses nothing and the producer is not slowed. The lines
// are those of `ringtail drain` (the drain engine in peek mode, with no
// reorder window: each segment's lines in timestamp order as far as its
// rings' batches allow), redacted as the options say.
//
// Threading: one call at a time per sink; it runs on the caller's thread.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "ringtail/reader/output/redaction.hpp"
#include "ringtail/reader/sinks/event_sink.hpp"

namespace ringtail::reader {

struct SnapshotOptions {
  pid_t pid = 0;
  bool all_users = false;                    // also a process of another user (root sees all anyway)
  std::string directory = "/dev/shm";        // where segments are looked for (tests)
  std::shared_ptr<const Redactor> redactor;  // applied to every event's fields; none: values as logged
};

struct SnapshotResult {
  uint64_t segments = 0;     // segments of the process read
  uint64_t events = 0;       // event lines written
  uint64_t lines = 0;        // all lines written (events, drop and crash notes)
  uint64_t dropped = 0;      // events missing from the window (overwritten, dropped), in "ringtail.dropped" lines
  uint64_t overwritten = 0;  // of those, overwritten by the flight-recorder ring
};

// Writes the current window of every ring of `options.pid`'s segments to
// `sink` and flushes it. NotFoundError when the process has no segment (or
// none readable: `report` was told why); the sink's error if it fails.
// `report` gets one-line diagnostics.
absl::StatusOr<SnapshotResult> snapshot_process(const SnapshotOptions& options, EventSink& sink,
                                                const std::function<void(std::string_view)>& report);

}  // namespace ringtail::reader
