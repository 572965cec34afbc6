// StoreCheckpoint: what a drain's store holds, per segment being drained, to
// make its output exactly once (drain_engine.hpp, sinks/event_sink.hpp): the
// engine's resume point (opaque here) and the size each of the segment's
// "-open" files had when the lines up to that point were written.
//
// One file per segment, DIR/.checkpoints/<pid>-<start ticks>.resume,
// replaced whole (a temporary renamed over it) by StoreSink after the data it
// describes is written and before the engine publishes read positions, and
// before any file it lists is rotated. A file the sink creates is listed
// (size 0) before a line goes into it. So after a kill at any instant:
//   - every line past a listed size was written after the checkpoint, for
//     records at or past its resume point: apply_checkpoints() (drain
//     start, before orphaned "-open" files are closed) cuts each listed
//     "-open" file no one holds back to its listed size;
//   - the engine resumes the rings at the resume point, so what was cut is
//     written again and nothing before it is.
// A listed file that is shorter than its size is reported (its lines were
// lost after they were written: a file system without --fsync losing a
// crash's last writes). StoreSink removes the file when the segment is
// finished; one older than kStaleCheckpointAge is removed at recovery.
//
// The bytes are untrusted input (the store may be writable by others): a
// path must be "<service>/<date>/<name>" of an "-open" file, opened without
// following links (store_dir.hpp); counts and lengths are bounded.
//
// Threading: pure functions and file operations; callers serialise writes
// of one segment's checkpoint.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "ringtail/reader/storage/store_dir.hpp"

namespace ringtail::reader {

inline constexpr std::string_view kCheckpointDirectory = ".checkpoints";
inline constexpr std::chrono::hours kStaleCheckpointAge{24 * 7};

struct StoreCheckpoint {
  struct File {
    std::string relative_path;  // "<service>/<date>/<name>-open.jsonl"
    uint64_t size = 0;
  };
  uint32_t pid = 0;
  uint64_t start_ticks = 0;
  std::vector<File> files;
  std::string resume;  // the engine's resume point; empty: none yet (start at read positions)
};

// "<pid>-<start ticks>.resume"
std::string checkpoint_file_name(uint32_t pid, uint64_t start_ticks);

std::string encode(const StoreCheckpoint& checkpoint);
// InvalidArgument naming the first problem.
absl::StatusOr<StoreCheckpoint> decode_store_checkpoint(std::string_view bytes);

// Replaces the segment's checkpoint in `directory` (the store's
// kCheckpointDirectory): a temporary, fdatasync'ed with `fsync`, renamed
// over the old one.
absl::Status write_checkpoint(const StoreDir& directory, const StoreCheckpoint& checkpoint, mode_t file_mode,
                              bool fsync);
// The segment's checkpoint in the store at `store_root`; nullopt if there is
// none; an error if it cannot be read or decoded.
absl::StatusOr<std::optional<StoreCheckpoint>> read_checkpoint(const std::string& store_root, uint32_t pid,
                                                               uint64_t start_ticks);

// Recovery, before orphaned "-open" files are closed: applies every
// checkpoint of the store as described above and removes stale ones.
// Problems go to `report`; it never fails.
void apply_checkpoints(const StoreDir& root, const std::function<void(std::string_view)>& report);

}  // namespace ringtail::reader
