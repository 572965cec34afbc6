// Retention of a storage directory (store_names.hpp): which closed files to delete
// (or move to an archive), by age per level class, a global age and a size
// budget. `ringtail retain` and the drain (periodically) apply it.
//
// A file's time is when the reader wrote it: its modification time, which
// the drain sets to its clock when it closes the file and which compression
// and archiving keep. Never the timestamps in its lines (nor its name's
// stamps, which come from them): a producer chose those, and a file whose
// lines claim the year 9999 (or 1970) must neither outlive everything nor
// make other files go first.
//
// Rules, for closed files only ("…-open.jsonl" files are being written, or
// are left for recovery: never touched):
//   * A file is expired when it was written longer ago than its class's age
//     (default debug 7 d, info 30 d, warn 180 d, error 365 d) or than
//     max_age. Its lines arrived before it was written (its last one at most
//     a flush and the reorder window before), so an event is kept at least
//     its class's age after the drain stored it; it may outlive it by up to
//     the file's span (at most max_file_age of the sink, 1 h by default).
//   * max_bytes: after the expired files, the oldest closed files (by write
//     time) go until what the directory holds, open files included, is at or
//     under max_bytes.
//   * A file goes with its companions: its index, and a plain twin of a
//     compressed file (left by an interrupted compression).
// Directories are walked and files removed or moved relative to directory
// descriptors, never through a symbolic link (store_dir.hpp); entries that
// are links or not regular files are listed in `skipped` and never touched.
// An archive target is never replaced: a file (or link) already there is an
// error for that file, which then stays in the store.
//
// Threading: functions on the file system.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "ringtail/reader/storage/store_names.hpp"

namespace ringtail::reader {

struct RetentionPolicy {
  // By LevelClass: debug, info, warn, error. nullopt: kept forever (unless max_age / max_bytes).
  std::array<std::optional<std::chrono::seconds>, kLevelClassCount> class_age = {
      std::chrono::hours(24 * 7), std::chrono::hours(24 * 30), std::chrono::hours(24 * 180),
      std::chrono::hours(24 * 365)};
  std::optional<std::chrono::seconds> max_age;
  std::optional<uint64_t> max_bytes;
};

struct RetentionAction {
  std::string path;                     // the data file (closed or compressed)
  std::vector<std::string> companions;  // its index, a plain twin: they go with it
  uint64_t bytes = 0;                   // of the file and its companions
  int64_t written_ns = 0;               // when the reader wrote it: its modification time, ns since the epoch
  std::string reason;                   // "info older than 30d", "over max-bytes", ...
};

struct RetentionPlan {
  std::vector<RetentionAction> actions;  // oldest first
  uint64_t bytes_before = 0;             // everything under the directory that is ringtail's
  uint64_t bytes_after = 0;
  std::vector<std::string> skipped_open;  // files being written (or left open), never touched
  std::vector<std::string> skipped;       // links and other entries that are not regular files: why each is left
};

// What the policy removes now. Errors only when the directory cannot be read.
absl::StatusOr<RetentionPlan> plan_retention(const std::string& directory, const RetentionPolicy& policy,
                                             int64_t now_ns);

// Deletes the plan's files, or moves them under `archive_directory` (same
// relative path, never over an existing file; created if missing) when it is
// not empty. Carries on past a file that fails, reporting it; returns the
// first error.
absl::Status apply_retention(const RetentionPlan& plan, const std::string& directory,
                             const std::string& archive_directory, const std::function<void(std::string_view)>& report);

// "7d", "12h", "30m", "45s", "2w" -> seconds; InvalidArgument otherwise.
absl::StatusOr<std::chrono::seconds> parse_age(std::string_view text);
// "500M", "10G", "1T", "4096", "64K" (powers of 1024) -> bytes.
absl::StatusOr<uint64_t> parse_size(std::string_view text);
// 604800 s -> "7d" (the largest unit that divides it).
std::string format_age(std::chrono::seconds age);

}  // namespace ringtail::reader
