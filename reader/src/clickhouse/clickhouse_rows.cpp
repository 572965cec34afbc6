#include "clickhouse/clickhouse_rows.hpp"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <utility>

#include "ringtail/reader/clickhouse/clickhouse_table.hpp"  // line_hash
#include "ringtail/reader/output/json_text.hpp"             // json_string_text
#include "ringtail/reader/output/line_head.hpp"             // kHeadStart, head_level_index
#include "ringtail/reader/storage/store_names.hpp"          // level_class_of

namespace ringtail::reader::internal {
namespace {

constexpr std::string_view kTimestamp = "timestamp";
constexpr std::string_view kLevel = "level";
constexpr std::string_view kMessage = "message";
constexpr std::string_view kService = "service";
constexpr std::string_view kPid = "pid";
constexpr std::string_view kTid = "tid";
constexpr std::string_view kSeq = "seq";
constexpr uint8_t kLastKind = static_cast<uint8_t>(LineKind::kNote);
constexpr int64_t kNsPerSecond = 1000000000;

// --- RowBinary ---

void put_u8(std::string& out, uint8_t value) { out.push_back(static_cast<char>(value)); }

template <class Unsigned>
void put_le(std::string& out, Unsigned value) {
  char bytes[sizeof(Unsigned)];
  for (size_t i = 0; i < sizeof(Unsigned); ++i) bytes[i] = static_cast<char>((value >> (8 * i)) & 0xFF);
  out.append(bytes, sizeof(Unsigned));
}

void put_leb128(std::string& out, uint64_t value) {
  while (value >= 0x80) {
    out.push_back(static_cast<char>((value & 0x7F) | 0x80));
    value >>= 7;
  }
  out.push_back(static_cast<char>(value));
}

void put_string(std::string& out, std::string_view text) {
  put_leb128(out, text.size());
  out.append(text);
}

// --- The line's text (JSON the reader wrote; read with every bound checked) ---

// The end (after the closing quote) of the JSON string whose opening quote is
// at `pos`; npos when there is none.
size_t string_end(std::string_view text, size_t pos) {
  if (pos >= text.size() || text[pos] != '"') return std::string_view::npos;
  for (size_t i = pos + 1; i < text.size(); ++i) {
    if (text[i] == '\\') {
      ++i;  // the escaped byte (a quote, too)
    } else if (text[i] == '"') {
      return i + 1;
    }
  }
  return std::string_view::npos;
}

// The end of the unsigned integer at `pos` (npos without a digit), and its
// value (saturated) in *value.
size_t digits_end(std::string_view text, size_t pos, uint64_t* value) {
  uint64_t v = 0;
  size_t i = pos;
  for (; i < text.size() && text[i] >= '0' && text[i] <= '9'; ++i) {
    const auto digit = static_cast<uint64_t>(text[i] - '0');
    v = v > (std::numeric_limits<uint64_t>::max() - digit) / 10 ? std::numeric_limits<uint64_t>::max() : v * 10 + digit;
  }
  *value = v;
  return i == pos ? std::string_view::npos : i;
}

bool is_json_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

size_t skip_space(std::string_view text, size_t pos) {
  while (pos < text.size() && is_json_space(text[pos])) ++pos;
  return pos;
}

// The end of the JSON value at `pos` (a string, an object or array by its
// brackets outside strings, else a scalar up to the next delimiter); npos
// when it does not end inside `text`.
size_t value_end(std::string_view text, size_t pos) {
  if (pos >= text.size()) return std::string_view::npos;
  const char first = text[pos];
  if (first == '"') return string_end(text, pos);
  if (first == '{' || first == '[') {
    size_t depth = 0;
    for (size_t i = pos; i < text.size(); ++i) {
      const char c = text[i];
      if (c == '"') {
        i = string_end(text, i);
        if (i == std::string_view::npos) return i;
        --i;  // the loop's ++i steps past the closing quote
      } else if (c == '{' || c == '[') {
        ++depth;
      } else if ((c == '}' || c == ']') && --depth == 0) {
        return i + 1;
      }
    }
    return std::string_view::npos;
  }
  size_t i = pos;
  while (i < text.size() && text[i] != ',' && text[i] != '}' && text[i] != ']' && !is_json_space(text[i])) ++i;
  return i == pos ? std::string_view::npos : i;
}

// `text` at `pos` starts with `expected`; moves pos past it.
bool expect(std::string_view text, size_t& pos, std::string_view expected) {
  if (text.substr(pos, expected.size()) != expected) return false;
  pos += expected.size();
  return true;
}

// ,"NAME":"..." at pos: its value (with the quotes), pos moved past it.
bool string_member(std::string_view text, size_t& pos, std::string_view head, std::string_view* value) {
  if (!expect(text, pos, head)) return false;
  const size_t end = string_end(text, pos);
  if (end == std::string_view::npos) return false;
  *value = text.substr(pos, end - pos);
  pos = end;
  return true;
}

// ,"NAME":DIGITS at pos.
bool number_member(std::string_view text, size_t& pos, std::string_view head, std::string_view* value,
                   uint64_t* number) {
  if (!expect(text, pos, head)) return false;
  const size_t end = digits_end(text, pos, number);
  if (end == std::string_view::npos) return false;
  *value = text.substr(pos, end - pos);
  pos = end;
  return true;
}

uint32_t clamp_u32(uint64_t value) {
  return static_cast<uint32_t>(std::min<uint64_t>(value, std::numeric_limits<uint32_t>::max()));
}

// DateTime: whole seconds since the epoch, floored, within UInt32.
uint32_t datetime_seconds(int64_t time_ns) {
  if (time_ns < 0) return 0;
  return clamp_u32(static_cast<uint64_t>(time_ns / kNsPerSecond));
}

}  // namespace

ClickHouseRowEncoder::ClickHouseRowEncoder(std::string host) : host_(std::move(host)) {}

EncodedRows ClickHouseRowEncoder::append(const EventBatch& batch, std::string& out) {
  EncodedRows encoded;
  const uint64_t process_start = batch.segment != nullptr ? batch.segment->process_start_ticks : 0;
  for (const LineShape& shape : batch.lines) {
    const size_t before = out.size();
    if (append_line(batch, shape, process_start, out)) {
      ++encoded.rows;
    } else {
      out.resize(before);  // no half row
      ++encoded.skipped;
    }
  }
  return encoded;
}

bool ClickHouseRowEncoder::append_line(const EventBatch& batch, const LineShape& shape, uint64_t process_start,
                                       std::string& out) {
  // The shape must lie inside the batch's text before any of it is read.
  if (shape.offset > batch.text.size() || shape.size > batch.text.size() - shape.offset || shape.size < 2) {
    return false;
  }
  if (shape.first_field > batch.fields.size() || shape.field_count > batch.fields.size() - shape.first_field) {
    return false;
  }
  const std::string_view line = batch.line(shape);
  if (line.back() != '\n') return false;
  const std::string_view text = line.substr(0, line.size() - 1);

  // The head, at its places: {"timestamp":"…","level":"…","message":"…",
  // "service":"…","pid":N[,"tid":N][,"seq":N]
  keys_.clear();
  values_.clear();
  std::string_view value;
  uint64_t pid = 0;
  uint64_t number = 0;
  size_t pos = 0;
  if (!string_member(text, pos, kHeadStart, &value)) return false;
  keys_.push_back(kTimestamp);
  values_.push_back(value);
  if (!string_member(text, pos, R"(,"level":)", &value)) return false;
  keys_.push_back(kLevel);
  values_.push_back(value);
  if (!string_member(text, pos, R"(,"message":)", &value)) return false;
  if (value.size() != uint64_t{shape.message_size} + 2 || pos - value.size() + 1 != shape.message_offset) {
    return false;
  }
  keys_.push_back(kMessage);
  values_.push_back(value);
  if (!string_member(text, pos, R"(,"service":)", &value)) return false;
  keys_.push_back(kService);
  values_.push_back(value);
  if (!number_member(text, pos, R"(,"pid":)", &value, &pid)) return false;
  keys_.push_back(kPid);
  values_.push_back(value);
  if (shape.has_tid) {
    if (!number_member(text, pos, R"(,"tid":)", &value, &number)) return false;
    keys_.push_back(kTid);
    values_.push_back(value);
  }
  if (shape.has_seq) {
    if (!number_member(text, pos, R"(,"seq":)", &value, &number)) return false;
    keys_.push_back(kSeq);
    values_.push_back(value);
  }
  // The fields: each span must follow the last, as ,"KEY":VALUE.
  std::string_view trace_id;
  std::string_view span_id;
  paths_.clear();
  paths_text_.clear();
  size_t budget = path_budget(text.size());
  for (uint32_t i = 0; i < shape.field_count; ++i) {
    const FieldSpan& field = batch.fields[shape.first_field + i];
    const uint64_t key_end = uint64_t{field.key_offset} + field.key_size;
    const uint64_t value_end_at = uint64_t{field.value_offset} + field.value_size;
    if (field.key_offset != pos + 2 || text.substr(pos, 2) != R"(,")" || field.value_offset != key_end + 2 ||
        value_end_at > text.size() || text.substr(key_end, 2) != R"(":)" || field.value_size == 0) {
      return false;
    }
    const std::string_view key = text.substr(field.key_offset, field.key_size);
    const std::string_view field_value = text.substr(field.value_offset, field.value_size);
    keys_.push_back(key);
    values_.push_back(field_value);
    pos = value_end_at;
    switch (json_kind(field_value)) {
      case JsonKind::kString:
        if (key == "trace_id" && trace_id.empty()) trace_id = field_value;
        if (key == "span_id" && span_id.empty()) span_id = field_value;
        break;
      case JsonKind::kObject:
        if (budget > 0 && key.find('.') == std::string_view::npos) collect_paths(key, field_value, budget);
        break;
      default:
        break;
    }
  }
  if (pos + 1 != text.size() || text[pos] != '}') return false;

  // The row, in the table's column order (clickhouse_table.hpp).
  put_le<uint32_t>(out, datetime_seconds(shape.time_ns));              // time
  put_le<uint64_t>(out, static_cast<uint64_t>(shape.time_ns));         // time_ns
  put_u8(out, static_cast<uint8_t>(head_level_index(shape.level)));    // level
  put_u8(out, static_cast<uint8_t>(level_class_of(shape.level)));      // level_class
  put_u8(out, std::min(static_cast<uint8_t>(shape.kind), kLastKind));  // kind
  put_string(out, json_string_text(values_[2], message_scratch_));     // message
  put_string(out, json_string_text(values_[3], service_scratch_));     // service
  put_string(out, host_);                                              // host
  put_le<uint32_t>(out, clamp_u32(pid));                               // pid
  put_le<uint64_t>(out, process_start);                                // process_start
  put_le<uint32_t>(out, shape.has_tid ? shape.tid : 0);                // tid
  put_le<uint64_t>(out, shape.has_seq ? shape.seq : 0);                // seq
  put_le<uint64_t>(out, shape.has_seq ? 0 : line_hash(text));          // line_hash
  put_string(out, trace_id.empty() ? std::string_view() : json_string_text(trace_id, id_scratch_));
  put_string(out, span_id.empty() ? std::string_view() : json_string_text(span_id, id_scratch_));
  put_leb128(out, keys_.size());
  for (const std::string_view key : keys_) put_string(out, key);
  put_leb128(out, values_.size());
  for (const std::string_view v : values_) put_string(out, v);
  const std::string_view paths_text = paths_text_;
  put_leb128(out, paths_.size());
  for (const Path& path : paths_) put_string(out, paths_text.substr(path.path_offset, path.path_size));
  put_leb128(out, paths_.size());
  for (const Path& path : paths_) put_string(out, path.value);
  return true;
}

