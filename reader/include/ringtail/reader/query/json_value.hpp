// Parsed JSON values back to text, in ringtail's canonical form
// (json_text.hpp): strings escaped as the reader escapes them, numbers with
// their exact or shortest round-trip text, no spaces. What query output,
// statistics keys and exports write for a value they read.
//
// Threading: pure functions.
#pragma once

#include <string>

#include "simdjson.h"

namespace ringtail::reader {

void append_json_value(std::string& out, simdjson::dom::element value);

inline std::string json_value_text(simdjson::dom::element value) {
  std::string out;
  append_json_value(out, value);
  return out;
}

}  // namespace ringtail::reader
