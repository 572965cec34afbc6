// What the report's builders share to write its data object (the contract in
// docs/QUERY.md, "HTML report"): keys, optional values, and the text of a
// line's values as people read them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "ringtail/reader/output/json_text.hpp"
#include "simdjson.h"

namespace ringtail::reader::report_json {

// `"name":` (after a comma unless `first`).
inline void key(std::string& out, std::string_view name, bool first = false) {
  if (!first) out.push_back(',');
  append_json_string(out, name);
  out.push_back(':');
}

inline void string_or_null(std::string& out, const std::optional<std::string>& text) {
  if (text) {
    append_json_string(out, *text);
  } else {
    out += "null";
  }
}

inline void number(std::string& out, double value) { append_json_double(out, value); }

inline void number_or_null(std::string& out, const std::optional<double>& value) {
  if (value) {
    append_json_double(out, *value);
  } else {
    out += "null";
  }
}

// A value as people read it: a string's text, anything else its compact JSON
// text; nullopt when `key` is missing (or null).
std::optional<std::string> text_of(simdjson::dom::element line, std::string_view key);

// The text of a compact JSON value as json_value_text() writes it (a group
// key of StatsAccumulator or CostAccumulator): a string unquoted and
// unescaped, anything else as it is; nullopt for "null".
std::optional<std::string> readable(std::string_view compact_json);

// A finite number under `key`, or nullopt.
std::optional<double> number_of(simdjson::dom::element line, std::string_view key);

}  // namespace ringtail::reader::report_json
