// Hostile strings end to end: a forked producer (tests/support/producer_child.hpp)
// logs strings built to break a JSON writer, and the real `ringtail drain --once`
// tool turns its segment into JSONL. The requirement checked:
//
//   hostile strings (quotes, backslashes, every control character, invalid
//   UTF-8, a 1 MiB value): every output line parses as JSON and round-trips
//   the valid parts.
//
// Values: '"' and '\'; every byte 0x00-0x1F and 0x7F, alone and mid-string;
// well-formed 2-, 3- and 4-byte UTF-8 (boundary code points included); every
// byte 0x80-0xFF alone and mid-string, truncated sequences, overlongs,
// surrogates, code points above U+10FFFF; values at, just over and far over
// the producer's string limit (max_string_bytes: 4096 by default; a longer
// value is cut and the line carries "_cut" with its original length), and an
// uncut 1 MiB value under the largest limit. Hostile bytes also go into a
// message literal, into keys (with the collisions they cause) and into the
// service name (which also names the output directory and file).
//
// Every line must parse with simdjson (which rejects raw control characters
// and ill-formed UTF-8), use only the escapes docs/FORMAT.md allows, and every
// decoded string must EQUAL the expected text: the logged bytes with each
// maximal ill-formed UTF-8 subpart replaced by one U+FFFD. The expected texts
// are written by hand for the fixed inputs; generated values (the big ones,
// the service name) go through replace_ill_formed() below, an independent
// reference that is itself checked against the hand-written cases. Parse
// success alone would not catch a reader that mis-escapes into other valid
// JSON, so the decoded values are compared exactly.
//
// Each test uses its own service name and output directory (removed at the
// end), names its producer's pid (--pid), and the producer's segment is
// removed by the drain or, if the test fails first, by ProducerChild. No
// wall-clock assertions. Needs $RINGTAIL_TEST_BIN_DIR/tools/ringtail (skipped
// without).
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <iterator>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include <gtest/gtest.h>
#include <simdjson.h>

#include "producer_child.hpp"
#include "ringtail/ringtail.hpp"
#include "stored_files.hpp"
#include "subprocess.hpp"
#include "temp_dir.hpp"

namespace ringtail::reader {
namespace {

using ringtail::test::TempDir;

using ringtail::kv;
using ringtail::test::ProducerChild;

constexpr std::string_view kFffd = "\xEF\xBF\xBD";  // U+FFFD, UTF-8
constexpr size_t kMiB = size_t{1} << 20;
constexpr uint32_t kDefaultMaxString = 4096;  // Options::max_string_bytes, docs: RINGTAIL_MAX_STRING_BYTES

// ---------------------------------------------------------------------------
// Expected text.

// n replacement characters.
std::string fffd(int n = 1) {
  std::string out;
  for (int i = 0; i < n; ++i) out += kFffd;
  return out;
}

// The parts, concatenated.
std::string cat(std::initializer_list<std::string_view> parts) {
  std::string out;
  for (std::string_view part : parts) out.append(part);
  return out;
}

// A literal's bytes, embedded NULs included.
template <size_t N>
std::string bytes(const char (&literal)[N]) {
  return std::string(literal, N - 1);
}

// The well-formed UTF-8 byte sequences (Unicode standard, table 3-7), by lead byte.
struct Utf8Row {
  unsigned char lead_lo, lead_hi;
  size_t length;
  unsigned char second_lo, second_hi;  // every later byte is 80..BF
};
constexpr Utf8Row kUtf8Rows[] = {
    {0x00, 0x7F, 1, 0, 0},       {0xC2, 0xDF, 2, 0x80, 0xBF}, {0xE0, 0xE0, 3, 0xA0, 0xBF},
    {0xE1, 0xEC, 3, 0x80, 0xBF}, {0xED, 0xED, 3, 0x80, 0x9F}, {0xEE, 0xEF, 3, 0x80, 0xBF},
    {0xF0, 0xF0, 4, 0x90, 0xBF}, {0xF1, 0xF3, 4, 0x80, 0xBF}, {0xF4, 0xF4, 4, 0x80, 0x8F},
};

// Reference: `in` with each maximal ill-formed subpart (the longest start of
// a well-formed sequence, or else one byte) replaced by one U+FFFD.
std::string replace_ill_formed(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  size_t i = 0;
  while (i < in.size()) {
    const auto lead = static_cast<unsigned char>(in[i]);
    const Utf8Row* row = nullptr;
    for (const Utf8Row& r : kUtf8Rows) {
      if (lead >= r.lead_lo && lead <= r.lead_hi) row = &r;
    }
    size_t matched = 1;
    while (row != nullptr && matched < row->length && i + matched < in.size()) {
      const auto b = static_cast<unsigned char>(in[i + matched]);
      const unsigned char lo = matched == 1 ? row->second_lo : 0x80;
      const unsigned char hi = matched == 1 ? row->second_hi : 0xBF;
      if (b < lo || b > hi) break;
      ++matched;
    }
    if (row != nullptr && matched == row->length) {
      out.append(in.substr(i, matched));
    } else {
      out += kFffd;
    }
    i += matched;
  }
  return out;
}

// Bytes for error messages: printable ASCII as is, the rest as \xNN; long
// texts are elided in the middle.
std::string visible(std::string_view text, size_t limit = 160) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text.size() > limit && i == limit / 2) {
      out += "...(" + std::to_string(text.size() - limit) + " bytes)...";
      i = text.size() - limit / 2;
    }
    const auto c = static_cast<unsigned char>(text[i]);
    if (c >= 0x20 && c < 0x7F && c != '\\') {
      out.push_back(static_cast<char>(c));
    } else {
      char hex[8];
      std::snprintf(hex, sizeof(hex), "\\x%02X", c);
      out += hex;
    }
  }
  return out;
}

