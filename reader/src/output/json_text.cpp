#include "ringtail/reader/output/json_text.hpp"

#include <algorithm>
#include <bit>
#include <charconv>
#include <cmath>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "ringtail/shm/json_escape.hpp"

namespace ringtail::reader {
namespace {

static_assert(std::endian::native == std::endian::little, "eight_digits puts the first digit in the lowest byte");

// The eight decimal digits of `value` (below 10^8), leading zeros included,
// as ASCII in memory order (the first digit in the lowest byte). Every
// lane at once: the two halves of four digits in 32-bit lanes, each split
// into two-digit 16-bit lanes (x / 100 as (x * 10486) >> 20, exact below
// 10^4), each of those into one-digit bytes (x / 10 as (x * 103) >> 10,
// exact below 100); no product crosses into the next lane.
uint64_t eight_digits(uint32_t value) {
  const uint64_t fours = (value / 10000) | (static_cast<uint64_t>(value % 10000) << 32);
  const uint64_t high_pairs = ((fours * 10486) >> 20) & 0x0000007F0000007FULL;
  const uint64_t pairs = high_pairs | ((fours - 100 * high_pairs) << 16);
  const uint64_t tens = ((pairs * 103) >> 10) & 0x000F000F000F000FULL;
  const uint64_t digits = tens | ((pairs - 10 * tens) << 8);
  return digits + 0x3030303030303030ULL;
}

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

namespace {

// Shortest round-trip text. A finite value of magnitude 1e16 or more may come
// out as a bare integer ("35690056001587249152"): valid JSON, but a parser
// that reads integer-looking numbers as 64-bit integers (simdjson does) fails
// on one past 2^64. Such values are written in exponent form instead
// ("3.569005600158725e+19"), which every parser reads as a double.
template <class Float>
char* write_shortest(char* out, Float value) {
  char* end = std::to_chars(out, out + kJsonNumberBound, value).ptr;
  if (std::fabs(value) >= static_cast<Float>(1e16) && std::find(out, end, 'e') == end &&
      std::find(out, end, '.') == end) {
    end = std::to_chars(out, out + kJsonNumberBound, value, std::chars_format::scientific).ptr;
  }
  return end;
}

// The first index at or after `i` whose byte needs escaping or UTF-8 checks
// (below 0x20, 0x80 and above, '"' or '\\'), or n. Eight bytes at a time
// (SWAR: a byte's high bit set in `special` marks it), then byte by byte.
size_t plain_ascii_end(const unsigned char* s, size_t i, size_t n) {
  constexpr uint64_t kOnes = 0x0101010101010101ULL;
  constexpr uint64_t kHighs = 0x8080808080808080ULL;
  while (i + 8 <= n) {
    uint64_t w = 0;
    std::memcpy(&w, s + i, sizeof(w));
    // For bytes below 0x80, (b + 0x60) has its high bit set iff b >= 0x20, and
    // (b ^ c) + 0x7f iff b != c; a byte of 0x80 or more is caught by w itself.
    const uint64_t low7 = w & ~kHighs;
    const uint64_t at_least_space = low7 + 0x60 * kOnes;
    const uint64_t not_quote = ((w ^ ('"' * kOnes)) & ~kHighs) + 0x7f * kOnes;
    const uint64_t not_backslash = ((w ^ ('\\' * kOnes)) & ~kHighs) + 0x7f * kOnes;
    const uint64_t special = (w | ~(at_least_space & not_quote & not_backslash)) & kHighs;
    if (special != 0) return i + static_cast<size_t>(__builtin_ctzll(special) / 8);
    i += 8;
  }
  while (i < n && s[i] < 0x80 && !shm::json_needs_escape(s[i])) ++i;
  return i;
}

// Copies the longest run of plain ASCII from s[i] to `out` and returns its
// end (as plain_ascii_end). It may copy more of s[i, n) than the run: no
// further than out + (n - i), which the rest of the text overwrites (each of
// its bytes becomes at least one). Where SSE2 is (every x86-64) and 16 bytes
// or more are left, sixteen at a time, each copied as it is looked at (no
// memcpy call for a plain string), the last load overlapping the one before.
size_t copy_plain_ascii(const unsigned char* s, size_t i, size_t n, char* out) {
#if defined(__SSE2__)
  if (n - i >= 16) {
    char* const to = out - i;  // s[k] goes to to[k]
    // A byte below 0x20 or of 0x80 and above is below 0x20 as a signed char.
    const __m128i space = _mm_set1_epi8(0x20);
    const __m128i quote = _mm_set1_epi8('"');
    const __m128i backslash = _mm_set1_epi8('\\');
    auto special = [&](const unsigned char* from, char* dest) {
      const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(from));
      _mm_storeu_si128(reinterpret_cast<__m128i*>(dest), v);
      const __m128i marked =
          _mm_or_si128(_mm_cmplt_epi8(v, space), _mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, backslash)));
      return static_cast<unsigned>(_mm_movemask_epi8(marked));
    };
    for (; i + 16 <= n; i += 16) {
      if (const unsigned found = special(s + i, to + i); found != 0) {
        return i + static_cast<size_t>(std::countr_zero(found));
      }
    }
    if (i == n) return n;
    // At least one load ran, so the last one starts at or after where this
    // call did: the bytes it looks at again were plain.
    const size_t last = n - 16;
    const unsigned found = special(s + last, to + last);
    return found != 0 ? last + static_cast<size_t>(std::countr_zero(found)) : n;
  }
#endif
  const size_t run = plain_ascii_end(s, i, n);
  std::memcpy(out, s + i, run - i);
  return run;
}

}  // namespace

