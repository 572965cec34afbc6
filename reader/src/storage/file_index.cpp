#include "ringtail/reader/storage/file_index.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <optional>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "ringtail/reader/output/json_text.hpp"
#include "ringtail/reader/output/line_head.hpp"
#include "ringtail/reader/output/time_text.hpp"
#include "ringtail/reader/storage/file_io.hpp"
#include "ringtail/reader/storage/jsonl_reader.hpp"
#include "ringtail/reader/storage/store_dir.hpp"
#include "ringtail/reader/storage/store_names.hpp"
#include "simdjson.h"

namespace ringtail::reader {
namespace {

void append_counts(std::string& out, std::string_view name, const std::map<std::string, uint64_t>& counts) {
  out.append(",\"").append(name).append("\":{");
  bool first = true;
  for (const auto& [key, n] : counts) {
    if (!first) out.push_back(',');
    first = false;
    append_json_string(out, key);
    out.push_back(':');
    append_json_uint(out, n);
  }
  out.push_back('}');
}

absl::Status read_counts(simdjson::dom::object object, std::string_view name, std::map<std::string, uint64_t>& counts) {
  simdjson::dom::object values;
  if (object[name].get(values) != simdjson::SUCCESS)
    return absl::DataLossError(absl::StrCat("no object ", std::string(name)));
  for (auto [key, value] : values) {
    uint64_t n = 0;
    if (value.get(n) != simdjson::SUCCESS)
      return absl::DataLossError(absl::StrCat(std::string(name), " holds a non-count"));
    counts.emplace(std::string(key), n);
  }
  return absl::OkStatus();
}

// The size of the regular file `name` in `dir` (a link is not followed).
absl::StatusOr<uint64_t> file_size(const StoreDir& dir, std::string_view name) {
  absl::StatusOr<struct stat> st = dir.status(name);
  if (!st.ok()) return st.status();
  if (!S_ISREG(st->st_mode)) {
    return absl::FailedPreconditionError(
        absl::StrCat(dir.path_of(name), " is ", std::string(file_type_name(st->st_mode)), ", not a regular file"));
  }
  return static_cast<uint64_t>(st->st_size);
}

// A stored index's text; nullopt if there is none to read (missing, or not
// a regular file: then it is written anew, replacing what is there).
std::optional<std::string> read_index_text(const StoreDir& dir, std::string_view name) {
  absl::StatusOr<FileDescriptor> fd = dir.open_file(name, O_RDONLY);
  if (!fd.ok()) return std::nullopt;
  absl::StatusOr<std::string> text = read_to_end(fd->get(), dir.path_of(name));
  if (!text.ok()) return std::nullopt;
  return *std::move(text);
}

}  // namespace

absl::StatusOr<FileIndex> build_index(const std::string& data_path) {
  absl::StatusOr<StoreDir> dir = StoreDir::open_parent(data_path);
  if (!dir.ok()) return dir.status();
  return build_index(*dir, file_name_of(data_path));
}

absl::StatusOr<FileIndex> build_index(const StoreDir& dir, std::string_view data_name) {
  absl::StatusOr<JsonlReader> reader = JsonlReader::open(dir, data_name);
  if (!reader.ok()) return reader.status();
  FileIndex index;
  index.data_file = std::string(data_name);
  absl::StatusOr<uint64_t> size = file_size(dir, data_name);
  if (!size.ok()) return size.status();
  index.data_bytes = *size;
  simdjson::dom::parser parser;
  FileIndexBuilder builder;
  for (;;) {
    absl::StatusOr<std::string_view> block = reader->next_block();
    if (!block.ok()) return block.status();
    if (block->empty()) break;
    size_t at = 0;
    while (at < block->size()) {
      const size_t end = block->find('\n', at);
      const std::string_view line = block->substr(at, end - at);
      at = end + 1;
      builder.count_line();
      simdjson::dom::object object;
      if (parser.parse(line.data(), line.size()).get(object) != simdjson::SUCCESS) {
        builder.add_bad_line();
        continue;
      }
      for (auto [key, value] : object) {
        builder.add_key(std::string_view(key.data(), key.size()));
        std::string_view text;
        if (key == "timestamp" && value.get(text) == simdjson::SUCCESS) {
          builder.add_timestamp(text);
        } else if (key == "level" && value.get(text) == simdjson::SUCCESS) {
          builder.add_level(text);
        } else if (key == "message" && value.get(text) == simdjson::SUCCESS) {
          builder.add_message(text);
        } else if (key == "service" && value.get(text) == simdjson::SUCCESS) {
          builder.add_service(text);
        } else if (key == "pid") {
          uint64_t pid = 0;
          if (value.get(pid) == simdjson::SUCCESS) builder.add_pid(pid);
        }
      }
    }
  }
  return builder.finish(std::string(data_name), *size);
}

FileIndexBuilder::FileIndexBuilder()
    // Every level is kept: the index has no "levels complete" flag, and a
    // query skips a file by a level it does not list.
    : keys_(FileIndex::kMaxDistinct), levels_(SIZE_MAX), messages_(FileIndex::kMaxDistinct) {}

size_t FileIndexBuilder::DistinctCounter::slot_of(std::string_view value) {
  // absl's heterogeneous lookup takes absl::string_view (not std's here).
  if (auto it = slots_.find(absl::string_view(value.data(), value.size())); it != slots_.end()) return it->second;
  if (slots_.size() >= limit_) return kNoSlot;
  slots_.emplace(value, counts_.size());
  counts_.push_back(0);
  return counts_.size() - 1;
}

void FileIndexBuilder::DistinctCounter::into(std::map<std::string, uint64_t>& counts, bool* complete) const {
  for (const auto& [value, slot] : slots_) counts.emplace(value, counts_[slot]);
  if (complete != nullptr) *complete = complete_;
}

void FileIndexBuilder::add_timestamp(std::string_view text) {
  if (first_timestamp_.empty() || text < first_timestamp_) first_timestamp_ = std::string(text);
  if (last_timestamp_.empty() || text > last_timestamp_) last_timestamp_ = std::string(text);
}

void FileIndexBuilder::add_service(std::string_view service) {
  if (services_.size() < FileIndex::kMaxDistinct &&
      !services_.contains(absl::string_view(service.data(), service.size())))
    services_.emplace(service);
}

void FileIndexBuilder::add_pid(uint64_t pid) {
  if (pids_.size() < FileIndex::kMaxDistinct) pids_.insert(pid);
}

void FileIndexBuilder::count_escaped(DistinctCounter& counter, Recent& recent, std::string_view escaped) {
  if (!recent.known || recent.escaped != escaped) {
    recent.escaped.assign(escaped);
    recent.slot = counter.slot_of(json_string_text(escaped, scratch_));
    recent.known = true;
  }
  counter.count(recent.slot);
}

void FileIndexBuilder::add_shaped_line(const ShapedLines& lines, const LineShape& shape, std::string_view service,
                                       uint64_t pid) {
  count_line();
  // The keys every line starts with, then tid and seq where the shape has
  // them; a key's slot is taken at its first line, as a parsed line's would be.
  static constexpr std::string_view kHeadKeys[] = {"timestamp", "level", "message", "service", "pid", "tid", "seq"};
  for (size_t i = 0; i < 7; ++i) {
    if (i >= 5 && !(i == 5 ? shape.has_tid : shape.has_seq)) continue;
    if (head_lines_[i]++ == 0) head_slots_[i] = keys_.slot_of(kHeadKeys[i]);
  }
  // The line's time as its timestamp shows it (formatted from this at finish()).
  if (!has_time_ || shape.time_ns < first_ns_) first_ns_ = shape.time_ns;
  if (!has_time_ || shape.time_ns > last_ns_) last_ns_ = shape.time_ns;
  has_time_ = true;
  // The level word the line shows.
  const size_t level = head_level_index(shape.level);
  if (level_lines_[level]++ == 0) level_slots_[level] = levels_.slot_of(shm::kLevelNames[level]);
  if (!service_pid_added_) {
    // The same on every line of a file: one process's.
    add_service(service);
    add_pid(pid);
    service_pid_added_ = true;
  }
  if (shape.layout != 0) {
    // The message and keys of this layout's lines are known: no comparison.
    ++layout_slots(lines, shape).lines;
    return;
  }
  count_escaped(messages_, recent_message_, lines.message(shape));
  if (recent_keys_.size() < shape.field_count) recent_keys_.resize(shape.field_count);
  for (uint32_t i = 0; i < shape.field_count; ++i) {
    count_escaped(keys_, recent_keys_[i], lines.key(shape, lines.fields[shape.first_field + i]));
  }
}

FileIndexBuilder::LayoutSlots& FileIndexBuilder::layout_slots(const ShapedLines& lines, const LineShape& shape) {
  if (shape.layout == last_layout_ && last_slots_ != nullptr) return *last_slots_;
  if (auto it = layouts_.find(shape.layout); it != layouts_.end()) {
    last_layout_ = shape.layout;
    last_slots_ = &it->second;
    return it->second;
  }
  if (layouts_.size() >= kMaxLayouts) {
    // A producer with that many call sites: what the layouts counted goes
    // into the counters, and their slots are found again.
    for (const auto& [layout, slots] : layouts_) add_layout_counts(slots, keys_, messages_);
    layouts_.clear();
  }
  LayoutSlots& slots = layouts_[shape.layout];  // may move the others: last_slots_ is set again below
  slots.message = messages_.slot_of(json_string_text(lines.message(shape), scratch_));
  slots.keys.reserve(shape.field_count);
  for (uint32_t i = 0; i < shape.field_count; ++i) {
    slots.keys.push_back(
        keys_.slot_of(json_string_text(lines.key(shape, lines.fields[shape.first_field + i]), scratch_)));
  }
  last_layout_ = shape.layout;
  last_slots_ = &slots;
  return slots;
}

void FileIndexBuilder::add_bulk_counts(DistinctCounter& keys, DistinctCounter& levels,
                                       DistinctCounter& messages) const {
  for (size_t i = 0; i < 7; ++i) keys.count(head_slots_[i], head_lines_[i]);
  for (size_t i = 0; i < shm::kLevelNames.size(); ++i) levels.count(level_slots_[i], level_lines_[i]);
  for (const auto& [layout, slots] : layouts_) add_layout_counts(slots, keys, messages);
}

void FileIndexBuilder::add_layout_counts(const LayoutSlots& slots, DistinctCounter& keys, DistinctCounter& messages) {
  messages.count(slots.message, slots.lines);
  for (const size_t slot : slots.keys) keys.count(slot, slots.lines);
}

FileIndex FileIndexBuilder::finish(std::string data_file, uint64_t data_bytes) const {
  FileIndex index;
  index.data_file = std::move(data_file);
  index.data_bytes = data_bytes;
  index.lines = lines_;
  index.bad_lines = bad_lines_;
  index.first_timestamp = first_timestamp_;
  index.last_timestamp = last_timestamp_;
  if (has_time_) {
    const std::string first = format_timestamp(first_ns_);
    const std::string last = format_timestamp(last_ns_);
    if (index.first_timestamp.empty() || first < index.first_timestamp) index.first_timestamp = first;
    if (index.last_timestamp.empty() || last > index.last_timestamp) index.last_timestamp = last;
  }
  DistinctCounter keys = keys_;
  DistinctCounter levels = levels_;
  DistinctCounter messages = messages_;
  add_bulk_counts(keys, levels, messages);
  keys.into(index.keys, &index.keys_complete);
  levels.into(index.levels, nullptr);
  messages.into(index.messages, &index.messages_complete);
  index.services.insert(services_.begin(), services_.end());
  index.pids = pids_;
  return index;
}

std::string serialize_index(const FileIndex& index) {
  std::string out = "{\"version\":";
  append_json_uint(out, FileIndex::kVersion);
  out += ",\"data_file\":";
  append_json_string(out, index.data_file);
  out += ",\"data_bytes\":";
  append_json_uint(out, index.data_bytes);
  out += ",\"lines\":";
  append_json_uint(out, index.lines);
  out += ",\"bad_lines\":";
  append_json_uint(out, index.bad_lines);
  out += ",\"first_timestamp\":";
  append_json_string(out, index.first_timestamp);
  out += ",\"last_timestamp\":";
  append_json_string(out, index.last_timestamp);
  append_counts(out, "levels", index.levels);
  append_counts(out, "messages", index.messages);
  out += index.messages_complete ? ",\"messages_complete\":true" : ",\"messages_complete\":false";
  append_counts(out, "keys", index.keys);
  out += index.keys_complete ? ",\"keys_complete\":true" : ",\"keys_complete\":false";
  out += ",\"services\":[";
  bool first = true;
  for (const std::string& service : index.services) {
    if (!first) out.push_back(',');
    first = false;
    append_json_string(out, service);
  }
  out += "],\"pids\":[";
  first = true;
  for (uint64_t pid : index.pids) {
    if (!first) out.push_back(',');
    first = false;
    append_json_uint(out, pid);
  }
  out += "]}\n";
  return out;
}

absl::StatusOr<FileIndex> parse_index(std::string_view json) {
  simdjson::dom::parser parser;
  simdjson::dom::object object;
  if (parser.parse(json.data(), json.size()).get(object) != simdjson::SUCCESS) {
    return absl::DataLossError("index is not a JSON object");
  }
  FileIndex index;
  uint64_t version = 0;
  if (object["version"].get(version) != simdjson::SUCCESS || version != FileIndex::kVersion) {
    return absl::DataLossError(absl::StrCat("index version is not ", FileIndex::kVersion));
  }
  std::string_view text;
  if (object["data_file"].get(text) != simdjson::SUCCESS) return absl::DataLossError("index has no data_file");
  index.data_file = std::string(text);
  if (object["data_bytes"].get(index.data_bytes) != simdjson::SUCCESS ||
      object["lines"].get(index.lines) != simdjson::SUCCESS ||
      object["bad_lines"].get(index.bad_lines) != simdjson::SUCCESS) {
    return absl::DataLossError("index lacks a count");
  }
  if (object["first_timestamp"].get(text) != simdjson::SUCCESS)
    return absl::DataLossError("index lacks first_timestamp");
  index.first_timestamp = std::string(text);
  if (object["last_timestamp"].get(text) != simdjson::SUCCESS) return absl::DataLossError("index lacks last_timestamp");
  index.last_timestamp = std::string(text);
  for (const auto& [name, counts] :
       {std::pair<std::string_view, std::map<std::string, uint64_t>*>{"levels", &index.levels},
        {"messages", &index.messages},
        {"keys", &index.keys}}) {
    if (absl::Status status = read_counts(object, name, *counts); !status.ok()) return status;
  }
  if (object["messages_complete"].get(index.messages_complete) != simdjson::SUCCESS ||
      object["keys_complete"].get(index.keys_complete) != simdjson::SUCCESS) {
    return absl::DataLossError("index lacks a completeness flag");
  }
  simdjson::dom::array array;
  if (object["services"].get(array) != simdjson::SUCCESS) return absl::DataLossError("index lacks services");
  for (simdjson::dom::element e : array) {
    if (e.get(text) != simdjson::SUCCESS) return absl::DataLossError("index services holds a non-string");
    index.services.emplace(text);
  }
  if (object["pids"].get(array) != simdjson::SUCCESS) return absl::DataLossError("index lacks pids");
  for (simdjson::dom::element e : array) {
    uint64_t pid = 0;
    if (e.get(pid) != simdjson::SUCCESS) return absl::DataLossError("index pids holds a non-integer");
    index.pids.insert(pid);
  }
  return index;
}

std::string index_path_for(const std::string& data_path) {
  const size_t slash = data_path.rfind('/');
  const std::string directory = slash == std::string::npos ? "" : data_path.substr(0, slash + 1);
  std::optional<StoredFileName> name = parse_stored_file_name(file_name_of(data_path));
  if (!name || (name->kind != StoredFileName::Kind::kClosed && name->kind != StoredFileName::Kind::kCompressed)) {
    return {};
  }
  name->kind = StoredFileName::Kind::kIndex;
  return directory + name->file_name();
}

absl::Status write_index(const FileIndex& index, const std::string& index_path) {
  absl::StatusOr<StoreDir> dir = StoreDir::open_parent(index_path);
  if (!dir.ok()) return dir.status();
  return write_index(index, *dir, file_name_of(index_path));
}

absl::Status write_index(const FileIndex& index, const StoreDir& dir, std::string_view index_name) {
  return replace_file(dir, index_name, serialize_index(index), 0640, /*sync=*/false);
}

absl::StatusOr<FileIndex> load_or_rebuild_index(const std::string& data_path, bool* rebuilt) {
  if (rebuilt != nullptr) *rebuilt = false;
  if (index_path_for(data_path).empty()) {
    return absl::InvalidArgumentError(absl::StrCat(data_path, " is not a closed storage file"));
  }
  absl::StatusOr<StoreDir> dir = StoreDir::open_parent(data_path);
  if (!dir.ok()) return dir.status();
  return load_or_rebuild_index(*dir, file_name_of(data_path), rebuilt);
}

absl::StatusOr<FileIndex> load_or_rebuild_index(const StoreDir& dir, std::string_view data_name, bool* rebuilt) {
  if (rebuilt != nullptr) *rebuilt = false;
  const std::string index_name = index_path_for(std::string(data_name));
  if (index_name.empty() || index_name.find('/') != std::string::npos) {
    return absl::InvalidArgumentError(absl::StrCat(dir.path_of(data_name), " is not a closed storage file"));
  }
  absl::StatusOr<uint64_t> size = file_size(dir, data_name);
  if (!size.ok()) return size.status();
  if (std::optional<std::string> text = read_index_text(dir, index_name); text.has_value()) {
    absl::StatusOr<FileIndex> stored = parse_index(*text);
    // Trusted only if it describes this file as it is now.
    if (stored.ok() && stored->data_file == data_name && stored->data_bytes == *size) return stored;
  }
  absl::StatusOr<FileIndex> index = build_index(dir, data_name);
  if (!index.ok()) return index.status();
  if (rebuilt != nullptr) *rebuilt = true;
  // Best effort: a read-only directory still gets its answer, only not the cache.
  (void)write_index(*index, dir, index_name);
  return index;
}

}  // namespace ringtail::reader
