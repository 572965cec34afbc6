#include "ringtail/reader/output/json_text.hpp"

#include <charconv>
#include <cmath>
#include <cstring>

namespace ringtail::reader {
namespace {

constexpr char kHex[] = "0123456789abcdef";
constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD

// Length of the well-formed UTF-8 sequence at the start of `s` (2 to 4), or 0
// if it is ill-formed; *bad is then the length of the maximal ill-formed
// subpart to replace by one U+FFFD. Table 3-7 of the Unicode standard.
size_t utf8_sequence(const unsigned char* s, size_t n, size_t* bad) {
  const unsigned char lead = s[0];
  size_t length = 0;
  unsigned char lo = 0x80, hi = 0xBF;  // allowed range of the second byte
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
    if (lead == 0xE0) lo = 0xA0;  // no overlongs
    if (lead == 0xED) hi = 0x9F;  // no surrogates
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
    if (lead == 0xF0) lo = 0x90;  // no overlongs
    if (lead == 0xF4) hi = 0x8F;  // nothing above U+10FFFF
  } else {
    *bad = 1;
    return 0;
  }
  for (size_t i = 1; i < length; ++i) {
    const unsigned char lower = i == 1 ? lo : 0x80;
    const unsigned char upper = i == 1 ? hi : 0xBF;
    if (i >= n || s[i] < lower || s[i] > upper) {
      *bad = i;
      return 0;
    }
  }
  return length;
}

}  // namespace

void append_json_string(std::string& out, std::string_view bytes) {
  out.push_back('"');
  const auto* s = reinterpret_cast<const unsigned char*>(bytes.data());
  const size_t n = bytes.size();
  size_t i = 0;
  while (i < n) {
    // Copy the longest run of plain ASCII in one go.
    size_t run = i;
    while (run < n && s[run] >= 0x20 && s[run] < 0x80 && s[run] != '"' && s[run] != '\\') ++run;
    out.append(bytes.data() + i, run - i);
    i = run;
    if (i == n) break;
    const unsigned char c = s[i];
    if (c < 0x80) {
      switch (c) {
        case '"':
          out.append("\\\"");
          break;
        case '\\':
          out.append("\\\\");
          break;
        case '\b':
          out.append("\\b");
          break;
        case '\f':
          out.append("\\f");
          break;
        case '\n':
          out.append("\\n");
          break;
        case '\r':
          out.append("\\r");
          break;
        case '\t':
          out.append("\\t");
          break;
        default: {
          const char escape[6] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 0xF]};
          out.append(escape, sizeof(escape));
        }
      }
      ++i;
      continue;
    }
    size_t bad = 0;
    const size_t length = utf8_sequence(s + i, n - i, &bad);
    if (length != 0) {
      out.append(bytes.data() + i, length);
      i += length;
    } else {
      out.append(kReplacement);
      i += bad;
    }
  }
  out.push_back('"');
}

void append_json_double(std::string& out, double value) {
  if (std::isnan(value)) {
    out.append("\"NaN\"");
  } else if (std::isinf(value)) {
    out.append(value > 0 ? "\"Infinity\"" : "\"-Infinity\"");
  } else {
    char buffer[32];
    const std::to_chars_result r = std::to_chars(buffer, buffer + sizeof(buffer), value);
    out.append(buffer, r.ptr);
  }
}

void append_json_float(std::string& out, float value) {
  if (std::isnan(value) || std::isinf(value)) {
    append_json_double(out, static_cast<double>(value));
    return;
  }
  char buffer[32];
  const std::to_chars_result r = std::to_chars(buffer, buffer + sizeof(buffer), value);
  out.append(buffer, r.ptr);
}

void append_json_int(std::string& out, int64_t value) {
  char buffer[24];
  const std::to_chars_result r = std::to_chars(buffer, buffer + sizeof(buffer), value);
  out.append(buffer, r.ptr);
}

void append_json_uint(std::string& out, uint64_t value) {
  char buffer[24];
  const std::to_chars_result r = std::to_chars(buffer, buffer + sizeof(buffer), value);
  out.append(buffer, r.ptr);
}

namespace {

// Days since 1970-01-01 to a proleptic Gregorian civil date (the well-known
// era-based algorithm; exact for every int64 day count used here).
void civil_from_days(int64_t days, int64_t* year, unsigned* month, unsigned* day) {
  days += 719468;
  const int64_t era = (days >= 0 ? days : days - 146096) / 146097;
  const auto doe = static_cast<unsigned>(days - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  *day = doy - (153 * mp + 2) / 5 + 1;
  *month = mp < 10 ? mp + 3 : mp - 9;
  *year = static_cast<int64_t>(yoe) + era * 400 + (*month <= 2 ? 1 : 0);
}

void put_digits(char* out, uint64_t value, int width) {
  for (int i = width - 1; i >= 0; --i) {
    out[i] = static_cast<char>('0' + value % 10);
    value /= 10;
  }
}

}  // namespace

void TimestampFormatter::append(std::string& out, int64_t realtime_ns) {
  int64_t second = realtime_ns / 1'000'000'000;
  int64_t nanos = realtime_ns % 1'000'000'000;
  if (nanos < 0) {
    nanos += 1'000'000'000;
    --second;
  }
  if (second != cached_second_) {
    cached_second_ = second;
    int64_t days = second / 86400;
    int64_t of_day = second % 86400;
    if (of_day < 0) {
      of_day += 86400;
      --days;
    }
    int64_t year = 0;
    unsigned month = 0, day = 0;
    civil_from_days(days, &year, &month, &day);
    // Years outside 0000-9999 cannot be written in RFC 3339; clamp them.
    const uint64_t printable_year = year < 0 ? 0 : (year > 9999 ? 9999 : static_cast<uint64_t>(year));
    put_digits(prefix_, printable_year, 4);
    prefix_[4] = '-';
    put_digits(prefix_ + 5, month, 2);
    prefix_[7] = '-';
    put_digits(prefix_ + 8, day, 2);
    prefix_[10] = 'T';
    put_digits(prefix_ + 11, static_cast<uint64_t>(of_day / 3600), 2);
    prefix_[13] = ':';
    put_digits(prefix_ + 14, static_cast<uint64_t>(of_day / 60 % 60), 2);
    prefix_[16] = ':';
    put_digits(prefix_ + 17, static_cast<uint64_t>(of_day % 60), 2);
  }
  char text[32];
  std::memcpy(text, prefix_, 19);
  text[19] = '.';
  put_digits(text + 20, static_cast<uint64_t>(nanos), 9);
  text[29] = 'Z';
  out.push_back('"');
  out.append(text, 30);
  out.push_back('"');
}

}  // namespace ringtail::reader
