// One parsed JSONL line, as the filter takes it: filter.hpp names this type
// without including a JSON parser, so that its users need none; whoever
// parses lines includes this header.
//
// A view of the parser's DOM element: valid while the parser's document is.
// It converts implicitly from simdjson::dom::element, so that
// `filter.matches(element)` reads as it did before the type existed.
#pragma once

#include <simdjson.h>

namespace ringtail::reader {

class ParsedLine {
 public:
  ParsedLine(simdjson::dom::element element) : element_(element) {}  // NOLINT(google-explicit-constructor)

  simdjson::dom::element element() const { return element_; }

 private:
  simdjson::dom::element element_;
};

}  // namespace ringtail::reader
