// ClickHouseRowEncoder: the drain's shaped lines (sinks/event_batch.hpp) as
// RowBinary rows of ringtail's ClickHouse table, one row per line, in the
// column order clickhouse_table.hpp gives (its header is the contract: what
// each column holds, the dedup key, line_hash).
//
// RowBinary rather than JSONEachRow: a line's keys and values are JSON text
// already, and RowBinary takes them as length-prefixed bytes, so nothing is
// escaped (a JSONEachRow row would escape every value again, quotes and
// backslashes doubled) and the server parses no JSON. Encodings: integers
// little-endian, Enum8 as its Int8, DateTime as UInt32 seconds (clamped to
// 0..2^32-1), String as a LEB128 length and the bytes, Array as a LEB128
// count and the elements.
//
// No JSON is parsed for the top level: the head keys (timestamp, level,
// message, service, pid; tid and seq where the shape says so) are read at
// their places after the message span, and the fields come from the shape's
// spans; the encoder checks that the spans tile the line exactly, so that
// '{' + join('"' + keys[i] + '":' + values[i], ',') + '}' is the line (a line
// that does not match its shape is not encoded, and counted). Only a
// top-level value that is an object is parsed (simdjson validates it, then a
// bounded walk lists its members for `paths` / `path_values`); the work is
// bounded by the line's size (kMostPathDepth levels, path bytes at most
// path_budget()), whatever the object holds.
//
// Internal to the reader's sources (not installed). Threading: one encoder
// per thread (it keeps scratch buffers).
#pragma once

#include <simdjson.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "ringtail/reader/sinks/event_batch.hpp"

namespace ringtail::reader::internal {

struct EncodedRows {
  uint64_t rows = 0;     // appended
  uint64_t skipped = 0;  // lines that did not match their shape (a bug upstream; not encoded)
};

class ClickHouseRowEncoder {
 public:
  // Levels of nested objects walked for paths (deeper objects are listed as
  // one member, their members are not).
  static constexpr int kMostPathDepth = 16;
  // Bytes of paths and path values a line may get: twice its size and 1 KiB
  // (a line's objects hold their members once; only nesting repeats them).
  static constexpr size_t path_budget(size_t line_bytes) { return 2 * line_bytes + 1024; }

  // host: the host column of every row (the drain's --host-name).
  explicit ClickHouseRowEncoder(std::string host);

  // Appends one row per line of `batch` to `out`. batch.segment gives the
  // process start time (0 without one).
  EncodedRows append(const EventBatch& batch, std::string& out);

 private:
  struct Path {
    uint32_t path_offset;  // in paths_text_
    uint32_t path_size;
    std::string_view value;  // in the line
  };

  bool append_line(const EventBatch& batch, const LineShape& shape, uint64_t process_start, std::string& out);
  // Lists the members of top-level field `key`'s object value.
  void collect_paths(std::string_view key, std::string_view object, size_t& budget);
  // The members of `object` (its whole text) under path_prefix_.
  void walk_object(std::string_view object, int depth, size_t& budget);

  std::string host_;
  // Per line, reused.
  std::vector<std::string_view> keys_;
  std::vector<std::string_view> values_;
  std::vector<Path> paths_;
  std::string paths_text_;
  std::string path_prefix_;
  std::string message_scratch_;
  std::string service_scratch_;
  std::string id_scratch_;
  simdjson::dom::parser parser_;
};

}  // namespace ringtail::reader::internal
