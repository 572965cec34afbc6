// Hand-written JSONL lines as an EventBatch, for tests that feed a sink
// directly: each line is parsed (simdjson's on-demand parser, which points
// into the text) to find what EventJsonFormatter records as it writes. Test
// only: the drain never parses its own lines.
//
// A line's head is what it starts with of timestamp, level, message,
// service, pid, tid and seq in that order (a line may lack some: the shape
// cannot say so, and a test that looks at the index writes them all); every
// key after the head is a field. A line that is not a JSON object gets a
// shape with its offset and size only.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <simdjson.h>

#include "ringtail/reader/output/time_text.hpp"
#include "ringtail/reader/sinks/event_batch.hpp"
#include "ringtail/shm/level.hpp"

namespace ringtail::reader::testing {

// The escaped key that starts at `key` (after its opening quote), without its closing quote.
inline std::string_view escaped_key_at(const char* key) {
  size_t n = 0;
  while (key[n] != '"') n += key[n] == '\\' ? 2 : 1;
  return {key, n};
}

// The JSON text of `value` in the parsed buffer.
inline bool raw_value(simdjson::simdjson_result<simdjson::ondemand::value> result, std::string_view& text) {
  simdjson::ondemand::value value;
  simdjson::ondemand::json_type type;
  if (std::move(result).get(value) != simdjson::SUCCESS || value.type().get(type) != simdjson::SUCCESS) return false;
  if (type == simdjson::ondemand::json_type::object) {
    simdjson::ondemand::object object;
    return value.get_object().get(object) == simdjson::SUCCESS && object.raw_json().get(text) == simdjson::SUCCESS;
  }
  if (type == simdjson::ondemand::json_type::array) {
    simdjson::ondemand::array array;
    return value.get_array().get(array) == simdjson::SUCCESS && array.raw_json().get(text) == simdjson::SUCCESS;
  }
  text = value.raw_json_token();
  return true;
}

// `text` (complete lines) with their shapes; `segment` must outlive the batch.
inline EventBatch batch_of(const SegmentIdentity& segment, std::string_view text) {
  EventBatch batch;
  batch.segment = &segment;
  batch.text = std::string(text);
  simdjson::ondemand::parser parser;
  size_t at = 0;
  while (at < text.size()) {
    size_t end = text.find('\n', at);
    end = end == std::string_view::npos ? text.size() : end + 1;
    LineShape shape;
    shape.offset = at;
    shape.size = static_cast<uint32_t>(end - at);
    shape.kind = LineKind::kNote;
    shape.first_field = static_cast<uint32_t>(batch.fields.size());
    const simdjson::padded_string padded(text.substr(at, end - at));
    const char* const base = padded.data();
    simdjson::ondemand::document doc;
    simdjson::ondemand::object object;
    if (parser.iterate(padded).get(doc) == simdjson::SUCCESS && doc.get_object().get(object) == simdjson::SUCCESS) {
      static constexpr std::string_view kHead[] = {"timestamp", "level", "message", "service", "pid", "tid", "seq"};
      size_t head = 0;
      for (auto member : object) {
        simdjson::ondemand::raw_json_string raw_key;
        if (member.key().get(raw_key) != simdjson::SUCCESS) break;
        const std::string_view key = escaped_key_at(raw_key.raw());
        std::string_view value;
        if (!raw_value(member.value(), value)) break;
        while (!value.empty() && (value.back() == ' ' || value.back() == '\n')) value.remove_suffix(1);
        const auto key_offset = static_cast<uint32_t>(key.data() - base);
        const auto value_offset = static_cast<uint32_t>(value.data() - base);
        size_t h = head;
        while (h < std::size(kHead) && kHead[h] != key) ++h;
        if (h < std::size(kHead) && shape.field_count == 0) {
          head = h + 1;
          const std::string_view inner =
              value.size() >= 2 && value.front() == '"' ? value.substr(1, value.size() - 2) : value;
          if (key == "timestamp") {
            if (auto ns = parse_rfc3339(inner); ns.ok()) shape.time_ns = *ns;
          } else if (key == "level") {
            for (size_t l = 0; l < shm::kLevelNames.size(); ++l) {
              if (shm::kLevelNames[l] == inner) shape.level = static_cast<shm::Level>(l);
            }
          } else if (key == "message") {
            shape.message_offset = value_offset + 1;
            shape.message_size = static_cast<uint32_t>(inner.size());
          } else if (key == "tid") {
            shape.has_tid = true;
            shape.tid = static_cast<uint32_t>(std::stoul(std::string(value)));
          } else if (key == "seq") {
            shape.has_seq = true;
            shape.seq = std::stoull(std::string(value));
            shape.kind = LineKind::kEvent;
          }
          continue;
        }
        batch.fields.push_back(FieldSpan{key_offset, static_cast<uint32_t>(key.size()), value_offset,
                                         static_cast<uint32_t>(value.size())});
        ++shape.field_count;
      }
    }
    batch.lines.push_back(shape);
    at = end;
  }
  return batch;
}

}  // namespace ringtail::reader::testing
