#include "ringtail/reader/query/json_path.hpp"

namespace ringtail::reader {

bool is_json_path(std::string_view key) {
  if (key.find('.') == std::string_view::npos) return false;
  for (std::string_view rest = key;;) {
    const size_t dot = rest.find('.');
    if (dot == 0 || rest.empty()) return false;  // an empty segment
    if (dot == std::string_view::npos) return true;
    rest.remove_prefix(dot + 1);
  }
}

bool lookup(simdjson::dom::element line, std::string_view key, simdjson::dom::element* value) {
  simdjson::dom::object object;
  if (line.get_object().get(object) != simdjson::SUCCESS) return false;
  if (object.at_key(key).get(*value) == simdjson::SUCCESS) return true;
  return is_json_path(key) && walk_path(line, key, value);
}

bool walk_path(simdjson::dom::element at, std::string_view path, simdjson::dom::element* value) {
  for (std::string_view rest = path;;) {
    const size_t dot = rest.find('.');
    simdjson::dom::object nested;
    if (at.get_object().get(nested) != simdjson::SUCCESS ||
        nested.at_key(rest.substr(0, dot)).get(at) != simdjson::SUCCESS) {
      return false;
    }
    if (dot == std::string_view::npos) break;
    rest.remove_prefix(dot + 1);
  }
  *value = at;
  return true;
}

}  // namespace ringtail::reader
