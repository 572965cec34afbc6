// Checks a batch's shapes (sinks/event_batch.hpp) against its lines parsed
// by a real JSON parser: every test sink that gets batches calls it, so every
// line a test drains is checked. Test-only: the product never parses its
// own lines again.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>
#include <simdjson.h>

#include "ringtail/reader/output/json_text.hpp"
#include "ringtail/reader/output/line_head.hpp"
#include "ringtail/reader/output/time_text.hpp"
#include "ringtail/reader/sinks/event_batch.hpp"
#include "ringtail/shm/level.hpp"

namespace ringtail::reader::testing {

// The kind a parsed value has, in event_batch.hpp's terms.
inline JsonKind kind_of(simdjson::dom::element value) {
  switch (value.type()) {
    case simdjson::dom::element_type::STRING:
      return JsonKind::kString;
    case simdjson::dom::element_type::OBJECT:
      return JsonKind::kObject;
    case simdjson::dom::element_type::ARRAY:
      return JsonKind::kArray;
    case simdjson::dom::element_type::BOOL:
      return JsonKind::kBool;
    case simdjson::dom::element_type::NULL_VALUE:
      return JsonKind::kNull;
    default:
      return JsonKind::kNumber;
  }
}

// The shapes cover the text line after line, and each says what its line,
// parsed, holds: time, level, message, tid, seq, and every key after the
// head in order with its value. Failures are test failures (ADD_FAILURE).
inline void check_shapes(const ShapedLines& batch) {
  simdjson::dom::parser parser;
  simdjson::dom::parser value_parser;
  std::string scratch;
  uint64_t expected_offset = 0;
  for (size_t n = 0; n < batch.lines.size(); ++n) {
    const LineShape& shape = batch.lines[n];
    SCOPED_TRACE(::testing::Message() << "line " << n << ": " << batch.line(shape));
    if (shape.offset != expected_offset || shape.offset + shape.size > batch.text.size()) {
      ADD_FAILURE() << "shape at " << shape.offset << " size " << shape.size << ", expected at " << expected_offset;
      return;
    }
    expected_offset += shape.size;
    const std::string_view line = batch.line(shape);
    if (line.empty() || line.back() != '\n') {
      ADD_FAILURE() << "a line without its newline";
      continue;
    }
    if (shape.first_field + static_cast<uint64_t>(shape.field_count) > batch.fields.size()) {
      ADD_FAILURE() << "fields out of range";
      continue;
    }
    simdjson::dom::object object;
    if (parser.parse(line.data(), line.size() - 1).get(object) != simdjson::SUCCESS) {
      ADD_FAILURE() << "not a JSON object";
      continue;
    }
    std::vector<std::string_view> head = {"timestamp", "level", "message", "service", "pid"};
    if (shape.has_tid) head.push_back("tid");
    if (shape.has_seq) head.push_back("seq");
    size_t i = 0;
    for (auto [key, value] : object) {
      if (i < head.size()) {
        EXPECT_EQ(std::string_view(key), head[i]) << "head key " << i;
      } else if (i - head.size() < shape.field_count) {
        const FieldSpan& field = batch.fields[shape.first_field + i - head.size()];
        EXPECT_EQ(json_string_text(batch.key(shape, field), scratch), std::string_view(key));
        const std::string_view text = batch.value(shape, field);
        EXPECT_EQ(json_kind(text), kind_of(value)) << "value " << text;
        simdjson::dom::element alone;
        if (value_parser.parse(text.data(), text.size()).get(alone) != simdjson::SUCCESS) {
          ADD_FAILURE() << "value " << text << " is not JSON alone";
        } else if (simdjson::to_string(alone) != simdjson::to_string(value)) {
          ADD_FAILURE() << "value " << text << " is not " << key << "'s value";
        }
        if (value.is_string()) {
          EXPECT_EQ(json_string_text(text, scratch), std::string_view(value.get_string().value()));
        }
      }
      ++i;
    }
    EXPECT_EQ(i, head.size() + shape.field_count) << "keys on the line vs in the shape";
    EXPECT_EQ(std::string_view(object["timestamp"].get_string().value()), format_timestamp(shape.time_ns));
    EXPECT_EQ(std::string_view(object["level"].get_string().value()), head_level_name(shape.level));
    EXPECT_EQ(json_string_text(batch.message(shape), scratch),
              std::string_view(object["message"].get_string().value()));
    if (shape.has_tid) {
      EXPECT_EQ(object["tid"].get_uint64().value(), shape.tid);
    }
    if (shape.has_seq) {
      EXPECT_EQ(object["seq"].get_uint64().value(), shape.seq);
    }
    const std::string_view message = object["message"].get_string().value();
    const bool span = message == "span.start" || message == "span.end";
    switch (shape.kind) {
      case LineKind::kEvent:
        EXPECT_TRUE(shape.has_seq);
        break;
      case LineKind::kSpanStart:
      case LineKind::kSpanEnd:
        EXPECT_TRUE(span);
        EXPECT_EQ(message == "span.end", shape.kind == LineKind::kSpanEnd);
        break;
      case LineKind::kGap:
        EXPECT_EQ(message, "ringtail.dropped");
        break;
      case LineKind::kNote:
        EXPECT_TRUE(message.starts_with("ringtail.")) << message;
        EXPECT_FALSE(shape.has_seq);
        break;
    }
  }
  EXPECT_EQ(expected_offset, batch.text.size()) << "text past the last shape";
}

}  // namespace ringtail::reader::testing