// Empty if equal; else where and how they differ.
std::string diff(std::string_view actual, std::string_view expected) {
  if (actual == expected) return "";
  size_t at = 0;
  while (at < actual.size() && at < expected.size() && actual[at] == expected[at]) ++at;
  const size_t from = at < 16 ? 0 : at - 16;
  return "differ at byte " + std::to_string(at) + " (sizes " + std::to_string(actual.size()) + " and " +
         std::to_string(expected.size()) + "): got \"" + visible(actual.substr(from, 48)) + "\", want \"" +
         visible(expected.substr(from, 48)) + "\" (from byte " + std::to_string(from) + ")";
}

// ---------------------------------------------------------------------------
// What the producer logs.

// One value logged as kv("value", ...) by the "hostile value" call site.
struct ValueCase {
  std::string name;
  std::string value;
  std::string expected;
};

std::string hex_name(const char* what, int byte) {
  char text[64];
  std::snprintf(text, sizeof(text), "%s 0x%02X", what, byte);
  return text;
}

std::vector<ValueCase> value_cases() {
  std::vector<ValueCase> cases;
  const auto same = [&](std::string name, std::string value) { cases.push_back({name, value, value}); };
  const auto bad = [&](std::string name, std::string value, std::string expected) {
    cases.push_back({std::move(name), std::move(value), std::move(expected)});
  };

  // Quotes, backslashes, and text that looks like escapes.
  same("quote", "\"");
  same("backslash", "\\");
  same("escaped quote", "\\\"");
  same("quoted backslashes", "\"\\\\\"");
  same("trailing backslash", "abc\\");
  same("json inside", R"({"a":"b\"c","d":[1,"\\"]})");
  same("escape look-alikes", R"(\u0041 \uD800 \n \t \\ \" \/ \x41 \0)");
  same("slashes", "</script> // /");
  same("empty", "");

  // Every control character, alone and mid-string, then all in one string.
  std::string all_controls;
  for (int c = 0; c <= 0x7F; ++c) {
    if (c >= 0x20 && c != 0x7F) continue;
    const std::string byte(1, static_cast<char>(c));
    same(hex_name("control alone", c), byte);
    same(hex_name("control mid-string", c), cat({"a", byte, "b"}));
    all_controls += byte;
  }
  same("every control", all_controls + "|" + all_controls);
  same("NUL first and last", bytes("\0middle\0"));

  // Well-formed multi-byte UTF-8, boundary code points included.
  same("2 bytes", "\xC3\xA9");
  same("3 bytes", "\xE2\x82\xAC");
  same("4 bytes", "\xF0\x9F\x98\x80");
  same("mixed", "a\xC3\xA9z\xE2\x82\xACz\xF0\x9F\x98\x80z");
  same("U+0080", "\xC2\x80");
  same("U+07FF", "\xDF\xBF");
  same("U+0800", "\xE0\xA0\x80");
  same("U+D7FF", "\xED\x9F\xBF");
  same("U+E000", "\xEE\x80\x80");
  same("U+FFFF", "\xEF\xBF\xBF");
  same("U+10000", "\xF0\x90\x80\x80");
  same("U+10FFFF", "\xF4\x8F\xBF\xBF");
  same("U+FFFD itself", fffd());
  same("byte order mark", "\xEF\xBB\xBF");
  same("U+2028 U+2029", "\xE2\x80\xA8\xE2\x80\xA9");
  same("combining accent", "e\xCC\x81");
  same("controls between characters", "\xC3\xA9\x01\xE2\x82\xAC\n\xF0\x9F\x98\x80\x7F\"");

  // Ill-formed UTF-8: every byte 0x80-0xFF alone (a continuation byte, a
  // lead byte without its continuation, or a byte that is never valid) and
  // mid-string before an ASCII byte: one U+FFFD each.
  for (int b = 0x80; b <= 0xFF; ++b) {
    const std::string byte(1, static_cast<char>(b));
    bad(hex_name("byte alone", b), byte, fffd());
    bad(hex_name("byte mid-string", b), cat({"a", byte, "z"}), cat({"a", kFffd, "z"}));
  }
  bad("truncated 3-byte", "\xE2\x82", fffd());
  bad("truncated 3-byte mid-string", "a\xE2\x82z", "a" + fffd() + "z");
  bad("truncated 4-byte", "\xF0\x9F\x98", fffd());
  bad("truncated 4-byte after text", "ok\xF0\x9F", "ok" + fffd());
  bad("truncated then whole", "\xE2\x82\xE2\x82\xAC", fffd() + "\xE2\x82\xAC");
  bad("truncated before quote", "\xE2\x82\"", fffd() + "\"");
  bad("overlong slash", "\xC0\xAF", fffd(2));
  bad("overlong C1", "\xC1\xBF", fffd(2));
  bad("overlong 3-byte", "\xE0\x80\xAF", fffd(3));
  bad("overlong 3-byte E0 9F", "\xE0\x9F\xBF", fffd(3));
  bad("overlong 4-byte", "\xF0\x80\x80\xAF", fffd(4));
  bad("overlong NUL", "\xC0\x80", fffd(2));
  bad("high surrogate", "\xED\xA0\x80", fffd(3));
  bad("low surrogate", "\xED\xBF\xBF", fffd(3));
  bad("surrogate pair", "\xED\xA0\xBD\xED\xB8\x80", fffd(6));
  bad("above U+10FFFF", "\xF4\x90\x80\x80", fffd(4));
  bad("F5 lead", "\xF5\x80\x80\x80", fffd(4));
  bad("5-byte form", "\xF8\x88\x80\x80\x80", fffd(5));
  bad("6-byte form", "\xFC\x84\x80\x80\x80\x80", fffd(6));
  bad("FE FF", "\xFE\xFF", fffd(2));
  bad("lone continuations", "\x80\xBF\x80", fffd(3));
  // The Unicode standard's example for U+FFFD substitution (table 3-8).
  bad("unicode table 3-8", "\x61\xF1\x80\x80\xE1\x80\xC2\x62\x80\x63\x80\xBF\x64",
      "a" + fffd(3) + "b" + fffd() + "c" + fffd(2) + "d");
  bad("valid around invalid", "\xC3\xA9\xFF\xE2\x82\xAC\x80\xF0\x9F\x98\x80\xED\xA0\x80!",
      "\xC3\xA9" + fffd() + "\xE2\x82\xAC" + fffd() + "\xF0\x9F\x98\x80" + fffd(3) + "!");
  bad("invalid next to escapes", bytes("\xFF\x01\"\\\xC3\0\xE2\x82\n"),
      fffd() + "\x01\"\\" + fffd() + bytes("\0") + fffd() + "\n");
  return cases;
}

