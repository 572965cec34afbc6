// The --where / --level / --since / --until filter (see filter.hpp for the
// syntax and semantics, which this file implements).
//
// Values are read by the same parser as the lines (simdjson), so a --where
// value and a line's value of the same text always get the same type and
// value. Numbers are compared exactly: integers as 128-bit integers (int64 and
// uint64 both fit), an integer with a double by splitting the double into its
// integral and fractional parts, never by converting the integer to a double
// (which rounds above 2^53).
#include "ringtail/reader/query/filter.hpp"

#include <re2/re2.h>

#include <cmath>
#include <compare>
#include <cstring>
#include <type_traits>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_format.h"
#include "ringtail/reader/output/json_text.hpp"

namespace ringtail::reader {
namespace {

using int128 = __int128;
namespace dom = simdjson::dom;

constexpr int64_t kNsPerSecond = 1'000'000'000;

// ---------------------------------------------------------------------------
// Messages

// Debian's Abseil has its own absl::string_view, not std::string_view, so
// its string functions are kept away from std::string_view here.
template <class... Pieces>
std::string cat(const Pieces&... pieces) {
  std::string out;
  (out.append(std::string_view(pieces)), ...);
  return out;
}

std::string message_of(const absl::Status& status) { return std::string(status.message()); }

bool is_space(char c) { return absl::ascii_isspace(static_cast<unsigned char>(c)); }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

std::string_view trim_end(std::string_view s) {
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

std::string_view trim(std::string_view s) {
  s = trim_end(s);
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  return s;
}

bool equals_ignore_case(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (absl::ascii_tolower(static_cast<unsigned char>(a[i])) !=
        absl::ascii_tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

// User text in a one-line message: control bytes as \xNN, the rest as is.
std::string printable(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte == 0x7F) {
      absl::StrAppendFormat(&out, "\\x%02x", byte);
    } else {
      out.push_back(c);
    }
  }
  return out;
}

absl::Status bad_where(std::string_view text, std::string_view detail) {
  return absl::InvalidArgumentError(cat("bad --where '", printable(text), "': ", detail));
}

absl::Status bad_time(std::string_view text, std::string_view detail) {
  return absl::InvalidArgumentError(cat("bad time '", printable(text), "': ", detail));
}

// ---------------------------------------------------------------------------
// Numbers

// A JSON number as its parser typed it.
struct Number {
  bool is_double = false;
  int128 integer = 0;  // when !is_double
  double real = 0;     // when is_double
};

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
  if (by_whole != 0) return by_whole;
  if (d == whole) return std::partial_ordering::equivalent;
  return d > whole ? std::partial_ordering::less : std::partial_ordering::greater;
}

std::partial_ordering compare(const Number& a, const Number& b) {
  if (!a.is_double && !b.is_double) return compare_integers(a.integer, b.integer);
  if (a.is_double && b.is_double) return a.real <=> b.real;
  if (!a.is_double) return compare_integer_double(a.integer, b.real);
  return 0 <=> compare_integer_double(b.integer, a.real);
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

// The JSON number grammar (RFC 8259): -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
bool is_json_number(std::string_view s) {
  size_t i = 0;
  const size_t n = s.size();
  if (i < n && s[i] == '-') ++i;
  if (i == n) return false;
  if (s[i] == '0') {
    ++i;
  } else if (s[i] >= '1' && s[i] <= '9') {
    while (i < n && is_digit(s[i])) ++i;
  } else {
    return false;
  }
  if (i < n && s[i] == '.') {
    const size_t start = ++i;
    while (i < n && is_digit(s[i])) ++i;
    if (i == start) return false;
  }
  if (i < n && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < n && (s[i] == '+' || s[i] == '-')) ++i;
    const size_t start = i;
    while (i < n && is_digit(s[i])) ++i;
    if (i == start) return false;
  }
  return i == n;
}

// Whether every float or double field equal to the integer `n` is written as
// n's plain digits, so that `"key":<digits>` is a sound needle (filter.hpp).
//  - 0: no, a double -0.0 is written "-0" (and equals 0).
//  - n not exactly a double: no float or double equals it, and the digits of
//    an integer field are unique.
//  - |n| < 2^53: a float or double equal to n is written with the shortest
//    digits that read back to it, which are n's significant digits s (any
//    shorter digit string in its rounding interval would be another integer),
//    then in exponent form only when that is strictly shorter than the plain
//    form: s + (s > 1 ? 1 : 0) + 4 ("e+XX") < digits(n), which needs at least
//    5 trailing zeros. A float's text read as a double gives n only if its
//    decimal value is n (at most 9 significant digits: exact below 2^53).
//  - larger doubles: their text may carry an exponent (from 1e16 always).
bool integer_text_is_unique(int128 n) {
  if (n == 0) return false;
  const int128 magnitude = n < 0 ? -n : n;
  const auto as_double = static_cast<double>(n);
  if (static_cast<int128>(as_double) != n) return true;
  if (magnitude >= (int128{1} << 53)) return false;
  int trailing_zeros = 0;
  for (int128 m = magnitude; m % 10 == 0; m /= 10) ++trailing_zeros;
  return trailing_zeros < 5;
}

void append_integer(std::string& out, int128 n) {
  if (n < 0) {
    append_json_int(out, static_cast<int64_t>(n));
  } else {
    append_json_uint(out, static_cast<uint64_t>(n));
  }
}

// ---------------------------------------------------------------------------
// JSON literals of the expression

// The decoded string of `literal` when it is exactly one valid JSON string.
std::optional<std::string> decode_json_string(dom::parser& parser, std::string_view literal) {
  std::string_view decoded;
  if (parser.parse(literal.data(), literal.size()).get_string().get(decoded) != simdjson::SUCCESS) return std::nullopt;
  return std::string(decoded);
}

bool is_operator_char(char c) { return c == '=' || c == '!' || c == '<' || c == '>' || c == '~'; }

std::string_view op_text(WhereOp op) {
  switch (op) {
    case WhereOp::kEq:
      return "=";
    case WhereOp::kNe:
      return "!=";
    case WhereOp::kGt:
      return ">";
    case WhereOp::kGe:
      return ">=";
    case WhereOp::kLt:
      return "<";
    case WhereOp::kLe:
      return "<=";
    case WhereOp::kMatch:
      return "~";
    case WhereOp::kExists:
      return "exists";
  }
  return "?";
}

// The value text of an = != > >= < <= clause read as filter.hpp says; an
// error message (without the "bad --where" head) when it cannot be.
// `prefix` is the expression up to the operator, for messages.
absl::StatusOr<JsonScalar> read_value(dom::parser& parser, std::string_view value, WhereOp op,
                                      std::string_view prefix) {
  const bool ordering = op != WhereOp::kEq && op != WhereOp::kNe;
  const auto expected_for_ordering = [&] {
    return absl::InvalidArgumentError(cat("after '", printable(prefix),
                                          "' expected a number or a \"quoted string\" for ", op_text(op),
                                          value.empty() ? "" : cat(", got '", printable(value), "'")));
  };
  if (value.empty()) {
    if (ordering) return expected_for_ordering();
    return absl::InvalidArgumentError(
        cat("after '", printable(prefix), "' expected a value (write \"\" for the empty string)"));
  }
  if (value.front() == '"') {
    std::optional<std::string> decoded = decode_json_string(parser, value);
    if (!decoded) {
      return absl::InvalidArgumentError(
          cat("the value '", printable(value), "' starts with '\"' but is not a valid JSON string"));
    }
    return JsonScalar(std::move(*decoded));
  }
  if (is_json_number(value)) {
    dom::element element;
    std::optional<Number> number;
    if (parser.parse(value.data(), value.size()).get(element) == simdjson::SUCCESS) number = number_of(element);
    if (!number) {
      return absl::InvalidArgumentError(
          cat("the number '", printable(value),
              "' is out of range (integers must fit in 64 bits, doubles within 1.8e308)"));
    }
    if (number->is_double) return JsonScalar(number->real);
    if (number->integer < 0 || number->integer <= INT64_MAX) return JsonScalar(static_cast<int64_t>(number->integer));
    return JsonScalar(static_cast<uint64_t>(number->integer));
  }
  if (ordering) return expected_for_ordering();
  if (value == "true") return JsonScalar(true);
  if (value == "false") return JsonScalar(false);
  if (value == "null") return JsonScalar(nullptr);
  if (value.front() == '[' || value.front() == '{') {
    dom::element element;
    if (parser.parse(value.data(), value.size()).get(element) == simdjson::SUCCESS) {
      return absl::InvalidArgumentError(
          cat("the value '", printable(value), "' is a JSON ", value.front() == '[' ? "array" : "object",
              ": only strings, numbers, booleans and null compare (quote it to compare with that string)"));
    }
  }
  if (value.front() == '=' || value.front() == '<' || value.front() == '>' || value.front() == '~') {
    return absl::InvalidArgumentError(cat("after '", printable(prefix), "' the value '", printable(value),
                                          "' starts with '", std::string_view(&value.front(), 1),
                                          "' (a typo in the operator?); quote it to compare with that string"));
  }
  return JsonScalar(std::string(value));
}

// ---------------------------------------------------------------------------
// Levels

constexpr std::string_view kLevelNames[] = {"TRACE", "DEBUG", "INFO", "WARN", "ERROR", "CRITICAL"};

// The level of a line's "level" string, as the reader writes it (upper case);
// nullopt for anything else ("OFF" included).
std::optional<shm::Level> line_level(std::string_view text) {
  for (size_t i = 0; i < std::size(kLevelNames); ++i) {
    if (text == kLevelNames[i]) return static_cast<shm::Level>(i);
  }
  return std::nullopt;
}

bool level_passes(std::string_view text, shm::Level floor) {
  const std::optional<shm::Level> level = line_level(text);
  return level.has_value() && *level >= floor;
}

// ---------------------------------------------------------------------------
// Time

// Days since 1970-01-01 of a proleptic Gregorian date (the era-based
// algorithm; exact for the years 0000-9999 read here).
int64_t days_from_civil(int64_t year, unsigned month, unsigned day) {
  year -= month <= 2 ? 1 : 0;
  const int64_t era = (year >= 0 ? year : year - 399) / 400;
  const auto yoe = static_cast<unsigned>(year - era * 400);
  const unsigned doy = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

unsigned days_in_month(int64_t year, unsigned month) {
  static constexpr unsigned kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  return month == 2 && leap ? 29 : kDays[month - 1];
}

// `count` decimal digits at `pos`, or -1.
int64_t fixed_digits(std::string_view s, size_t pos, size_t count) {
  if (pos + count > s.size()) return -1;
  int64_t value = 0;
  for (size_t i = pos; i < pos + count; ++i) {
    if (!is_digit(s[i])) return -1;
    value = value * 10 + (s[i] - '0');
  }
  return value;
}

constexpr std::string_view kRangeMessage =
    "out of range (1677-09-21T00:12:43.145224192Z to 2262-04-11T23:47:16.854775807Z)";

absl::StatusOr<int64_t> checked_ns(int128 ns) {
  if (ns < INT64_MIN || ns > INT64_MAX) return absl::OutOfRangeError(std::string(kRangeMessage));
  return static_cast<int64_t>(ns);
}

// RFC 3339 (filter.hpp) to ns; the error message is the detail only.
absl::StatusOr<int64_t> parse_rfc3339(std::string_view s) {
  const auto error = [](std::string_view detail) { return absl::InvalidArgumentError(std::string(detail)); };
  const int64_t year = fixed_digits(s, 0, 4);
  const int64_t month = fixed_digits(s, 5, 2);
  const int64_t day = fixed_digits(s, 8, 2);
  if (year < 0 || month < 0 || day < 0 || s[4] != '-' || s[7] != '-') {
    return error("expected a date YYYY-MM-DD at the start");
  }
  if (month < 1 || month > 12) return error(cat("month ", s.substr(5, 2), " does not exist"));
  if (day < 1 || day > days_in_month(year, static_cast<unsigned>(month))) {
    return error(cat("day ", s.substr(8, 2), " does not exist in ", s.substr(0, 7)));
  }
  const int64_t days = days_from_civil(year, static_cast<unsigned>(month), static_cast<unsigned>(day));
  if (s.size() == 10) return checked_ns(int128{days} * 86400 * kNsPerSecond);

  if (s[10] != 'T' && s[10] != 't' && s[10] != ' ') {
    return error(cat("expected 'T' and a time hh:mm:ss after the date, got '", printable(s.substr(10)), "'"));
  }
  const int64_t hour = fixed_digits(s, 11, 2);
  const int64_t minute = fixed_digits(s, 14, 2);
  const int64_t second = fixed_digits(s, 17, 2);
  if (hour < 0 || minute < 0 || second < 0 || s[13] != ':' || s[16] != ':') {
    return error(cat("expected a time hh:mm:ss after the date, got '", printable(s.substr(11)), "'"));
  }
  if (hour > 23 || minute > 59 || second > 60) {
    return error(cat("time ", s.substr(11, 8), " does not exist"));
  }
  size_t i = 19;
  int64_t nanos = 0;
  if (i < s.size() && s[i] == '.') {
    const size_t start = ++i;
    while (i < s.size() && is_digit(s[i])) ++i;
    if (i == start) return error("expected digits after '.'");
    if (i - start > 9) return error("at most 9 fractional digits (nanoseconds)");
    nanos = fixed_digits(s, start, i - start);
    for (size_t scale = i - start; scale < 9; ++scale) nanos *= 10;
  }
  int64_t offset_seconds = 0;
  if (i < s.size() && (s[i] == 'Z' || s[i] == 'z')) {
    ++i;
  } else if (i < s.size() && (s[i] == '+' || s[i] == '-')) {
    const int64_t offset_hours = fixed_digits(s, i + 1, 2);
    const int64_t offset_minutes = fixed_digits(s, i + 4, 2);
    if (offset_hours < 0 || offset_minutes < 0 || s[i + 3] != ':' || offset_hours > 23 || offset_minutes > 59) {
      return error(cat("expected an offset like +02:00, got '", printable(s.substr(i)), "'"));
    }
    offset_seconds = (offset_hours * 3600 + offset_minutes * 60) * (s[i] == '-' ? -1 : 1);
    i += 6;
  } else {
    return error(cat("expected 'Z' or an offset like +02:00 after the time",
                     i < s.size() ? cat(", got '", printable(s.substr(i)), "'") : "", " (local time is not accepted)"));
  }
  if (i != s.size()) return error(cat("unexpected '", printable(s.substr(i)), "' after the time"));
  // A leap second (:60) is simply one second more: the next minute's :00.
  const int128 seconds = int128{days} * 86400 + hour * 3600 + minute * 60 + second - offset_seconds;
  return checked_ns(seconds * kNsPerSecond + nanos);
}

// -1h, 1h30m, +10s: ns after now (negative before).
absl::StatusOr<int128> parse_duration(std::string_view s) {
  const auto error = [](std::string_view detail) { return absl::InvalidArgumentError(std::string(detail)); };
  constexpr std::string_view kUnits = "(ns, us, ms, s, m, h, d, w)";
  size_t i = 0;
  int sign = -1;  // no sign: before now
  if (s[0] == '-' || s[0] == '+') {
    sign = s[0] == '-' ? -1 : 1;
    ++i;
  }
  if (i == s.size()) return error(cat("expected a duration after '", s.substr(0, 1), "'"));
  int128 total = 0;
  while (i < s.size()) {
    const size_t start = i;
    while (i < s.size() && is_digit(s[i])) ++i;
    if (i == start) {
      return error(
          cat("expected an RFC 3339 time (2026-11-22T21:00:00Z) or a duration before now "
              "(-1h, 7d, 500ms), got '",
              printable(s.substr(start)), "'"));
    }
    const std::string_view number = s.substr(start, i - start);
    if (i < s.size() && s[i] == '.') {
      return error(
          cat("fractions are not accepted (at '", printable(s.substr(start)), "'): use a smaller unit, e.g. 1h30m"));
    }
    const size_t unit_start = i;
    while (i < s.size() && absl::ascii_isalpha(static_cast<unsigned char>(s[i]))) ++i;
    const std::string_view unit = s.substr(unit_start, i - unit_start);
    int64_t scale = 0;
    if (unit == "ns") scale = 1;
    if (unit == "us") scale = 1'000;
    if (unit == "ms") scale = 1'000'000;
    if (unit == "s") scale = kNsPerSecond;
    if (unit == "m") scale = 60 * kNsPerSecond;
    if (unit == "h") scale = 3600 * kNsPerSecond;
    if (unit == "d") scale = 86400 * kNsPerSecond;
    if (unit == "w") scale = 7 * 86400 * kNsPerSecond;
    if (unit.empty()) return error(cat("expected a unit after '", number, "' ", kUnits));
    if (scale == 0) return error(cat("unknown unit '", printable(unit), "' ", kUnits));
    if (number.size() > 19) return error(cat("'", number, unit, "' is ", kRangeMessage));
    int128 value = 0;
    for (const char c : number) value = value * 10 + (c - '0');
    total += value * scale;
    if (total > INT64_MAX) return error(cat("the duration '", printable(s), "' is too long"));
  }
  return total * sign;
}

}  // namespace

// ---------------------------------------------------------------------------
// WhereClause

absl::StatusOr<WhereClause> parse_where(std::string_view text) {
  WhereClause clause;
  clause.text_ = std::string(text);
  dom::parser parser;
  size_t i = 0;
  const size_t n = text.size();
  const auto skip_spaces = [&] {
    while (i < n && is_space(text[i])) ++i;
  };
  skip_spaces();
  if (i == n) return bad_where(text, "empty; expected KEY OP VALUE (OP: = != > >= < <= ~) or KEY exists");

  // The key.
  const size_t key_start = i;
  if (text[i] == '"') {
    size_t end = i + 1;
    while (end < n && text[end] != '"') end += text[end] == '\\' ? 2 : 1;
    if (end >= n) return bad_where(text, cat("the quoted key ", printable(text.substr(i)), " has no end"));
    const std::string_view literal = text.substr(i, end + 1 - i);
    std::optional<std::string> key = decode_json_string(parser, literal);
    if (!key) {
      return bad_where(text, cat("the quoted key ", printable(literal), " is not a valid JSON string"));
    }
    clause.key_ = std::move(*key);
    i = end + 1;
  } else {
    while (i < n && !is_space(text[i]) && !is_operator_char(text[i]) && text[i] != '"') ++i;
    if (i == key_start) {
      return bad_where(text, cat("expected a key before '", printable(text.substr(i)), "'"));
    }
    clause.key_ = std::string(text.substr(key_start, i - key_start));
    if (clause.key_.find('.') != std::string::npos) {
      for (std::string_view rest = clause.key_;;) {
        const size_t dot = rest.find('.');
        const std::string_view segment = rest.substr(0, dot);
        if (segment.empty()) {
          return bad_where(text, cat("the path '", printable(clause.key_), "' has an empty segment; quote the key (\"",
                                     printable(clause.key_), "\") to name one top-level key"));
        }
        clause.path_.emplace_back(segment);
        if (dot == std::string_view::npos) break;
        rest.remove_prefix(dot + 1);
      }
    }
  }
  const std::string_view key_text = text.substr(key_start, i - key_start);
  skip_spaces();

  // The operator, or `exists`.
  std::string_view rest = text.substr(i);
  constexpr std::string_view kExists = "exists";
  if (rest.starts_with(kExists) && (rest.size() == kExists.size() || is_space(rest[kExists.size()]))) {
    const std::string_view after = trim(rest.substr(kExists.size()));
    if (!after.empty()) {
      return bad_where(text, cat("unexpected '", printable(after), "' after '", printable(key_text), " exists'"));
    }
    clause.op_ = WhereOp::kExists;
    clause.value_ = nullptr;
    clause.make_needle();
    return clause;
  }
  static constexpr std::pair<std::string_view, WhereOp> kOperators[] = {
      {"!=", WhereOp::kNe}, {">=", WhereOp::kGe}, {"<=", WhereOp::kLe},   {"=", WhereOp::kEq},
      {">", WhereOp::kGt},  {"<", WhereOp::kLt},  {"~", WhereOp::kMatch},
  };
  bool found = false;
  for (const auto& [symbol, op] : kOperators) {
    if (rest.starts_with(symbol)) {
      clause.op_ = op;
      i += symbol.size();
      found = true;
      break;
    }
  }
  if (!found) {
    return bad_where(text, cat("after '", printable(key_text), "' expected an operator (= != > >= < <= ~) or 'exists'",
                               rest.empty() ? "" : cat(", got '", printable(rest), "'")));
  }
  const std::string_view prefix = text.substr(key_start, i - key_start);
  skip_spaces();
  const std::string_view value = trim_end(text.substr(i));

  // The value.
  if (clause.op_ == WhereOp::kMatch) {
    if (value.empty()) {
      return bad_where(text, cat("after '", printable(prefix), "' expected a regex"));
    }
    std::string pattern(value);
    if (value.front() == '"') {
      std::optional<std::string> decoded = decode_json_string(parser, value);
      if (!decoded) {
        return bad_where(text,
                         cat("the regex '", printable(value), "' starts with '\"' but is not a valid JSON string"));
      }
      pattern = std::move(*decoded);
    }
    RE2::Options options;
    options.set_log_errors(false);  // the error goes to the caller, not stderr
    auto regex = std::make_shared<const RE2>(pattern, options);
    if (!regex->ok()) {
      return bad_where(text, cat("the regex '", printable(pattern), "' is invalid: ", regex->error()));
    }
    clause.regex_ = std::move(regex);
    clause.value_ = std::move(pattern);
  } else {
    absl::StatusOr<JsonScalar> scalar = read_value(parser, value, clause.op_, prefix);
    if (!scalar.ok()) return bad_where(text, message_of(scalar.status()));
    clause.value_ = std::move(*scalar);
  }
  clause.make_needle();
  return clause;
}

WhereClause WhereClause::equals(std::string_view key, JsonScalar value) {
  WhereClause clause;
  clause.key_ = std::string(key);
  clause.op_ = WhereOp::kEq;
  // Integers as simdjson types them: uint64_t only above INT64_MAX.
  if (const auto* u = std::get_if<uint64_t>(&value); u != nullptr && *u <= INT64_MAX) {
    value = static_cast<int64_t>(*u);
  }
  clause.value_ = std::move(value);
  append_json_string(clause.text_, clause.key_);
  clause.text_ += " = ";
  std::visit(
      [&](const auto& v) {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, std::nullptr_t>) {
          clause.text_ += "null";
        } else if constexpr (std::is_same_v<T, bool>) {
          clause.text_ += v ? "true" : "false";
        } else if constexpr (std::is_same_v<T, int64_t>) {
          append_json_int(clause.text_, v);
        } else if constexpr (std::is_same_v<T, uint64_t>) {
          append_json_uint(clause.text_, v);
        } else if constexpr (std::is_same_v<T, double>) {
          append_json_double(clause.text_, v);
        } else {
          append_json_string(clause.text_, v);
        }
      },
      clause.value_);
  clause.make_needle();
  return clause;
}

void WhereClause::make_needle() {
  needle_.reset();
  if (!path_.empty()) return;  // the value may sit in a nested object
  std::string key_needle;
  append_json_string(key_needle, key_);
  key_needle.push_back(':');
  switch (op_) {
    case WhereOp::kNe:
      // Only != null needs the key; != anything else matches lines without it.
      if (std::holds_alternative<std::nullptr_t>(value_)) needle_ = std::move(key_needle);
      return;
    case WhereOp::kEq:
      break;
    default:
      needle_ = std::move(key_needle);
      return;
  }
  if (std::holds_alternative<std::nullptr_t>(value_)) return;  // a missing key matches
  needle_ = std::move(key_needle);
  if (const auto* b = std::get_if<bool>(&value_)) {
    *needle_ += *b ? "true" : "false";
  } else if (const auto* s = std::get_if<std::string>(&value_)) {
    append_json_string(*needle_, *s);
  } else if (const std::optional<Number> number = number_of(value_)) {
    int128 integer = number->integer;
    if (number->is_double) {
      // An integral double below 2^53 is that integer; others keep the key only.
      const double d = number->real;
      if (!(std::fabs(d) < 0x1p53) || d != std::trunc(d)) return;
      integer = static_cast<int128>(d);
    }
    if (integer_text_is_unique(integer)) append_integer(*needle_, integer);
  }
}

bool WhereClause::test(const dom::element* value) const {
  switch (op_) {
    case WhereOp::kExists:
      return value != nullptr;
    case WhereOp::kMatch: {
      std::string_view text;
      return value != nullptr && value->get_string().get(text) == simdjson::SUCCESS && RE2::PartialMatch(text, *regex_);
    }
    case WhereOp::kEq:
    case WhereOp::kNe: {
      bool equal = false;
      if (std::holds_alternative<std::nullptr_t>(value_)) {
        equal = value == nullptr || value->is_null();
      } else if (value == nullptr) {
        equal = false;
      } else if (const auto* b = std::get_if<bool>(&value_)) {
        bool v = false;
        equal = value->get_bool().get(v) == simdjson::SUCCESS && v == *b;
      } else if (const auto* s = std::get_if<std::string>(&value_)) {
        std::string_view v;
        equal = value->get_string().get(v) == simdjson::SUCCESS && v == *s;
      } else {
        const std::optional<Number> line_number = number_of(*value);
        equal = line_number && compare(*line_number, *number_of(value_)) == 0;
      }
      return op_ == WhereOp::kEq ? equal : !equal;
    }
    case WhereOp::kGt:
    case WhereOp::kGe:
    case WhereOp::kLt:
    case WhereOp::kLe: {
      if (value == nullptr) return false;
      std::partial_ordering order = std::partial_ordering::unordered;
      if (const auto* s = std::get_if<std::string>(&value_)) {
        std::string_view v;
        if (value->get_string().get(v) == simdjson::SUCCESS) order = v <=> std::string_view(*s);
      } else if (const std::optional<Number> line_number = number_of(*value)) {
        order = compare(*line_number, *number_of(value_));
      }
      switch (op_) {
        case WhereOp::kGt:
          return order > 0;
        case WhereOp::kGe:
          return order >= 0;
        case WhereOp::kLt:
          return order < 0;
        default:
          return order <= 0;
      }
    }
  }
  return false;
}

bool WhereClause::matches(dom::element line) const {
  dom::object object;
  if (line.get_object().get(object) != simdjson::SUCCESS) return false;
  dom::element value;
  if (object.at_key(key_).get(value) == simdjson::SUCCESS) return test(&value);
  if (path_.empty()) return test(nullptr);
  value = line;
  for (const std::string& segment : path_) {
    dom::object nested;
    if (value.get_object().get(nested) != simdjson::SUCCESS || nested.at_key(segment).get(value) != simdjson::SUCCESS) {
      return test(nullptr);
    }
  }
  return test(&value);
}

// ---------------------------------------------------------------------------
// Levels and time bounds

absl::StatusOr<shm::Level> parse_min_level(std::string_view text) {
  const std::string_view name = trim(text);
  for (size_t i = 0; i < std::size(kLevelNames); ++i) {
    if (equals_ignore_case(name, kLevelNames[i])) return static_cast<shm::Level>(i);
  }
  return absl::InvalidArgumentError(cat("bad --level '", printable(text),
                                        "': expected one of TRACE, DEBUG, INFO, WARN, ERROR, CRITICAL "
                                        "(any case)"));
}

absl::StatusOr<int64_t> parse_time_bound(std::string_view text, int64_t now_ns) {
  const std::string_view s = trim(text);
  if (s.empty()) {
    return bad_time(text,
                    "empty; expected an RFC 3339 time (2026-11-22T21:00:00Z) or a duration before now "
                    "(-1h, 7d, 500ms)");
  }
  if (equals_ignore_case(s, "now")) return now_ns;
  // RFC 3339 begins with a four-digit year and '-'; no duration does.
  if (s.size() >= 5 && fixed_digits(s, 0, 4) >= 0 && s[4] == '-') {
    absl::StatusOr<int64_t> ns = parse_rfc3339(s);
    if (!ns.ok()) return bad_time(text, message_of(ns.status()));
    return ns;
  }
  absl::StatusOr<int128> offset = parse_duration(s);
  if (!offset.ok()) return bad_time(text, message_of(offset.status()));
  absl::StatusOr<int64_t> ns = checked_ns(int128{now_ns} + *offset);
  if (!ns.ok()) return bad_time(text, message_of(ns.status()));
  return ns;
}

std::string format_bound_as_timestamp(int64_t ns) {
  TimestampFormatter formatter;
  std::string quoted;
  formatter.append(quoted, ns);
  return quoted.substr(1, quoted.size() - 2);
}

bool is_canonical_timestamp(std::string_view text) {
  static constexpr std::string_view kShape = "dddd-dd-ddTdd:dd:dd.dddddddddZ";
  if (text.size() != kShape.size()) return false;
  for (size_t i = 0; i < kShape.size(); ++i) {
    if (kShape[i] == 'd' ? !is_digit(text[i]) : text[i] != kShape[i]) return false;
  }
  return true;
}

std::optional<std::string_view> canonical_line_timestamp(std::string_view raw_line) {
  constexpr std::string_view kHead = R"({"timestamp":")";
  constexpr size_t kBytes = 30;
  if (raw_line.size() < kHead.size() + kBytes + 1 || !raw_line.starts_with(kHead) ||
      raw_line[kHead.size() + kBytes] != '"') {
    return std::nullopt;
  }
  const std::string_view timestamp = raw_line.substr(kHead.size(), kBytes);
  if (!is_canonical_timestamp(timestamp)) return std::nullopt;
  return timestamp;
}

