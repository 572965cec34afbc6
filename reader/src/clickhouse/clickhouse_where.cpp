// clickhouse_where(): a Filter as SQL, clause by clause (the header says how
// each part reads a row).
#include "ringtail/reader/clickhouse/clickhouse_where.hpp"

#include <bit>
#include <cmath>
#include <compare>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <variant>

#include "absl/strings/str_format.h"
#include "clickhouse/exact_decimal.hpp"
#include "clickhouse/json_sql.hpp"
#include "internal/message_text.hpp"
#include "query/json_number.hpp"
#include "ringtail/reader/output/json_text.hpp"
#include "ringtail/shm/level.hpp"

namespace ringtail::reader {
namespace {

using internal::cat;
using internal::int128;
using internal::Number;
using internal::sql_literal;

constexpr int64_t kNsPerSecond = 1000000000;

std::string key_literal(const internal::ExactDecimal& value) { return sql_literal(internal::number_order_key(value)); }

internal::ExactDecimal exact_value(const Number& number) {
  return number.is_double ? internal::exact_decimal(static_cast<long double>(number.real))
                          : internal::exact_decimal(number.integer);
}

bool is_even(double value) { return (std::bit_cast<uint64_t>(value) & 1) == 0; }

// The smallest double >= w and the largest double <= w.
double double_at_or_above(const Number& w) {
  if (w.is_double) return w.real;
  auto d = static_cast<double>(w.integer);
  if (std::is_lt(internal::compare(Number{true, 0, d}, w))) d = std::nextafter(d, INFINITY);
  return d;
}
double double_at_or_below(const Number& w) {
  if (w.is_double) return w.real;
  auto d = static_cast<double>(w.integer);
  if (std::is_gt(internal::compare(Number{true, 0, d}, w))) d = std::nextafter(d, -INFINITY);
  return d;
}

// For a double text `key` (its order key) read as the nearest double R:
// R < w, and R > w, as conditions on the text (see the header).
std::string double_below(const std::string& key, const Number& w) {
  const double c = double_at_or_above(w);
  const double below = std::nextafter(c, -INFINITY);
  if (std::isinf(below)) return "0";  // c is the lowest double: no R is below it
  const long double midpoint = (static_cast<long double>(below) + static_cast<long double>(c)) / 2;
  // A text at the midpoint rounds to the even one of the two.
  return cat("(", key, is_even(c) ? " < " : " <= ", key_literal(internal::exact_decimal(midpoint)), ")");
}
std::string double_above(const std::string& key, const Number& w) {
  const double f = double_at_or_below(w);
  const double above = std::nextafter(f, INFINITY);
  if (std::isinf(above)) return "0";
  const long double midpoint = (static_cast<long double>(f) + static_cast<long double>(above)) / 2;
  return cat("(", key, is_even(above) ? " >= " : " > ", key_literal(internal::exact_decimal(midpoint)), ")");
}

// The value text `text` is a number that compares with w as `op` says
// (kEq, kGt, kGe, kLt, kLe), exactly as json_number.hpp compares.
std::string numeric_condition(const std::string& text, WhereOp op, const Number& w) {
  const std::string key = internal::sql_number_key(text);
  // An integer text: its value exactly.
  const std::string exact = key_literal(exact_value(w));
  std::string as_integer;
  std::string as_double;
  switch (op) {
    case WhereOp::kEq: {
      as_integer = cat("(", key, " = ", exact, ")");
      const bool representable =
          w.is_double || std::is_eq(internal::compare(Number{true, 0, static_cast<double>(w.integer)}, w));
      as_double =
          representable ? cat("(NOT ", double_below(key, w), " AND NOT ", double_above(key, w), ")") : std::string("0");
      break;
    }
    case WhereOp::kLt:
      as_integer = cat("(", key, " < ", exact, ")");
      as_double = double_below(key, w);
      break;
    case WhereOp::kLe:
      as_integer = cat("(", key, " <= ", exact, ")");
      as_double = cat("(NOT ", double_above(key, w), ")");
      break;
    case WhereOp::kGt:
      as_integer = cat("(", key, " > ", exact, ")");
      as_double = double_above(key, w);
      break;
    case WhereOp::kGe:
      as_integer = cat("(", key, " >= ", exact, ")");
      as_double = cat("(NOT ", double_below(key, w), ")");
      break;
    default:
      return "0";
  }
  return cat("(", internal::sql_is_number(text), " AND if(", internal::sql_is_double_text(text), ", ", as_double, ", ",
             as_integer, "))");
}

std::string comparison_symbol(WhereOp op) {
  switch (op) {
    case WhereOp::kGt:
      return " > ";
    case WhereOp::kGe:
      return " >= ";
    case WhereOp::kLt:
      return " < ";
    default:
      return " <= ";
  }
}

// RE2 as ringtail runs it, through ClickHouse's match():
//   * match() sets dot_nl ('.' matches '\n'): (?-s) clears it again, for
//     every alternative of the pattern (an inline flag holds to the end of
//     its group);
//   * before running RE2, match() looks for the literal text a pattern
//     requires, with an analyzer that misreads escapes of several
//     characters (18.16: \x41b requires "41b", \101 "01"), and skips the
//     rows without it. A pattern with an alternative that has no literal
//     requires none: `.^` (a character, then the start of the text) never
//     matches, under any flags but (?m), which (?-m) rules out. The user's
//     pattern goes last, so that an unclosed \Q... quotes nothing of ours.
std::string regex_literal(const std::string& pattern) { return sql_literal("(?-m).^|(?-s)" + pattern); }

// --message, --service (and --where on those keys): the typed columns hold
// the head keys' decoded strings, always present.
std::optional<std::string> typed_column_condition(const WhereClause& clause) {
  if (clause.is_path()) return std::nullopt;
  const std::string& key = clause.key();
  const JsonScalar& value = clause.value();
  if (key == "message" || key == "service") {
    const auto* text = std::get_if<std::string>(&value);
    if (text == nullptr) return std::nullopt;
    switch (clause.op()) {
      case WhereOp::kEq:
        return cat("(", key, " = ", sql_literal(*text), ")");
      case WhereOp::kNe:
        return cat("(", key, " != ", sql_literal(*text), ")");
      case WhereOp::kMatch:
        return cat("match(", key, ", ", regex_literal(*text), ")");
      default:
        return std::nullopt;
    }
  }
  if (key == "pid" && (clause.op() == WhereOp::kEq || clause.op() == WhereOp::kNe)) {
    const std::optional<Number> number = internal::number_of(value);
    if (!number || number->is_double) return std::nullopt;
    const bool equal_possible = number->integer >= 0 && number->integer <= std::numeric_limits<uint32_t>::max();
    const bool eq = clause.op() == WhereOp::kEq;
    if (!equal_possible) return std::string(eq ? "0" : "1");
    return cat("(pid ", eq ? "= " : "!= ", std::to_string(static_cast<uint32_t>(number->integer)), ")");
  }
  return std::nullopt;
}

// = of the JSON value `text` (found or not) with `value`.
std::string equality(const internal::SqlValue& found, const JsonScalar& value) {
  if (std::holds_alternative<std::nullptr_t>(value)) return cat("(NOT ", found.found, " OR ", found.text, " = 'null')");
  if (const auto* b = std::get_if<bool>(&value)) return cat("(", found.text, " = '", *b ? "true" : "false", "')");
  if (const auto* s = std::get_if<std::string>(&value)) {
    if (!internal::is_valid_utf8(*s)) return "0";  // no line holds such a string
    std::string written;
    append_json_string(written, *s);
    return cat("(", found.text, " = ", sql_literal(written), ")");
  }
  return numeric_condition(found.text, WhereOp::kEq, *internal::number_of(value));
}

}  // namespace

std::string clickhouse_where(const WhereClause& clause) {
  if (std::optional<std::string> typed = typed_column_condition(clause)) return *typed;
  const internal::SqlValue found = internal::sql_lookup(clause.key(), clause.is_path());
  const JsonScalar& value = clause.value();
  switch (clause.op()) {
    case WhereOp::kExists:
      return found.found;
    case WhereOp::kEq:
      return equality(found, value);
    case WhereOp::kNe:
      return cat("(NOT ", equality(found, value), ")");
    case WhereOp::kMatch:
      return cat("(", internal::sql_is_string(found.text), " AND match(", internal::sql_decoded_string(found.text),
                 ", ", regex_literal(std::get<std::string>(value)), "))");
    case WhereOp::kGt:
    case WhereOp::kGe:
    case WhereOp::kLt:
    case WhereOp::kLe:
      if (const auto* s = std::get_if<std::string>(&value)) {
        return cat("(", internal::sql_is_string(found.text), " AND ", internal::sql_decoded_string(found.text),
                   comparison_symbol(clause.op()), sql_literal(*s), ")");
      }
      if (const std::optional<Number> number = internal::number_of(value)) {
        return numeric_condition(found.text, clause.op(), *number);
      }
      return "0";  // parse_where takes only numbers and strings here
  }
  return "0";
}

std::string clickhouse_prewhere(const Filter& filter) {
  std::string out;
  for (const WhereClause& clause : filter.clauses()) {
    const WhereOp op = clause.op();
    if (op != WhereOp::kEq && op != WhereOp::kLt && op != WhereOp::kLe && op != WhereOp::kGt && op != WhereOp::kGe) {
      continue;
    }
    const std::optional<Number> number = internal::number_of(clause.value());
    if (!number || typed_column_condition(clause)) continue;
    const double w = number->is_double ? number->real : static_cast<double>(number->integer);
    const double margin = std::fabs(w) * 1e-12 + 1e-300;
    const std::string low = absl::StrFormat("%.17g", w - margin);
    const std::string high = absl::StrFormat("%.17g", w + margin);
    const std::string text = internal::sql_lookup(clause.key(), clause.is_path()).text;
    const std::string reading = cat("toFloat64OrNull(", text, ")");
    std::string bound;
    if (op == WhereOp::kEq) {
      bound = cat(reading, " BETWEEN ", low, " AND ", high);
    } else if (op == WhereOp::kGt || op == WhereOp::kGe) {
      bound = cat(reading, " >= ", low);
    } else {
      bound = cat(reading, " <= ", high);
    }
    // A missing key fails every numeric comparison; a text that is no
    // number (a NULL reading) is left to the WHERE.
    if (!out.empty()) out += "\n  AND ";
    out += cat("(length(", text, ") != 0 AND ifNull(", bound, ", 1))");
  }
  return out;
}

std::string clickhouse_where(const Filter& filter) {
  std::string out;
  const auto add = [&out](const std::string& condition) {
    if (!out.empty()) out += "\n  AND ";
    out += condition;
  };
  if (const std::optional<int64_t> since = filter.since()) {
    add(cat("time_ns >= ", std::to_string(*since)));
    // `time` is time_ns in whole seconds, floored, within 0..2^32-1
    // (clickhouse_table.hpp): the partitions' bound.
    if (*since >= 0 && *since / kNsPerSecond <= std::numeric_limits<uint32_t>::max()) {
      add(cat("time >= toDateTime(", std::to_string(*since / kNsPerSecond), ")"));
    }
  }
  if (const std::optional<int64_t> until = filter.until()) {
    add(cat("time_ns < ", std::to_string(*until)));
    if (*until > 0 && (*until - 1) / kNsPerSecond <= std::numeric_limits<uint32_t>::max()) {
      add(cat("time <= toDateTime(", std::to_string((*until - 1) / kNsPerSecond), ")"));
    }
  }
  if (const std::optional<shm::Level> floor = filter.min_level()) {
    std::string levels;
    for (int level = static_cast<int>(*floor); level <= static_cast<int>(shm::Level::kCritical); ++level) {
      if (!levels.empty()) levels += ", ";
      levels += sql_literal(shm::kLevelNames[static_cast<size_t>(level)]);
    }
    add(cat("level IN (", levels, ")"));
  }
  for (const WhereClause& clause : filter.clauses()) add(clickhouse_where(clause));
  return out.empty() ? std::string("1") : out;
}

}  // namespace ringtail::reader