// Hostile bytes of every kind, for filling big values (a NUL included).
std::string hostile_block() {
  return bytes(
      "\"\\\x01\x1F\t\n\0\x7F/ \xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80 \xFF\x80\xE2\x82 \xC0\xAF\xED\xA0\x80\xF5 abc ");
}

// `size` bytes of hostile blocks (the last one cut wherever it falls).
std::string hostile_fill(size_t size) {
  const std::string block = hostile_block();
  std::string out;
  out.reserve(size + block.size());
  while (out.size() < size) out += block;
  out.resize(size);
  return out;
}

// Everything one producer logs, built before the fork so that the parent
// knows the exact bytes the child logged.
struct Logged {
  std::vector<ValueCase> values = value_cases();
  // 1 MiB: hostile bytes, with a 4-byte character across the default cut
  // (bytes 4094-4097), so the stored prefix ends in half a character.
  std::string mebibyte;
  // 5000 bytes: 4095 backslashes, then "é" across the cut, then quotes.
  std::string backslashes;
  // Exactly the default limit, ending in a whole 4-byte character: not cut.
  std::string at_cap;
  // One byte over the limit: cut to 4096 quotes.
  std::string over_cap;
  // Two values cut under colliding hostile keys.
  std::string cut_a = hostile_fill(5000);
  std::string cut_b = hostile_fill(4097);

