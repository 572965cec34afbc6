#include "ringtail/reader/query/catalog.hpp"

#include <algorithm>
#include <map>
#include <optional>

#include "absl/strings/str_cat.h"
#include "ringtail/reader/output/time_text.hpp"
#include "ringtail/reader/storage/store_dir.hpp"
#include "ringtail/shm/level.hpp"

namespace ringtail::reader {
namespace {

// Whether the index shows `key` on no line (a complete key count without it).
bool key_absent(const FileIndex& index, const std::string& key) {
  return index.keys_complete && index.keys.find(key) == index.keys.end();
}

bool clause_excludes(const FileIndex& index, const WhereClause& clause) {
  const std::string& key = clause.key();
  // A dotted bare key is the top-level key of that name, else a path whose
  // first segment is a top-level key: both must be absent.
  std::string top = key;
  if (clause.is_path()) top = key.substr(0, key.find('.'));
  const bool absent = key_absent(index, key) && key_absent(index, top);
  const JsonScalar& value = clause.value();
  switch (clause.op()) {
    case WhereOp::kEq: {
      if (std::holds_alternative<std::nullptr_t>(value)) return false;  // a missing key matches
      if (absent) return true;
      if (clause.is_path()) return false;
      const std::string* text = std::get_if<std::string>(&value);
      if (text != nullptr && key == "message" && index.messages_complete) return index.messages.count(*text) == 0;
      if (text != nullptr && key == "level") return index.levels.count(*text) == 0;
      if (text != nullptr && key == "service" && index.services.size() < FileIndex::kMaxDistinct) {
        return index.services.count(*text) == 0;
      }
      if (key == "pid" && index.pids.size() < FileIndex::kMaxDistinct) {
        if (const auto* n = std::get_if<int64_t>(&value))
          return *n < 0 || index.pids.count(static_cast<uint64_t>(*n)) == 0;
        if (const auto* n = std::get_if<uint64_t>(&value)) return index.pids.count(*n) == 0;
      }
      return false;
    }
    case WhereOp::kNe:
      // Only != null needs the key.
      return std::holds_alternative<std::nullptr_t>(value) && absent;
    case WhereOp::kGt:
    case WhereOp::kGe:
    case WhereOp::kLt:
    case WhereOp::kLe:
    case WhereOp::kMatch:
    case WhereOp::kExists:
      return absent;
  }
  return false;
}

}  // namespace

bool index_excludes(const FileIndex& index, const Filter& filter) {
  if (index.lines == 0) return true;
  // Lines that do not parse (bad_lines) match nothing, so they never keep a file.
  if (!index.first_timestamp.empty()) {
    if (filter.until() && index.first_timestamp >= format_timestamp(*filter.until())) return true;
    if (filter.since() && index.last_timestamp < format_timestamp(*filter.since())) return true;
  }
  if (filter.min_level()) {
    bool any = false;
    for (const auto& [level, count] : index.levels) {
      const std::optional<shm::Level> known = shm::stored_event_level(level);
      // An unknown level name (OFF included): cannot tell, keep the file.
      if (!known || *known >= *filter.min_level()) any = true;
    }
    if (!any) return true;
  }
  for (const WhereClause& clause : filter.clauses()) {
    if (clause_excludes(index, clause)) return true;
  }
  return false;
}

absl::StatusOr<std::vector<StoredFile>> list_stored_files(const std::string& directory, const CatalogOptions& options) {
  absl::StatusOr<StoreDir> root = StoreDir::open(directory);
  if (!root.ok()) {
    if (root.status().code() == absl::StatusCode::kNotFound ||
        root.status().code() == absl::StatusCode::kFailedPrecondition) {
      return absl::NotFoundError(absl::StrCat(directory, " is not a directory"));
    }
    return root.status();
  }
  // By directory and base name: a compressed file wins over its plain twin.
  std::map<std::string, StoredFile> by_base;
  absl::Status walked = walk_store(
      *root,
      [&](const StoreDir& dir, std::vector<StoreDir::Entry>& entries) -> absl::Status {
        std::map<std::string, StoredFile> here;
        for (const StoreDir::Entry& entry : entries) {
          std::optional<StoredFileName> name = parse_stored_file_name(entry.name);
          if (!name || name->kind == StoredFileName::Kind::kIndex) continue;
          const std::string base = name->base_name();
          auto found = here.find(base);
          if (found != here.end() && found->second.name.kind == StoredFileName::Kind::kCompressed) continue;
          StoredFile file;
          file.path = dir.path_of(entry.name);
          file.disk_bytes = entry.st.st_size > 0 ? static_cast<uint64_t>(entry.st.st_size) : 0;
          file.name = std::move(*name);
          here[base] = std::move(file);
        }
        for (auto& [base, file] : here) {
          if (options.use_indexes && !file.open()) {
            // Through this directory's descriptor: the index is read and
            // rebuilt beside the data file, never through a link.
            absl::StatusOr<FileIndex> index = load_or_rebuild_index(dir, file_name_of(file.path));
            if (index.ok()) {
              file.index = std::move(*index);
            } else if (options.report) {
              options.report(absl::StrCat("cannot index ", file.path, ": ", index.status().message()));
            }
          }
          by_base[absl::StrCat(dir.path(), "/", base)] = std::move(file);
        }
        return absl::OkStatus();
      },
      options.report);
  if (!walked.ok()) return walked;
  std::vector<StoredFile> files;
  files.reserve(by_base.size());
  for (auto& [key, file] : by_base) files.push_back(std::move(file));
  return files;
}

}  // namespace ringtail::reader
