// Process-wide set-up of the producer: init, shutdown, live level, counters.
//
// init() creates this process's segment in /dev/shm; until it runs (and after
// shutdown()), call sites write nothing. All functions here are cold-path and
// thread-safe; none of them may be called from a signal handler.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "ringtail/shm/layout.hpp"

namespace ringtail {

using Level = shm::Level;

// "trace", "debug", "info", "warn" (or "warning"), "error", "critical", "off", any case.
std::optional<Level> parse_level(std::string_view text);
// "TRACE" ... "CRITICAL", "OFF".
std::string_view level_name(Level level);

// What a thread's ring does when no reader keeps up.
enum class RingMode {
  // New events are dropped (and counted) while the ring is full.
  kNormal,
  // Flight recorder: the ring overwrites its oldest events, so that it always
  // holds the thread's last ones (at least 7/8 of ring_bytes for rings of
  // 32 KiB and more; 1/2 for 8 KiB), for a reader to drain after a crash or to
  // copy live (`ringtail snapshot`). The largest event is then a ring chunk
  // (ring_bytes / 8, at most; 4 KiB at least) less 48 bytes, and ring_bytes
  // must be at least 8 KiB. A reader that falls behind counts what was
  // overwritten before it read it.
  kFlight,
};

struct Options {
  // Names the producer in the reader's output. Empty: the program's name.
  std::string service;
  // Events below this level are filtered at the call site (one load).
  Level min_level = Level::kInfo;
  // Bytes of each thread's ring: a power of two, 4 KiB to 1 GiB.
  uint64_t ring_bytes = uint64_t{1} << 20;
  // Drop new events when a ring is full (kNormal) or overwrite the oldest (kFlight).
  RingMode mode = RingMode::kNormal;
  // Ring slots: how many threads may hold a ring at once.
  uint32_t max_threads = 256;
  // Distinct call sites (RINGTAIL_LOG statements) the segment can describe.
  uint32_t max_callsites = 4096;
  // Longer string values are cut to this many bytes and flagged as cut.
  uint32_t max_string_bytes = 4096;
  // Permission bits of the segment file: owner only by default; 0640 lets
  // the owner's group read it.
  uint32_t shm_mode = 0600;
  // How long an audit event (RINGTAIL_AUDIT) waits for room in a full ring
  // (spinning, then yielding) before it is dropped and counted as audit_lost.
  std::chrono::milliseconds audit_wait{200};
  // Sampling rules, as RINGTAIL_SAMPLE takes them ("debug=0.1,msg:tool
  // call=0.5,site:agent.cpp:42=0"; see docs/FORMAT.md, "Sampling"). Empty:
  // every event that passes its level is kept. A reader can replace them live.
  std::string sample;
  // Secret key of the producer's keyed hashes (the breakglass token), so that
  // equal values hash equal across processes that share it. Empty: a random
  // key per process (hashes then correlate only within the process).
  std::string hash_key;
  // ERROR and CRITICAL events with an error field (kv("error", ...)) also
  // capture the calling thread's stack into it. Off by default: a cold path
  // that walks the stack and resolves symbols.
  bool error_stacks = false;
};

// Reads RINGTAIL_SERVICE, RINGTAIL_LEVEL (trace|debug|info|warn|error|critical|off),
// RINGTAIL_RING_BYTES (bytes, or with a K/M/G suffix), RINGTAIL_MODE (normal
// or flight), RINGTAIL_MAX_THREADS,
// RINGTAIL_MAX_CALLSITES, RINGTAIL_MAX_STRING_BYTES, RINGTAIL_SHM_MODE
// (octal), RINGTAIL_AUDIT_WAIT_MS, RINGTAIL_SAMPLE, RINGTAIL_HASH_KEY_FILE
// (a file whose bytes are the key) and RINGTAIL_ERROR_STACKS (0 or 1) over
// the defaults. An unparsable value is an InvalidArgument error
// naming the variable.
absl::StatusOr<Options> options_from_env();

// Creates this process's segment. Errors (bad options, /dev/shm not writable
// or full, called twice) come back as a Status; nothing aborts. After an
// error, call sites keep writing nothing and init() may be called again.
absl::Status init(const Options& options);
// init(options_from_env()).
absl::Status init();

// Marks the segment finished, so a reader knows the process closed cleanly,
// and stops every call site at its level test. Runs at exit on its own; safe
// to call more than once. The segment stays mapped (a thread may be mid-event)
// and stays in /dev/shm for the reader, which removes it once drained.
void shutdown();

// Live minimum level: the same control word a reader writes.
void set_min_level(Level level);
Level min_level();

// Name of this process's segment under /dev/shm ("" before init).
std::string segment_name();

// Events lost in this process, by cause.
struct LossCounters {
  uint64_t before_init = 0;          // emitted before init() succeeded
  uint64_t no_ring = 0;              // no ring slot or no /dev/shm memory for the thread
  uint64_t callsite_table_full = 0;  // the call site could not be described
  uint64_t ring_full = 0;            // all rings: the ring was full
  uint64_t too_big = 0;              // all rings: the record was larger than max_event_bytes()
  // Audit events (RINGTAIL_AUDIT) among the above: those in rings (full or
  // too big) and those that reached none (no ring, table full, before init).
  uint64_t audit = 0;
  uint64_t audit_before_init = 0;  // of which before init() (no segment to count them in)
};
LossCounters loss_counters();

// Counts one event of the calling thread as dropped for a full ring, as
// RINGTAIL_LOG would have: for RINGTAIL_TRY_LOG callers that give up.
void count_dropped();

// The largest record a ring accepts (ring_bytes / 2; in flight mode a chunk
// less 48 bytes), 0 before init.
uint64_t max_event_bytes();

}  // namespace ringtail
