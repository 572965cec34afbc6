// File operations on a storage directory (layout.hpp) that the drain's sink,
// retention and recovery share.
//
// Threading: functions on the file system; callers coordinate through the
// locks described here (an "-open" file is flock()ed while a drain writes it).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "ringtail/reader/storage/layout.hpp"

namespace ringtail::reader {

// mkdir -p, each missing component with `mode`.
absl::Status make_directories(const std::string& path, mode_t mode);

// An "-open" file taken over by this process: open, locked (flock, exclusive),
// its partial last line cut off, its first and last line stamps read.
struct AdoptedFile {
  StoredFileName name;
  std::string path;
  int fd = -1;  // the caller owns it (closing it releases the lock)
  uint64_t size = 0;
  std::string first_stamp;  // name stamps; empty when the file has no line
  std::string last_stamp;
};

// Takes over `path` if no one holds its lock: nullopt when someone does (a
// drain writes it). Errors for I/O failures.
absl::StatusOr<std::optional<AdoptedFile>> adopt_file(const std::string& path, const StoredFileName& name);
// The first "-open" file of `service`, `pid` and `level_class` in `directory`
// that adopt_file() can take over, or nullopt.
absl::StatusOr<std::optional<AdoptedFile>> adopt_open_file(const std::string& directory, const std::string& service,
                                                           uint32_t pid, LevelClass level_class);

// The closed name of an "-open" file whose first and last lines carry these
// name stamps; a file without timestamped lines keeps its <start> for both.
StoredFileName closed_name(const StoredFileName& open, const std::string& first_stamp, const std::string& last_stamp);

// Renames `open_path` to `closed`'s file name in `directory`, never over an
// existing file (on a clash the last stamp moves on by a nanosecond until the
// name is free). Returns the new path.
absl::StatusOr<std::string> rename_closed(const std::string& open_path, const std::string& directory,
                                          StoredFileName closed);

// Closes an "-open" file that no drain holds (a killed drain left it): its
// partial last line is cut off and it is renamed to its closed name (an
// empty one is removed). nullopt when a drain holds it or it was empty;
// otherwise the closed path.
absl::StatusOr<std::optional<std::string>> close_orphan(const std::string& path);

}  // namespace ringtail::reader
