// RFC 3339 UTC text of a wall-clock time point, for fields that carry one
// (the breakglass event's expires_at): ringtail::detail::format_utc_millis,
// declared in ringtail/agent.hpp.
#include <chrono>
#include <cstdint>

#include "ringtail/agent.hpp"

namespace ringtail::detail {
namespace {

void put_digits(char* out, int64_t value, int width) noexcept {
  for (int i = width - 1; i >= 0; --i) {
    out[i] = static_cast<char>('0' + value % 10);
    value /= 10;
  }
}

}  // namespace

void format_utc_millis(std::chrono::system_clock::time_point time, char (&out)[kUtcMillisChars]) noexcept {
  using namespace std::chrono;
  // Floor, not truncation toward zero: a time before 1970 still reads as the
  // millisecond it falls in.
  const sys_time<milliseconds> ms = floor<milliseconds>(time);
  const sys_days day = floor<days>(ms);
  const year_month_day date(day);
  const hh_mm_ss<milliseconds> of_day(ms - day);
  // RFC 3339 has four-digit years only: clamp the others (as the reader's
  // timestamps do) rather than write text that does not parse.
  int64_t year = static_cast<int>(date.year());
  if (year < 0) year = 0;
  if (year > 9999) year = 9999;
  put_digits(out, year, 4);
  out[4] = '-';
  put_digits(out + 5, static_cast<unsigned>(date.month()), 2);
  out[7] = '-';
  put_digits(out + 8, static_cast<unsigned>(date.day()), 2);
  out[10] = 'T';
  put_digits(out + 11, of_day.hours().count(), 2);
  out[13] = ':';
  put_digits(out + 14, of_day.minutes().count(), 2);
  out[16] = ':';
  put_digits(out + 17, of_day.seconds().count(), 2);
  out[19] = '.';
  put_digits(out + 20, of_day.subseconds().count(), 3);
  out[23] = 'Z';
}

}  // namespace ringtail::detail
