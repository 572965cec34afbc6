// Tests of EventJsonFormatter (docs/FORMAT.md): every line it writes is parsed
// by a real JSON parser (simdjson's DOM parser, which also rejects ill-formed
// UTF-8 and raw control characters), then its keys, their order and values are
// checked. Events, call sites and segment identities are built by hand: no
// producer is involved.
#include "ringtail/reader/output/event_json.hpp"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "ringtail/reader/storage/file_index.hpp"
#include "shape_check.hpp"

namespace ringtail::reader {
namespace {

using shm::FieldType;
using shm::Level;

// 2026-11-22T21:00:00.123456789Z, the header comment's example.
constexpr int64_t kExampleNs = 1795381200123456789;
constexpr std::string_view kFffd = "\xEF\xBF\xBD";

// ---------------------------------------------------------------------------
// A parsed JSON value, owned (independent of the parser's buffers).

struct Json {
  enum class Kind { kNull, kBool, kInt, kUint, kDouble, kString, kArray, kObject };
  Kind kind = Kind::kNull;
  bool b = false;
  int64_t i = 0;
  uint64_t u = 0;
  double d = 0;
  std::string s;
  std::vector<Json> items;
  std::vector<std::pair<std::string, Json>> members;  // in document order

  // Any JSON number as a double ("1" for 1.0 parses as an integer).
  double num() const {
    switch (kind) {
      case Kind::kInt:
        return static_cast<double>(i);
      case Kind::kUint:
        return static_cast<double>(u);
      case Kind::kDouble:
        return d;
      default:
        ADD_FAILURE() << "not a number";
        return std::nan("");
    }
  }
  std::vector<std::string> keys() const {
    std::vector<std::string> out;
    for (const auto& [key, value] : members) out.push_back(key);
    return out;
  }
  const Json& at(std::string_view key) const {
    for (const auto& [k, value] : members) {
      if (k == key) return value;
    }
    ADD_FAILURE() << "no key " << key;
    static const Json kNone;
    return kNone;
  }
  bool has(std::string_view key) const {
    for (const auto& [k, value] : members) {
      if (k == key) return true;
    }
    return false;
  }
};

Json convert(simdjson::dom::element e) {
  Json j;
  switch (e.type()) {
    case simdjson::dom::element_type::NULL_VALUE:
      break;
    case simdjson::dom::element_type::BOOL:
      j.kind = Json::Kind::kBool;
      j.b = e.get_bool().value_unsafe();
      break;
    case simdjson::dom::element_type::INT64:
      j.kind = Json::Kind::kInt;
      j.i = e.get_int64().value_unsafe();
      break;
    case simdjson::dom::element_type::UINT64:
      j.kind = Json::Kind::kUint;
      j.u = e.get_uint64().value_unsafe();
      break;
    case simdjson::dom::element_type::DOUBLE:
      j.kind = Json::Kind::kDouble;
      j.d = e.get_double().value_unsafe();
      break;
    case simdjson::dom::element_type::STRING:
      j.kind = Json::Kind::kString;
      j.s = std::string(e.get_string().value_unsafe());
      break;
    case simdjson::dom::element_type::ARRAY: {
      j.kind = Json::Kind::kArray;
      simdjson::dom::array array;
      EXPECT_EQ(e.get(array), simdjson::SUCCESS);
      for (simdjson::dom::element item : array) j.items.push_back(convert(item));
      break;
    }
    case simdjson::dom::element_type::OBJECT: {
      j.kind = Json::Kind::kObject;
      simdjson::dom::object object;
      EXPECT_EQ(e.get(object), simdjson::SUCCESS);
      for (simdjson::dom::key_value_pair kv : object) j.members.emplace_back(std::string(kv.key), convert(kv.value));
      break;
    }
  }
  return j;
}

// Parses one JSONL line (with its '\n') and checks what FORMAT.md promises of
// every line: one object, nothing after it, no key twice (simdjson accepts
// duplicates, so that is checked here, recursively).
void expect_unique_keys(const Json& j) {
  std::set<std::string> seen;
  for (const auto& [key, value] : j.members) {
    EXPECT_TRUE(seen.insert(key).second) << "duplicate key " << key;
    expect_unique_keys(value);
  }
}

Json parse_line(const std::string& line) {
  EXPECT_FALSE(line.empty());
  EXPECT_EQ(line.back(), '\n');
  EXPECT_EQ(line.find('\n'), line.size() - 1) << "one line, one object";
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  const simdjson::error_code error = parser.parse(line).get(doc);
  EXPECT_EQ(error, simdjson::SUCCESS) << simdjson::error_message(error) << " in: " << line.substr(0, 400);
  if (error != simdjson::SUCCESS) return Json{};
  Json j = convert(doc);
  EXPECT_EQ(j.kind, Json::Kind::kObject);
  expect_unique_keys(j);
  return j;
}

// Splits a buffer of lines and parses each.
std::vector<Json> parse_lines(const std::string& text) {
  std::vector<Json> out;
  size_t start = 0;
  while (start < text.size()) {
    const size_t end = text.find('\n', start);
    EXPECT_NE(end, std::string::npos) << "unterminated last line";
    if (end == std::string::npos) break;
    out.push_back(parse_line(text.substr(start, end + 1 - start)));
    start = end + 1;
  }
  return out;
}

// ---------------------------------------------------------------------------
// Hand-built inputs.

SegmentIdentity realtime_identity(std::string service = "agent", uint32_t pid = 1234) {
  SegmentIdentity id;
  id.abi_version = 1;
  id.flags = 1;
  id.pid = pid;
  id.service = std::move(service);
  id.clock.realtime = true;
  return id;
}

CallSiteInfo make_site(Level level, std::string message, std::vector<FieldInfo> fields, uint32_t id = 0) {
  CallSiteInfo site;
  site.id = id;
  site.valid = true;
  site.level = level;
  site.line = 42;
  site.message = std::move(message);
  site.file = "agent.cpp";
  site.function = "run";
  site.fields = std::move(fields);
  return site;
}

// An event of `site` whose field values are `values`, in call-site order.
DecodedEvent make_event(const CallSiteInfo& site, std::vector<FieldValue> values, uint32_t tid = 1240,
                        uint64_t seq = 17, uint64_t timestamp = kExampleNs) {
  DecodedEvent event;
  event.tid = tid;
  event.owner_known = true;
  event.seq = seq;
  event.timestamp_raw = timestamp;
  event.callsite_id = site.id;
  event.callsite = &site;
  EXPECT_EQ(values.size(), site.fields.size());
  for (size_t i = 0; i < values.size() && i < site.fields.size(); ++i) {
    event.fields.push_back(DecodedField{site.fields[i].name, site.fields[i].type, std::move(values[i])});
  }
  return event;
}

StringValue str(std::string bytes) {
  StringValue v;
  v.original_bytes = static_cast<uint32_t>(bytes.size());
  v.bytes = std::move(bytes);
  return v;
}

StringValue cut_str(std::string bytes, uint32_t original_bytes) {
  StringValue v;
  v.bytes = std::move(bytes);
  v.original_bytes = original_bytes;
  v.cut = true;
  return v;
}

// The event's line, once its shape is checked against it.
std::string format(EventJsonFormatter& f, const DecodedEvent& event) {
  ShapedLines out;
  f.append_event(out, event);
  testing::check_shapes(out);
  return out.text;
}

const std::vector<std::string> kReservedOrder = {"timestamp", "level", "message", "service", "pid", "tid", "seq"};

std::vector<std::string> with_reserved(std::vector<std::string> fields) {
  std::vector<std::string> keys = kReservedOrder;
  keys.insert(keys.end(), fields.begin(), fields.end());
  return keys;
}

// ---------------------------------------------------------------------------

TEST(EventJson, ParserIsStrictEnoughToTrust) {
  // The checks below rely on simdjson rejecting what FORMAT.md forbids.
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  EXPECT_NE(parser.parse(std::string("{\"a\":\"\xff\"}")).get(doc), simdjson::SUCCESS);          // ill-formed UTF-8
  EXPECT_NE(parser.parse(std::string("{\"a\":\"\x01\"}")).get(doc), simdjson::SUCCESS);          // raw control char
  EXPECT_NE(parser.parse(std::string("{\"a\":\"\\x41\"}")).get(doc), simdjson::SUCCESS);         // bad escape
  EXPECT_NE(parser.parse(std::string("{\"a\":NaN}")).get(doc), simdjson::SUCCESS);               // not JSON
  EXPECT_NE(parser.parse(std::string("{\"a\":\"\xed\xa0\x80\"}")).get(doc), simdjson::SUCCESS);  // surrogate
  EXPECT_EQ(parser.parse(std::string("{\"a\":\"\\u0000\"}")).get(doc), simdjson::SUCCESS);
}

TEST(EventJson, HeaderCommentExampleExactly) {
  EventJsonFormatter f(realtime_identity());
  const CallSiteInfo site =
      make_site(Level::kInfo, "tool call",
                {{"step_id", FieldType::kU32}, {"duration_ms", FieldType::kF64}, {"tool", FieldType::kString}});
  const DecodedEvent event = make_event(site, {uint64_t{3}, 1.5, str("write_file")});
  const std::string line = format(f, event);
  EXPECT_EQ(line,
            R"({"timestamp":"2026-11-22T21:00:00.123456789Z","level":"INFO","message":"tool call",)"
            R"("service":"agent","pid":1234,"tid":1240,"seq":17,"step_id":3,"duration_ms":1.5,"tool":"write_file"})"
            "\n");
  const Json j = parse_line(line);
  EXPECT_EQ(j.keys(), with_reserved({"step_id", "duration_ms", "tool"}));
  EXPECT_EQ(j.at("timestamp").s, "2026-11-22T21:00:00.123456789Z");
  EXPECT_EQ(j.at("level").s, "INFO");
  EXPECT_EQ(j.at("message").s, "tool call");
  EXPECT_EQ(j.at("service").s, "agent");
  EXPECT_EQ(j.at("pid").i, 1234);
  EXPECT_EQ(j.at("tid").i, 1240);
  EXPECT_EQ(j.at("seq").i, 17);
  EXPECT_EQ(j.at("step_id").i, 3);
  EXPECT_EQ(j.at("duration_ms").d, 1.5);
  EXPECT_EQ(j.at("tool").s, "write_file");
  EXPECT_FALSE(j.has("_cut"));
}

TEST(EventJson, EveryLevelName) {
  EventJsonFormatter f(realtime_identity());
  const std::pair<Level, const char*> levels[] = {{Level::kTrace, "TRACE"}, {Level::kDebug, "DEBUG"},
                                                  {Level::kInfo, "INFO"},   {Level::kWarn, "WARN"},
                                                  {Level::kError, "ERROR"}, {Level::kCritical, "CRITICAL"},
                                                  {Level::kOff, "OFF"},     {static_cast<Level>(200), "OFF"}};
  // All alive at once: a formatter may cache what a CallSiteInfo's address held.
  std::vector<CallSiteInfo> sites;
  for (const auto& entry : levels) sites.push_back(make_site(entry.first, "m", {}));
  for (size_t i = 0; i < sites.size(); ++i) {
    const Json j = parse_line(format(f, make_event(sites[i], {})));
    EXPECT_EQ(j.at("level").s, levels[i].second);
    EXPECT_EQ(j.keys(), kReservedOrder);
  }
}

TEST(EventJson, EveryFieldType) {
  EventJsonFormatter f(realtime_identity());
  const CallSiteInfo site = make_site(Level::kDebug, "types",
                                      {{"t", FieldType::kBool},
                                       {"f", FieldType::kBool},
                                       {"i8", FieldType::kI8},
                                       {"i16", FieldType::kI16},
                                       {"i32", FieldType::kI32},
                                       {"i64", FieldType::kI64},
                                       {"u8", FieldType::kU8},
                                       {"u16", FieldType::kU16},
                                       {"u32", FieldType::kU32},
                                       {"u64", FieldType::kU64},
                                       {"f32", FieldType::kF32},
                                       {"f64", FieldType::kF64},
                                       {"s", FieldType::kString},
                                       {"empty", FieldType::kString},
                                       {"elapsed", FieldType::kDurationNs},
                                       {"negative", FieldType::kDurationNs},
                                       {"none", FieldType::kNull}});
  const DecodedEvent event =
      make_event(site, {true, false, int64_t{-128}, int64_t{-32768}, int64_t{INT32_MIN}, int64_t{INT64_MIN},
                        uint64_t{255}, uint64_t{65535}, uint64_t{UINT32_MAX}, uint64_t{UINT64_MAX}, 0.1f, 0.1,
                        str("héllo ✓ 😀"), str(""), DurationValue{1'500'000}, DurationValue{-42}, NullValue{}});
  const std::string line = format(f, event);
  // Exact text of the values (shortest round-trip floats, exact integers).
  EXPECT_NE(line.find(R"("t":true,"f":false,"i8":-128,"i16":-32768,"i32":-2147483648,)"
                      R"("i64":-9223372036854775808,"u8":255,"u16":65535,"u32":4294967295,)"
                      R"("u64":18446744073709551615,"f32":0.1,"f64":0.1,"s":"héllo ✓ 😀","empty":"",)"
                      R"("elapsed":1500000,"negative":-42,"none":null})"),
            std::string::npos)
      << line;
  const Json j = parse_line(line);
  EXPECT_EQ(j.keys(), with_reserved({"t", "f", "i8", "i16", "i32", "i64", "u8", "u16", "u32", "u64", "f32", "f64", "s",
                                     "empty", "elapsed", "negative", "none"}));
  EXPECT_EQ(j.at("t").kind, Json::Kind::kBool);
  EXPECT_TRUE(j.at("t").b);
  EXPECT_FALSE(j.at("f").b);
  EXPECT_EQ(j.at("i8").i, -128);
  EXPECT_EQ(j.at("i16").i, -32768);
  EXPECT_EQ(j.at("i32").i, INT32_MIN);
  EXPECT_EQ(j.at("i64").i, INT64_MIN);
  EXPECT_EQ(j.at("u8").i, 255);
  EXPECT_EQ(j.at("u16").i, 65535);
  EXPECT_EQ(j.at("u32").i, int64_t{UINT32_MAX});
  EXPECT_EQ(j.at("u64").kind, Json::Kind::kUint);
  EXPECT_EQ(j.at("u64").u, UINT64_MAX);
  EXPECT_EQ(j.at("f32").kind, Json::Kind::kDouble);
  EXPECT_EQ(static_cast<float>(j.at("f32").d), 0.1f);  // reads back to the same float
  EXPECT_EQ(j.at("f64").d, 0.1);
  EXPECT_EQ(j.at("s").s, "héllo ✓ 😀");
  EXPECT_EQ(j.at("empty").s, "");
  EXPECT_EQ(j.at("elapsed").kind, Json::Kind::kInt);
  EXPECT_EQ(j.at("elapsed").i, 1'500'000);
  EXPECT_EQ(j.at("negative").i, -42);
  EXPECT_EQ(j.at("none").kind, Json::Kind::kNull);
}

TEST(EventJson, IntegerExtremesAreExact) {
  EventJsonFormatter f(realtime_identity("svc", UINT32_MAX));
  const CallSiteInfo site = make_site(Level::kInfo, "m",
                                      {{"big", FieldType::kU64},
                                       {"above_2_53", FieldType::kU64},
                                       {"max", FieldType::kI64},
                                       {"min", FieldType::kI64},
                                       {"d", FieldType::kDurationNs}});
  const DecodedEvent event = make_event(site,
                                        {uint64_t{UINT64_MAX}, uint64_t{(uint64_t{1} << 53) + 1}, int64_t{INT64_MAX},
                                         int64_t{INT64_MIN}, DurationValue{INT64_MIN}},
                                        UINT32_MAX, UINT64_MAX);
  const std::string line = format(f, event);
  EXPECT_NE(line.find(R"("pid":4294967295,"tid":4294967295,"seq":18446744073709551615,)"
                      R"("big":18446744073709551615,"above_2_53":9007199254740993,"max":9223372036854775807,)"
                      R"("min":-9223372036854775808,"d":-9223372036854775808})"),
            std::string::npos)
      << line;
  const Json j = parse_line(line);
  EXPECT_EQ(j.at("seq").u, UINT64_MAX);
  EXPECT_EQ(j.at("big").u, UINT64_MAX);
  EXPECT_EQ(j.at("above_2_53").i, (int64_t{1} << 53) + 1);
  EXPECT_EQ(j.at("max").i, INT64_MAX);
  EXPECT_EQ(j.at("min").i, INT64_MIN);
  EXPECT_EQ(j.at("d").i, INT64_MIN);
}

TEST(EventJson, NonFiniteFloatsAreStrings) {
  EventJsonFormatter f(realtime_identity());
  const CallSiteInfo site = make_site(Level::kInfo, "m",
                                      {{"nan32", FieldType::kF32},
                                       {"inf32", FieldType::kF32},
                                       {"ninf32", FieldType::kF32},
                                       {"nan64", FieldType::kF64},
                                       {"inf64", FieldType::kF64},
                                       {"ninf64", FieldType::kF64},
                                       {"negzero", FieldType::kF64},
                                       {"tiny", FieldType::kF64},
                                       {"huge", FieldType::kF32}});
  const DecodedEvent event =
      make_event(site, {std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity(),
                        -std::numeric_limits<float>::infinity(), -std::numeric_limits<double>::quiet_NaN(),
                        std::numeric_limits<double>::infinity(), -std::numeric_limits<double>::infinity(), -0.0,
                        std::numeric_limits<double>::denorm_min(), std::numeric_limits<float>::max()});
  const std::string line = format(f, event);
  EXPECT_NE(line.find(R"("nan32":"NaN","inf32":"Infinity","ninf32":"-Infinity","nan64":"NaN",)"
                      R"("inf64":"Infinity","ninf64":"-Infinity","negzero":-0,"tiny":5e-324,"huge":3.4028235e+38})"),
            std::string::npos)
      << line;
  const Json j = parse_line(line);
  EXPECT_EQ(j.at("nan32").s, "NaN");
  EXPECT_EQ(j.at("ninf64").s, "-Infinity");
  EXPECT_EQ(j.at("tiny").d, std::numeric_limits<double>::denorm_min());
  EXPECT_EQ(static_cast<float>(j.at("huge").d), std::numeric_limits<float>::max());
}

TEST(EventJson, HostileStringValuesParseAndValidPartsRoundTrip) {
  EventJsonFormatter f(realtime_identity());
  const CallSiteInfo site = make_site(Level::kInfo, "m", {{"v", FieldType::kString}});

  // Quotes, backslashes, JSON-looking text: round-trip exactly.
  for (const std::string& v : {std::string(R"(a"b\c)"), std::string(R"("},"pid":1,"x":{")"), std::string("\\u0000"),
                               std::string("\\"), std::string("\"")}) {
    const std::string line = format(f, make_event(site, {str(v)}));
    EXPECT_EQ(parse_line(line).at("v").s, v) << line;
  }
  // Every control character, alone and all together (with DEL, which JSON allows raw).
  std::string all_controls;
  for (int c = 0; c < 0x20; ++c) {
    std::string v = "<";  // (not "<" + ... + ">": GCC 12 warns falsely, -Wrestrict)
    v.push_back(static_cast<char>(c));
    v.push_back('>');
    all_controls += v;
    const std::string line = format(f, make_event(site, {str(v)}));
    EXPECT_EQ(parse_line(line).at("v").s, v) << "control " << c;
  }
  all_controls += "\x7f";
  EXPECT_EQ(parse_line(format(f, make_event(site, {str(all_controls)}))).at("v").s, all_controls);

  // Ill-formed UTF-8: one U+FFFD per maximal ill-formed subpart, the rest kept.
  const std::pair<std::string, std::string> invalid[] = {
      {"a\xff"
       "b",
       "a" + std::string(kFffd) + "b"},
      {"\xc0\xaf", std::string(kFffd) + std::string(kFffd)},                           // overlong '/'
      {"\xed\xa0\x80", std::string(kFffd) + std::string(kFffd) + std::string(kFffd)},  // surrogate
      {"x\xe2\x82", "x" + std::string(kFffd)},                                         // truncated at the end
      {"\xf4\x90\x80\x80", std::string(kFffd) + std::string(kFffd) + std::string(kFffd) + std::string(kFffd)},
      {"ok\x80\"", "ok" + std::string(kFffd) + "\""},
  };
  for (const auto& [input, expected] : invalid) {
    EXPECT_EQ(parse_line(format(f, make_event(site, {str(input)}))).at("v").s, expected);
  }

  // 1 MiB of valid text with every kind of escape: round-trips exactly.
  std::string big;
  const std::string unit = "plain \"quoted\" back\\slash \t\n\r\x01\x1f é ✓ 😀 ";
  while (big.size() < (1u << 20)) big += unit;
  big.resize(1u << 20);
  while ((static_cast<unsigned char>(big.back()) & 0xC0) == 0x80 || static_cast<unsigned char>(big.back()) >= 0xC0) {
    big.pop_back();  // do not end in a partial sequence
  }
  EXPECT_EQ(parse_line(format(f, make_event(site, {str(big)}))).at("v").s, big);

  // 1 MiB of random bytes: parses, and its ASCII is kept in order (ill-formed
  // subparts never swallow an ASCII byte, and valid sequences hold none).
  std::mt19937_64 rng(7);
  std::string random(1u << 20, '\0');
  for (char& c : random) c = static_cast<char>(rng());
  const std::string decoded = parse_line(format(f, make_event(site, {str(random)}))).at("v").s;
  auto ascii = [](const std::string& s) {
    std::string out;
    for (char c : s) {
      if (static_cast<unsigned char>(c) < 0x80) out.push_back(c);
    }
    return out;
  };
  EXPECT_EQ(ascii(decoded), ascii(random));
}

TEST(EventJson, HostileMessageAndServiceStillGiveValidLines) {
  EventJsonFormatter f(realtime_identity(std::string("svc\"\n\xff\0x", 8)));
  const CallSiteInfo site = make_site(Level::kError, std::string("msg\"\\\x01\xfe", 7), {});
  const Json j = parse_line(format(f, make_event(site, {})));
  EXPECT_EQ(j.at("service").s, std::string("svc\"\n") + std::string(kFffd) + std::string("\0x", 2));
  EXPECT_EQ(j.at("message").s, std::string("msg\"\\\x01") + std::string(kFffd));
  EXPECT_EQ(j.keys(), kReservedOrder);
}

TEST(EventJson, HostileFieldNames) {
  EventJsonFormatter f(realtime_identity());
  const std::string long_name(5000, 'k');
  const CallSiteInfo site = make_site(Level::kInfo, "m",
                                      {{"a\"b", FieldType::kI64},
                                       {"back\\slash", FieldType::kI64},
                                       {std::string("nul\0here", 8), FieldType::kI64},
                                       {"ctl\x01\x1f\n", FieldType::kI64},
                                       {"", FieldType::kI64},
                                       {"\xff", FieldType::kI64},
                                       {"\xfe", FieldType::kI64},  // reads as the same key as "\xff"
                                       {"\":1,\"x", FieldType::kI64},
                                       {long_name, FieldType::kI64},
                                       {"ключ", FieldType::kI64}});
  std::vector<FieldValue> values;
  for (int64_t i = 0; i < 10; ++i) values.emplace_back(i);
  const std::string line = format(f, make_event(site, values));
  const Json j = parse_line(line);
  const std::string fffd(kFffd);
  EXPECT_EQ(j.keys(), with_reserved({"a\"b", "back\\slash", std::string("nul\0here", 8), "ctl\x01\x1f\n", "", fffd,
                                     "_" + fffd, "\":1,\"x", long_name, "ключ"}));
  for (int64_t i = 0; i < 10; ++i) EXPECT_EQ(j.members[kReservedOrder.size() + i].second.i, i);
}

TEST(EventJson, CollisionRule) {
  EventJsonFormatter f(realtime_identity());
  const CallSiteInfo site = make_site(Level::kInfo, "m",
                                      {{"timestamp", FieldType::kI64},
                                       {"level", FieldType::kI64},
                                       {"message", FieldType::kI64},
                                       {"service", FieldType::kI64},
                                       {"pid", FieldType::kI64},
                                       {"_pid", FieldType::kI64},
                                       {"tid", FieldType::kI64},
                                       {"seq", FieldType::kI64},
                                       {"_cut", FieldType::kI64},
                                       {"x", FieldType::kI64},
                                       {"x", FieldType::kI64},
                                       {"_x", FieldType::kI64},
                                       {"_seq", FieldType::kI64},
                                       {"__seq", FieldType::kI64},
                                       {"seq", FieldType::kI64}});
  std::vector<FieldValue> values;
  for (int64_t i = 0; i < 15; ++i) values.emplace_back(i);
  const std::string line = format(f, make_event(site, values));
  const Json j = parse_line(line);
  EXPECT_EQ(j.keys(), with_reserved({"_timestamp", "_level", "_message", "_service", "_pid", "__pid", "_tid", "_seq",
                                     "__cut", "x", "_x", "__x", "__seq", "___seq", "____seq"}))
      << line;
  for (int64_t i = 0; i < 15; ++i) EXPECT_EQ(j.members[kReservedOrder.size() + i].second.i, i);
  // The reserved keys keep their meaning.
  EXPECT_EQ(j.at("pid").i, 1234);
  EXPECT_EQ(j.at("seq").i, 17);

  // An underscored field first: the reserved name's field goes one further.
  const CallSiteInfo other = make_site(Level::kInfo, "m", {{"_pid", FieldType::kI64}, {"pid", FieldType::kI64}});
  EXPECT_EQ(parse_line(format(f, make_event(other, {int64_t{1}, int64_t{2}}))).keys(),
            with_reserved({"_pid", "__pid"}));
}

TEST(EventJson, CutStringsAreListedInTrailingCutObject) {
  EventJsonFormatter f(realtime_identity());
  const CallSiteInfo site = make_site(Level::kWarn, "big",
                                      {{"body", FieldType::kString},
                                       {"pid", FieldType::kString},
                                       {"short", FieldType::kString},
                                       {"we\"ird\xff", FieldType::kString},
                                       {"n", FieldType::kU32}});
  const DecodedEvent event = make_event(
      site, {cut_str("abcd", 100000), cut_str("12", UINT32_MAX), str("whole"), cut_str("x\"", 9), uint64_t{5}});
  const std::string line = format(f, event);
  EXPECT_NE(line.find(R"("body":"abcd","_pid":"12","short":"whole","we\"ird)"
                      "\xEF\xBF\xBD"
                      R"(":"x\"","n":5,)"
                      R"("_cut":{"body":100000,"_pid":4294967295,"we\"ird)"
                      "\xEF\xBF\xBD"
                      R"(":9}})"
                      "\n"),
            std::string::npos)
      << line;
  const Json j = parse_line(line);
  EXPECT_EQ(j.keys(), with_reserved({"body", "_pid", "short", "we\"ird" + std::string(kFffd), "n", "_cut"}));
  EXPECT_EQ(j.at("body").s, "abcd");
  const Json& cut = j.at("_cut");
  ASSERT_EQ(cut.kind, Json::Kind::kObject);
  EXPECT_EQ(cut.keys(), (std::vector<std::string>{"body", "_pid", "we\"ird" + std::string(kFffd)}));
  EXPECT_EQ(cut.at("body").i, 100000);
  EXPECT_EQ(cut.at("_pid").i, int64_t{UINT32_MAX});
  EXPECT_EQ(cut.members[2].second.i, 9);

  // A field named "_cut" never clashes with the marker, and the marker is
  // per line (the next line without cut values has none).
  const CallSiteInfo named = make_site(Level::kInfo, "m", {{"_cut", FieldType::kString}});
  const Json k = parse_line(format(f, make_event(named, {cut_str("ab", 3)})));
  EXPECT_EQ(k.keys(), with_reserved({"__cut", "_cut"}));
  EXPECT_EQ(k.at("_cut").at("__cut").i, 3);
  EXPECT_EQ(parse_line(format(f, make_event(named, {str("ab")}))).keys(), with_reserved({"__cut"}));
}