  Logged() {
    mebibyte = hostile_fill(kDefaultMaxString - 3) + "x\xF0\x9F\x98\x80";
    mebibyte += hostile_fill(kMiB - mebibyte.size());
    backslashes = std::string(kDefaultMaxString - 1, '\\') + "\xC3\xA9";
    backslashes += std::string(5000 - backslashes.size(), '"');
    at_cap = std::string(kDefaultMaxString - 4, '\x01') + "\xF0\x9F\x98\x80";
    over_cap = std::string(kDefaultMaxString, '"') + "\x01";
  }
};

// Event ids (the first field of every event): value cases use their index.
constexpr uint32_t kMessageId = 100000;
constexpr uint32_t kKeysId = 100001;
constexpr uint32_t kLongMessageId = 100002;
constexpr uint32_t kBigId = 100003;
constexpr uint32_t kCutKeysId = 100004;

// The hostile message literal, and what the line must say.
#define HOSTILE_MESSAGE                                                                                 \
  "msg \"quoted\" back\\slash tab\t nl\n bell\x07 esc\x1B del\x7F \xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80" \
  " bad\xFF\xC0\xAF end"
const std::string kHostileMessageExpected =
    "msg \"quoted\" back\\slash tab\t nl\n bell\x07 esc\x1B del\x7F \xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80 bad" +
    fffd(3) + " end";

// A message longer than the producer keeps (its call-site table keeps 200
// bytes of a message, core/src/callsite_registry.cpp), with a 3-byte
// character across byte 200.
#define HS_X10 "xxxxxxxxxx"
#define HS_X100 HS_X10 HS_X10 HS_X10 HS_X10 HS_X10 HS_X10 HS_X10 HS_X10 HS_X10 HS_X10
#define LONG_MESSAGE HS_X100 HS_X10 HS_X10 HS_X10 HS_X10 HS_X10 HS_X10 HS_X10 HS_X10 HS_X10 "xxxxxxxxx\xE2\x82\xAC tail"

// The producer child's body: logs every event once, in this order. Returns
// the number of events that were not committed (0 expected).
int log_everything(const Logged& logged) {
  int lost = 0;
  for (size_t i = 0; i < logged.values.size(); ++i) {
    lost += !RINGTAIL_INFO("hostile value", kv("id", static_cast<uint32_t>(i)),
                           kv("value", std::string_view(logged.values[i].value)));
  }
  lost += !RINGTAIL_WARN(HOSTILE_MESSAGE, kv("id", kMessageId));
  lost += !RINGTAIL_INFO("hostile keys", kv("id", kKeysId), kv("q\"uote", 1), kv("back\\slash", 2),
                         kv("ctl\x01\x1F\t\n\x7F", 3), kv("utf8 \xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80", 4),
                         kv("bad\xFF", 5), kv("bad\xFE", 6), kv("\xC0\xAF", 7), kv("message", 8), kv("_cut", 9),
                         kv("", 10), kv("str\"\\\x01\xFF", std::string_view("v\"\\\x01\xFF")));
  lost += !RINGTAIL_ERROR(LONG_MESSAGE, kv("id", kLongMessageId));
  lost +=
      !RINGTAIL_INFO("big values", kv("id", kBigId), kv("big\"\\\x01\xFF", std::string_view(logged.mebibyte)),
                     kv("backslashes", std::string_view(logged.backslashes)),
                     kv("at_cap", std::string_view(logged.at_cap)), kv("over_cap", std::string_view(logged.over_cap)));
  lost += !RINGTAIL_INFO("cut keys", kv("id", kCutKeysId), kv("k\"\\\x01\xFF", std::string_view(logged.cut_a)),
                         kv("k\"\\\x01\xFE", std::string_view(logged.cut_b)));
  const ringtail::LossCounters losses = loss_counters();
  if (losses.ring_full + losses.too_big + losses.no_ring + losses.callsite_table_full != 0) ++lost;
  return lost;
}

