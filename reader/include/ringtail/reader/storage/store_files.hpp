// File operations on a storage directory (store_names.hpp) that the drain's sink,
// retention and recovery share. Every name is opened, renamed and removed
// relative to an open directory and never through a symbolic link
// (store_dir.hpp): an "-open" name that is a link, or not a regular file, is
// not a file a drain left, and is never adopted or closed.
//
// Threading: functions on the file system; callers coordinate through the
// locks described here (an "-open" file is flock()ed while a drain writes it).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "ringtail/reader/storage/store_dir.hpp"
#include "ringtail/reader/storage/store_names.hpp"

namespace ringtail::reader {

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

// Takes over the "-open" file `name` of `dir` if no one holds its lock:
// nullopt when someone does (a drain writes it) or it is gone.
// FailedPrecondition if it is a symbolic link or not a regular file; other
// errors for I/O failures. Cutting a partial last line keeps the file's
// modification time (when a drain last wrote it).
absl::StatusOr<std::optional<AdoptedFile>> adopt_file(const StoreDir& dir, const StoredFileName& name);
// The first "-open" file of `service`, `pid` and `level_class` in `dir` that
// adopt_file() can take over, or nullopt. Entries that are not regular files
// are passed to `report` (if set) and skipped.
absl::StatusOr<std::optional<AdoptedFile>> adopt_open_file(const StoreDir& dir, const std::string& service,
                                                           uint32_t pid, LevelClass level_class,
                                                           const std::function<void(std::string_view)>& report = {});

// The closed name of an "-open" file whose first and last lines carry these
// name stamps; a file without timestamped lines keeps its <start> for both.
StoredFileName closed_name(const StoredFileName& open, const std::string& first_stamp, const std::string& last_stamp);

// Renames `open_name` in `dir` to `closed`'s file name, never over an
// existing name (on a clash the last stamp moves on by a nanosecond until
// the name is free). Returns the new name.
absl::StatusOr<std::string> rename_closed(const StoreDir& dir, std::string_view open_name, StoredFileName closed);

// Closes an "-open" file that no drain holds (a killed drain left it): its
// partial last line is cut off and it is renamed to its closed name (an
// empty one is removed). nullopt when a drain holds it or it was empty;
// otherwise the closed path. FailedPrecondition, and nothing touched, for a
// symbolic link or anything else that is not a regular file.
absl::StatusOr<std::optional<std::string>> close_orphan(const StoreDir& dir, std::string_view name);
// The same for the file `path` (in the directory that holds it).
absl::StatusOr<std::optional<std::string>> close_orphan(const std::string& path);

}  // namespace ringtail::reader