TEST(EventJson, CallSiteCacheFollowsTheCallSite) {
  // The formatter caches each call site's formatted text by id; a different
  // call site under the same id must never be written with stale text, and
  // the uncached path (no plausible id, no call site) must write the same
  // lines as the cached one.
  EventJsonFormatter f(realtime_identity());
  const CallSiteInfo site = make_site(Level::kInfo, "first", {{"pid", FieldType::kI64}, {"s", FieldType::kString}}, 5);
  const std::string first = format(f, make_event(site, {int64_t{1}, cut_str("ab", 9)}));
  EXPECT_EQ(parse_line(first).keys(), with_reserved({"_pid", "s", "_cut"}));

  CallSiteInfo second = site;
  second.message = "second";
  EXPECT_EQ(parse_line(format(f, make_event(second, {int64_t{1}, str("ab")}))).at("message").s, "second");
  CallSiteInfo error = site;
  error.level = Level::kError;
  EXPECT_EQ(parse_line(format(f, make_event(error, {int64_t{1}, str("ab")}))).at("level").s, "ERROR");
  CallSiteInfo renamed = site;
  renamed.fields[0].name = "x";
  EXPECT_EQ(parse_line(format(f, make_event(renamed, {int64_t{1}, str("ab")}))).keys(), with_reserved({"x", "s"}));
  CallSiteInfo longer = renamed;
  longer.fields.push_back({"x", FieldType::kBool});
  EXPECT_EQ(parse_line(format(f, make_event(longer, {int64_t{1}, str("ab"), true}))).keys(),
            with_reserved({"x", "s", "_x"}));
  CallSiteInfo empty = site;
  empty.fields.clear();
  EXPECT_EQ(parse_line(format(f, make_event(empty, {}))).keys(), kReservedOrder);

  const CallSiteInfo again = make_site(Level::kInfo, "first", {{"pid", FieldType::kI64}, {"s", FieldType::kString}}, 5);
  EXPECT_EQ(format(f, make_event(again, {int64_t{1}, cut_str("ab", 9)})), first);
  DecodedEvent uncached = make_event(again, {int64_t{1}, cut_str("ab", 9)});
  uncached.callsite_id = UINT32_MAX;
  EXPECT_EQ(format(f, uncached), first);

  // No call site at all (never delivered by the cursor): still a valid line.
  DecodedEvent orphan = make_event(again, {int64_t{1}, str("ab")});
  orphan.callsite = nullptr;
  const Json j = parse_line(format(f, orphan));
  EXPECT_EQ(j.keys(), with_reserved({"_pid", "s"}));
  EXPECT_EQ(j.at("level").s, "OFF");
  EXPECT_EQ(j.at("message").s, "");
}