char* write_json_string(char* out, std::string_view bytes) {
  *out++ = '"';
  const auto* s = reinterpret_cast<const unsigned char*>(bytes.data());
  const size_t n = bytes.size();
  size_t i = 0;
  while (i < n) {
    // Copy the longest run of plain ASCII in one go.
    const size_t run = copy_plain_ascii(s, i, n, out);
    out += run - i;
    i = run;
    if (i == n) break;
    const unsigned char c = s[i];
    if (c < 0x80) {
      out = shm::write_json_escape(out, c);  // plain_ascii_end stopped here: it needs one
      ++i;
      continue;
    }
    size_t bad = 0;
    const size_t length = utf8_sequence(s + i, n - i, &bad);
    if (length != 0) {
      std::memcpy(out, s + i, length);
      out += length;
      i += length;
    } else {
      // 3 bytes for at least one input byte: within the bound.
      std::memcpy(out, kReplacement.data(), kReplacement.size());
      out += kReplacement.size();
      i += bad;
    }
  }
  *out++ = '"';
  return out;
}

char* write_json_double(char* out, double value) {
  if (std::isnan(value)) {
    constexpr std::string_view kText = "\"NaN\"";
    return std::copy(kText.begin(), kText.end(), out);
  }
  if (std::isinf(value)) {
    const std::string_view text = value > 0 ? "\"Infinity\"" : "\"-Infinity\"";
    return std::copy(text.begin(), text.end(), out);
  }
  return write_shortest(out, value);
}

char* write_json_float(char* out, float value) {
  if (std::isnan(value) || std::isinf(value)) return write_json_double(out, static_cast<double>(value));
  return write_shortest(out, value);
}

char* write_json_uint(char* out, uint64_t value) {
  // By hand rather than std::to_chars: this runs for several numbers of
  // every line (tid, seq, fields). One digit count, then eight digits at a
  // time (eight_digits), stored as one word.
  static constexpr uint64_t kPowers[] = {1,
                                         10,
                                         100,
                                         1000,
                                         10000,
                                         100000,
                                         1000000,
                                         10000000,
                                         100000000,
                                         1000000000,
                                         10000000000,
                                         100000000000,
                                         1000000000000,
                                         10000000000000,
                                         100000000000000,
                                         1000000000000000,
                                         10000000000000000,
                                         100000000000000000,
                                         1000000000000000000,
                                         10000000000000000000U};
  constexpr uint64_t kEightDigits = 100000000;
  if (value >= kEightDigits) {
    // The digits above the last eight (at most twelve: one more step), then those eight.
    char* const p = write_json_uint(out, value / kEightDigits);
    const uint64_t low = eight_digits(static_cast<uint32_t>(value % kEightDigits));
    std::memcpy(p, &low, sizeof(low));
    return p + sizeof(low);
  }
  // digits = floor(log10(value)) + 1, from the bit length (1233 / 4096 ~ log10 2).
  const int bits = 64 - __builtin_clzll(value | 1);
  int digits = (bits * 1233) >> 12;
  digits += value >= kPowers[digits] ? 1 : 0;
  if (digits == 0) digits = 1;
  // The leading zeros are the low bytes: shifted out, and zeros stored past
  // the end instead (within kJsonNumberBound).
  const uint64_t text = eight_digits(static_cast<uint32_t>(value)) >> (8 * (8 - digits));
  std::memcpy(out, &text, sizeof(text));
  return out + digits;
}

