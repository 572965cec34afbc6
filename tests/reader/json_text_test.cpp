#include "ringtail/reader/output/json_text.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace ringtail::reader {
namespace {

std::string json(std::string_view bytes) {
  std::string out;
  append_json_string(out, bytes);
  return out;
}

// A strict checker for what append_json_string promises: a quoted string
// whose bytes are well-formed UTF-8 with no raw control characters and only
// valid escapes. Written independently of the encoder (by decoding).
bool is_valid_json_string(const std::string& s, std::string* decoded) {
  if (s.size() < 2 || s.front() != '"' || s.back() != '"') return false;
  decoded->clear();
  for (size_t i = 1; i + 1 < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 || c == '"') return false;
    if (c == '\\') {
      if (i + 2 >= s.size()) return false;
      const char e = s[++i];
      switch (e) {
        case '"':
          decoded->push_back('"');
          break;
        case '\\':
          decoded->push_back('\\');
          break;
        case '/':
          decoded->push_back('/');
          break;
        case 'b':
          decoded->push_back('\b');
          break;
        case 'f':
          decoded->push_back('\f');
          break;
        case 'n':
          decoded->push_back('\n');
          break;
        case 'r':
          decoded->push_back('\r');
          break;
        case 't':
          decoded->push_back('\t');
          break;
        case 'u': {
          if (i + 4 >= s.size()) return false;
          const unsigned long code = std::stoul(s.substr(i + 1, 4), nullptr, 16);
          if (code >= 0x80) return false;  // the encoder only escapes ASCII controls
          decoded->push_back(static_cast<char>(code));
          i += 4;
          break;
        }
        default:
          return false;
      }
      continue;
    }
    decoded->push_back(static_cast<char>(c));
  }
  // Well-formed UTF-8 check of the decoded text (Unicode table 3-7).
  const auto* p = reinterpret_cast<const unsigned char*>(decoded->data());
  const size_t n = decoded->size();
  for (size_t i = 0; i < n;) {
    const unsigned char b = p[i];
    size_t len = 0;
    unsigned char lo = 0x80, hi = 0xBF;
    if (b < 0x80)
      len = 1;
    else if (b >= 0xC2 && b <= 0xDF)
      len = 2;
    else if (b >= 0xE0 && b <= 0xEF) {
      len = 3;
      lo = b == 0xE0 ? 0xA0 : 0x80;
      hi = b == 0xED ? 0x9F : 0xBF;
    } else if (b >= 0xF0 && b <= 0xF4) {
      len = 4;
      lo = b == 0xF0 ? 0x90 : 0x80;
      hi = b == 0xF4 ? 0x8F : 0xBF;
    } else
      return false;
    if (i + len > n) return false;
    for (size_t k = 1; k < len; ++k) {
      const unsigned char l = k == 1 ? lo : 0x80, h = k == 1 ? hi : 0xBF;
      if (p[i + k] < l || p[i + k] > h) return false;
    }
    i += len;
  }
  return true;
}

TEST(JsonString, EscapesQuotesBackslashesAndEveryControlCharacter) {
  EXPECT_EQ(json("a\"b\\c"), R"("a\"b\\c")");
  EXPECT_EQ(json("\n\r\t\b\f"), R"("\n\r\t\b\f")");
  for (int c = 0; c < 0x20; ++c) {
    const std::string out = json(std::string(1, static_cast<char>(c)));
    std::string decoded;
    ASSERT_TRUE(is_valid_json_string(out, &decoded)) << c;
    EXPECT_EQ(decoded, std::string(1, static_cast<char>(c)));
  }
  EXPECT_EQ(json(std::string("\x01\x1f", 2)), R"("\u0001\u001f")");
  EXPECT_EQ(json(std::string("a\0b", 3)), R"("a\u0000b")");
  EXPECT_EQ(json("\x7f"), "\"\x7f\"");  // DEL is not a JSON control character
}

TEST(JsonString, KeepsWellFormedUtf8) {
  const std::string text = "caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80 \xEF\xBF\xBF \xF4\x8F\xBF\xBF";
  EXPECT_EQ(json(text), "\"" + text + "\"");
}

TEST(JsonString, ReplacesIllFormedUtf8WithOneReplacementPerMaximalSubpart) {
  const std::string fffd = "\xEF\xBF\xBD";
  EXPECT_EQ(json("\x80"), "\"" + fffd + "\"");                                   // stray continuation
  EXPECT_EQ(json("\xC0\xAF"), "\"" + fffd + fffd + "\"");                        // overlong: C0 is never valid
  EXPECT_EQ(json("\xE0\x80\xAF"), "\"" + fffd + fffd + fffd + "\"");             // overlong 3-byte
  EXPECT_EQ(json("\xED\xA0\x80"), "\"" + fffd + fffd + fffd + "\"");             // surrogate D800
  EXPECT_EQ(json("\xF4\x90\x80\x80"), "\"" + fffd + fffd + fffd + fffd + "\"");  // above U+10FFFF
  EXPECT_EQ(json("\xE2\x82"), "\"" + fffd + "\"");                               // truncated at the end
  EXPECT_EQ(json("\xE2\x82x"), "\"" + fffd + "x\"");                             // truncated mid-string
  EXPECT_EQ(json("\xF0\x9F\x98"), "\"" + fffd + "\"");
  EXPECT_EQ(json("\xFF"), "\"" + fffd + "\"");
}

