// FileIndex: the sidecar index of a closed storage file
// ("<base>.index.json", store_names.hpp), which lets queries skip files without
// reading them. docs/STORAGE.md documents the format for other tools.
//
// The drain's StoreSink builds it as it writes, from the shapes of the lines
// (sinks/event_batch.hpp: no line is parsed again), for each file that holds
// only lines it wrote and kept; any other closed file (one a killed drain
// left, one whose unflushed lines were taken back) is indexed from its data
// in the background. It names the data file it describes with that file's
// size on disk: an index whose data file is missing or has another size,
// that does not parse, or has another version is not trusted but rebuilt
// from the data (load_or_rebuild_index).
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
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "ringtail/reader/sinks/event_batch.hpp"
#include "ringtail/reader/storage/store_dir.hpp"
#include "ringtail/shm/level.hpp"

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

// Counts what a FileIndex holds, line by line: from a line's parsed object
// (build_index) or from its shape as the drain writes it (add_shaped_line).
// Counts by value are hashed and looked up by view, so a value seen before
// costs no allocation.
class FileIndexBuilder {
 public:
  FileIndexBuilder();

  // A line the reader wrote, from its shape (no parsing): its head keys, tid
  // and seq as its shape says, and its fields. `service` as the line shows it
  // (json_string_text of the escaped name), `pid` the segment's.
  void add_shaped_line(const ShapedLines& lines, const LineShape& shape, std::string_view service, uint64_t pid);

  // The pieces, for a parsed line: count_line() once, then what it holds.
  void count_line() { ++lines_; }
  void add_bad_line() { ++bad_lines_; }
  void add_key(std::string_view key) { keys_.add(key); }
  void add_timestamp(std::string_view text);
  void add_level(std::string_view level) { levels_.add(level); }
  void add_message(std::string_view message) { messages_.add(message); }
  void add_service(std::string_view service);
  void add_pid(uint64_t pid);

  uint64_t lines() const { return lines_; }
  // The index of what was added, describing `data_file` of `data_bytes`.
  FileIndex finish(std::string data_file, uint64_t data_bytes) const;

 private:
  // Counts by value, up to a number of distinct values. A value's slot
  // (kNoSlot past the limit) lets a caller count it again without a lookup.
  class DistinctCounter {
   public:
    static constexpr size_t kNoSlot = SIZE_MAX;
    explicit DistinctCounter(size_t limit) : limit_(limit) {}
    void add(std::string_view value) { count(slot_of(value)); }
    size_t slot_of(std::string_view value);
    void count(size_t slot, uint64_t times = 1) {
      if (times == 0) return;
      if (slot == kNoSlot) {
        complete_ = false;
      } else {
        counts_[slot] += times;
      }
    }
    void into(std::map<std::string, uint64_t>& counts, bool* complete) const;

   private:
    size_t limit_;
    absl::flat_hash_map<std::string, size_t> slots_;
    std::vector<uint64_t> counts_;  // by slot
    bool complete_ = true;
  };
  // The slot of the value a line had last time at this place, kept while
  // lines repeat it (a call site's lines share their keys and message).
  struct Recent {
    std::string escaped;  // as the line writes it
    size_t slot = DistinctCounter::kNoSlot;
    bool known = false;
  };
  // Counts `escaped` (a key or message as written) in `counter` through `recent`.
  void count_escaped(DistinctCounter& counter, Recent& recent, std::string_view escaped);

  uint64_t lines_ = 0;
  uint64_t bad_lines_ = 0;
  std::string first_timestamp_;
  std::string last_timestamp_;
  bool has_time_ = false;  // shaped lines: their times, formatted at finish()
  int64_t first_ns_ = 0;
  int64_t last_ns_ = 0;
  DistinctCounter keys_;
  DistinctCounter levels_;
  DistinctCounter messages_;
  absl::flat_hash_set<std::string> services_;
  std::set<uint64_t> pids_;
  std::string scratch_;  // an unescaped key or message
  // Shaped lines are counted in bulk: their head keys, levels and layouts
  // by how many lines had them, added to the counters at finish() (and a
  // layout's when the cache is cleared). Slots are still taken in the order
  // the lines show the values, so the same values fit under the limits as
  // when every line is counted one by one.
  // The head keys, tid and seq (in line order): their slots and line counts.
  size_t head_slots_[7] = {DistinctCounter::kNoSlot, DistinctCounter::kNoSlot, DistinctCounter::kNoSlot,
                           DistinctCounter::kNoSlot, DistinctCounter::kNoSlot, DistinctCounter::kNoSlot,
                           DistinctCounter::kNoSlot};
  uint64_t head_lines_[7] = {};
  size_t level_slots_[shm::kLevelNames.size()] = {};
  uint64_t level_lines_[shm::kLevelNames.size()] = {};
  // The recent message and keys by position, for lines without a layout.
  Recent recent_message_;
  std::vector<Recent> recent_keys_;
  bool service_pid_added_ = false;
  // Shaped lines with a LineShape::layout: the slots of its message and
  // keys, found once per layout (a bounded cache: cleared when full), and
  // its lines not yet added to the counters.
  struct LayoutSlots {
    size_t message = DistinctCounter::kNoSlot;
    std::vector<size_t> keys;
    uint64_t lines = 0;
  };
  static constexpr size_t kMaxLayouts = 4096;
  absl::flat_hash_map<uint64_t, LayoutSlots> layouts_;
  // The layout of the last line, while lines repeat it (no lookup).
  uint64_t last_layout_ = 0;
  LayoutSlots* last_slots_ = nullptr;
  LayoutSlots& layout_slots(const ShapedLines& lines, const LineShape& shape);
  // Adds the bulk counts above to `keys`, `levels` and `messages`.
  void add_bulk_counts(DistinctCounter& keys, DistinctCounter& levels, DistinctCounter& messages) const;
  // Adds one layout's lines to the counters of its keys and message.
  static void add_layout_counts(const LayoutSlots& slots, DistinctCounter& keys, DistinctCounter& messages);
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
