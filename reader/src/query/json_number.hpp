// JSON numbers compared exactly, for --where (internal to the query sources).
//
// Values are read by the same parser as the lines (simdjson), so a --where
// value and a line's value of the same text always get the same type and
// value. Integers compare as 128-bit integers (int64 and uint64 both fit); an
// integer with a double by splitting the double into its integral and
// fractional parts, never by converting the integer to a double (which
// rounds above 2^53).
//
// Pure functions.
#pragma once

#include <simdjson.h>

#include <compare>
#include <optional>

#include "ringtail/reader/query/filter.hpp"

namespace ringtail::reader::internal {

using int128 = __int128;

// A JSON number as its parser typed it.
struct Number {
  bool is_double = false;
  int128 integer = 0;  // when !is_double
  double real = 0;     // when is_double
};

// Exact; unordered only with a NaN.
std::partial_ordering compare(const Number& a, const Number& b);

// The number of a parsed value; nullopt for any other type.
std::optional<Number> number_of(simdjson::dom::element value);
// The number of a --where value; nullopt for any other type.
std::optional<Number> number_of(const JsonScalar& value);

}  // namespace ringtail::reader::internal