// LineShape::layout: the lines of one call site share one (nonzero) as long
// as they have its keys alone; a line with a context or a "_cut" field has
// none; another call site, one rebuilt under the same id, or another
// formatter never has the same.
TEST(EventJson, LinesShareALayoutOnlyWhenTheirMessageAndKeysAreTheSame) {
  EventJsonFormatter f(realtime_identity());
  const CallSiteInfo site = make_site(Level::kInfo, "tick", {{"k", FieldType::kI64}, {"s", FieldType::kString}}, 3);
  const CallSiteInfo other = make_site(Level::kInfo, "tock", {{"k", FieldType::kI64}, {"s", FieldType::kString}}, 4);
  auto layout_of = [](EventJsonFormatter& formatter, const DecodedEvent& event) {
    ShapedLines out;
    formatter.append_event(out, event);
    testing::check_shapes(out);
    EXPECT_EQ(out.lines.size(), 1u);
    return out.lines.empty() ? ~uint64_t{0} : out.lines[0].layout;
  };
  const uint64_t first = layout_of(f, make_event(site, {int64_t{1}, str("a")}));
  EXPECT_NE(first, 0u);
  EXPECT_EQ(layout_of(f, make_event(site, {int64_t{2}, str("other text")}, 1241, 99)), first);
  EXPECT_EQ(layout_of(f, make_event(site, {int64_t{3}, cut_str("ab", 9)})), 0u) << "a _cut field";
  const uint64_t tock = layout_of(f, make_event(other, {int64_t{1}, str("a")}));
  EXPECT_NE(tock, 0u);
  EXPECT_NE(tock, first);

  ThreadContext context;
  ContextFrame frame;
  frame.fields.push_back(ContextField{"request", FieldType::kString, str("r-1")});
  context.frames.push_back(frame);
  context.version = 1;
  DecodedEvent with_context = make_event(site, {int64_t{4}, str("a")});
  with_context.context = &context;
  EXPECT_EQ(layout_of(f, with_context), 0u) << "its context's keys follow the site's";
  EXPECT_EQ(layout_of(f, make_event(site, {int64_t{5}, str("a")})), first);

  // The same id, another call site (and back): a new layout each time.
  CallSiteInfo renamed = site;
  renamed.fields[1].name = "t";
  const uint64_t rebuilt = layout_of(f, make_event(renamed, {int64_t{1}, str("a")}));
  EXPECT_NE(rebuilt, 0u);
  EXPECT_NE(rebuilt, first);
  const uint64_t back = layout_of(f, make_event(site, {int64_t{1}, str("a")}));
  EXPECT_NE(back, first);
  EXPECT_NE(back, rebuilt);

  EventJsonFormatter g(realtime_identity());
  const uint64_t elsewhere = layout_of(g, make_event(site, {int64_t{1}, str("a")}));
  EXPECT_NE(elsewhere, 0u);
  for (const uint64_t seen : {first, tock, rebuilt, back}) EXPECT_NE(elsewhere, seen);
}

