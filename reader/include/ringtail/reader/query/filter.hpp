// The filter layer of `ringtail query`, `stats` and `tail`: which JSONL lines
// (docs/FORMAT.md) a command keeps, from its --where, --level, --since and
// --until options (and --message, --service, --pid, which are equalities).
//
// A line is kept when it passes every part of its Filter: each --where
// clause (ANDed), the level floor and the time bounds. Two ways to ask:
//
//   Filter::may_match(raw line)     cheap, on the bytes: false only when the
//                                   line certainly fails (memmem for each
//                                   clause's needle, the timestamp and level
//                                   read at their fixed offsets);
//   Filter::matches(parsed line)    exact, on the parsed line (ParsedLine,
//                                   parsed_line.hpp: this header needs no
//                                   JSON parser).
//
// A scanner calls may_match() first and parses only what it lets through;
// matches() alone is complete (it never relies on may_match() having run).
//
// --where syntax: `KEY OP VALUE` or `KEY exists`, spaces allowed around the
// operator.
//
//   KEY    a bare key: every byte up to whitespace or one of = ! < > ~ ";
//          or a JSON string ("a=b", "x y", "caf\u00e9") for any other key.
//          A bare key names a value as json_path.hpp says: the top-level key
//          of that name, else, when it contains '.', a path into nested
//          objects (error.type is {"error":{"type":…}}); a bare key with an
//          empty segment (a..b, .a) is refused. A quoted key is always one
//          top-level key, never a path.
//   VALUE  the text after the operator, without surrounding whitespace, read
//          as a JSON literal when it is one (true, false, null, a number, a
//          "double-quoted string" with JSON escapes), otherwise as a bare
//          string: tool=write_file and tool="write_file" are the same, and
//          allow=false is the boolean, allow="false" the string. A value that
//          starts with '"' must be a whole valid JSON string; a JSON array or
//          object is refused (there is no comparison for them); an empty
//          value is refused ("" is the empty string); for = and != a bare
//          value starting with = < > or ~ is refused as a probable typo
//          (key==1, key=>1): quote it to mean it.
//
// Semantics (a missing key behaves like null, as in jq):
//
//   key=v    true when the key's value equals v as JSON values: the same type
//            and the same value. Numbers compare by value, exactly, whatever
//            their text or their parser type (42, 42.0 and 4.2e1 are equal;
//            18446744073709551615 and 18446744073709551614 are not; an
//            integer and a double are compared without rounding either).
//            A number never equals a string ("42", "NaN"), a boolean never
//            equals a string ("false"). key=null is true when the key is
//            missing or null; objects and arrays equal no value.
//   key!=v   exactly not(key=v): true for a missing key unless v is null.
//   > >= < <=  v must be a number or a "quoted string" (anything else is a
//            usage error). A number compares with numeric values only
//            (exactly, as for =); a string compares with string values only,
//            byte-wise, which is code point order for UTF-8
//            (timestamp>="2026-11-22T21" works since timestamps are
//            fixed-width). Never true for a missing key, null or another type.
//   key~re   true when the value is a string and the RE2 regex `re` matches
//            part of it (unanchored: use ^ and $ to anchor). `re` is the text
//            as written, or the decoded string if it is written as a JSON
//            string. RE2 runs in linear time, so user patterns are safe. An
//            invalid pattern is a usage error. Non-strings never match.
//   key exists  true when the key is present, whatever its value (null too).
//
// A line that is not a JSON object matches no clause.
//
// Needles: each clause may carry a literal that the raw text of every line it
// matches contains, so that lines without it are skipped unparsed. They hold
// only for lines in ringtail's canonical form, as the reader writes them
// (json_text.hpp): `"key":` with no space, strings with the canonical escapes
// only, integers as plain digits, doubles as their shortest text. A scanner
// reading JSONL written by another tool must not use them (call matches()
// only). A clause on a top-level key (no '.' in a bare key, or quoted) has
//   `"key":"value"`  for = with a string;
//   `"key":true` / `"key":false`  for = with a boolean;
//   `"key":123`      for = with a nonzero integer N that no float or double
//                    field can equal with another text: N is not exactly a
//                    double, or |N| < 2^53 with fewer than 5 trailing zeros
//                    (shortest round-trip text then has no exponent); 0 is
//                    excluded since a double -0.0 is written -0;
//   `"key":`         for any other = or !=null (the key must be present),
//                    and for > >= < <= ~ and exists.
// = null and != anything else match lines without the key: no needle; nor for
// a dotted bare key (its value may sit in a nested object).
//
// Time bounds: --since is inclusive, --until exclusive: since <= t < until,
// in ns since the Unix epoch (parse_time_bound, output/time_text.hpp, reads
// the option). The reader writes every line with a head (output/line_head.hpp)
// whose timestamp has the stored form, fixed width, so a bound is formatted
// the same way once (format_timestamp) and compared with the line's 30 bytes
// as text: for fixed-width timestamps, text order is time order. A timestamp
// string of any other shape is parsed as RFC 3339 and compared in ns; a line
// without a readable timestamp fails any time bound.
//
// Level floor: a line passes --level L when its level is L or above (TRACE <
// DEBUG < INFO < WARN < ERROR < CRITICAL), read by its stored name
// (shm::stored_event_level); any other level string (OFF, from a corrupt
// call-site table), or none, does not pass.
//
// Threading: WhereClause and Filter are immutable once built and may be shared
// by threads (RE2 matching is thread-safe); the parse functions are pure.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "absl/status/statusor.h"
#include "ringtail/shm/layout.hpp"

