// SQL expressions over one row of ringtail's ClickHouse table
// (clickhouse_table.hpp) that read its JSON texts as the directory's reader
// reads the parsed line: which value a key names, its type, a string's
// decoded text, a number's exact order key and its decimal value. Built once
// per query as text; every piece of user text in them is a literal made by
// sql_string_literal().
//
// The texts are what the sink stored: the line's keys and values as the
// reader wrote them, in its canonical form (docs/FORMAT.md: strings with the
// canonical escapes only, no spaces, integers as plain digits, doubles as
// their shortest text). Two texts of the same JSON scalar are then equal as
// text, which lets = on strings and booleans compare texts.
//
// SQL used: functions ClickHouse 18.16 (Debian 12) has and current releases
// still have (indexOf, arrayElement, extract, extractAll, replaceRegexpOne,
// transform, visitParamExtractString, toDecimal128, ...): no JSON* functions,
// no Float64 reading of decimal text where exactness matters
// (exact_decimal.hpp says why). Version notes: visitParamExtractString is
// called simpleJSONExtractString in current releases (the old name stays);
// 18.16 takes no least()/greatest() of UInt64 with Float64 (callers convert
// first); current releases may print a Decimal without trailing zeros
// (output_format_decimal_trailing_zeros), which Decimal::parse reads alike.
//
// Internal to the reader's sources. Pure functions.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace ringtail::reader::internal {

// A value a key names in a row: `found` (UInt8) and `text` (String: the
// value's JSON text as stored, '' when not found).
struct SqlValue {
  std::string found;
  std::string text;
};

// The value `key` names (json_path.hpp): the top-level key of that exact
// name, else, when `as_path`, the nested member at that dotted path (the
// paths / path_values columns). `host`, when the line has no such key, is
// the host column (as a JSON string). A key that is not valid UTF-8 names
// nothing (no line's key is; the directory's lookup finds none either).
SqlValue sql_lookup(std::string_view key, bool as_path);

// The key as the keys column holds it: JSON-escaped as the reader writes
// it, without the quotes (meaningful for valid UTF-8 only: the reader
// writes ill-formed bytes as U+FFFD, which another key may hold).
std::string stored_key(std::string_view key);
bool is_valid_utf8(std::string_view text);

// `text` (a JSON text expression) is a string, a number.
std::string sql_is_string(const std::string& text);
std::string sql_is_number(const std::string& text);
// The number text has a fraction or an exponent: simdjson reads it as a
// double (an integer text is read exactly as int64 or uint64).
std::string sql_is_double_text(const std::string& text);
// The decoded text of a JSON string text (all JSON escapes undone).
std::string sql_decoded_string(const std::string& text);
// The exact order key of a JSON number text (exact_decimal.hpp): equal keys
// for equal values, byte order for value order.
std::string sql_number_key(const std::string& text);

// A JSON number text as cost.hpp's Decimal reads it, step by step as
// columns of one SELECT (each `expression AS name`, later ones naming
// earlier ones, so that the SQL grows with the steps, not with their
// product): `readable` names a UInt8, true when Decimal::parse would give a
// value (a JSON number whose value fits 37 digits of 1e-18 units, exponent
// at most 1000), and `value` a Decimal128(18) equal to that value (rounded
// half to even past the 18th fractional digit, as Decimal::parse rounds; 0
// when not readable). Names start with `prefix`.
struct SqlDecimal {
  std::vector<std::string> columns;
  std::string readable;
  std::string value;
};
SqlDecimal sql_decimal18(const std::string& text, const std::string& prefix);

// A JSON string text of a String expression, escaped as the reader escapes
// (for the host column; bytes that are not UTF-8 stay as they are).
std::string sql_json_string(const std::string& expression);

// SQL literal of a JSON text (a quoted literal of exactly those bytes).
std::string sql_literal(std::string_view text);

}  // namespace ringtail::reader::internal
