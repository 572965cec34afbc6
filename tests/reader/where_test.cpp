// --where clauses (ringtail/reader/query/filter.hpp): every operator on every
// JSON type, exact numbers, keys and paths, parse errors, and needle
// soundness on lines written by the reader's own JSON primitives.
#include "ringtail/reader/query/filter.hpp"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <limits>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "filter_test_support.hpp"
#include "ringtail/reader/output/json_text.hpp"
#include "ringtail/reader/query/parsed_line.hpp"

namespace ringtail::reader {
namespace {

using namespace filter_testing;  // NOLINT(google-build-using-namespace)

// ---------------------------------------------------------------------------
// Operators and types

constexpr std::string_view kTyped =
    R"({"s":"abc","i":42,"neg":-7,"d":1.5,"t":true,"f":false,"n":null,"o":{"k":1},"a":[1,2],)"
    R"("str42":"42","strfalse":"false","strnull":"null","e":"","nan":"NaN","big":18446744073709551615})";

struct Case {
  std::string_view expression;
  bool expected;
};

void expect_cases(std::string_view json, const std::vector<Case>& cases) {
  dom::parser parser;
  const dom::element line = parse_line(parser, json);
  for (const Case& c : cases) {
    const WhereClause clause = parse_ok(c.expression);
    EXPECT_EQ(clause.matches(line), c.expected) << c.expression << " on " << json;
  }
}

TEST(WhereTest, EqualityOnEveryType) {
  expect_cases(kTyped, {
                           {"s=abc", true},
                           {"s=\"abc\"", true},
                           {"s=abd", false},
                           {"s=42", false},
                           {"i=42", true},
                           {"i=42.0", true},
                           {"i=4.2e1", true},
                           {"i=420e-1", true},
                           {"i=\"42\"", false},
                           {"i=43", false},
                           {"i=41.999999", false},
                           {"i=true", false},
                           {"str42=42", false},
                           {"str42=\"42\"", true},
                           {"neg=-7", true},
                           {"neg=-7.0", true},
                           {"neg=7", false},
                           {"d=1.5", true},
                           {"d=1.50", true},
                           {"d=15e-1", true},
                           {"d=\"1.5\"", false},
                           {"d=1", false},
                           {"t=true", true},
                           {"t=\"true\"", false},
                           {"t=1", false},
                           {"f=false", true},
                           {"f=null", false},
                           {"f=0", false},
                           {"strfalse=false", false},
                           {"strfalse=\"false\"", true},
                           {"n=null", true},
                           {"n=false", false},
                           {"n=\"null\"", false},
                           {"strnull=null", false},
                           {"strnull=\"null\"", true},
                           {"missing=null", true},
                           {"missing=\"\"", false},
                           {"missing=0", false},
                           {"missing=false", false},
                           {"o=null", false},
                           {"o=1", false},
                           {"a=null", false},
                           {"e=\"\"", true},
                           {"nan=NaN", true},  // non-finite doubles are strings on the line
                           {"big=18446744073709551615", true},
                       });
}

TEST(WhereTest, InequalityIsTheNegationMissingIncluded) {
  expect_cases(kTyped, {
                           {"s!=abc", false},
                           {"s!=abd", true},
                           {"s!=null", true},
                           {"i!=42", false},
                           {"i!=42.0", false},
                           {"i!=\"42\"", true},
                           {"t!=true", false},
                           {"t!=\"true\"", true},
                           {"n!=null", false},
                           {"n!=0", true},
                           {"missing!=abc", true},
                           {"missing!=null", false},
                           {"missing!=0", true},
                           {"o!=1", true},
                           {"o!=null", true},
                           {"a!=null", true},
                       });
}

TEST(WhereTest, OrderingOnEveryType) {
  expect_cases(kTyped, {
                           {"i>41", true},
                           {"i>42", false},
                           {"i>=42", true},
                           {"i>=42.5", false},
                           {"i<43", true},
                           {"i<=42", true},
                           {"i<42", false},
                           {"i<42.5", true},
                           {"i>41.5", true},
                           {"neg<0", true},
                           {"neg>-7.5", true},
                           {"d>1", true},
                           {"d<2", true},
                           {"d>=1.5", true},
                           {"d<=1.4", false},
                           {"big>1e19", true},
                           {"big<1.8446744073709552e19", true},
                           // A string operand compares with strings, byte-wise.
                           {"s>\"abb\"", true},
                           {"s<\"abd\"", true},
                           {"s>=\"abc\"", true},
                           {"s>\"abc\"", false},
                           {"e<\"a\"", true},
                           {"str42>\"4\"", true},
                           // Other types never compare.
                           {"s>1", false},
                           {"str42>1", false},
                           {"i>\"a\"", false},
                           {"i<\"a\"", false},
                           {"t>0", false},
                           {"t<=1", false},
                           {"n>0", false},
                           {"n<=0", false},
                           {"o>0", false},
                           {"a<0", false},
                           {"missing>0", false},
                           {"missing<0", false},
                           {"missing>=\"\"", false},
                           {"nan>0", false},
                       });
}

TEST(WhereTest, RegexPartialMatchOnStringsOnly) {
  expect_cases(kTyped, {
                           {"s~b", true},
                           {"s~^b", false},
                           {"s~^abc$", true},
                           {"s~\"a.c\"", true},
                           {"s~[xyz]", false},
                           {"s~(?i)ABC", true},
                           {"e~^$", true},
                           {"str42~^4", true},
                           {"i~4", false},  // numbers are not strings
                           {"t~true", false},
                           {"n~.", false},
                           {"n~null", false},
                           {"o~.", false},
                           {"missing~.", false},
                           {"missing~\"\"", false},
                       });
  EXPECT_TRUE(where("s~^caf.$", R"({"s":"café"})"));  // UTF-8: '.' is one character
  EXPECT_TRUE(where("s~\\n", "{\"s\":\"a\\nb\"}"));   // the decoded string is matched
  EXPECT_TRUE(where("s~\"\\\"\"", R"({"s":"say \"hi\""})"));
}

TEST(WhereTest, ExistsAnyValueNullIncluded) {
  expect_cases(kTyped, {
                           {"s exists", true},
                           {"n exists", true},
                           {"o exists", true},
                           {"f exists", true},
                           {"missing exists", false},
                           {"  s   exists  ", true},
                           {"\"s\" exists", true},
                           {"\"s\"exists", true},
                       });
}

TEST(WhereTest, NonObjectLinesMatchNothing) {
  for (std::string_view expression : {"k=null", "k!=1", "k exists", "k~."}) {
    EXPECT_FALSE(where(expression, "[1,2]")) << expression;
    EXPECT_FALSE(where(expression, "42")) << expression;
  }
}

// ---------------------------------------------------------------------------
// Exact numbers

TEST(WhereTest, LargeIntegersCompareExactly) {
  expect_cases(R"({"u":18446744073709551615,"u2":18446744073709551614,"m":-9223372036854775808,)"
               R"("p":9007199254740993,"dd":9007199254740992.0,"z":-0,"zd":-0.0,"i63":9223372036854775807})",
               {
                   {"u=18446744073709551615", true},
                   {"u=18446744073709551614", false},
                   {"u2=18446744073709551614", true},
                   {"u2=18446744073709551615", false},
                   {"u>18446744073709551614", true},
                   {"u2<18446744073709551615", true},
                   {"u>=18446744073709551615", true},
                   {"u>18446744073709551615", false},
                   // 1.8446744073709552e19 is the double 2^64, one above UINT64_MAX.
                   {"u=1.8446744073709552e19", false},
                   {"u<1.8446744073709552e19", true},
                   {"u!=18446744073709551615", false},
                   {"m=-9223372036854775808", true},
                   {"m<-9223372036854775807", true},
                   {"m=-9.223372036854775808e18", true},  // -2^63 is a double exactly
                   {"m>-9.223372036854777e18", true},
                   {"i63=9223372036854775807", true},
                   {"i63<9223372036854775808", true},  // INT64_MAX against a uint64
                   {"i63<9.223372036854775808e18", true},
                   {"p=9007199254740993", true},  // 2^53 + 1: no double has it
                   {"p=9007199254740992", false},
                   {"p>9007199254740992", true},
                   {"p>9007199254740992.0", true},
                   {"p=9007199254740992.0", false},
                   {"dd=9007199254740992", true},
                   {"dd=9007199254740993", false},
                   {"dd<9007199254740993", true},
                   {"z=0", true},
                   {"z=-0.0", true},
                   {"zd=0", true},
                   {"zd>=0", true},
               });
}

TEST(WhereTest, ValuesReadAsJsonLiterals) {
  const auto value_of = [](std::string_view expression) { return parse_ok(expression).value(); };
  EXPECT_EQ(value_of("tool=write_file"), JsonScalar(std::string("write_file")));
  EXPECT_EQ(value_of("tool=\"write_file\""), JsonScalar(std::string("write_file")));
  EXPECT_EQ(value_of("allow=false"), JsonScalar(false));
  EXPECT_EQ(value_of("allow=\"false\""), JsonScalar(std::string("false")));
  EXPECT_EQ(value_of("x=null"), JsonScalar(nullptr));
  EXPECT_EQ(value_of("code=42"), JsonScalar(int64_t{42}));
  EXPECT_EQ(value_of("code=\"42\""), JsonScalar(std::string("42")));
  EXPECT_EQ(value_of("code=-0"), JsonScalar(int64_t{0}));
  EXPECT_EQ(value_of("code=42.0"), JsonScalar(42.0));
  EXPECT_EQ(value_of("big=18446744073709551615"), JsonScalar(uint64_t{18446744073709551615U}));
  EXPECT_EQ(value_of("big=9223372036854775807"), JsonScalar(int64_t{INT64_MAX}));
  EXPECT_EQ(value_of("x=01"), JsonScalar(std::string("01")));  // not a JSON number
  EXPECT_EQ(value_of("x=+5"), JsonScalar(std::string("+5")));
  EXPECT_EQ(value_of("x=NaN"), JsonScalar(std::string("NaN")));
  EXPECT_EQ(value_of("x=True"), JsonScalar(std::string("True")));
  EXPECT_EQ(value_of("x=[INFO]"), JsonScalar(std::string("[INFO]")));  // not JSON: a bare string
  EXPECT_EQ(value_of("msg = hello world "), JsonScalar(std::string("hello world")));
  EXPECT_EQ(value_of("msg=\" padded \""), JsonScalar(std::string(" padded ")));
  EXPECT_EQ(value_of("msg=\"caf\\u00e9\\n\""), JsonScalar(std::string("café\n")));
  EXPECT_EQ(value_of("url=http://x/a?b=c"), JsonScalar(std::string("http://x/a?b=c")));
  EXPECT_EQ(value_of("s~\"^a b$\""), JsonScalar(std::string("^a b$")));
  EXPECT_EQ(value_of("s~\\d+"), JsonScalar(std::string("\\d+")));
}

TEST(WhereTest, RandomNumbersAgreeWithLongDouble) {
  // x86-64 long double has a 64-bit mantissa: every int64, uint64 and double
  // is exact in it, so it is an independent oracle for exact comparison.
  static_assert(std::numeric_limits<long double>::digits >= 64);
  std::mt19937_64 random(7);
  const std::vector<long double> seeds = {0,    1,    -1,    42,      0.5,     1e15,     9007199254740992.0L,
                                          1e16, 1e19, -1e19, 0x1p63L, 0x1p64L, -0x1p63L, 18446744073709551615.0L};
  // One number as a JSON value of each parser type, and its value.
  struct Value {
    std::string text;
    long double exact;
  };
  const auto random_value = [&]() -> Value {
    Value v;
    const long double seed = seeds[random() % seeds.size()];
    switch (random() % 4) {
      case 0: {
        // Random, or near a seed (clamped into int64).
        const long double near = std::fmax(std::fmin(seed, 0x1p62L), -0x1p62L);
        const int64_t i = random() % 2 ? static_cast<int64_t>(random())
                                       : static_cast<int64_t>(near) + static_cast<int64_t>(random() % 5) - 2;
        append_json_int(v.text, i);
        v.exact = static_cast<long double>(i);
        return v;
      }
      case 1: {
        const uint64_t u = random() % 2 ? random() : UINT64_MAX - random() % 4;
        append_json_uint(v.text, u);
        v.exact = static_cast<long double>(u);
        return v;
      }
      default: {
        const double d = random() % 2 ? static_cast<double>(seed) * (1 + static_cast<double>(random() % 3) * 0x1p-52)
                                      : std::ldexp(static_cast<double>(random() % 100000) - 50000,
                                                   static_cast<int>(random() % 80) - 20);
        append_json_double(v.text, d);
        v.exact = static_cast<long double>(d);
        return v;
      }
    }
  };
  dom::parser parser;
  for (int round = 0; round < 3000; ++round) {
    const Value line_value = random_value();
    const Value operand = random_value();
    const std::string json = "{\"v\":" + line_value.text + "}";
    const dom::element line = parse_line(parser, json);
    const long double a = line_value.exact;
    const long double b = operand.exact;
    const std::pair<std::string_view, bool> expectations[] = {
        {"=", a == b}, {"!=", a != b}, {">", a > b}, {">=", a >= b}, {"<", a < b}, {"<=", a <= b},
    };
    for (const auto& [op, expected] : expectations) {
      const std::string expression = std::string("v").append(op).append(operand.text);
      EXPECT_EQ(parse_ok(expression).matches(line), expected) << expression << " on " << json;
    }
  }
}

// ---------------------------------------------------------------------------
// Keys and paths

TEST(WhereTest, QuotedKeysAndSpaces) {
  EXPECT_TRUE(where("\"a=b\"=1", R"({"a=b":1})"));
  EXPECT_TRUE(where("\"a=b\" = 1", R"({"a=b":1})"));
  EXPECT_TRUE(where("\"x y\" exists", R"({"x y":0})"));
  EXPECT_TRUE(where("\"a<b>c~d!e\"!=2", R"({"a<b>c~d!e":1})"));
  EXPECT_TRUE(where("\"caf\\u00e9\"=1", R"({"café":1})"));
  EXPECT_TRUE(where("café=1", R"({"café":1})"));
  EXPECT_TRUE(where("\"q\\\"uote\"=1", R"({"q\"uote":1})"));
  EXPECT_TRUE(where("\"\"=1", R"({"":1})"));
  EXPECT_TRUE(where("  key  =  value  ", R"({"key":"value"})"));
  EXPECT_TRUE(where("key\t>=\t3", R"({"key":3})"));
  EXPECT_EQ(parse_ok("  key  =  value  ").key(), "key");
  EXPECT_EQ(parse_ok("\"a=b\"=1").key(), "a=b");
  EXPECT_EQ(parse_ok(" k exists").op(), WhereOp::kExists);
  // A key named "exists", and "exists" as a value.
  EXPECT_TRUE(where("exists=1", R"({"exists":1})"));
  EXPECT_TRUE(where("exists exists", R"({"exists":1})"));
  EXPECT_TRUE(where("k=exists", R"({"k":"exists"})"));
}

TEST(WhereTest, DottedPathsIntoNestedObjects) {
  constexpr std::string_view kNested =
      R"({"error":{"type":"timeout","code":42,"inner":{"deep":true},"n":null},"_cut":{"body":70000},"s":"x"})";
  expect_cases(kNested, {
                            {"error.type=timeout", true},
                            {"error.type!=timeout", false},
                            {"error.code=42", true},
                            {"error.code>40", true},
                            {"error.code~4", false},
                            {"error.inner.deep=true", true},
                            {"error.inner.deep exists", true},
                            {"error.n exists", true},
                            {"error.n=null", true},
                            {"error.missing=null", true},
                            {"error.missing exists", false},
                            {"error.type.x=null", true},  // a string has no keys
                            {"error.type.x exists", false},
                            {"s.x exists", false},
                            {"_cut.body>=70000", true},
                            {"error exists", true},
                            {"nothing.at.all!=1", true},
                            {"\"error.type\"=timeout", false},  // quoted: one top-level key
                            {"\"error.type\"=null", true},
                        });
  // The exact top-level key wins over the path.
  EXPECT_TRUE(where("a.b=1", R"({"a.b":1})"));
  EXPECT_TRUE(where("a.b=1", R"({"a":{"b":1}})"));
  EXPECT_FALSE(where("a.b=1", R"({"a.b":2,"a":{"b":1}})"));
  EXPECT_TRUE(where("\"a.b\"=1", R"({"a.b":1})"));
  EXPECT_TRUE(parse_ok("a.b=1").is_path());
  EXPECT_FALSE(parse_ok("\"a.b\"=1").is_path());
  EXPECT_FALSE(parse_ok("ab=1").is_path());
}

// ---------------------------------------------------------------------------
// Parse errors

TEST(WhereTest, ParseErrorsNameTheBadPart) {
  const std::pair<std::string_view, std::string_view> cases[] = {
      {"", "empty"},
      {"   ", "empty"},
      {"=5", "expected a key before '=5'"},
      {"key", "after 'key' expected an operator (= != > >= < <= ~) or 'exists'"},
      {"key 5", "after 'key' expected an operator (= != > >= < <= ~) or 'exists', got '5'"},
      {"k!1", "got '!1'"},
      {"k!~a", "got '!~a'"},
      {"tool>>3", "after 'tool>' expected a number or a \"quoted string\" for >, got '>3'"},
      {"n>abc", "after 'n>' expected a number or a \"quoted string\" for >, got 'abc'"},
      {"n >= true", "after 'n >=' expected a number or a \"quoted string\" for >=, got 'true'"},
      {"n<null", "for <, got 'null'"},
      {"n<=", "after 'n<=' expected a number or a \"quoted string\" for <="},
      {"n>01", "got '01'"},
      {"k=", "after 'k=' expected a value (write \"\" for the empty string)"},
      {"k !=  ", "after 'k !=' expected a value"},
      {"k~", "after 'k~' expected a regex"},
      {"k~(", "the regex '(' is invalid: missing )"},
      {"k~a[", "the regex 'a[' is invalid"},
      {"k~\"(\"", "the regex '(' is invalid"},
      // RE2 quotes the pattern in its message: a newline in it is escaped there too.
      {"k~\"(\\n\"", "the regex '(\\x0a' is invalid: missing ): (\\x0a"},
      {"k~\"abc", "the regex '\"abc' starts with '\"' but is not a valid JSON string"},
      {"k==1", "the value '=1' starts with '=' (a typo in the operator?)"},
      {"k=>1", "the value '>1' starts with '>'"},
      {"k=<1", "the value '<1' starts with '<'"},
      {"k!=~x", "the value '~x' starts with '~'"},
      {"k=\"abc", "the value '\"abc' starts with '\"' but is not a valid JSON string"},
      {"k=\"a\"b", "the value '\"a\"b' starts with '\"' but is not a valid JSON string"},
      {"k=\"\\x\"", "not a valid JSON string"},
      {"\"abc=1", "the quoted key \"abc=1 has no end"},
      {"\"a\\x\"=1", "the quoted key \"a\\x\" is not a valid JSON string"},
      {"a..b=1", "the path 'a..b' has an empty segment; quote the key (\"a..b\")"},
      {".a=1", "the path '.a' has an empty segment"},
      {"a.=1", "the path 'a.' has an empty segment"},
      {"k=[1,2]", "the value '[1,2]' is a JSON array"},
      {"k={\"a\":1}", "is a JSON object"},
      {"k=1e400", "the number '1e400' is out of range"},
      {"k=18446744073709551616", "the number '18446744073709551616' is out of range"},
      {"k<-9223372036854775809", "out of range"},
      {"k exists x", "unexpected 'x' after 'k exists'"},
      {"k\x01", "after 'k\\x01' expected an operator"},
  };
  for (const auto& [expression, part] : cases) {
    const std::string message = where_error(expression);
    EXPECT_NE(message.find(part), std::string::npos) << "'" << expression << "' gave: " << message;
    EXPECT_EQ(message.rfind("bad --where '", 0), 0U) << message;
    EXPECT_EQ(message.find('\n'), std::string::npos) << message;
  }
  // The whole expression is quoted, control bytes escaped.
  EXPECT_EQ(where_error("tool>>3"),
            "bad --where 'tool>>3': after 'tool>' expected a number or a \"quoted string\" for >, got '>3'");
  EXPECT_NE(where_error("k=\"a\nb").find("bad --where 'k=\"a\\x0ab'"), std::string::npos);
}

// ---------------------------------------------------------------------------
// Needles

TEST(WhereTest, Needles) {
  const auto needle = [](std::string_view expression) { return parse_ok(expression).needle(); };
  using N = std::optional<std::string>;
  EXPECT_EQ(needle("tool=write_file"), N(R"("tool":"write_file")"));
  EXPECT_EQ(needle("tool=\"write_file\""), N(R"("tool":"write_file")"));
  EXPECT_EQ(needle("tool=\"a\\\"b\\\\c/d\\u0001\\u00e9\""), N("\"tool\":\"a\\\"b\\\\c/d\\u0001\xC3\xA9\""));
  EXPECT_EQ(needle("\"a\\tb\"=1"), N(R"("a\tb":1)"));
  EXPECT_EQ(needle("allow=false"), N(R"("allow":false)"));
  EXPECT_EQ(needle("allow=true"), N(R"("allow":true)"));
  EXPECT_EQ(needle("code=42"), N(R"("code":42)"));
  EXPECT_EQ(needle("code=42.0"), N(R"("code":42)"));
  EXPECT_EQ(needle("code=4.2e1"), N(R"("code":42)"));
  EXPECT_EQ(needle("code=-7"), N(R"("code":-7)"));
  EXPECT_EQ(needle("code=10000"), N(R"("code":10000)"));
  EXPECT_EQ(needle("code=100000"), N(R"("code":)"));  // a double 1e5 is written 1e+05
  EXPECT_EQ(needle("code=120000"), N(R"("code":120000)"));
  EXPECT_EQ(needle("code=0"), N(R"("code":)"));  // a double -0.0 is written -0
  EXPECT_EQ(needle("code=1.5"), N(R"("code":)"));
  EXPECT_EQ(needle("code=18446744073709551615"), N(R"("code":18446744073709551615)"));
  EXPECT_EQ(needle("code=9007199254740993"), N(R"("code":9007199254740993)"));
  EXPECT_EQ(needle("code=9007199254740992"), N(R"("code":)"));
  EXPECT_EQ(needle("code=-9223372036854775808"), N(R"("code":)"));
  EXPECT_EQ(needle("code=1e19"), N(R"("code":)"));
  EXPECT_EQ(needle("code=\"42\""), N(R"("code":"42")"));
  EXPECT_EQ(needle("x=null"), std::nullopt);
  EXPECT_EQ(needle("x!=1"), std::nullopt);
  EXPECT_EQ(needle("x!=\"a\""), std::nullopt);
  EXPECT_EQ(needle("x!=null"), N(R"("x":)"));
  EXPECT_EQ(needle("x>1"), N(R"("x":)"));
  EXPECT_EQ(needle("x<=\"a\""), N(R"("x":)"));
  EXPECT_EQ(needle("x~a"), N(R"("x":)"));
  EXPECT_EQ(needle("x exists"), N(R"("x":)"));
  EXPECT_EQ(needle("a.b=1"), std::nullopt);
  EXPECT_EQ(needle("a.b exists"), std::nullopt);
  EXPECT_EQ(needle("\"a.b\"=1"), N(R"("a.b":1)"));
}

TEST(WhereTest, NeedlesAreSoundOnCanonicalLines) {
  ValueGenerator values(2026);
  const std::vector<WhereClause> clauses = random_clauses(values, 400);
  dom::parser parser;
  size_t checked = 0, value_needles = 0;
  for (int round = 0; round < 3000; ++round) {
    const std::string json = random_line(values, static_cast<int64_t>(values.random()() >> 2));
    const dom::element line = parse_line(parser, json);
    for (const WhereClause& clause : clauses) {
      if (!clause.needle() || !clause.matches(line)) continue;
      ++checked;
      if (clause.needle()->back() != ':') ++value_needles;
      EXPECT_NE(json.find(*clause.needle()), std::string::npos)
          << clause.text() << " matches " << json << " without its needle " << *clause.needle();
    }
  }
  // Not vacuous: many matches carried a needle, many of them with a value.
  EXPECT_GT(checked, 20000U);
  EXPECT_GT(value_needles, 500U);
}

}  // namespace
}  // namespace ringtail::reader
