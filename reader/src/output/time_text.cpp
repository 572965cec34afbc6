#include "ringtail/reader/output/time_text.hpp"

#include <cstring>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/time/time.h"
#include "internal/message_text.hpp"
#include "ringtail/reader/output/json_text.hpp"

namespace ringtail::reader {
namespace {

using internal::cat;
using internal::printable;
using int128 = __int128;

constexpr int64_t kNsPerSecond = 1'000'000'000;
constexpr std::string_view kRangeMessage =
    "out of range (1677-09-21T00:12:43.145224192Z to 2262-04-11T23:47:16.854775807Z)";

bool is_digit(char c) { return c >= '0' && c <= '9'; }

absl::Status bad_time(std::string_view text, std::string_view detail) {
  return absl::InvalidArgumentError(cat("bad time '", printable(text), "': ", detail));
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

absl::StatusOr<int64_t> checked_ns(int128 ns) {
  if (ns < INT64_MIN || ns > INT64_MAX) return absl::OutOfRangeError(std::string(kRangeMessage));
  return static_cast<int64_t>(ns);
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
    static constexpr std::pair<std::string_view, int64_t> kScales[] = {
        {"ns", 1},
        {"us", 1'000},
        {"ms", 1'000'000},
        {"s", kNsPerSecond},
        {"m", 60 * kNsPerSecond},
        {"h", 3600 * kNsPerSecond},
        {"d", 86400 * kNsPerSecond},
        {"w", int64_t{7} * 86400 * kNsPerSecond},
    };
    int64_t scale = 0;
    for (const auto& [name, ns] : kScales) {
      if (unit == name) scale = ns;
    }
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

absl::StatusOr<int64_t> parse_rfc3339(std::string_view s) {
  const auto error = [](std::string_view detail) { return absl::InvalidArgumentError(std::string(detail)); };
  // The grammar, field by field: Abseil alone would also take one-digit
  // fields, spaces before a field and more than nine fractional digits.
  const int64_t year = fixed_digits(s, 0, 4);
  const int64_t month = fixed_digits(s, 5, 2);
  const int64_t day = fixed_digits(s, 8, 2);
  if (year < 0 || month < 0 || day < 0 || s[4] != '-' || s[7] != '-') {
    return error("expected a date YYYY-MM-DD at the start");
  }
  if (month < 1 || month > 12) return error(cat("month ", s.substr(5, 2), " does not exist"));
  if (day < 1 || day > 31) return error(cat("day ", s.substr(8, 2), " does not exist in ", s.substr(0, 7)));
  // What absl::ParseTime reads: the text with 'T' and 'Z' as separators.
  std::string normalized(s);
  std::string_view format = "%Y-%m-%d";
  if (s.size() > 10) {
    if (s[10] != 'T' && s[10] != 't' && s[10] != ' ') {
      return error(cat("expected 'T' and a time hh:mm:ss after the date, got '", printable(s.substr(10)), "'"));
    }
    normalized[10] = 'T';
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
    if (i < s.size() && s[i] == '.') {
      const size_t start = ++i;
      while (i < s.size() && is_digit(s[i])) ++i;
      if (i == start) return error("expected digits after '.'");
      if (i - start > 9) return error("at most 9 fractional digits (nanoseconds)");
    }
    if (i < s.size() && (s[i] == 'Z' || s[i] == 'z')) {
      normalized[i] = 'Z';
      ++i;
    } else if (i < s.size() && (s[i] == '+' || s[i] == '-')) {
      const int64_t offset_hours = fixed_digits(s, i + 1, 2);
      const int64_t offset_minutes = fixed_digits(s, i + 4, 2);
      if (offset_hours < 0 || offset_minutes < 0 || s[i + 3] != ':' || offset_hours > 23 || offset_minutes > 59) {
        return error(cat("expected an offset like +02:00, got '", printable(s.substr(i)), "'"));
      }
      i += 6;
    } else {
      return error(cat("expected 'Z' or an offset like +02:00 after the time",
                       i < s.size() ? cat(", got '", printable(s.substr(i)), "'") : "",
                       " (local time is not accepted)"));
    }
    if (i != s.size()) return error(cat("unexpected '", printable(s.substr(i)), "' after the time"));
    format = absl::RFC3339_full;  // %Y-%m-%d%ET%H:%M:%E*S%Ez
  }
  absl::Time time;
  std::string parse_error;
  if (!absl::ParseTime(std::string(format), normalized, absl::UTCTimeZone(), &time, &parse_error)) {
    // The grammar holds, so only the calendar can refuse: February 30.
    return error(cat("day ", s.substr(8, 2), " does not exist in ", s.substr(0, 7)));
  }
  // Exact in int128 ns: absl::Time holds quarter-nanoseconds over +-2.9e11 years.
  const absl::Duration since_epoch = time - absl::UnixEpoch();
  absl::Duration rest;
  const int64_t seconds = absl::IDivDuration(since_epoch, absl::Seconds(1), &rest);
  return checked_ns(int128{seconds} * kNsPerSecond + absl::ToInt64Nanoseconds(rest));
}

absl::StatusOr<int64_t> parse_time_bound(std::string_view text, int64_t now_ns) {
  const std::string_view s = internal::trim_space(text);
  if (s.empty()) {
    return bad_time(text,
                    "empty; expected an RFC 3339 time (2026-11-22T21:00:00Z) or a duration before now "
                    "(-1h, 7d, 500ms)");
  }
  if (absl::AsciiStrToLower(std::string(s)) == "now") return now_ns;
  // RFC 3339 begins with a four-digit year and '-'; no duration does.
  if (s.size() >= 5 && fixed_digits(s, 0, 4) >= 0 && s[4] == '-') {
    absl::StatusOr<int64_t> ns = parse_rfc3339(s);
    if (!ns.ok()) return bad_time(text, std::string{ns.status().message()});
    return ns;
  }
  absl::StatusOr<int128> offset = parse_duration(s);
  if (!offset.ok()) return bad_time(text, std::string{offset.status().message()});
  absl::StatusOr<int64_t> ns = checked_ns(int128{now_ns} + *offset);
  if (!ns.ok()) return bad_time(text, std::string{ns.status().message()});
  return ns;
}

std::string format_timestamp(int64_t ns) {
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

std::optional<int64_t> StoredTimestampReader::ns(std::string_view timestamp) {
  if (!is_canonical_timestamp(timestamp)) return std::nullopt;
  constexpr size_t kSecond = sizeof(second_);
  if (!cached_ || std::memcmp(second_, timestamp.data(), kSecond) != 0) {
    std::string whole_second(timestamp.substr(0, kSecond));
    whole_second += 'Z';
    absl::StatusOr<int64_t> second = parse_rfc3339(whole_second);
    if (!second.ok()) {
      // The first second of int64 ns starts before it (1677-09-21T00:12:43Z): the full parse decides.
      absl::StatusOr<int64_t> whole = parse_rfc3339(timestamp);
      return whole.ok() ? std::optional<int64_t>(*whole) : std::nullopt;
    }
    std::memcpy(second_, timestamp.data(), kSecond);
    second_ns_ = *second;
    cached_ = true;
  }
  int64_t nanos = 0;
  for (const char digit : timestamp.substr(kSecond + 1, 9)) nanos = nanos * 10 + (digit - '0');
  // A second's last ns may be the int64 limit's: no overflow past 2262-04-11.
  if (second_ns_ > INT64_MAX - nanos) return std::nullopt;
  return second_ns_ + nanos;
}

std::string utc_date(int64_t ns) { return absl::FormatTime("%Y-%m-%d", absl::FromUnixNanos(ns), absl::UTCTimeZone()); }

}  // namespace ringtail::reader