void ClickHouseRowEncoder::collect_paths(std::string_view key, std::string_view object, size_t& budget) {
  // simdjson first: only a well-formed object (within its depth limit) is
  // walked, so the walk below reads JSON it knows the shape of.
  simdjson::dom::element element;
  if (parser_.parse(object.data(), object.size(), true).get(element) != simdjson::SUCCESS ||
      element.type() != simdjson::dom::element_type::OBJECT) {
    return;
  }
  path_prefix_.assign(key);
  walk_object(object, 1, budget);
}

void ClickHouseRowEncoder::walk_object(std::string_view object, int depth, size_t& budget) {
  size_t pos = skip_space(object, 1);  // after '{'
  if (pos < object.size() && object[pos] == '}') return;
  const size_t prefix_size = path_prefix_.size();
  while (pos < object.size()) {
    const size_t key_end = string_end(object, pos);
    if (key_end == std::string_view::npos) return;
    const std::string_view key = object.substr(pos + 1, key_end - pos - 2);
    pos = skip_space(object, key_end);
    if (pos >= object.size() || object[pos] != ':') return;
    const size_t value_start = skip_space(object, pos + 1);
    const size_t end = value_end(object, value_start);
    if (end == std::string_view::npos) return;
    const std::string_view member = object.substr(value_start, end - value_start);
    // A key holding '.' would make a path that names another member: it and
    // what is under it are left out.
    if (key.find('.') == std::string_view::npos) {
      const size_t path_size = prefix_size + 1 + key.size();
      if (path_size + member.size() > budget) {
        budget = 0;  // the line's path budget is spent: no more paths for it
        return;
      }
      budget -= path_size + member.size();
      path_prefix_.resize(prefix_size);
      path_prefix_.push_back('.');
      path_prefix_.append(key);
      paths_.push_back(Path{static_cast<uint32_t>(paths_text_.size()), static_cast<uint32_t>(path_size), member});
      paths_text_.append(path_prefix_);
      if (member.front() == '{' && depth < kMostPathDepth) walk_object(member, depth + 1, budget);
      path_prefix_.resize(prefix_size);
    }
    pos = skip_space(object, end);
    if (pos >= object.size() || object[pos] != ',') return;  // '}': done
    pos = skip_space(object, pos + 1);
  }
}

}  // namespace ringtail::reader::internal
