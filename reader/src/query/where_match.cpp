// WhereClause::matches: a parsed line against one --where clause (the
// semantics are filter.hpp's; numbers compare exactly, json_number.hpp).
#include "ringtail/reader/query/filter.hpp"

#include <re2/re2.h>

#include <compare>

#include "query/json_number.hpp"
#include "ringtail/reader/query/json_path.hpp"
#include "ringtail/reader/query/parsed_line.hpp"

namespace ringtail::reader {
namespace {

using internal::compare;
using internal::Number;
using internal::number_of;
namespace dom = simdjson::dom;

// Whether `value` (null: the key is missing) satisfies `clause`.
bool test(const WhereClause& clause, const dom::element* value) {
  const WhereOp op = clause.op();
  const JsonScalar& wanted = clause.value();
  switch (op) {
    case WhereOp::kExists:
      return value != nullptr;
    case WhereOp::kMatch: {
      std::string_view text;
      return value != nullptr && value->get_string().get(text) == simdjson::SUCCESS &&
             RE2::PartialMatch(text, *clause.regex());
    }
    case WhereOp::kEq:
    case WhereOp::kNe: {
      bool equal = false;
      if (std::holds_alternative<std::nullptr_t>(wanted)) {
        equal = value == nullptr || value->is_null();
      } else if (value == nullptr) {
        equal = false;
      } else if (const auto* b = std::get_if<bool>(&wanted)) {
        bool v = false;
        equal = value->get_bool().get(v) == simdjson::SUCCESS && v == *b;
      } else if (const auto* s = std::get_if<std::string>(&wanted)) {
        std::string_view v;
        equal = value->get_string().get(v) == simdjson::SUCCESS && v == *s;
      } else {
        const std::optional<Number> line_number = number_of(*value);
        equal = line_number && std::is_eq(compare(*line_number, *number_of(wanted)));
      }
      return op == WhereOp::kEq ? equal : !equal;
    }
    case WhereOp::kGt:
    case WhereOp::kGe:
    case WhereOp::kLt:
    case WhereOp::kLe: {
      if (value == nullptr) return false;
      std::partial_ordering order = std::partial_ordering::unordered;
      if (const auto* s = std::get_if<std::string>(&wanted)) {
        std::string_view v;
        if (value->get_string().get(v) == simdjson::SUCCESS) order = v <=> std::string_view{*s};
      } else if (const std::optional<Number> line_number = number_of(*value)) {
        order = compare(*line_number, *number_of(wanted));
      }
      switch (op) {
        case WhereOp::kGt:
          return std::is_gt(order);
        case WhereOp::kGe:
          return std::is_gteq(order);
        case WhereOp::kLt:
          return std::is_lt(order);
        default:
          return std::is_lteq(order);
      }
    }
  }
  return false;
}

}  // namespace

bool WhereClause::matches(const ParsedLine& parsed) const {
  const dom::element line = parsed.element();
  dom::object object;
  if (line.get_object().get(object) != simdjson::SUCCESS) return false;  // matches no clause
  dom::element value;
  // A quoted key (or one without '.') is one top-level key, never a path.
  const bool found = is_path_ ? lookup(line, key_, &value) : object.at_key(key_).get(value) == simdjson::SUCCESS;
  return test(*this, found ? &value : nullptr);
}

}  // namespace ringtail::reader