// The store's index counted through layouts (FileIndexBuilder) is the index
// counted key by key: here with more call sites than the index lists
// messages (kMaxDistinct) and than the builder keeps layouts (its cache is
// emptied and filled again), each site's lines far apart.
TEST(EventJson, IndexCountedByLayoutEqualsTheIndexCountedByKey) {
  EventJsonFormatter f(realtime_identity());
  std::vector<CallSiteInfo> sites;
  constexpr uint32_t kSites = FileIndex::kMaxDistinct + 904;
  for (uint32_t i = 0; i < kSites; ++i) {
    sites.push_back(make_site(Level::kInfo, absl::StrCat("m", i),
                              {{absl::StrCat("k", i % 7), FieldType::kI64}, {"s", FieldType::kString}}, i));
  }
  ShapedLines out;
  for (int round = 0; round < 2; ++round) {
    for (const CallSiteInfo& site : sites) f.append_event(out, make_event(site, {int64_t{round}, str("v")}));
  }
  testing::check_shapes(out);
  FileIndexBuilder by_layout;
  FileIndexBuilder by_key;
  for (const LineShape& shape : out.lines) {
    ASSERT_NE(shape.layout, 0u);
    by_layout.add_shaped_line(out, shape, "agent", 1234);
    LineShape unknown = shape;
    unknown.layout = 0;
    by_key.add_shaped_line(out, unknown, "agent", 1234);
  }
  const FileIndex index = by_layout.finish("f.jsonl", out.text.size());
  EXPECT_EQ(index, by_key.finish("f.jsonl", out.text.size()));
  EXPECT_EQ(index.lines, 2u * kSites);
  EXPECT_FALSE(index.messages_complete);
  EXPECT_EQ(index.messages.size(), FileIndex::kMaxDistinct);
  EXPECT_EQ(index.messages.at("m0"), 2u);
  EXPECT_EQ(index.keys.at("s"), 2u * kSites);
}