TEST(JsonString, RandomBytesAlwaysGiveValidJsonAndKeepValidParts) {
  std::mt19937_64 rng(12345);
  for (int trial = 0; trial < 2000; ++trial) {
    std::string bytes(rng() % 64, '\0');
    for (char& c : bytes) c = static_cast<char>(rng());
    std::string decoded;
    ASSERT_TRUE(is_valid_json_string(json(bytes), &decoded)) << trial;
    // ASCII bytes survive in order.
    std::string ascii_in, ascii_out;
    for (char c : bytes)
      if (static_cast<unsigned char>(c) < 0x80) ascii_in.push_back(c);
    for (char c : decoded)
      if (static_cast<unsigned char>(c) < 0x80) ascii_out.push_back(c);
    EXPECT_EQ(ascii_in, ascii_out);
  }
}

TEST(JsonNumbers, DoublesRoundTripAndNonFiniteAreStrings) {
  for (double v : {0.0, -0.0, 1.5, -2.25e-300, 1e300, 0.1, std::numeric_limits<double>::max(),
                   std::numeric_limits<double>::denorm_min()}) {
    std::string out;
    append_json_double(out, v);
    EXPECT_EQ(std::strtod(out.c_str(), nullptr), v) << out;
  }
  std::string out;
  append_json_double(out, std::nan(""));
  append_json_double(out, std::numeric_limits<double>::infinity());
  append_json_double(out, -std::numeric_limits<double>::infinity());
  EXPECT_EQ(out, R"("NaN""Infinity""-Infinity")");
  out.clear();
  append_json_float(out, 0.1F);
  EXPECT_EQ(out, "0.1");
  out.clear();
  append_json_int(out, INT64_MIN);
  out.push_back(' ');
  append_json_uint(out, UINT64_MAX);
  EXPECT_EQ(out, "-9223372036854775808 18446744073709551615");
}

// Every byte value at every position of strings around the 8- and 16-byte
// scanning steps (and the overlapping last load): the result must be the
// same as escaping byte by byte.
TEST(JsonString, EveryByteAtEveryPositionAsAlone) {
  for (size_t size = 1; size <= 40; ++size) {
    for (size_t at = 0; at < size; ++at) {
      for (int b = 0; b < 256; ++b) {
        std::string text(size, 'a');
        text[at] = static_cast<char>(b);
        std::string alone;
        append_json_string(alone, std::string(1, static_cast<char>(b)));
        // The byte's own escape, without its quotes, between the plain parts.
        std::string want(1, '"');
        want.append(at, 'a');
        want.append(alone, 1, alone.size() - 2);
        want.append(size - at - 1, 'a');
        want.push_back('"');
        std::string got;
        append_json_string(got, text);
        ASSERT_EQ(got, want) << "size " << size << " at " << at << " byte " << b;
      }
    }
  }
}

// Two bytes that need escaping, at every pair of positions: the scan goes
// on after the first one's escape, and a last load that overlaps it must
// not find it again. Nothing is written past the end returned, though the
// scan copies ahead into the room the rest of the text takes.
TEST(JsonString, TwoEscapesAtEveryPairOfPositions) {
  constexpr char kMarks[] = {'"', '\n', '\\', '\x01', '\x80'};
  auto alone = [](char c) {
    std::string one;
    append_json_string(one, std::string(1, c));
    return one.substr(1, one.size() - 2);
  };
  for (size_t size = 2; size <= 40; ++size) {
    for (size_t first = 0; first < size; ++first) {
      for (size_t second = first + 1; second < size; ++second) {
        for (const char mark : kMarks) {
          std::string text;
          for (size_t i = 0; i < size; ++i) text.push_back(static_cast<char>('a' + i % 26));
          text[first] = mark;
          text[second] = '"';
          std::string want(1, '"');
          for (const char c : text) want += alone(c);
          want.push_back('"');
          std::string room(json_string_bound(size) + 16, '#');
          const char* end = write_json_string(room.data(), text);
          ASSERT_EQ(std::string_view(room.data(), static_cast<size_t>(end - room.data())), want)
              << "size " << size << " at " << first << " and " << second;
          ASSERT_EQ(room.find_first_not_of('#', want.size()), std::string::npos) << "written past the end";
        }
      }
    }
  }
}

