// The data files of a storage directory (docs/STORAGE.md) as queries see
// them, and what an index says about a filter.
//
// list_stored_files() lists every data file under a directory: closed plain,
// compressed and open ("-open") files; a plain file with a compressed twin
// (an interrupted compression) counts once, as the compressed file. Closed
// files get their index (load_or_rebuild_index: rebuilt when missing, corrupt
// or stale, never trusted blindly); open ones have none and are always read.
// The tree is listed without following anything (walk_store): a symbolic
// link, even one named like a data file, and any other entry that is not a
// regular file is reported and left out, so a query never reads through it.
//
// index_excludes() is true only when the index proves that no line of the
// file can pass the filter: the time range, the levels, and for clauses on a
// top-level key, that key's presence (and for = on message, service or pid,
// the value). It never excludes on an incomplete count.
//
// Threading: functions on the file system.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "ringtail/reader/query/filter.hpp"
#include "ringtail/reader/storage/file_index.hpp"
#include "ringtail/reader/storage/store_names.hpp"

namespace ringtail::reader {

struct StoredFile {
  std::string path;
  StoredFileName name;
  std::optional<FileIndex> index;  // closed files
  uint64_t disk_bytes = 0;         // its size on disk when listed (compressed: the compressed size)
  bool open() const { return name.kind == StoredFileName::Kind::kOpen; }
};

struct CatalogOptions {
  bool use_indexes = true;  // false: no index is read or built (every file is read)
  // A file whose index cannot be built (unreadable, corrupt data) is
  // reported here and still listed, without an index; so is every entry
  // left out for not being a regular file.
  std::function<void(std::string_view)> report;
};

absl::StatusOr<std::vector<StoredFile>> list_stored_files(const std::string& directory,
                                                          const CatalogOptions& options = {});

bool index_excludes(const FileIndex& index, const Filter& filter);

}  // namespace ringtail::reader
