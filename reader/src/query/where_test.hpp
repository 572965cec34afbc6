// Whether one value satisfies one --where clause (filter.hpp has the
// semantics), for any way of holding the value: a parsed DOM element
// (where_match.cpp) or a value's JSON text in a shaped line
// (shaped_filter.cpp). Internal to the query sources.
//
// A Value offers what the operators ask of it:
//   bool is_null() const;
//   bool string(std::string_view& text);   // false unless a string
//   bool boolean(bool& value) const;        // false unless a boolean
//   std::optional<Number> number();         // nullopt unless a number
#pragma once

#include <re2/re2.h>

#include <compare>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "query/json_number.hpp"
#include "ringtail/reader/query/filter.hpp"

namespace ringtail::reader::internal {

// `value` is null when the key is missing.
template <class Value>
bool test_value(const WhereClause& clause, Value* value) {
  const WhereOp op = clause.op();
  const JsonScalar& wanted = clause.value();
  switch (op) {
    case WhereOp::kExists:
      return value != nullptr;
    case WhereOp::kMatch: {
      std::string_view text;
      return value != nullptr && value->string(text) && RE2::PartialMatch(text, *clause.regex());
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
        equal = value->boolean(v) && v == *b;
      } else if (const auto* s = std::get_if<std::string>(&wanted)) {
        std::string_view v;
        equal = value->string(v) && v == *s;
      } else {
        const std::optional<Number> line_number = value->number();
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
        if (value->string(v)) order = v <=> std::string_view{*s};
      } else if (const std::optional<Number> line_number = value->number()) {
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

// A parsed DOM element as a Value.
class DomValue {
 public:
  explicit DomValue(simdjson::dom::element element) : element_(element) {}
  bool is_null() const { return element_.is_null(); }
  bool string(std::string_view& text) const { return element_.get_string().get(text) == simdjson::SUCCESS; }
  bool boolean(bool& value) const { return element_.get_bool().get(value) == simdjson::SUCCESS; }
  std::optional<Number> number() const { return number_of(element_); }

 private:
  simdjson::dom::element element_;
};

}  // namespace ringtail::reader::internal