TEST(JsonNumbers, IntegersMatchToChars) {
  // Every digit count and the edges around each power of ten, both signs.
  std::vector<uint64_t> values = {0, 1, 9, UINT64_MAX, UINT64_MAX - 1, uint64_t{INT64_MAX}, uint64_t{INT64_MAX} + 1};
  for (uint64_t p = 1; p <= UINT64_MAX / 10; p *= 10) {
    for (uint64_t v : {p - 1, p, p + 1, p * 10 - 1}) values.push_back(v);
  }
  std::mt19937_64 rng(11);
  for (int i = 0; i < 20000; ++i) values.push_back(rng() >> (rng() % 64));
  // Eight digits are made at once: every value below 10^5, and a stride
  // through those below 10^8 and 10^16.
  for (uint64_t v = 0; v < 100000; ++v) values.push_back(v);
  for (uint64_t v = 0; v < 100000000; v += 9973) values.push_back(v);
  for (uint64_t v = 0; v < 10000000000000000; v += 998244353ULL * 9973) values.push_back(v);
  for (uint64_t v : values) {
    std::string out;
    append_json_uint(out, v);
    ASSERT_EQ(out, std::to_string(v));
    const int64_t s = static_cast<int64_t>(v);
    out.clear();
    append_json_int(out, s);
    ASSERT_EQ(out, std::to_string(s));
  }
}

TEST(JsonNumbers, LargeWholeDoublesUseAnExponent) {
  // Shortest text would be the bare integer 35690056001587249152, which
  // integer-first parsers (simdjson) reject past 2^64.
  std::string out;
  append_json_double(out, 3.5690056001587249e19);
  EXPECT_EQ(out, "3.569005600158725e+19");
  out.clear();
  append_json_float(out, 1e20F);
  EXPECT_EQ(out, "1e+20");
  // Below 1e16 whole numbers stay plain, and every value still round-trips.
  out.clear();
  append_json_double(out, 123456789012345.0);
  EXPECT_EQ(out, "123456789012345");
  std::mt19937_64 rng(3);
  for (int i = 0; i < 10000; ++i) {
    const double v = std::ldexp(static_cast<double>(rng() >> 11), static_cast<int>(rng() % 40));
    out.clear();
    append_json_double(out, v);
    ASSERT_EQ(std::strtod(out.c_str(), nullptr), v) << out;
    if (v >= 1e16) {
      ASSERT_NE(out.find('e'), std::string::npos) << out;
    }
  }
}

TEST(Timestamp, FormatsRfc3339WithNanoseconds) {
  TimestampFormatter f;
  std::string out;
  f.append(out, 0);
  EXPECT_EQ(out, R"("1970-01-01T00:00:00.000000000Z")");
  out.clear();
  // 2026-11-22T21:00:00.123456789Z
  f.append(out, 1795381200LL * 1'000'000'000 + 123456789);
  EXPECT_EQ(out, R"("2026-11-22T21:00:00.123456789Z")");
  out.clear();
  f.append(out, 1795381200LL * 1'000'000'000 + 999999999);  // same second: cached prefix
  EXPECT_EQ(out, R"("2026-11-22T21:00:00.999999999Z")");
  out.clear();
  f.append(out, 951782400LL * 1'000'000'000);  // 2000-02-29, a leap day
  EXPECT_EQ(out, R"("2000-02-29T00:00:00.000000000Z")");
  out.clear();
  f.append(out, -1);  // one ns before the epoch
  EXPECT_EQ(out, R"("1969-12-31T23:59:59.999999999Z")");
  // The nanoseconds' nine digits, through the range.
  for (int64_t nanos = 0; nanos < 1'000'000'000; nanos += 999'983) {
    for (const int64_t ns : {nanos, 999'999'999 - nanos}) {
      out.clear();
      f.append(out, 1795381200LL * 1'000'000'000 + ns);
      char want[16];
      std::snprintf(want, sizeof(want), "%09lld", static_cast<long long>(ns));
      ASSERT_EQ(out.substr(21, 9), want) << ns;
    }
  }
}

TEST(Timestamp, TheCachedSecondGivesWhatAFreshFormatterGives) {
  // One formatter across stamps in the same, the next and far seconds, both
  // sides of the epoch and the int64 ends; each against a formatter that has
  // cached nothing.
  const int64_t second = 1795381200LL * 1'000'000'000;
  std::vector<int64_t> stamps = {second,
                                 second + 999'999'999,
                                 second + 1'000'000'000,
                                 second - 1,
                                 -1,
                                 0,
                                 -1'000'000'000,
                                 -1'000'000'001,
                                 INT64_MIN,
                                 INT64_MIN + 1,
                                 INT64_MAX,
                                 INT64_MAX - 1,
                                 second + 5,
                                 second};
  std::mt19937_64 rng(11);
  for (int i = 0; i < 20000; ++i) {
    // Near the cached second, or anywhere (modulo 2^64: no signed overflow).
    const uint64_t base = i % 2 == 0 ? static_cast<uint64_t>(second) : rng();
    stamps.push_back(static_cast<int64_t>(base + rng() % 3'000'000'000ULL - 1'500'000'000ULL));
  }
  TimestampFormatter cached;
  for (const int64_t ns : stamps) {
    std::string got;
    std::string want;
    cached.append(got, ns);
    TimestampFormatter().append(want, ns);
    ASSERT_EQ(got, want) << ns;
  }
  std::string ends;
  cached.append(ends, INT64_MIN);
  cached.append(ends, INT64_MAX);
  EXPECT_EQ(ends, R"("1677-09-21T00:12:43.145224192Z""2262-04-11T23:47:16.854775807Z")");
}

}  // namespace
}  // namespace ringtail::reader
