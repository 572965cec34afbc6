// A reader::Filter (query/filter.hpp) as the WHERE condition of a query over
// ringtail's ClickHouse table (clickhouse_table.hpp): the rows whose lines
// the filter keeps over a directory, no more and no fewer.
//
// How each part reads the row (the texts are the line's as the reader wrote
// them, in its canonical form, docs/FORMAT.md; json_sql.hpp builds the
// expressions):
//
//   the value of a key   values[indexOf(keys, K)], K the key JSON-escaped as
//                        written; a bare dotted key falls back to
//                        path_values[indexOf(paths, K)] (json_path.hpp's
//                        rule); a missing key gives '' (like null, as the
//                        directory's filter has it). `host` is the host
//                        column when the line has no `host` key.
//   = / != null, true,   text comparisons: the canonical text of one JSON
//   false, "string"      scalar is unique (a string that is not UTF-8
//                        equals nothing, as over a directory).
//   numbers (= != < <=   exact, through the decimal values (exact_decimal.hpp):
//   > >=)                an integer text (no '.', 'e', 'E') compares its
//                        value with the value's; a double text t, read as the
//                        nearest double R, compares through the bounds of
//                        R's rounding interval: R < w exactly when t is below
//                        the midpoint under the smallest double >= w (at the
//                        midpoint itself, as ties to even round). So 42,
//                        42.0 and 4.2e1 are equal, 9007199254740993 is not
//                        9007199254740992.0, and a double equals an integer
//                        only when it is that integer: the directory's
//                        answers for every number.
//   "string" < <= > >=   the decoded text (visitParamExtractString of the
//                        value wrapped as {"v":…}), compared byte-wise.
//   ~ RE                 match() of the decoded text with (?-m).^|(?-s)RE:
//                        ClickHouse runs RE2 too, but lets '.' match '\n'
//                        ((?-s) turns that off, as RE2's defaults have it)
//                        and prefilters rows by the literal text it thinks
//                        RE requires, misreading escapes such as \x41 (an
//                        alternative that never matches, .^, turns that off).
//   exists               the key (or path) is there.
//   message, service     the typed columns (decoded text) for = and != with a
//   (--message,          string and for ~; pid (--pid) for = and != with an
//   --service, --pid)    integer: the head keys are always there, and the
//                        columns hold them exactly.
//   --level L            level IN (L and above): the level column is the
//                        line's level word (OFF never passes).
//   --since / --until    since <= time_ns < until, and the same bounds on
//                        `time` (whole seconds) so that ClickHouse skips
//                        partitions outside them.
//
// Threading: pure functions.
#pragma once

#include <string>

#include "ringtail/reader/query/filter.hpp"

namespace ringtail::reader {

// The condition (never empty: "1" keeps every row), to follow WHERE.
std::string clickhouse_where(const Filter& filter);

// One clause alone, for tests and for callers that build their own WHERE.
std::string clickhouse_where(const WhereClause& clause);

// A condition that every row clickhouse_where(filter) keeps also passes,
// cheap to compute, for PREWHERE (ClickHouse then computes the WHERE only
// for the rows it keeps): each numeric = < <= > >= clause as a Float64
// bound on the value, widened by a relative 1e-12 (far more than any
// misreading of a decimal text); a value that is not a number passes.
// Empty when the filter has no such clause. The exact comparison costs
// regular expressions per row; this lets a selective filter skip them.
std::string clickhouse_prewhere(const Filter& filter);

}  // namespace ringtail::reader