// ---------------------------------------------------------------------------
// What a line must hold.

using CutMap = std::vector<std::pair<std::string, uint64_t>>;  // "_cut": key -> original bytes, in order
struct ExpectedField {
  std::string key;
  std::variant<int64_t, std::string, CutMap> value;
};
struct ExpectedEvent {
  std::string message;
  bool message_cut = false;           // message: replace_ill_formed(a prefix of `message`)
  std::vector<ExpectedField> fields;  // after the reserved keys
};

std::map<uint32_t, ExpectedEvent> expected_events(const Logged& logged) {
  std::map<uint32_t, ExpectedEvent> events;
  const auto id = [](uint32_t n) { return ExpectedField{"id", int64_t{n}}; };
  for (size_t i = 0; i < logged.values.size(); ++i) {
    events[static_cast<uint32_t>(i)] = {
        "hostile value", false, {id(static_cast<uint32_t>(i)), {"value", logged.values[i].expected}}};
  }
  events[kMessageId] = {kHostileMessageExpected, false, {id(kMessageId)}};
  // Keys are escaped like values; keys that read the same after U+FFFD
  // replacement collide, and reserved names get a leading underscore.
  events[kKeysId] = {"hostile keys",
                     false,
                     {id(kKeysId),
                      {"q\"uote", 1},
                      {"back\\slash", 2},
                      {"ctl\x01\x1F\t\n\x7F", 3},
                      {"utf8 \xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80", 4},
                      {"bad" + fffd(), 5},
                      {"_bad" + fffd(), 6},
                      {fffd(2), 7},
                      {"_message", 8},
                      {"__cut", 9},
                      {"", 10},
                      {"str\"\\\x01" + fffd(), "v\"\\\x01" + fffd()}}};
  events[kLongMessageId] = {LONG_MESSAGE, true, {id(kLongMessageId)}};

  const std::string big_key = "big\"\\\x01" + fffd();
  const std::string mebibyte_prefix =
      replace_ill_formed(std::string_view(logged.mebibyte).substr(0, kDefaultMaxString));
  // By construction the stored 1 MiB prefix ends in "x" and half of U+1F600.
  EXPECT_EQ(mebibyte_prefix.substr(mebibyte_prefix.size() - 4), "x" + fffd());
  events[kBigId] = {"big values",
                    false,
                    {id(kBigId),
                     {big_key, mebibyte_prefix},
                     {"backslashes", std::string(kDefaultMaxString - 1, '\\') + fffd()},
                     {"at_cap", logged.at_cap},
                     {"over_cap", std::string(kDefaultMaxString, '"')},
                     {"_cut", CutMap{{big_key, kMiB}, {"backslashes", 5000}, {"over_cap", kDefaultMaxString + 1}}}}};

  const std::string cut_key = "k\"\\\x01" + fffd();
  events[kCutKeysId] = {
      "cut keys",
      false,
      {id(kCutKeysId),
       {cut_key, replace_ill_formed(std::string_view(logged.cut_a).substr(0, kDefaultMaxString))},
       {"_" + cut_key, replace_ill_formed(std::string_view(logged.cut_b).substr(0, kDefaultMaxString))},
       {"_cut", CutMap{{cut_key, logged.cut_a.size()}, {"_" + cut_key, logged.cut_b.size()}}}}};
  return events;
}

// ---------------------------------------------------------------------------
// Running the tool and reading its output.

// A fresh temporary directory, removed with everything in it.
std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// Runs `ringtail drain --once --out <out> --pid <pid>`, its stdout and
// stderr kept in `log`; the exit code, -1 if it did not exit on its own.
int run_drain(const std::string& out, pid_t pid, const std::string& log) {
  ringtail::test::Tool drain({"drain", "--once", "--out", out, "--pid", std::to_string(pid)});
  const int code = drain.wait(120000);
  std::ofstream(log, std::ios::binary) << drain.out() << drain.err();
  return drain.timed_out() ? -1 : code;
}