// Three ways to write an event line: the reserved fast path (cached call
// site, line under 64 KiB), the piecewise path with a cache (a long string)
// and the uncached path (implausible id). Random events with every field
// type, hostile names and bytes must come out byte-identical on all of them,
// and as valid JSON.
TEST(EventJson, FastAndPiecewisePathsWriteTheSameLines) {
  std::mt19937_64 rng(1130);
  const FieldType types[] = {FieldType::kBool, FieldType::kI64,    FieldType::kU64,        FieldType::kF32,
                             FieldType::kF64,  FieldType::kString, FieldType::kDurationNs, FieldType::kNull};
  const std::string names[] = {"a", "pid", "seq", "_cut", "k\"q", "\x01", "\xff", "tool"};
  auto random_bytes = [&](size_t n) {
    std::string bytes(n, '\0');
    for (char& c : bytes) c = static_cast<char>(rng() % 4 == 0 ? rng() % 256 : 'a' + rng() % 26);
    return bytes;
  };
  std::vector<CallSiteInfo> sites;  // alive for the formatters' lives
  sites.reserve(64);
  for (uint32_t id = 0; id < 64; ++id) {
    std::vector<FieldInfo> fields;
    const size_t count = rng() % 6;
    for (size_t i = 0; i < count; ++i) {
      fields.push_back({names[rng() % std::size(names)], types[rng() % std::size(types)]});
    }
    sites.push_back(make_site(static_cast<Level>(rng() % 7), random_bytes(rng() % 12), fields, id));
  }
  EventJsonFormatter cached(realtime_identity());
  EventJsonFormatter uncached(realtime_identity());
  for (int n = 0; n < 3000; ++n) {
    const CallSiteInfo& site = sites[rng() % sites.size()];
    std::vector<FieldValue> values;
    for (const FieldInfo& field : site.fields) {
      switch (field.type) {
        case FieldType::kBool:
          values.emplace_back(rng() % 2 == 0);
          break;
        case FieldType::kI64:
          values.emplace_back(static_cast<int64_t>(rng()));
          break;
        case FieldType::kU64:
          values.emplace_back(static_cast<uint64_t>(rng()));
          break;
        case FieldType::kF32:
          values.emplace_back(std::bit_cast<float>(static_cast<uint32_t>(rng())));
          break;
        case FieldType::kF64:
          values.emplace_back(std::bit_cast<double>(static_cast<uint64_t>(rng())));
          break;
        case FieldType::kString: {
          // Mostly short; now and then long enough to leave the fast path.
          const size_t size = rng() % 50 == 0 ? 12000 + rng() % 4000 : rng() % 40;
          std::string bytes = random_bytes(size);
          values.emplace_back(rng() % 3 == 0 ? cut_str(bytes, static_cast<uint32_t>(size + 1 + rng() % 100))
                                             : str(bytes));
          break;
        }
        case FieldType::kNull:
          values.emplace_back(NullValue{});
          break;
        default:
          values.emplace_back(DurationValue{static_cast<int64_t>(rng())});
      }
    }
    const DecodedEvent event = make_event(site, values, static_cast<uint32_t>(rng()), rng(),
                                          kExampleNs + static_cast<uint64_t>(n) * 123'456'789);
    DecodedEvent plain = event;
    plain.callsite_id = UINT32_MAX;
    const std::string line = format(cached, event);
    ASSERT_EQ(line, format(uncached, plain)) << "event " << n;
    ASSERT_NO_FATAL_FAILURE(parse_line(line));
  }
}

