#include "clickhouse/json_sql.hpp"

#include <simdjson.h>

#include <string>
#include <string_view>

#include "internal/message_text.hpp"
#include "ringtail/reader/clickhouse/clickhouse_client.hpp"
#include "ringtail/reader/output/json_text.hpp"

namespace ringtail::reader::internal {
namespace {

// Regular expressions are written as RE2 reads them; sql_literal escapes
// their backslashes for the SQL string.
std::string regex(std::string_view pattern) { return sql_string_literal(pattern); }

// n zeros (n clamped to 0..40: ClickHouse evaluates both sides of if(), so
// the length of a branch not taken must stay harmless too).
std::string sql_zeros(const std::string& n) {
  return cat("arrayStringConcat(arrayMap(z -> '0', range(toUInt64(least(greatest(", n, ", 0), 40)))))");
}

// Each digit d of a digit string as 9 - d.
std::string sql_complement(const std::string& digits) {
  return cat(
      "arrayStringConcat(arrayMap(d -> transform(d, ['0','1','2','3','4','5','6','7','8','9'], "
      "['9','8','7','6','5','4','3','2','1','0'], ''), extractAll(",
      digits, ", '[0-9]')))");
}

}  // namespace

bool is_valid_utf8(std::string_view text) { return simdjson::validate_utf8(text.data(), text.size()); }

std::string stored_key(std::string_view key) {
  std::string quoted;
  append_json_string(quoted, key);
  return quoted.substr(1, quoted.size() - 2);
}

std::string sql_literal(std::string_view text) { return sql_string_literal(text); }

SqlValue sql_lookup(std::string_view key, bool as_path) {
  if (!is_valid_utf8(key)) return {"0", "''"};
  const std::string name = sql_literal(stored_key(key));
  const std::string index = cat("indexOf(keys, ", name, ")");
  if (key == "host") {
    // The host column stands for a `host` key the line does not have.
    return {"1", cat("if(", index, " > 0, arrayElement(values, ", index, "), ", sql_json_string("host"), ")")};
  }
  if (!as_path) return {cat("(", index, " > 0)"), cat("arrayElement(values, ", index, ")")};
  const std::string path_index = cat("indexOf(paths, ", name, ")");
  return {cat("(", index, " > 0 OR ", path_index, " > 0)"),
          cat("if(", index, " > 0, arrayElement(values, ", index, "), arrayElement(path_values, ", path_index, "))")};
}

std::string sql_is_string(const std::string& text) { return cat("startsWith(", text, ", '\"')"); }

std::string sql_is_number(const std::string& text) { return cat("match(", text, ", ", regex("^-?[0-9]"), ")"); }

std::string sql_is_double_text(const std::string& text) { return cat("match(", text, ", ", regex("[.eE]"), ")"); }

std::string sql_decoded_string(const std::string& text) {
  // The object is built around one value, so its first "v": is this one
  // (visitParamExtract* look for a key anywhere in the text).
  return cat("visitParamExtractString(concat('{\"v\":', ", text, ", '}'), 'v')");
}

std::string sql_number_key(const std::string& text) {
  const std::string integer = cat("extract(", text, ", ", regex("^-?([0-9]*)"), ")");
  const std::string fraction = cat("extract(", text, ", ", regex("^-?[0-9]*\\.([0-9]*)"), ")");
  const std::string power = cat("toInt64OrZero(extract(", text, ", ", regex("[eE]([-+]?[0-9]+)$"), "))");
  const std::string all = cat("concat(", integer, ", ", fraction, ")");
  const std::string unpadded = cat("replaceRegexpOne(", all, ", ", regex("^0+"), ", '')");
  const std::string digits = cat("replaceRegexpOne(", unpadded, ", ", regex("0+$"), ", '')");
  // 0.DIGITS x 10^E: E = integer digits + power - leading zeros.
  const std::string exponent = cat("(toInt64(length(", integer, ")) + ", power, " - (toInt64(length(", all,
                                   ")) - toInt64(length(", unpadded, "))))");
  return cat("multiIf(", digits, " = '', '2', startsWith(", text, ", '-'), concat('1', toString(500000 - ", exponent,
             "), ", sql_complement(digits), ", '~'), concat('3', toString(500000 + ", exponent, "), ", digits, "))");
}

SqlDecimal sql_decimal18(const std::string& text, const std::string& prefix) {
  // Decimal::parse (cost.cpp), step by step: the same grammar, limits and
  // rounding, on the digit string; the units (a digit string of at most 37
  // digits) become a decimal text that toDecimal128 reads exactly.
  SqlDecimal out;
  const auto step = [&](std::string_view name, const std::string& expression) {
    std::string alias = cat(prefix, "_", name);
    out.columns.push_back(cat(expression, " AS ", alias));
    return alias;
  };
  const std::string value_text = step("text", text);
  const std::string grammar =
      step("grammar", cat("match(", value_text, ", ", regex("^-?(0|[1-9][0-9]*)(\\.[0-9]+)?([eE][-+]?[0-9]+)?$"), ")"));
  const std::string integer = step("integer", cat("extract(", value_text, ", ", regex("^-?([0-9]+)"), ")"));
  const std::string fraction = step("fraction", cat("extract(", value_text, ", ", regex("^-?[0-9]+\\.([0-9]+)"), ")"));
  const std::string power_text =
      step("power_text", cat("extract(", value_text, ", ", regex("[eE]([-+]?[0-9]+)$"), ")"));
  const std::string power_digits =
      step("power_digits", cat("replaceRegexpOne(", power_text, ", ", regex("^[-+]?0*"), ", '')"));
  const std::string power_ok =
      step("power_ok", cat("(length(", power_digits, ") <= 4 AND toInt64OrZero(", power_digits, ") <= 1000)"));
  const std::string power =
      step("power", cat("(if(startsWith(", power_text, ", '-'), -1, 1) * toInt64OrZero(", power_digits, "))"));
  const std::string digits =
      step("digits", cat("replaceRegexpOne(concat(", integer, ", ", fraction, "), ", regex("^0+"), ", '')"));
  const std::string size = step("size", cat("toInt64(length(", digits, "))"));
  // units = digits x 10^shift
  const std::string shift = step("shift", cat("(", power, " - toInt64(length(", fraction, ")) + 18)"));
  const std::string drop = step("drop", cat("(0 - ", shift, ")"));
  const std::string kept_size = step("kept_size", cat("toUInt64(greatest(", size, " - ", drop, ", 0))"));
  const std::string kept = step("kept", cat("substring(", digits, ", 1, ", kept_size, ")"));
  const std::string rest =
      step("rest", cat("if(", drop, " > ", size, ", '', substring(", digits, ", ", kept_size, " + 1))"));
  const std::string round_up =
      step("round_up",
           cat("(", drop, " <= ", size, " AND (substring(", rest, ", 1, 1) > '5' OR (substring(", rest,
               ", 1, 1) = '5' AND (match(substring(", rest, ", 2), '[1-9]') OR match(", kept, ", '[13579]$')))))"));
  const std::string zero = step("zero", cat("(", digits, " = '')"));
  const std::string fits =
      step("fits", cat("if(", shift, " >= 0, ", size, " + ", shift, " <= 37, length(", kept, ") <= 37)"));
  out.readable = step("readable", cat("(", grammar, " AND ", power_ok, " AND (", zero, " OR ", fits, "))"));
  const std::string units =
      step("units", cat("if(", shift, " >= 0, concat(", digits, ", ", sql_zeros(shift), "), ", kept, ")"));
  const std::string units_size = step("units_size", cat("toInt64(length(", units, "))"));
  const std::string point_text = step(
      "point_text", cat("if(", units_size, " <= 18, concat('0.', ", sql_zeros(cat("18 - ", units_size)), ", ", units,
                        "), concat(substring(", units, ", 1, toUInt64(greatest(", units_size,
                        " - 18, 0))), '.', substring(", units, ", toUInt64(greatest(", units_size, " - 17, 1)))))"));
  const std::string nonzero = step("nonzero", cat("(", out.readable, " AND NOT ", zero, ")"));
  const std::string magnitude =
      step("magnitude", cat("(toDecimal128(if(", nonzero, ", ", point_text,
                            ", '0'), 18) + toDecimal128('0.000000000000000001', 18) * toUInt8(", nonzero, " AND ",
                            shift, " < 0 AND ", round_up, "))"));
  out.value = step("value", cat("if(startsWith(", value_text, ", '-'), -", magnitude, ", ", magnitude, ")"));
  return out;
}

std::string sql_json_string(const std::string& expression) {
  std::string escaped = cat("replaceAll(replaceAll(", expression, ", ", sql_literal("\\"), ", ", sql_literal("\\\\"),
                            "), ", sql_literal("\""), ", ", sql_literal("\\\""), ")");
  for (int byte = 0; byte < 0x20; ++byte) {
    const std::string raw(1, static_cast<char>(byte));
    std::string written;
    append_json_string(written, raw);
    escaped = cat("replaceAll(", escaped, ", ", sql_literal(raw), ", ",
                  sql_literal(std::string_view{written}.substr(1, written.size() - 2)), ")");
  }
  return cat("concat('\"', ", escaped, ", '\"')");
}

}  // namespace ringtail::reader::internal