// Empty if the raw line has no raw control byte and only the escapes
// docs/FORMAT.md allows: backslash before one of "\bfnrt, and \u00XX only
// for the other control characters (so non-ASCII is raw UTF-8, and DEL and
// '/' are not escaped). Else what is wrong.
std::string check_escapes(std::string_view raw) {
  for (size_t i = 0; i < raw.size(); ++i) {
    const auto c = static_cast<unsigned char>(raw[i]);
    if (c < 0x20) return "raw control byte at " + std::to_string(i);
    if (c != '\\') continue;
    if (i + 1 >= raw.size()) return "backslash at the end";
    const char e = raw[i + 1];
    if (std::string_view("\"\\bfnrt").find(e) != std::string_view::npos) {
      ++i;
      continue;
    }
    if (e != 'u' || i + 5 >= raw.size()) return "escape \\" + std::string(1, e) + " at " + std::to_string(i);
    const std::string hex(raw.substr(i + 2, 4));
    const unsigned long code = std::strtoul(hex.c_str(), nullptr, 16);
    if (code >= 0x20) return "\\u" + hex + " for a character that is not a control character";
    if (code == '\b' || code == '\f' || code == '\n' || code == '\r' || code == '\t') {
      return "\\u" + hex + " where a short escape exists";
    }
    i += 5;
  }
  return "";
}

// One parsed line: its members in order, values kept as the test needs them.
struct Member {
  std::string key;
  simdjson::dom::element_type type = simdjson::dom::element_type::NULL_VALUE;
  std::string text;    // strings
  int64_t number = 0;  // integers
  CutMap object;       // objects of integers ("_cut")
};
struct ParsedLine {
  std::vector<Member> members;
  const Member* find(std::string_view key) const {
    for (const Member& m : members) {
      if (m.key == key) return &m;
    }
    return nullptr;
  }
};

// Parses one line (without its '\n'); nullopt, with `error` set, if it is
// not a JSON object.
std::optional<ParsedLine> parse_line(simdjson::dom::parser& parser, const std::string& raw, std::string& error) {
  simdjson::dom::object object;
  if (const simdjson::error_code code = parser.parse(raw).get(object); code != simdjson::SUCCESS) {
    error = simdjson::error_message(code);
    return std::nullopt;
  }
  ParsedLine line;
  for (const simdjson::dom::key_value_pair pair : object) {
    Member m;
    m.key = std::string(pair.key);
    m.type = pair.value.type();
    std::string_view text;
    int64_t number = 0;
    simdjson::dom::object inner;
    if (pair.value.get(text) == simdjson::SUCCESS) m.text = std::string(text);
    if (pair.value.get(number) == simdjson::SUCCESS) m.number = number;
    if (pair.value.get(inner) == simdjson::SUCCESS) {
      for (const simdjson::dom::key_value_pair item : inner) {
        uint64_t value = 0;
        if (item.value.get(value) != simdjson::SUCCESS) error = "a non-integer in " + m.key;
        m.object.emplace_back(std::string(item.key), value);
      }
    }
    line.members.push_back(std::move(m));
  }
  return line;
}

// The lines of a drained producer.
struct Drained {
  std::vector<std::filesystem::path> files;
  std::vector<ParsedLine> lines;
  size_t raw_lines = 0;
};

// Reads every line under `dir`; a line that is not valid, canonically escaped
// JSON is a test failure.
Drained read_drained(const std::string& dir) {
  Drained drained;
  drained.files = ringtail::test::stored_data_files(dir);
  simdjson::dom::parser parser;
  for (const std::filesystem::path& file : drained.files) {
    const std::string data = ringtail::test::read_stored_text(file);
    size_t begin = 0;
    while (begin < data.size()) {
      size_t end = data.find('\n', begin);
      if (end == std::string::npos) end = data.size();
      const std::string raw = data.substr(begin, end - begin);
      begin = end + 1;
      const size_t number = ++drained.raw_lines;
      EXPECT_EQ(check_escapes(raw), "") << "line " << number << ": " << visible(raw);
      std::string error;
      std::optional<ParsedLine> line = parse_line(parser, raw, error);
      EXPECT_TRUE(line.has_value() && error.empty()) << "line " << number << ": " << error << ": " << visible(raw);
      if (line) drained.lines.push_back(std::move(*line));
    }
  }
  return drained;
}

// Once `child` has logged and exited cleanly, drains its segment into
// `dir`/jsonl (the drain's output kept in `dir`/drain.log) and reads back
// what it stored.
void join_and_drain(ProducerChild& child, const std::string& dir, Drained& drained) {
  ASSERT_TRUE(child.ok()) << child.error();
  ASSERT_EQ(child.join(), 0) << "events not committed in the producer";
  const std::string log = dir + "/drain.log";
  const std::string jsonl = dir + "/jsonl";
  ASSERT_EQ(run_drain(jsonl, child.pid(), log), 0) << read_file(log);
  drained = read_drained(jsonl);
}

