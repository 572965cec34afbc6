// Helpers shared by the verbs of the `ringtail` tool: exit codes, one-line
// errors and argument validators.
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

}  // namespace ringtail::cli
