// FileIndex: the sidecar index of a closed storage file
// ("<base>.index.json", store_names.hpp), which lets queries skip files without
// reading them. docs/STORAGE.md documents the format for other tools.
//
// It is built from the data (never from what the drain believed it wrote) in
// the background when a file is closed, and it names the data file it
// describes with that file's size on disk: an index whose data file is
// missing or has another size, that does not parse, or has another version
// is not trusted but rebuilt from the data (load_or_rebuild_index).
//
// Counts by message and by key stop at kMaxDistinct distinct values (then
// *_complete is false, and a query cannot skip the file by them).
//
// Threading: plain values and functions on files.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "ringtail/reader/storage/store_dir.hpp"

namespace ringtail::reader {

struct FileIndex {
  static constexpr int kVersion = 1;
  static constexpr size_t kMaxDistinct = 4096;

  std::string data_file;        // the file name it describes (no directory)
  uint64_t data_bytes = 0;      // that file's size on disk when the index was written
  uint64_t lines = 0;           // complete lines
  uint64_t bad_lines = 0;       // lines that are not JSON objects (counted, not indexed)
  std::string first_timestamp;  // lowest and highest "timestamp" (RFC 3339 text; empty if none)
  std::string last_timestamp;
  std::map<std::string, uint64_t> levels;
  std::map<std::string, uint64_t> messages;
  bool messages_complete = true;
  std::map<std::string, uint64_t> keys;  // top-level keys: lines that have each
  bool keys_complete = true;
  std::set<std::string> services;
  std::set<uint64_t> pids;

  bool operator==(const FileIndex&) const = default;
};

// Reads `data_path` (plain or .zst) and indexes every complete line. The
// file is opened as JsonlReader opens it (a regular file, not through a link).
absl::StatusOr<FileIndex> build_index(const std::string& data_path);
absl::StatusOr<FileIndex> build_index(const StoreDir& dir, std::string_view data_name);

std::string serialize_index(const FileIndex& index);
absl::StatusOr<FileIndex> parse_index(std::string_view json);

// "<dir>/<base>.index.json" for a data file "<dir>/<base>.jsonl[.zst]"; empty
// if the path is not a closed storage file.
std::string index_path_for(const std::string& data_path);
// Writes the index beside its data file: a TemporaryFile (store_dir.hpp:
// "<index name>.tmp.<pid>.<tid>", created O_EXCL, so a file or link planted
// there fails the write), then renamed over the index (a link there is
// replaced, never followed).
absl::Status write_index(const FileIndex& index, const std::string& index_path);
absl::Status write_index(const FileIndex& index, const StoreDir& dir, std::string_view index_name);

// The index of `data_path`, as stored if it describes the file as it is now,
// else rebuilt and written again (*rebuilt tells which, if not null). An
// index that is not a regular file is not read (it is replaced).
absl::StatusOr<FileIndex> load_or_rebuild_index(const std::string& data_path, bool* rebuilt = nullptr);
absl::StatusOr<FileIndex> load_or_rebuild_index(const StoreDir& dir, std::string_view data_name,
                                                bool* rebuilt = nullptr);

}  // namespace ringtail::reader
