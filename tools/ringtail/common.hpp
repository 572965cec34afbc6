// Helpers shared by the verbs of the `ringtail` tool: exit codes, one-line
// errors, argument validators, and the per-segment summary that ls and gc show.
//
// Every error goes to stderr as one line, "ringtail: <message>". Exit codes:
// 0 success, 1 runtime error, 2 usage error.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "CLI/CLI.hpp"
#include "absl/status/status.h"
#include "ringtail/reader/ingest/segment_view.hpp"
#include "ringtail/shm/layout.hpp"

namespace ringtail::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitRuntime = 1;
inline constexpr int kExitUsage = 2;

// Prints "ringtail: <message>" on stderr as one line: newlines folded to
// spaces, then every other control character escaped (reader::terminal_safe),
// since messages quote text from segments and stores.
void print_error(std::string_view message);
// "ringtail: <name>: <status message>", without the "segment /dev/shm/<name>: "
// prefix the reader library puts in front of its own messages.
void print_segment_error(std::string_view name, const absl::Status& status);
// The status message without that prefix.
std::string segment_error_text(std::string_view name, const absl::Status& status);

// Flushes stdout and exits with `code` (1 if stdout could not be written).
[[noreturn]] void finish(int code);

// A usage error raised from a verb's callback: main() prints it as one line
// and exits 2, like CLI11's own parse errors.
[[noreturn]] void usage_error(const std::string& message);

// CLI11 transform: a pid, plain decimal digits from 1 to 2^31 - 1.
CLI::Validator pid_validator();
// CLI11 check: a level as shm::parse_level reads it (any case, "warning"
// for warn, "off"); verbs then read the value with shm::parse_level.
CLI::Validator level_validator();
// The stored name (shm::level_name), "TRACE" ... "OFF"; "LEVEL(<n>)" for a
// value that is not a level (a control word read from shared memory).
std::string level_name(uint32_t level);

// A display-safe copy of untrusted bytes (a producer's service name...):
// reader::terminal_safe(), and "-" for an empty text.
std::string printable(std::string_view bytes);

// What ls shows of a valid segment, from its live (untrusted) words.
struct SegmentSummary {
  uint32_t slots = 0;
  uint32_t active = 0;   // slots in state active
  uint32_t retired = 0;  // slots in state retired
  // Sum over slots of write_pos - read_pos, each clamped to [0, ring capacity].
  uint64_t pending_bytes = 0;
  // Sum of every slot's dropped_full + dropped_too_big, plus the header's
  // lost_no_ring + lost_callsite_table_full (saturating).
  uint64_t dropped_events = 0;
  // Sum of every slot's audit_lost and the header's audit_lost_outside_rings:
  // audit events lost for any cause (also in dropped_events).
  uint64_t audit_lost = 0;
  uint32_t control_level = 0;
};
SegmentSummary summarize(const reader::SegmentView& view);

}  // namespace ringtail::cli
