// WhereClause::matches: a parsed line against one --where clause (the
// semantics are filter.hpp's; numbers compare exactly, json_number.hpp).
#include "ringtail/reader/query/filter.hpp"

#include "query/where_test.hpp"
#include "ringtail/reader/query/json_path.hpp"
#include "ringtail/reader/query/parsed_line.hpp"

namespace ringtail::reader {

bool WhereClause::matches(const ParsedLine& parsed) const {
  namespace dom = simdjson::dom;
  const dom::element line = parsed.element();
  dom::object object;
  if (line.get_object().get(object) != simdjson::SUCCESS) return false;  // matches no clause
  dom::element element;
  // A quoted key (or one without '.') is one top-level key, never a path.
  const bool found = is_path_ ? lookup(line, key_, &element) : object.at_key(key_).get(element) == simdjson::SUCCESS;
  internal::DomValue value(element);
  return internal::test_value(*this, found ? &value : nullptr);
}

}  // namespace ringtail::reader
