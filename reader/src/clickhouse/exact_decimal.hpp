// Exact decimal values of numbers, and the text key that orders them: what
// lets SQL compare a line's number text with a --where value exactly, with
// string functions only (clickhouse_where.cpp).
//
// Why not Float64: ClickHouse 18.16 reads decimal text into Float64 with its
// own fast parser, which is one unit in the last place off for about one
// value in six (measured: 6306 of 39987 random doubles written in their
// shortest text), so toFloat64(text) = 0.1 is no exact test. Every JSON
// number text, every double and every integer has an exact decimal value;
// comparing those is exact, and a key built from the value's digits compares
// like the values (number_order_key).
//
// The key (json_sql.hpp builds the same one in SQL from a number's text):
//   zero       "2"
//   positive   "3" + (500000 + E) + DIGITS
//   negative   "1" + (500000 - E) + DIGITS with each digit d as 9-d + "~"
// where the value is 0.DIGITS x 10^E, DIGITS without leading or trailing
// zeros (so E is fixed by the value), and 500000 ± E has six digits for
// every |E| < 400000 (doubles have |E| < 330). Byte order of keys is the
// order of the values: by sign, then exponent, then digits (a shorter digit
// string is a prefix, hence smaller; for negatives the complement reverses
// that, and "~" sorts after every digit).
//
// Internal to the reader's sources. Pure functions.
#pragma once

#include <cstdint>
#include <string>

namespace ringtail::reader::internal {

struct ExactDecimal {
  int sign = 0;          // -1, 0 or 1
  int64_t exponent = 0;  // the value is sign x 0.digits x 10^exponent
  std::string digits;    // no leading or trailing '0'; empty for zero
};

// The value of an integer.
ExactDecimal exact_decimal(__int128 value);
// The exact value of a finite long double (so of every double, and of the
// midpoint of two neighbouring doubles, which a long double holds exactly).
ExactDecimal exact_decimal(long double value);

// The ordering key of the file comment.
std::string number_order_key(const ExactDecimal& value);

}  // namespace ringtail::reader::internal
