#include "ringtail/reader/query/shaped_filter.hpp"

#include <utility>

#include "query/where_test.hpp"
#include "ringtail/reader/output/json_text.hpp"
#include "ringtail/reader/output/line_head.hpp"
#include "ringtail/reader/query/json_path.hpp"
#include "ringtail/reader/query/parsed_line.hpp"

namespace ringtail::reader {

// A value's JSON text as the line writes it, typed from its first byte; a
// number is parsed (alone) only when a clause compares it.
class ShapedFilter::Value {
 public:
  Value(std::string_view json, std::string& scratch, simdjson::dom::parser& parser)
      : json_(json), scratch_(scratch), parser_(parser) {}
  bool is_null() const { return json_ == "null"; }
  bool string(std::string_view& text) {
    if (json_kind(json_) != JsonKind::kString) return false;
    text = json_string_text(json_, scratch_);
    return true;
  }
  bool boolean(bool& value) const {
    if (json_ != "true" && json_ != "false") return false;
    value = json_ == "true";
    return true;
  }
  std::optional<internal::Number> number() {
    if (json_kind(json_) != JsonKind::kNumber) return std::nullopt;
    simdjson::dom::element element;
    if (parser_.parse(json_.data(), json_.size()).get(element) != simdjson::SUCCESS) return std::nullopt;
    return internal::number_of(element);
  }

 private:
  std::string_view json_;
  std::string& scratch_;
  simdjson::dom::parser& parser_;
};

namespace {

// `text` as a line writes it: escaped, without its quotes.
std::string escaped_text(std::string_view text) {
  std::string quoted;
  append_json_string(quoted, text);
  return quoted.substr(1, quoted.size() - 2);
}

}  // namespace

ShapedFilter::ShapedFilter(Filter filter) : filter_(std::move(filter)) {
  for (const WhereClause& clause : filter_.clauses()) {
    ClauseKey& key = keys_.emplace_back();
    key.escaped = escaped_text(clause.key());
    if (clause.is_path()) {
      key.first = clause.key().substr(0, clause.key().find('.'));
      key.escaped_first = escaped_text(key.first);
    }
  }
}

std::optional<std::string_view> ShapedFilter::top_level(const EventBatch& batch, const LineShape& shape,
                                                        std::string_view key, std::string_view escaped_key) {
  const std::string_view line = batch.line(shape);
  // The head, in the order lines write it; fields never take these names.
  if (key == "timestamp" || key == "level") {
    const std::optional<std::string_view> text = key == "timestamp" ? head_timestamp(line) : head_level(line);
    if (!text) return std::nullopt;
    return std::string_view(text->data() - 1, text->size() + 2);  // with its quotes
  }
  if (key == "message") return line.substr(shape.message_offset - 1, shape.message_size + 2);
  if (key == "service") {
    if (service_of_ != batch.segment) {
      service_json_.clear();
      append_json_string(service_json_, batch.segment->service);
      service_of_ = batch.segment;
    }
    return service_json_;
  }
  const bool pid = key == "pid";
  if (pid || (key == "tid" && shape.has_tid) || (key == "seq" && shape.has_seq)) {
    number_.clear();
    append_json_uint(number_, pid ? batch.segment->pid : key == "tid" ? uint64_t{shape.tid} : shape.seq);
    return number_;
  }
  for (uint32_t i = 0; i < shape.field_count; ++i) {
    const FieldSpan& field = batch.fields[shape.first_field + i];
    if (batch.key(shape, field) == escaped_key) return batch.value(shape, field);
  }
  return std::nullopt;
}

bool ShapedFilter::clause_matches(const WhereClause& clause, const ClauseKey& key, const EventBatch& batch,
                                  const LineShape& shape) {
  if (const std::optional<std::string_view> json = top_level(batch, shape, clause.key(), key.escaped)) {
    Value value(*json, scratch_, parser_);
    return internal::test_value(clause, &value);
  }
  if (!clause.is_path()) return internal::test_value<Value>(clause, nullptr);
  // A path (json_path.hpp): its first segment is a top-level key, whose
  // value is parsed to look up the rest.
  const std::string_view path = clause.key();
  const std::optional<std::string_view> json = top_level(batch, shape, key.first, key.escaped_first);
  simdjson::dom::element object;
  simdjson::dom::element found;
  if (!json || json_kind(*json) != JsonKind::kObject ||
      parser_.parse(json->data(), json->size()).get(object) != simdjson::SUCCESS ||
      !walk_path(object, path.substr(key.first.size() + 1), &found)) {
    return internal::test_value<Value>(clause, nullptr);
  }
  internal::DomValue value(found);
  return internal::test_value(clause, &value);
}

bool ShapedFilter::matches(const EventBatch& batch, const LineShape& shape) {
  const std::string_view line = batch.line(shape).substr(0, shape.size - 1);  // without its '\n'
  if (batch.segment == nullptr) {
    // Hand-built lines: the head's service and pid are not known apart.
    simdjson::dom::element parsed;
    return parser_.parse(line.data(), line.size()).get(parsed) == simdjson::SUCCESS && filter_.matches(parsed);
  }
  if (!filter_.time_in_bounds(shape.time_ns)) return false;
  if (filter_.min_level()) {
    const std::optional<std::string_view> level = head_level(line);
    if (!level || !filter_.level_passes(*level)) return false;
  }
  for (size_t i = 0; i < filter_.clauses().size(); ++i) {
    if (!clause_matches(filter_.clauses()[i], keys_[i], batch, shape)) return false;
  }
  return true;
}

}  // namespace ringtail::reader
