#include "ringtail/reader/query/json_value.hpp"

#include <string_view>

#include "ringtail/reader/output/json_text.hpp"

namespace ringtail::reader {

void append_json_value(std::string& out, simdjson::dom::element value) {
  simdjson::dom::object object;
  simdjson::dom::array array;
  std::string_view text;
  int64_t signed_number = 0;
  uint64_t unsigned_number = 0;
  double double_number = 0;
  bool flag = false;
  // Each get() succeeds for the type() it is under.
  switch (value.type()) {
    case simdjson::dom::element_type::OBJECT:
      if (value.get(object) == simdjson::SUCCESS) {
        out.push_back('{');
        bool first = true;
        for (const simdjson::dom::key_value_pair member : object) {
          if (!first) out.push_back(',');
          first = false;
          append_json_string(out, member.key);
          out.push_back(':');
          append_json_value(out, member.value);
        }
        out.push_back('}');
        return;
      }
      break;
    case simdjson::dom::element_type::ARRAY:
      if (value.get(array) == simdjson::SUCCESS) {
        out.push_back('[');
        bool first = true;
        for (const simdjson::dom::element item : array) {
          if (!first) out.push_back(',');
          first = false;
          append_json_value(out, item);
        }
        out.push_back(']');
        return;
      }
      break;
    case simdjson::dom::element_type::STRING:
      if (value.get(text) == simdjson::SUCCESS) return append_json_string(out, text);
      break;
    case simdjson::dom::element_type::INT64:
      if (value.get(signed_number) == simdjson::SUCCESS) return append_json_int(out, signed_number);
      break;
    case simdjson::dom::element_type::UINT64:
      if (value.get(unsigned_number) == simdjson::SUCCESS) return append_json_uint(out, unsigned_number);
      break;
    case simdjson::dom::element_type::DOUBLE:
      if (value.get(double_number) == simdjson::SUCCESS) return append_json_double(out, double_number);
      break;
    case simdjson::dom::element_type::BOOL:
      if (value.get(flag) == simdjson::SUCCESS) {
        out += flag ? "true" : "false";
        return;
      }
      break;
    case simdjson::dom::element_type::NULL_VALUE:
      break;
  }
  out += "null";
}

}  // namespace ringtail::reader