// ---------------------------------------------------------------------------
// Filter

void Filter::set_since(int64_t ns) {
  since_ns_ = ns;
  since_text_ = format_bound_as_timestamp(ns);
}

void Filter::set_until(int64_t ns) {
  until_ns_ = ns;
  until_text_ = format_bound_as_timestamp(ns);
}

bool Filter::timestamp_in_bounds(std::string_view timestamp) const {
  if (is_canonical_timestamp(timestamp)) {
    // Fixed width: text order is time order (filter.hpp).
    if (since_ns_ && timestamp < since_text_) return false;
    if (until_ns_ && timestamp >= until_text_) return false;
    return true;
  }
  const absl::StatusOr<int64_t> ns = parse_rfc3339(timestamp);
  if (!ns.ok()) return false;
  if (since_ns_ && *ns < *since_ns_) return false;
  if (until_ns_ && *ns >= *until_ns_) return false;
  return true;
}

bool Filter::may_match(std::string_view raw_line) const {
  if (since_ns_ || until_ns_ || min_level_) {
    if (const std::optional<std::string_view> timestamp = canonical_line_timestamp(raw_line)) {
      if (since_ns_ && *timestamp < since_text_) return false;
      if (until_ns_ && *timestamp >= until_text_) return false;
      // The level follows at a fixed offset: {"timestamp":"…","level":"INFO".
      constexpr std::string_view kLevelHead = R"(","level":")";
      constexpr size_t kLevelAt = 44;
      if (min_level_ && raw_line.substr(kLevelAt, kLevelHead.size()) == kLevelHead) {
        const std::string_view after = raw_line.substr(kLevelAt + kLevelHead.size());
        const size_t end = after.find('"');
        const std::string_view word = after.substr(0, end);
        // Without a backslash the raw text is the decoded string: decide now.
        if (end != std::string_view::npos && word.find('\\') == std::string_view::npos &&
            !level_passes(word, *min_level_)) {
          return false;
        }
      }
    }
  }
  for (const WhereClause& clause : clauses_) {
    const std::optional<std::string>& needle = clause.needle();
    if (!needle || needle->empty()) continue;
    // memmem() takes no null pointer, which an empty view may hold.
    if (raw_line.size() < needle->size() ||
        ::memmem(raw_line.data(), raw_line.size(), needle->data(), needle->size()) == nullptr) {
      return false;
    }
  }
  return true;
}

bool Filter::matches(dom::element line) const {
  dom::object object;
  if (line.get_object().get(object) != simdjson::SUCCESS) return false;
  if (since_ns_ || until_ns_) {
    std::string_view timestamp;
    if (object.at_key("timestamp").get_string().get(timestamp) != simdjson::SUCCESS) return false;
    if (!timestamp_in_bounds(timestamp)) return false;
  }
  if (min_level_) {
    std::string_view level;
    if (object.at_key("level").get_string().get(level) != simdjson::SUCCESS) return false;
    if (!level_passes(level, *min_level_)) return false;
  }
  for (const WhereClause& clause : clauses_) {
    if (!clause.matches(line)) return false;
  }
  return true;
}

}  // namespace ringtail::reader