namespace re2 {
class RE2;
}  // namespace re2

namespace ringtail::reader {

// One parsed JSONL line (parsed_line.hpp).
class ParsedLine;

enum class WhereOp : uint8_t {
  kEq,      // =
  kNe,      // !=
  kGt,      // >
  kGe,      // >=
  kLt,      // <
  kLe,      // <=
  kMatch,   // ~
  kExists,  // exists
};

// A JSON scalar, as a --where value is read. Integers are int64_t, except
// those above INT64_MAX, which are uint64_t (as simdjson reads them).
using JsonScalar = std::variant<std::nullptr_t, bool, int64_t, uint64_t, double, std::string>;

// One parsed --where expression (or an equality built in code).
class WhereClause {
 public:
  // `key = value` on one top-level key (never a path): what --message,
  // --service and --pid add (equals("service", std::string(name))).
  static WhereClause equals(std::string_view key, JsonScalar value);

  // The expression as given ("service = \"agent\"" for equals()).
  const std::string& text() const { return text_; }
  // The key, decoded if it was quoted.
  const std::string& key() const { return key_; }
  // True for a bare key containing '.': top-level key first, else a path.
  bool is_path() const { return is_path_; }
  WhereOp op() const { return op_; }
  // The value: for ~ the pattern (a string); for exists, nullptr.
  const JsonScalar& value() const { return value_; }

  // The compiled pattern of ~; null for the other operators.
  const re2::RE2* regex() const { return regex_.get(); }

  // Whether `line` (the parsed JSON object of one line) satisfies the clause.
  bool matches(const ParsedLine& line) const;

  // A literal every canonical line that matches() contains (see the file
  // comment), or nullopt when there is no sound one.
  const std::optional<std::string>& needle() const { return needle_; }

 private:
  friend absl::StatusOr<WhereClause> parse_where(std::string_view text);
  WhereClause() = default;
  void make_needle();

  std::string text_;
  std::string key_;
  bool is_path_ = false;  // a bare key containing '.'
  WhereOp op_ = WhereOp::kExists;
  JsonScalar value_;
  std::shared_ptr<const re2::RE2> regex_;  // for kMatch
  std::optional<std::string> needle_;
};

// Parses one --where expression. InvalidArgument with a one-line message that
// quotes the expression and names the bad part, e.g.
//   bad --where 'tool>>3': after 'tool>' expected a number or a "quoted string", got '>3'
absl::StatusOr<WhereClause> parse_where(std::string_view text);

// Parses a --level value as shm::parse_level does (any case, "warning" for
// WARN), surrounding whitespace ignored; "off" and anything else is
// InvalidArgument listing the levels (no event is at off: a floor of off
// would keep nothing).
absl::StatusOr<shm::Level> parse_min_level(std::string_view text);

// All of one command's conditions; default-constructed, it keeps every line.
class Filter {
 public:
  void add(WhereClause clause) { clauses_.push_back(std::move(clause)); }
  void set_min_level(shm::Level level) { min_level_ = level; }
  // since <= t: inclusive.
  void set_since(int64_t ns);
  // t < until: exclusive.
  void set_until(int64_t ns);

  const std::vector<WhereClause>& clauses() const { return clauses_; }
  std::optional<shm::Level> min_level() const { return min_level_; }
  std::optional<int64_t> since() const { return since_ns_; }
  std::optional<int64_t> until() const { return until_ns_; }

  // False only when the raw line (without its '\n') certainly fails
  // matches(), assuming ringtail's canonical form for the needles (see the
  // file comment); true when it may pass.
  bool may_match(std::string_view raw_line) const;

  // Whether the parsed line passes every condition.
  bool matches(const ParsedLine& line) const;

  // The time bounds and the level floor alone, for a caller that has the
  // line's time in ns or its level word without parsing (ShapedFilter).
  bool time_in_bounds(int64_t ns) const;
  bool level_passes(std::string_view level) const;

 private:
  bool timestamp_in_bounds(std::string_view timestamp) const;

  std::vector<WhereClause> clauses_;
  std::optional<shm::Level> min_level_;
  std::optional<int64_t> since_ns_;
  std::optional<int64_t> until_ns_;
  std::string since_text_;  // format_timestamp(*since_ns_)
  std::string until_text_;
};

}  // namespace ringtail::reader
