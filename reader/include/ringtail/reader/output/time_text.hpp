// Times as text, off the hot path: the one place that reads RFC 3339 and
// relative times, and that knows the shape of a stored timestamp.
//
// The stored form is what the reader writes into every JSONL line,
// "2026-11-22T21:00:00.123456789Z": UTC, nanoseconds, always 30 bytes, so
// that text order is time order. The hot path writes it with the cached
// TimestampFormatter (json_text.hpp); format_timestamp() here is the same
// formatter, once.
//
// Parsing goes through absl::ParseTime for the calendar (days per month, leap
// years, offsets, leap seconds); the exact grammar accepted is checked first
// by hand, so that what is accepted does not depend on Abseil's leniency
// (one-digit months, spaces inside the text) and errors name the bad part.
// Relative times are ringtail's own grammar (days and weeks, no fractions),
// which absl::ParseDuration does not speak; it is read here by hand.
//
// Threading: pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace ringtail::reader {

// Parses an RFC 3339 time to ns since the Unix epoch:
//   2026-11-22T21:00:00Z, 2026-11-22T21:00:00.123456789+02:00 (1 to 9
//   fractional digits; 'T', 't' or ' ' between date and time; 'Z', 'z' or
//   ±hh:mm; a leap second :60 reads as the next minute's :00); or a date
//   alone, 2026-11-22, for its midnight UTC. A time without an offset is not
//   accepted (local time would be a guess).
// InvalidArgument names the bad part (the message is the detail only, e.g.
// "month 13 does not exist"); a time outside what int64 ns hold (1677-09-21 to
// 2262-04-11) is OutOfRange.
absl::StatusOr<int64_t> parse_rfc3339(std::string_view text);

// Parses a --since / --until value to ns since the Unix epoch, surrounding
// whitespace ignored:
//   an RFC 3339 time (parse_rfc3339);
//   now (any case), or a duration before now: -1h, 1h (the same: without a
//     sign a duration counts back, as in `--since 1h`), -7d, -30m, -10s,
//     -500ms, -1h30m (integers, each with a unit: ns, us, ms, s, m, h, d, w).
//     +1h is after now.
// Every error is InvalidArgument, "bad time '<text>': <detail>"; a time outside
// what int64 ns hold is one too.
absl::StatusOr<int64_t> parse_time_bound(std::string_view text, int64_t now_ns);

// `ns` in the stored form, without quotes: exactly 30 bytes,
// "2026-11-22T21:00:00.123456789Z". Every int64 ns is within years 1677 to
// 2262, so nothing is clamped and the text order of two results is the order
// of their ns.
std::string format_timestamp(int64_t ns);

// Whether `text` has the stored shape, dddd-dd-ddTdd:dd:dd.dddddddddZ (30
// bytes), so that it compares with another as text.
bool is_canonical_timestamp(std::string_view text);

// Reads stored timestamps (is_canonical_timestamp) to ns since the epoch,
// line after line: the calendar of the last second read is kept, so that the
// lines of one second (a file's lines come in time order) cost a compare and
// nine digits rather than a parse_rfc3339 each. nullopt for another shape.
// Threading: one thread per StoredTimestampReader.
class StoredTimestampReader {
 public:
  std::optional<int64_t> ns(std::string_view timestamp);

 private:
  char second_[19] = {};  // "YYYY-MM-DDTHH:MM:SS" of second_ns_
  int64_t second_ns_ = 0;
  bool cached_ = false;
};

// The UTC date of `ns`, "2026-11-22".
std::string utc_date(int64_t ns);

}  // namespace ringtail::reader