TEST(EventJson, GapLine) {
  EventJsonFormatter f(realtime_identity());
  DropGap gap;
  gap.slot_index = 3;
  gap.tid = 1240;
  gap.thread_name = "worker";
  gap.first_seq = 18;
  gap.last_seq = 41;
  gap.count = 24;
  ShapedLines lines;
  const std::string& out = lines.text;
  f.append_gap(lines, gap, kExampleNs);
  testing::check_shapes(lines);
  EXPECT_EQ(out, R"({"timestamp":"2026-11-22T21:00:00.123456789Z","level":"WARN","message":"ringtail.dropped",)"
                 R"("service":"agent","pid":1234,"tid":1240,"dropped":24,"first_seq":18,"last_seq":41})"
                 "\n");
  const Json j = parse_line(out);
  EXPECT_EQ(j.keys(), (std::vector<std::string>{"timestamp", "level", "message", "service", "pid", "tid", "dropped",
                                                "first_seq", "last_seq"}));
  EXPECT_EQ(j.at("dropped").i, 24);

  // Overwritten by a flight-recorder ring: the cause says so.
  gap.cause = DropGap::Cause::kOverwritten;
  lines.clear();
  f.append_gap(lines, gap, kExampleNs);
  testing::check_shapes(lines);
  EXPECT_EQ(out, R"({"timestamp":"2026-11-22T21:00:00.123456789Z","level":"WARN","message":"ringtail.dropped",)"
                 R"("service":"agent","pid":1234,"tid":1240,"dropped":24,"first_seq":18,"last_seq":41,)"
                 R"("cause":"overwritten"})"
                 "\n");
}

TEST(EventJson, NoteLine) {
  EventJsonFormatter f(realtime_identity());
  ShapedLines lines;
  const std::string& out = lines.text;
  f.append_note(lines, kExampleNs, Level::kError, "ringtail.crashed",
                {{"state", std::string_view("running")},
                 {"undrained", uint64_t{UINT64_MAX}},
                 {"delta", int64_t{-3}},
                 {"ratio", 0.25},
                 {"clean", false},
                 {"tid", uint64_t{77}},
                 {"message", std::string_view("dup")},
                 {"seq", uint64_t{5}},
                 {"odd\"key\x01", std::string_view("bad\xffvalue")}});
  EXPECT_EQ(out, R"({"timestamp":"2026-11-22T21:00:00.123456789Z","level":"ERROR","message":"ringtail.crashed",)"
                 R"("service":"agent","pid":1234,"state":"running","undrained":18446744073709551615,"delta":-3,)"
                 R"("ratio":0.25,"clean":false,"tid":77,"_message":"dup","_seq":5,"odd\"key\u0001":"bad)"
                 "\xEF\xBF\xBD"
                 R"(value"})"
                 "\n");
  const Json j = parse_line(out);
  EXPECT_EQ(j.keys(), (std::vector<std::string>{"timestamp", "level", "message", "service", "pid", "state", "undrained",
                                                "delta", "ratio", "clean", "tid", "_message", "_seq", "odd\"key\x01"}));

  testing::check_shapes(lines);
  lines.clear();
  f.append_note(lines, 0, Level::kWarn, "ringtail.lost", {});
  testing::check_shapes(lines);
  EXPECT_EQ(out, R"({"timestamp":"1970-01-01T00:00:00.000000000Z","level":"WARN","message":"ringtail.lost",)"
                 R"("service":"agent","pid":1234})"
                 "\n");
  parse_line(out);
}