// The reserved keys every event line starts with (docs/FORMAT.md).
constexpr std::string_view kReserved[] = {"timestamp", "level", "message", "service", "pid", "tid", "seq"};

// Checks one event line against what was logged; returns its id (or -1).
int64_t check_event(const ParsedLine& line, const std::map<uint32_t, ExpectedEvent>& expected,
                    const std::string& service, pid_t pid) {
  const size_t reserved = std::size(kReserved);
  if (line.members.size() <= reserved) {
    ADD_FAILURE() << "an event line with " << line.members.size() << " keys";
    return -1;
  }
  for (size_t i = 0; i < reserved; ++i) EXPECT_EQ(line.members[i].key, kReserved[i]);
  const Member& id_member = line.members[reserved];
  EXPECT_EQ(id_member.key, "id");
  const auto it = expected.find(static_cast<uint32_t>(id_member.number));
  if (it == expected.end()) {
    ADD_FAILURE() << "an event with unknown id " << id_member.number;
    return -1;
  }
  const ExpectedEvent& want = it->second;
  SCOPED_TRACE("event id " + std::to_string(it->first));
  EXPECT_EQ(diff(line.members[3].text, replace_ill_formed(service)), "") << "service";
  EXPECT_EQ(line.members[4].number, pid);

  const std::string& message = line.members[2].text;
  if (!want.message_cut) {
    EXPECT_EQ(diff(message, want.message), "") << "message";
  } else {
    // Some prefix of the literal, with ill-formed UTF-8 at the cut replaced.
    bool found = false;
    for (size_t n = 0; n <= want.message.size() && !found; ++n) {
      found = message == replace_ill_formed(std::string_view(want.message).substr(0, n));
    }
    EXPECT_TRUE(found) << "message \"" << visible(message) << "\" is no cut of \"" << visible(want.message) << "\"";
  }

  const size_t fields = line.members.size() - reserved;
  EXPECT_EQ(fields, want.fields.size()) << "fields";
  for (size_t i = 0; i < std::min(fields, want.fields.size()); ++i) {
    const Member& got = line.members[reserved + i];
    const ExpectedField& field = want.fields[i];
    EXPECT_EQ(diff(got.key, field.key), "") << "key of field " << i;
    if (const auto* number = std::get_if<int64_t>(&field.value)) {
      EXPECT_EQ(got.type, simdjson::dom::element_type::INT64) << visible(got.key);
      EXPECT_EQ(got.number, *number) << visible(got.key);
    } else if (const auto* text = std::get_if<std::string>(&field.value)) {
      EXPECT_EQ(got.type, simdjson::dom::element_type::STRING) << visible(got.key);
      EXPECT_EQ(diff(got.text, *text), "") << visible(got.key);
    } else {
      EXPECT_EQ(got.type, simdjson::dom::element_type::OBJECT) << visible(got.key);
      const CutMap& cuts = std::get<CutMap>(field.value);
      EXPECT_EQ(got.object.size(), cuts.size()) << "_cut";
      for (size_t k = 0; k < std::min(got.object.size(), cuts.size()); ++k) {
        EXPECT_EQ(diff(got.object[k].first, cuts[k].first), "") << "_cut key " << k;
        EXPECT_EQ(got.object[k].second, cuts[k].second) << "_cut of " << visible(cuts[k].first);
      }
    }
  }
  return it->first;
}

// A unique service name with hostile bytes (under the header's 64 bytes).
std::string hostile_service(const char* tag) {
  static int counter = 0;
  return std::string("hs \"q\" \\ \t\x01\x7F \xC3\xA9 \xFF /../") + tag + "-" + std::to_string(::getpid()) + "-" +
         std::to_string(++counter);
}

// The output file is named after the service, made safe: it lies under the
// output directory, and its name has only [A-Za-z0-9._-].
void expect_safe_path(const std::filesystem::path& file, const std::string& dir, pid_t pid) {
  const std::string relative = std::filesystem::relative(file, dir).string();
  EXPECT_EQ(relative.find(".."), std::string::npos) << relative;
  for (const char c : relative) {
    const bool plain = std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.' || c == '/';
    EXPECT_TRUE(plain) << "unsafe path " << visible(relative);
  }
  const std::optional<reader::StoredFileName> name = reader::parse_stored_file_name(file.filename().string());
  ASSERT_TRUE(name.has_value()) << file.filename();
  EXPECT_EQ(name->pid, static_cast<uint32_t>(pid)) << file.filename();
}

class HostileStringsTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(ringtail::test::tool_built("ringtail")); }
};

// The test's own reference agrees with the hand-written expectations.
TEST(HostileStringsReference, AgreesWithHandWrittenCases) {
  for (const ValueCase& c : value_cases()) {
    EXPECT_EQ(diff(replace_ill_formed(c.value), c.expected), "") << c.name;
  }
  EXPECT_EQ(replace_ill_formed(bytes("\0\x7F")), bytes("\0\x7F"));
}

TEST_F(HostileStringsTest, EveryLineParsesAndValidPartsRoundTrip) {
  const Logged logged;
  const std::map<uint32_t, ExpectedEvent> expected = expected_events(logged);
  TempDir out{"hostile"};
  ASSERT_FALSE(out.path().empty());
  ringtail::Options options;
  options.service = hostile_service("rt");
  options.max_threads = 2;
  ASSERT_EQ(options.max_string_bytes, kDefaultMaxString);
  ProducerChild child = ProducerChild::start(options, [&](ProducerChild::Link&) { return log_everything(logged); });
  Drained drained;
  ASSERT_NO_FATAL_FAILURE(join_and_drain(child, out.path(), drained));
  const std::string jsonl = out.path() + "/jsonl";
  // One file per level class logged: info, warn (the hostile message), error (the long one).
  ASSERT_EQ(drained.files.size(), 3u);
  for (const std::filesystem::path& file : drained.files) expect_safe_path(file, jsonl, child.pid());
  EXPECT_EQ(drained.raw_lines, expected.size()) << "one line per event, no drop or reader lines";

  std::map<int64_t, int> seen;
  for (const ParsedLine& line : drained.lines) {
    ASSERT_NE(line.find("seq"), nullptr) << "a line that is not an event: " << line.members.size() << " keys";
    ++seen[check_event(line, expected, options.service, child.pid())];
  }
  for (const auto& [id, event] : expected) EXPECT_EQ(seen[id], 1) << "event " << id << " (" << event.message << ")";
  EXPECT_TRUE(ringtail::test::segments_of(child.pid()).empty()) << "the drained segment stays";
  std::printf("[          ] %zu lines checked (%zu value cases)\n", drained.raw_lines, logged.values.size());
}

// Under the largest string limit a 1 MiB value is stored whole: its line
// (megabytes once escaped) round-trips every valid byte, with no "_cut".
TEST_F(HostileStringsTest, UncutMebibyteValuesRoundTrip) {
  const std::string mixed = hostile_fill(kMiB);
  std::string controls(kMiB, '\0');
  for (size_t i = 0; i < controls.size(); ++i) controls[i] = static_cast<char>(i % 0x20);
  TempDir out{"hostile"};
  ASSERT_FALSE(out.path().empty());
  ringtail::Options options;
  options.service = hostile_service("mib");
  options.max_threads = 2;
  options.ring_bytes = uint64_t{8} << 20;  // records up to 4 MiB
  options.max_string_bytes = 16U << 20;    // the largest limit init() accepts
  ProducerChild child = ProducerChild::start(options, [&](ProducerChild::Link&) {
    int lost = 0;
    lost += !RINGTAIL_INFO("mebibyte", kv("id", 1), kv("mixed", std::string_view(mixed)));
    lost += !RINGTAIL_INFO("mebibyte", kv("id", 2), kv("controls", std::string_view(controls)));
    return lost;
  });
  Drained drained;
  ASSERT_NO_FATAL_FAILURE(join_and_drain(child, out.path(), drained));
  ASSERT_EQ(drained.files.size(), 1u);
  ASSERT_EQ(drained.lines.size(), 2u);
  std::map<uint32_t, ExpectedEvent> expected;
  expected[1] = {"mebibyte", false, {{"id", 1}, {"mixed", replace_ill_formed(mixed)}}};
  expected[2] = {"mebibyte", false, {{"id", 2}, {"controls", controls}}};
  std::map<int64_t, int> seen;
  for (const ParsedLine& line : drained.lines) ++seen[check_event(line, expected, options.service, child.pid())];
  EXPECT_EQ(seen[1], 1);
  EXPECT_EQ(seen[2], 1);
}

}  // namespace
}  // namespace ringtail::reader
