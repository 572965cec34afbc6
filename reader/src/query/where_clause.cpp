// WhereClause: parsing --where expressions and their needles (filter.hpp
// says what is accepted and what a needle promises).
//
// Values are read by the same parser as the lines (simdjson), so that a
// --where value and a line's value of the same text get the same type and
// value (json_number.hpp compares them).
#include "ringtail/reader/query/filter.hpp"

#include <re2/re2.h>

#include <cmath>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "internal/message_text.hpp"
#include "query/json_number.hpp"
#include "ringtail/reader/output/json_text.hpp"
#include "ringtail/reader/query/json_path.hpp"

namespace ringtail::reader {
namespace {

using internal::cat;
using internal::int128;
using internal::Number;
using internal::number_of;
using internal::printable;
namespace dom = simdjson::dom;

bool is_space(char c) { return absl::ascii_isspace(static_cast<unsigned char>(c)); }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

std::string_view trim_end(std::string_view s) {
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

absl::Status bad_where(std::string_view text, std::string_view detail) {
  return absl::InvalidArgumentError(cat("bad --where '", printable(text), "': ", detail));
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
      if (!is_json_path(clause.key_)) {
        return bad_where(text, cat("the path '", printable(clause.key_), "' has an empty segment; quote the key (\"",
                                   printable(clause.key_), "\") to name one top-level key"));
      }
      clause.is_path_ = true;
    }
  }
  const std::string_view key_text = text.substr(key_start, i - key_start);
  skip_spaces();

  // The operator, or `exists`.
  std::string_view rest = text.substr(i);
  constexpr std::string_view kExists = "exists";
  if (rest.starts_with(kExists) && (rest.size() == kExists.size() || is_space(rest[kExists.size()]))) {
    const std::string_view after = internal::trim_space(rest.substr(kExists.size()));
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
      return bad_where(text, cat("the regex '", printable(pattern), "' is invalid: ", printable(regex->error())));
    }
    clause.regex_ = std::move(regex);
    clause.value_ = std::move(pattern);
  } else {
    absl::StatusOr<JsonScalar> scalar = read_value(parser, value, clause.op_, prefix);
    if (!scalar.ok()) return bad_where(text, std::string{scalar.status().message()});
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
  if (is_path_) return;  // the value may sit in a nested object
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

}  // namespace ringtail::reader