char* write_json_int(char* out, int64_t value) {
  if (value >= 0) return write_json_uint(out, static_cast<uint64_t>(value));
  *out = '-';
  return write_json_uint(out + 1, ~static_cast<uint64_t>(value) + 1);  // |INT64_MIN| fits in uint64_t
}

namespace {

// Appends through a write_* function: room for `bound`, then the real size.
template <class Write>
void append_written(std::string& out, size_t bound, Write write) {
  const size_t start = out.size();
  out.resize(start + bound);
  char* end = write(out.data() + start);
  out.resize(static_cast<size_t>(end - out.data()));
}

}  // namespace

void append_json_string(std::string& out, std::string_view bytes) {
  append_written(out, json_string_bound(bytes.size()), [&](char* p) { return write_json_string(p, bytes); });
}

namespace {

// The value of hex digit `c`, or -1.
int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

void append_utf8(std::string& out, uint32_t code_point) {
  if (code_point < 0x80) {
    out.push_back(static_cast<char>(code_point));
  } else if (code_point < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (code_point >> 6)));
    out.push_back(static_cast<char>(0x80 | (code_point & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xE0 | (code_point >> 12)));
    out.push_back(static_cast<char>(0x80 | ((code_point >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (code_point & 0x3F)));
  }
}

}  // namespace

std::string_view json_string_text(std::string_view written, std::string& scratch) {
  // An unquoted span never starts with a raw quote: a written quote is escaped.
  if (written.size() >= 2 && written.front() == '"' && written.back() == '"') {
    written = written.substr(1, written.size() - 2);
  }
  if (written.find('\\') == std::string_view::npos) return written;
  scratch.clear();
  for (size_t i = 0; i < written.size(); ++i) {
    const char c = written[i];
    if (c != '\\' || i + 1 == written.size()) {
      scratch.push_back(c);
      continue;
    }
    const char e = written[++i];
    switch (e) {
      case 'b':
        scratch.push_back('\b');
        break;
      case 'f':
        scratch.push_back('\f');
        break;
      case 'n':
        scratch.push_back('\n');
        break;
      case 'r':
        scratch.push_back('\r');
        break;
      case 't':
        scratch.push_back('\t');
        break;
      case 'u': {
        uint32_t code_point = 0;
        bool ok = i + 4 < written.size();
        for (size_t k = 1; ok && k <= 4; ++k) {
          const int digit = hex_value(written[i + k]);
          ok = digit >= 0;
          code_point = code_point * 16 + static_cast<uint32_t>(digit);
        }
        if (!ok) {
          scratch.push_back('u');
          break;
        }
        i += 4;
        append_utf8(scratch, code_point >= 0xD800 && code_point <= 0xDFFF ? 0xFFFD : code_point);
        break;
      }
      default:  // '"', '\\', '/'
        scratch.push_back(e);
        break;
    }
  }
  return scratch;
}

namespace {

constexpr std::string_view kErrorType = R"({"type":)";
constexpr std::string_view kErrorMessage = R"(,"message":)";
constexpr std::string_view kErrorCode = R"(,"code":)";
constexpr std::string_view kErrorStack = R"(,"stack":[)";

// Calls visit(shown frame) for each non-empty frame of `stack`.
template <class Visit>
void for_each_frame(const JsonError& error, Visit visit) {
  std::string_view rest = error.stack;
  while (!rest.empty()) {
    const size_t end = std::min(rest.find('\n'), rest.size());
    const std::string_view frame = rest.substr(0, end);
    rest.remove_prefix(std::min(end + 1, rest.size()));
    if (frame.empty()) continue;
    visit(error.frame_text != nullptr ? error.frame_text(frame) : frame);
  }
}

}  // namespace

size_t json_error_bound(const JsonError& error) {
  size_t bound = kErrorType.size() + json_string_bound(error.type.size()) + kErrorMessage.size() +
                 json_string_bound(error.message.size()) + kErrorCode.size() + kJsonNumberBound + 1;
  bool any_frame = false;
  for_each_frame(error, [&](std::string_view frame) {
    bound += json_string_bound(frame.size()) + 1;  // and a ',' or the ']'
    any_frame = true;
  });
  if (any_frame) bound += kErrorStack.size();
  return bound;
}

char* write_json_error(char* out, const JsonError& error) {
  out = write_raw(out, kErrorType);
  out = write_json_string(out, error.type);
  out = write_raw(out, kErrorMessage);
  out = write_json_string(out, error.message);
  if (error.has_code) {
    out = write_raw(out, kErrorCode);
    out = write_json_int(out, error.code);
  }
  bool first = true;
  for_each_frame(error, [&](std::string_view frame) {
    out = first ? write_raw(out, kErrorStack) : write_raw(out, ",");
    first = false;
    out = write_json_string(out, frame);
  });
  if (!first) *out++ = ']';
  *out++ = '}';
  return out;
}

void append_json_error(std::string& out, const JsonError& error) {
  append_written(out, json_error_bound(error), [&](char* p) { return write_json_error(p, error); });
}

void append_json_double(std::string& out, double value) {
  char buffer[kJsonNumberBound];
  out.append(buffer, write_json_double(buffer, value));
}

void append_json_float(std::string& out, float value) {
  char buffer[kJsonNumberBound];
  out.append(buffer, write_json_float(buffer, value));
}

void append_json_int(std::string& out, int64_t value) {
  char buffer[kJsonNumberBound];
  out.append(buffer, write_json_int(buffer, value));
}

void append_json_uint(std::string& out, uint64_t value) {
  char buffer[kJsonNumberBound];
  out.append(buffer, write_json_uint(buffer, value));
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

// Nine digits (this runs for every line).
void put_nanos(char* out, uint32_t value) {
  out[0] = static_cast<char>('0' + value / 100000000);
  const uint64_t rest = eight_digits(value % 100000000);
  std::memcpy(out + 1, &rest, sizeof(rest));
}

void put_digits(char* out, uint64_t value, int width) {
  for (int i = width - 1; i >= 0; --i) {
    out[i] = static_cast<char>('0' + value % 10);
    value /= 10;
  }
}

}  // namespace

void TimestampFormatter::append(std::string& out, int64_t realtime_ns) {
  char text[kBytes];
  out.append(text, write(text, realtime_ns));
}

char* TimestampFormatter::write(char* out, int64_t realtime_ns) {
  constexpr int64_t kNsPerSecond = 1'000'000'000;
  // From a start at or below it the difference is exact in uint64_t.
  uint64_t nanos = static_cast<uint64_t>(realtime_ns) - static_cast<uint64_t>(second_start_ns_);
  if (!cached_ || realtime_ns < second_start_ns_ || nanos >= kNsPerSecond) [[unlikely]] {
    int64_t second = realtime_ns / kNsPerSecond;
    int64_t rest = realtime_ns % kNsPerSecond;
    if (rest < 0) {
      rest += kNsPerSecond;
      --second;
    }
    nanos = static_cast<uint64_t>(rest);
    cached_ = !__builtin_mul_overflow(second, kNsPerSecond, &second_start_ns_);
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
  // "YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ" with its quotes.
  out[0] = '"';
  std::memcpy(out + 1, prefix_, 19);
  out[20] = '.';
  put_nanos(out + 21, static_cast<uint32_t>(nanos));
  out[30] = 'Z';
  out[31] = '"';
  return out + kBytes;
}

}  // namespace ringtail::reader
