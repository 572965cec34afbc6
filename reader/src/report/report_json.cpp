#include "report/report_json.hpp"

#include <cmath>

#include "ringtail/reader/query/json_value.hpp"

namespace ringtail::reader::report_json {

std::optional<std::string> text_of(simdjson::dom::element line, std::string_view key) {
  simdjson::dom::element value;
  if (line[key].get(value) != simdjson::SUCCESS || value.is_null()) return std::nullopt;
  std::string_view text;
  if (value.get(text) == simdjson::SUCCESS) return std::string(text);
  return json_value_text(value);
}

std::optional<std::string> readable(std::string_view compact_json) {
  if (compact_json == "null") return std::nullopt;
  if (compact_json.size() >= 2 && compact_json.front() == '"') {
    std::string scratch;
    return std::string(json_string_text(compact_json, scratch));
  }
  return std::string(compact_json);
}

std::optional<double> number_of(simdjson::dom::element line, std::string_view key) {
  simdjson::dom::element value;
  double number = 0;
  if (line[key].get(value) != simdjson::SUCCESS || !value.is_number() || value.get(number) != simdjson::SUCCESS ||
      !std::isfinite(number)) {
    return std::nullopt;
  }
  return number;
}

}  // namespace ringtail::reader::report_json
