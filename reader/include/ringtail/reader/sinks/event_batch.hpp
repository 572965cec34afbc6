// EventBatch: what the drain hands its sinks. Complete JSONL lines of one
// segment, in output order, each with its shape: what the line is (time,
// level, kind) and where every key and value lies in it, so that a sink reads
// any field without parsing JSON (docs/ARCHITECTURE.md, "The event
// pipeline").
//
// The line is the event's one rendering: EventJsonFormatter writes it once,
// with redaction applied, and records the shape as it writes. Values are the
// JSON text as written (a string with its quotes and escapes); json_kind()
// tells a value's type from its first byte, and json_string_text() gives a
// string's text (unescaping only when it holds an escape).
//
// Shape offsets are relative to the line's first byte; a line's first_field
// indexes `fields`. Fields are the line's keys after the head (timestamp,
// level, message, service, pid), tid and seq, in the order written: the
// event's own fields, its context, "_cut" last. The head keys and tid/seq are
// described by the LineShape itself.
//
// Threading: plain values.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "ringtail/reader/ingest/segment_view.hpp"
#include "ringtail/reader/output/json_text.hpp"  // json_string_text
#include "ringtail/shm/layout.hpp"

namespace ringtail::reader {

enum class LineKind : uint8_t {
  kEvent,      // a producer's event (has tid and seq)
  kSpanStart,  // "span.start" (has tid)
  kSpanEnd,    // "span.end" (has tid)
  kGap,        // "ringtail.dropped" (has tid)
  kNote,       // what the reader reports itself ("ringtail.crashed", ...)
};

struct FieldSpan {
  uint32_t key_offset;  // the key as written (escaped), without its quotes
  uint32_t key_size;
  uint32_t value_offset;  // the value's JSON text
  uint32_t value_size;
};

struct LineShape {
  uint64_t offset = 0;  // of the line in its ShapedLines::text
  uint32_t size = 0;    // with its '\n'
  int64_t time_ns = 0;  // "timestamp", ns since the Unix epoch
  shm::Level level = shm::Level::kInfo;
  LineKind kind = LineKind::kEvent;
  bool has_tid = false;  // the line writes "tid" before its fields (events, spans, gaps)
  bool has_seq = false;  // ... and "seq" (events)
  uint32_t tid = 0;
  uint64_t seq = 0;
  uint32_t message_offset = 0;  // the message as written (escaped), without its quotes
  uint32_t message_size = 0;
  uint32_t first_field = 0;  // in ShapedLines::fields
  uint32_t field_count = 0;
  // Nonzero: every line with this layout has the same message and the same
  // field keys, in the same order (one call site's events without context
  // or "_cut"), so a sink may work out what it needs of them once per
  // layout. Never reused within the reader process; 0: unknown.
  uint64_t layout = 0;
};

// Lines with their shapes. Append-only while being written; a writer adds
// a line's text, then its fields, then its LineShape.
struct ShapedLines {
  std::string text;
  std::vector<LineShape> lines;
  std::vector<FieldSpan> fields;

  bool empty() const { return lines.empty(); }
  size_t size() const { return lines.size(); }
  void clear() {
    text.clear();
    lines.clear();
    fields.clear();
  }
  std::string_view line(const LineShape& shape) const { return {text.data() + shape.offset, shape.size}; }
  std::string_view message(const LineShape& shape) const {
    return {text.data() + shape.offset + shape.message_offset, shape.message_size};
  }
  std::string_view key(const LineShape& shape, const FieldSpan& field) const {
    return {text.data() + shape.offset + field.key_offset, field.key_size};
  }
  std::string_view value(const LineShape& shape, const FieldSpan& field) const {
    return {text.data() + shape.offset + field.value_offset, field.value_size};
  }
  // Copies line `shape` of `from` (another ShapedLines) to the end, with its shape.
  void append_line(const ShapedLines& from, const LineShape& shape) {
    LineShape& copy = lines.emplace_back(shape);
    copy.offset = text.size();
    copy.first_field = static_cast<uint32_t>(fields.size());
    text.append(from.line(shape));
    fields.insert(fields.end(), from.fields.begin() + shape.first_field,
                  from.fields.begin() + shape.first_field + shape.field_count);
  }
};

// A batch for the sinks: shaped lines of one segment.
struct EventBatch : ShapedLines {
  const SegmentIdentity* segment = nullptr;  // valid until the batch's pass is flushed or discarded
};

enum class JsonKind : uint8_t { kString, kNumber, kBool, kNull, kObject, kArray };

// The type of a value as the reader writes it (from its first byte).
constexpr JsonKind json_kind(std::string_view value) {
  if (value.empty()) return JsonKind::kNull;
  switch (value.front()) {
    case '"':
      return JsonKind::kString;
    case '{':
      return JsonKind::kObject;
    case '[':
      return JsonKind::kArray;
    case 't':
    case 'f':
      return JsonKind::kBool;
    case 'n':
      return JsonKind::kNull;
    default:
      return JsonKind::kNumber;
  }
}

}  // namespace ringtail::reader
