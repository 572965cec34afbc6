// The store's paths and names: where `ringtail drain` puts what it stores,
// shared by the drain's sink, the background compressor, retention and queries
// (docs/STORAGE.md describes it for users).
//
//   DIR/<service>/<YYYY-MM-DD>/<service>-<pid>-<class>-<start>-open.jsonl    being written
//   DIR/<service>/<YYYY-MM-DD>/<service>-<pid>-<class>-<first>-<last>.jsonl  closed
//   DIR/<service>/<YYYY-MM-DD>/<service>-<pid>-<class>-<first>-<last>.jsonl.zst
//   DIR/<service>/<YYYY-MM-DD>/<service>-<pid>-<class>-<first>-<last>.index.json
//
// One file per producer process and *level class*, so that retention can
// keep each class for its own time by deleting whole files:
//   debug (TRACE, DEBUG) 7 d, info (INFO) 30 d, warn (WARN) 180 d,
//   error (ERROR, CRITICAL) 365 d by default.
// <start> is when the drain opened the file; <first> and <last> are the
// timestamps of its first and last lines; all three are UTC to the
// nanosecond in ISO 8601 basic form, "20261130T154500.123456789Z" (no colons,
// sortable as text). The date directory is the UTC date the file was opened
// (files rotate at midnight UTC, so a file never spans two dates).
//
// Threading: pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "ringtail/shm/level.hpp"

namespace ringtail::reader {

enum class LevelClass : uint8_t { kDebug, kInfo, kWarn, kError };
inline constexpr int kLevelClassCount = 4;

// "debug", "info", "warn", "error".
std::string_view level_class_name(LevelClass level_class);
std::optional<LevelClass> level_class_from_name(std::string_view name);
// By the level names the JSONL uses (TRACE ... CRITICAL); anything else
// (OFF, or text that is not a level) goes with info.
LevelClass level_class_of(std::string_view level);
// The same by level (a line's shape: sinks/event_batch.hpp); kOff, or a
// value past it, goes with info as its word does.
LevelClass level_class_of(shm::Level level);
// The class of one JSONL line as ringtail writes it, by the level in its
// head (output/line_head.hpp). A line without a head goes with info.
LevelClass level_class_of_line(std::string_view line);
// The line's timestamp text ("2026-11-30T15:45:00.123456789Z", 30 characters)
// from its head (output/line_head.hpp), or empty if it has none.
std::string_view line_timestamp(std::string_view line);

// "2026-11-30T15:45:00.123456789Z" -> "20261130T154500.123456789Z"; empty if
// the input is not 30 characters of that shape.
std::string name_stamp_from_timestamp(std::string_view timestamp);
// ns since the Unix epoch -> "20261130T154500.123456789Z".
std::string name_stamp_from_ns(int64_t ns);
// "20261130T154500.123456789Z" -> the JSONL timestamp form; empty if malformed.
std::string timestamp_from_name_stamp(std::string_view stamp);

// "<service>" made safe for a path component: bytes other than ASCII letters,
// digits, '-', '_' and '.' become '_', a leading '.' and a '.' after a '.'
// become '_' (no "..", no hidden files), and an empty name becomes "unknown".
std::string safe_service_name(std::string_view service);

// What a stored file's name says.
struct StoredFileName {
  enum class Kind : uint8_t { kOpen, kClosed, kCompressed, kIndex };
  Kind kind = Kind::kOpen;
  std::string service;  // as in the name (already made safe)
  uint32_t pid = 0;
  LevelClass level_class = LevelClass::kInfo;
  std::string first;  // name stamps; for an open file `first` is <start> and `last` is empty
  std::string last;

  // The name without the directory: "<service>-<pid>-<class>-<first>-<last>.jsonl" etc.
  std::string file_name() const;
  // The closed file's name without ".jsonl", ".jsonl.zst" or ".index.json":
  // what a file, its compressed form and its index share.
  std::string base_name() const;
};
// Parses a file name (no directory); nullopt for names that are not ringtail's.
std::optional<StoredFileName> parse_stored_file_name(std::string_view name);

}  // namespace ringtail::reader
