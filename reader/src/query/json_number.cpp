#include "query/json_number.hpp"

#include <cmath>

namespace ringtail::reader::internal {
namespace {

namespace dom = simdjson::dom;

std::partial_ordering compare_integers(int128 a, int128 b) {
  if (a < b) return std::partial_ordering::less;
  if (a > b) return std::partial_ordering::greater;
  return std::partial_ordering::equivalent;
}

// Exact: trunc(d) is an integer that fits int128 exactly (|d| < 2^127), and
// only when it equals i does the fraction of d decide.
std::partial_ordering compare_integer_double(int128 i, double d) {
  if (std::isnan(d)) return std::partial_ordering::unordered;
  if (d >= 0x1p127) return std::partial_ordering::less;
  if (d < -0x1p127) return std::partial_ordering::greater;
  const double whole = std::trunc(d);
  const std::partial_ordering by_whole = compare_integers(i, static_cast<int128>(whole));
  if (std::is_neq(by_whole)) return by_whole;
  if (d == whole) return std::partial_ordering::equivalent;
  return d > whole ? std::partial_ordering::less : std::partial_ordering::greater;
}

}  // namespace

std::partial_ordering compare(const Number& a, const Number& b) {
  if (!a.is_double && !b.is_double) return compare_integers(a.integer, b.integer);
  if (a.is_double && b.is_double) return a.real <=> b.real;
  if (!a.is_double) return compare_integer_double(a.integer, b.real);
  // a <=> b is the reverse of b <=> a.
  const std::partial_ordering reversed = compare_integer_double(b.integer, a.real);
  if (std::is_lt(reversed)) return std::partial_ordering::greater;
  if (std::is_gt(reversed)) return std::partial_ordering::less;
  return reversed;
}

std::optional<Number> number_of(dom::element value) {
  Number number;
  switch (value.type()) {
    case dom::element_type::INT64: {
      int64_t v = 0;
      if (value.get_int64().get(v) != simdjson::SUCCESS) return std::nullopt;
      number.integer = v;
      return number;
    }
    case dom::element_type::UINT64: {
      uint64_t v = 0;
      if (value.get_uint64().get(v) != simdjson::SUCCESS) return std::nullopt;
      number.integer = v;
      return number;
    }
    case dom::element_type::DOUBLE: {
      number.is_double = true;
      if (value.get_double().get(number.real) != simdjson::SUCCESS) return std::nullopt;
      return number;
    }
    default:
      return std::nullopt;
  }
}

std::optional<Number> number_of(const JsonScalar& value) {
  Number number;
  if (const auto* i = std::get_if<int64_t>(&value)) {
    number.integer = *i;
  } else if (const auto* u = std::get_if<uint64_t>(&value)) {
    number.integer = *u;
  } else if (const auto* d = std::get_if<double>(&value)) {
    number.is_double = true;
    number.real = *d;
  } else {
    return std::nullopt;
  }
  return number;
}

}  // namespace ringtail::reader::internal
