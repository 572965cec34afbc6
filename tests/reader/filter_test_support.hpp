// What the filter's test files share (where_test, filter_test): parsing
// helpers, and random lines written as the reader writes them with random
// --where clauses over them.
#pragma once

#include <gtest/gtest.h>
#include <simdjson.h>

#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "ringtail/reader/output/json_text.hpp"
#include "ringtail/reader/query/filter.hpp"
#include "ringtail/reader/query/parsed_line.hpp"

namespace ringtail::reader::filter_testing {

namespace dom = simdjson::dom;

inline constexpr int64_t kSecond = 1'000'000'000;
inline constexpr int64_t k20261122T210000Z = 1795381200;  // date -u -d 2026-11-22T21:00:00Z +%s

inline WhereClause parse_ok(std::string_view expression) {
  absl::StatusOr<WhereClause> clause = parse_where(expression);
  EXPECT_TRUE(clause.ok()) << expression << ": " << clause.status();
  if (!clause.ok()) return *parse_where("unused exists");
  return *std::move(clause);
}

inline dom::element parse_line(dom::parser& parser, std::string_view json) {
  dom::element line;
  EXPECT_EQ(parser.parse(json.data(), json.size()).get(line), simdjson::SUCCESS) << json;
  return line;
}

// Whether `expression` matches the line `json`.
inline bool where(std::string_view expression, std::string_view json) {
  const WhereClause clause = parse_ok(expression);
  dom::parser parser;
  return clause.matches(parse_line(parser, json));
}

// The message of parse_where's error, or "" (and a failure) if it parsed.
inline std::string where_error(std::string_view expression) {
  absl::StatusOr<WhereClause> clause = parse_where(expression);
  EXPECT_FALSE(clause.ok()) << expression << " parsed";
  if (clause.ok()) return "";
  EXPECT_EQ(clause.status().code(), absl::StatusCode::kInvalidArgument);
  return std::string(clause.status().message());
}

// Values of every kind, written as the reader writes them.
struct Generated {
  std::string json;       // the value's text on a line
  std::string operand;    // one way to write it in a --where expression
  std::string alternate;  // another way (or the same)
};

class ValueGenerator {
 public:
  explicit ValueGenerator(uint64_t seed) : random_(seed) {}

  Generated next() {
    Generated g;
    switch (random_() % 7) {
      case 0: {
        static constexpr int64_t kInts[] = {0,
                                            1,
                                            -1,
                                            42,
                                            -7,
                                            10000,
                                            100000,
                                            120000,
                                            1000000,
                                            12000000,
                                            1234567,
                                            INT64_MIN,
                                            INT64_MAX,
                                            9007199254740992,
                                            9007199254740993,
                                            -9007199254740993,
                                            1000000000000000,
                                            10000000000000000};
        const int64_t v = random_() % 3 == 0 ? static_cast<int64_t>(random_() % 2000000) - 1000000
                                             : kInts[random_() % std::size(kInts)];
        append_json_int(g.json, v);
        g.operand = g.json;
        g.alternate = g.json + ".0";
        return g;
      }
      case 1: {
        static constexpr uint64_t kUints[] = {UINT64_MAX, UINT64_MAX - 1, uint64_t{1} << 63, 10000000000000000000U,
                                              9223372036854775808U};
        const uint64_t v = kUints[random_() % std::size(kUints)];
        append_json_uint(g.json, v);
        g.operand = g.json;
        g.alternate = g.json + "e0";
        return g;
      }
      case 2: {
        static constexpr double kDoubles[] = {0.0,    -0.0,   42.0,   1.5, 100000.0, 1e15,     1e16,    1e19,
                                              0x1p53, 0x1p63, 0x1p64, 0.1, -2.5,     120000.0, 1e5 + 1, 12000000.0};
        const double v = random_() % 3 == 0 ? static_cast<double>(static_cast<int64_t>(random_() % 400) - 200) *
                                                  std::pow(10.0, static_cast<double>(random_() % 20))
                                            : kDoubles[random_() % std::size(kDoubles)];
        append_json_double(g.json, v);
        g.operand = g.json;
        // The same value written differently: as an integer if integral.
        if (v == std::trunc(v) && std::fabs(v) < 0x1p63) {
          g.alternate.clear();
          append_json_int(g.alternate, static_cast<int64_t>(v));
        } else {
          g.alternate = g.json;
        }
        return g;
      }
      case 3: {
        static constexpr float kFloats[] = {0.1f, 1e10f, 123456792.0f, 100000.0f, 42.0f, 16777216.0f, 3e38f, -0.0f};
        const float v = random_() % 2 ? kFloats[random_() % std::size(kFloats)]
                                      : static_cast<float>(static_cast<int>(random_() % 2000) - 1000) *
                                            std::pow(10.0f, static_cast<float>(random_() % 12));
        append_json_float(g.json, v);
        g.operand = g.json;
        g.alternate.clear();
        append_json_double(g.alternate, static_cast<double>(v));  // a different value unless exact
        return g;
      }
      case 4:
        g.json = random_() % 2 ? "true" : "false";
        g.operand = g.json;
        g.alternate = g.json;
        return g;
      case 5:
        g.json = "null";
        g.operand = "null";
        g.alternate = "null";
        return g;
      default: {
        static constexpr std::string_view kPieces[] = {"a", "b",    "\"", "\\", "/",    "\n",  "\x01", "\x7f",
                                                       "é", "\xff", " ",  "42", "true", "NaN", "\t",   "\xe2\x82\xac"};
        std::string raw;
        for (uint64_t n = random_() % 5; n > 0; --n) raw += kPieces[random_() % std::size(kPieces)];
        append_json_string(g.json, raw);
        g.operand = g.json;
        g.alternate = g.json;
        return g;
      }
    }
  }