TEST(EventJson, TimestampsFromTheSegmentClock) {
  SegmentIdentity tsc = realtime_identity();
  tsc.clock.realtime = false;
  tsc.clock.tsc_hz = 2'000'000'000;  // 2 ticks per ns
  tsc.clock.anchor_tsc = 1'000'000;
  tsc.clock.anchor_realtime_ns = static_cast<uint64_t>(kExampleNs);
  EventJsonFormatter f(tsc);
  EXPECT_EQ(f.realtime_ns(1'000'000 + 2'000'000'000), kExampleNs + 1'000'000'000);
  EXPECT_EQ(f.realtime_ns(1'000'000 - 2), kExampleNs - 1);
  const CallSiteInfo site = make_site(Level::kInfo, "m", {});
  EXPECT_EQ(parse_line(format(f, make_event(site, {}, 1, 1, 1'000'000 + 3))).at("timestamp").s,
            "2026-11-22T21:00:00.123456790Z");

  // A calibration that cannot convert: time 0, and the line is still valid.
  SegmentIdentity broken = realtime_identity();
  broken.clock.realtime = false;
  broken.clock.tsc_hz = 0;
  EventJsonFormatter g(broken);
  EXPECT_EQ(g.realtime_ns(12345), 0);
  const Json j = parse_line(format(g, make_event(site, {})));
  EXPECT_EQ(j.at("timestamp").s, "1970-01-01T00:00:00.000000000Z");
  EXPECT_EQ(j.keys(), kReservedOrder);

  // Realtime stamps past INT64_MAX are clamped, not wrapped.
  EventJsonFormatter h(realtime_identity());
  EXPECT_EQ(h.realtime_ns(UINT64_MAX), INT64_MAX);
  EXPECT_EQ(parse_line(format(h, make_event(site, {}, 1, 1, UINT64_MAX))).at("timestamp").s,
            "2262-04-11T23:47:16.854775807Z");
}

TEST(EventJson, ManyLinesIntoOneBuffer) {
  EventJsonFormatter f(realtime_identity());
  const CallSiteInfo a = make_site(Level::kInfo, "a", {{"s", FieldType::kString}, {"pid", FieldType::kI32}}, 0);
  const CallSiteInfo b = make_site(Level::kDebug, "b", {{"x", FieldType::kF64}}, 1);
  ShapedLines shaped;
  const std::string& out = shaped.text;
  DropGap gap;
  gap.tid = 9;
  gap.first_seq = 5;
  gap.last_seq = 5;
  gap.count = 1;
  for (uint64_t i = 0; i < 1000; ++i) {
    if (i % 3 == 0) {
      f.append_event(shaped,
                     make_event(a, {i % 2 ? cut_str("cut", 10) : str("ok"), int64_t{-1}}, 9, i, kExampleNs + i));
    } else if (i % 3 == 1) {
      f.append_event(shaped, make_event(b, {static_cast<double>(i) / 7}, 9, i, kExampleNs + i * 1'000'000'000));
    } else {
      f.append_gap(shaped, gap, kExampleNs);
    }
  }
  testing::check_shapes(shaped);
  const std::vector<Json> lines = parse_lines(out);
  ASSERT_EQ(lines.size(), 1000u);
  for (size_t i = 0; i < lines.size(); ++i) {
    if (i % 3 == 0) {
      EXPECT_EQ(lines[i].keys(), (i % 2 ? with_reserved({"s", "_pid", "_cut"}) : with_reserved({"s", "_pid"})));
    } else if (i % 3 == 1) {
      EXPECT_EQ(lines[i].at("x").num(), static_cast<double>(i) / 7);
      EXPECT_EQ(lines[i].at("seq").i, static_cast<int64_t>(i));
    } else {
      EXPECT_EQ(lines[i].at("message").s, "ringtail.dropped");
    }
  }
}

// A seq one more than the line before's is written by changing the text of
// the last one: every carry, a jump, two threads' seqs interleaved and the
// largest seqs must still read back exactly.
TEST(EventJson, SeqTextFollowsEverySeq) {
  EventJsonFormatter f(realtime_identity());
  const CallSiteInfo site = make_site(Level::kInfo, "s", {{"n", FieldType::kI64}}, 0);
  std::vector<std::pair<uint32_t, uint64_t>> seqs;  // tid, seq
  for (uint64_t seq = 0; seq < 2100; ++seq) seqs.emplace_back(9, seq);
  for (uint64_t seq = 999'999'990; seq < 1'000'000'012; ++seq) seqs.emplace_back(9, seq);
  for (uint64_t seq = 0; seq < 40; ++seq) {
    seqs.emplace_back(9, 5000 + seq);
    seqs.emplace_back(10, 7 + seq);  // another thread's run, interleaved
  }
  for (uint64_t seq = UINT64_MAX - 12; seq != 0; ++seq) seqs.emplace_back(9, seq);
  ShapedLines shaped;
  for (const auto& [tid, seq] : seqs) f.append_event(shaped, make_event(site, {int64_t{1}}, tid, seq));
  testing::check_shapes(shaped);
  const std::vector<Json> lines = parse_lines(shaped.text);
  ASSERT_EQ(lines.size(), seqs.size());
  // simdjson gives a number below 2^63 as an int64, above it as a uint64.
  auto number = [](const Json& j) { return j.kind == Json::Kind::kUint ? j.u : static_cast<uint64_t>(j.i); };
  for (size_t i = 0; i < lines.size(); ++i) {
    ASSERT_EQ(number(lines[i].at("seq")), seqs[i].second) << "line " << i;
    ASSERT_EQ(number(lines[i].at("tid")), seqs[i].first) << "line " << i;
  }
}

// ---------------------------------------------------------------------------
// Error values: {"type":…,"message":…,"code":N,"stack":[…]}.

ErrorValue make_error(std::string type, std::string message, bool mangled = true, std::optional<int64_t> code = {},
                      std::string stack = "") {
  ErrorValue error;
  error.type = str(std::move(type));
  error.message = str(std::move(message));
  error.stack = str(std::move(stack));
  error.type_mangled = mangled;
  error.has_code = code.has_value();
  error.code = code.value_or(0);
  return error;
}

// The line of an event with these error values (fields "error", "e2", …)
// on the fast path, checked against the piecewise path.
std::string error_line(const std::vector<ErrorValue>& errors, const Redactor* redactor = nullptr) {
  std::vector<FieldInfo> fields;
  std::vector<FieldValue> values;
  for (size_t i = 0; i < errors.size(); ++i) {
    std::string name = "error";
    if (i != 0) name.assign("e").append(std::to_string(i + 1));
    fields.push_back({name, FieldType::kError});
    values.emplace_back(errors[i]);
  }
  const CallSiteInfo site = make_site(Level::kError, "failed", fields, 3);
  EventJsonFormatter cached(realtime_identity(), redactor);
  EventJsonFormatter uncached(realtime_identity(), redactor);
  const DecodedEvent event = make_event(site, values);
  DecodedEvent plain = event;
  plain.callsite_id = UINT32_MAX;
  const std::string line = format(cached, event);
  EXPECT_EQ(line, format(uncached, plain));
  return line;
}

TEST(EventJson, ErrorObjects) {
  const Json j = parse_line(error_line({make_error("St13runtime_error", "disk full")}));
  EXPECT_EQ(j.keys(), with_reserved({"error"}));
  const Json& error = j.at("error");
  ASSERT_EQ(error.kind, Json::Kind::kObject);
  EXPECT_EQ(error.keys(), (std::vector<std::string>{"type", "message"}));  // no code, no stack
  EXPECT_EQ(error.at("type").s, "std::runtime_error");
  EXPECT_EQ(error.at("message").s, "disk full");

  const std::string line = error_line({make_error("N5myapp6detail10QuotaErrorE", "over quota", true, -7,
                                                  "prog+0x1f0 (_ZN5myapp3runEv+0x10)\nlibc.so.6+0x2a1ca\n"),
                                       make_error("Timeout", "no answer", false, INT64_MIN)});
  const Json k = parse_line(line);
  EXPECT_EQ(k.keys(), with_reserved({"error", "e2"}));
  const Json& quota = k.at("error");
  EXPECT_EQ(quota.keys(), (std::vector<std::string>{"type", "message", "code", "stack"}));
  EXPECT_EQ(quota.at("type").s, "myapp::detail::QuotaError");
  EXPECT_EQ(quota.at("code").i, -7);
  const Json& stack = quota.at("stack");
  ASSERT_EQ(stack.kind, Json::Kind::kArray);
  ASSERT_EQ(stack.items.size(), 2u);  // the empty line after the last frame is no frame
  EXPECT_EQ(stack.items[0].s, "prog+0x1f0 (myapp::run()+0x10)");
  EXPECT_EQ(stack.items[1].s, "libc.so.6+0x2a1ca");
  // Not mangled: the type as it is, even when it would demangle.
  EXPECT_EQ(k.at("e2").at("type").s, "Timeout");
  EXPECT_EQ(k.at("e2").at("code").i, INT64_MIN);
  EXPECT_NE(line.find(R"("e2":{"type":"Timeout","message":"no answer","code":-9223372036854775808})"),
            std::string::npos)
      << line;
  EXPECT_EQ(parse_line(error_line({make_error("i", "", true)})).at("error").at("type").s, "int");
}

TEST(EventJson, Malicious_ErrorTypeNamesAreNotDemangled) {
  // Names outside [A-Za-z0-9_$.], longer than 512 bytes, or that do not
  // demangle are written as they are (escaped), never given to, or failed by,
  // the demangler.
  const std::string long_name = "N" + std::string(600, 'a') + "E";
  const std::vector<std::string> hostile = {"St13runtime_error<script>",
                                            std::string("N3foo\0E", 7),
                                            "N3foo\xff"
                                            "E",
                                            long_name,
                                            "zzz",
                                            "",
                                            "_Z",
                                            "N3fooE\n",
                                            "St13runtime_error\""};
  for (const std::string& type : hostile) {
    const Json j = parse_line(error_line({make_error(type, "m", true)}));
    EXPECT_EQ(j.at("error").at("type").s,
              type.find('\xff') == std::string::npos ? type : "N3foo" + std::string(kFffd) + "E");
  }
  // A frame's symbol likewise; a frame of other shapes as it is.
  const std::string frames = "a+0x1 (_ZN3foo<x>Ev+0x2)\nb+0x1 (" + std::string(600, '_') +
                             "+0x2)\n(_ZN3fooEv+0x3)\n_ZN3fooEv+0x4\nc+0x5 (_ZN3fooEv)\nd+0x6 (_ZN3fooEv+0x7)";
  const Json j = parse_line(error_line({make_error("T", "m", false, {}, frames)}));
  const Json& stack = j.at("error").at("stack");
  ASSERT_EQ(stack.items.size(), 6u);
  EXPECT_EQ(stack.items[0].s, "a+0x1 (_ZN3foo<x>Ev+0x2)");
  EXPECT_EQ(stack.items[2].s, "(_ZN3fooEv+0x3)");  // no " (": not the producer's shape
  EXPECT_EQ(stack.items[3].s, "_ZN3fooEv+0x4");
  EXPECT_EQ(stack.items[4].s, "c+0x5 (_ZN3fooEv)");
  EXPECT_EQ(stack.items[5].s, "d+0x6 (foo()+0x7)");
}

TEST(EventJson, CutErrorMessageIsListedInCut) {
  ErrorValue error = make_error("St13runtime_error", "abc", true, 5);
  error.message = cut_str("abc", 4000);
  error.stack = cut_str("x+0x1", 9000);  // a cut stack is not listed
  const Json j = parse_line(error_line({error}));
  EXPECT_EQ(j.keys(), with_reserved({"error", "_cut"}));
  EXPECT_EQ(j.at("_cut").keys(), (std::vector<std::string>{"error"}));
  EXPECT_EQ(j.at("_cut").at("error").i, 4000);
  EXPECT_EQ(j.at("error").at("message").s, "abc");

  ErrorValue only_stack = make_error("T", "m", false);
  only_stack.stack = cut_str("x+0x1", 9000);
  EXPECT_FALSE(parse_line(error_line({only_stack})).has("_cut"));
}

TEST(EventJson, LongErrorsTakeThePiecewisePathAndWriteTheSameLines) {
  // A message of escapes past the 64 KiB reservation, and many frames.
  std::string stack;
  for (int i = 0; i < 3000; ++i) stack += "libx.so+0x" + std::to_string(i) + " (_ZN1a1bEv+0x1)\n";
  const std::string line = error_line({make_error("St13runtime_error", std::string(20000, '\x01'), true, 1, stack),
                                       make_error(std::string(2000, '"'), std::string(3000, '\\'), true)});
  const Json j = parse_line(line);
  EXPECT_EQ(j.at("error").at("message").s, std::string(20000, '\x01'));
  ASSERT_EQ(j.at("error").at("stack").items.size(), 3000u);
  EXPECT_EQ(j.at("error").at("stack").items[2999].s, "libx.so+0x2999 (a::b()+0x1)");
  EXPECT_EQ(j.at("e2").at("type").s, std::string(2000, '"'));
}

TEST(EventJson, ErrorRedaction) {
  std::vector<RedactionRule> rules;
  for (const char* line : {"redact error", "hash e2", "truncate e3 4", "keep-ends e4 2", "keep-ends e5 2"}) {
    rules.push_back(*parse_redaction_rule(line));
  }
  const Redactor redactor(rules, false, [](std::string_view text) { return std::string(text.substr(0, 8)); });
  const ErrorValue error = make_error("St13runtime_error", "secret-sk-123456", true, 42, "a+0x1 (_ZN1a1bEv+0x1)");
  const std::string line = error_line({error, error, error, error, make_error("T", "short", false)}, &redactor);
  const Json j = parse_line(line);
  EXPECT_EQ(j.at("error").s, kRedactedText);
  std::string object;
  append_json_error(object, JsonError{"std::runtime_error", "secret-sk-123456", "a+0x1 (a::b()+0x1)", 42, true});
  EXPECT_EQ(j.at("e2").s, redactor.hash_text(object));
  EXPECT_EQ(j.at("e3").at("message").s, "secr");
  EXPECT_EQ(j.at("e3").at("type").s, "std::runtime_error");
  EXPECT_EQ(j.at("e3").at("code").i, 42);
  EXPECT_EQ(j.at("_cut").keys(), (std::vector<std::string>{"e3"}));
  EXPECT_EQ(j.at("_cut").at("e3").i, 16);
  EXPECT_EQ(j.at("e4").at("message").s, "se...56");
  EXPECT_EQ(j.at("e4").at("stack").items.size(), 1u);
  EXPECT_EQ(j.at("e5").at("message").s, kRedactedText);  // too short to keep its ends
  EXPECT_EQ(line.find("sk-1234"), std::string::npos) << line;
}

}  // namespace
}  // namespace ringtail::reader