  std::mt19937_64& random() { return random_; }

 private:
  std::mt19937_64 random_;
};

inline constexpr std::string_view kFieldKeys[] = {"k", "tool", "a\"b", "é", "x y", "code"};
inline constexpr std::string_view kLevels[] = {"TRACE", "DEBUG", "INFO", "WARN", "ERROR", "CRITICAL", "OFF"};

// A line as EventJsonFormatter writes it: reserved keys, then fields (each
// key at most once), sometimes a nested object.
inline std::string random_line(ValueGenerator& values, int64_t ns) {
  std::mt19937_64& random = values.random();
  std::string line = R"({"timestamp":)";
  TimestampFormatter timestamps;
  timestamps.append(line, ns);
  line += R"(,"level":")";
  line += kLevels[random() % std::size(kLevels)];
  line += R"(","message":"tool call","service":"agent","pid":1234,"tid":1240,"seq":)";
  append_json_uint(line, random() % 100);
  for (const std::string_view key : kFieldKeys) {
    if (random() % 3 == 0) continue;
    line += ',';
    append_json_string(line, key);
    line += ':';
    line += values.next().json;
  }
  if (random() % 4 == 0) {
    line += R"(,"error":{"type":)";
    line += values.next().json;
    line += R"(,"code":)";
    line += values.next().json;
    line += '}';
  }
  line += '}';
  return line;
}

inline std::vector<WhereClause> random_clauses(ValueGenerator& values, size_t count) {
  std::mt19937_64& random = values.random();
  static constexpr std::string_view kOps[] = {"=", "=", "=", "!=", ">", ">=", "<", "<=", "~", " exists"};
  static constexpr std::string_view kRegexes[] = {"a", "^", "\"\\\"\"", "^$", "\\\\", "é", "[0-9]"};
  std::vector<WhereClause> clauses;
  while (clauses.size() < count) {
    std::string expression;
    const uint64_t key_kind = random() % 8;
    if (key_kind == 0) {
      expression = "error.type";
    } else if (key_kind == 1) {
      expression = "error.code";
    } else if (key_kind == 2) {
      expression = "pid";
    } else {
      append_json_string(expression, kFieldKeys[random() % std::size(kFieldKeys)]);
    }
    const std::string_view op = kOps[random() % std::size(kOps)];
    expression += op;
    if (op == "~") {
      expression += kRegexes[random() % std::size(kRegexes)];
    } else if (op != " exists") {
      const Generated value = values.next();
      expression += random() % 2 ? value.operand : value.alternate;
    }
    absl::StatusOr<WhereClause> clause = parse_where(expression);
    if (clause.ok()) clauses.push_back(*std::move(clause));  // ranges refuse true, null: skip those
  }
  return clauses;
}

}  // namespace ringtail::reader::filter_testing
