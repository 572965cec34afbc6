// The --where / --level / --since / --until filter (ringtail/reader/query/filter.hpp):
// every operator on every JSON type, exact numbers, paths, parse errors,
// needle soundness on lines written by the reader's own JSON primitives, and
// time bounds (RFC 3339, relative forms, text order of formatted bounds).
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

#include "ringtail/reader/output/json_text.hpp"
#include "ringtail/reader/output/line_head.hpp"
#include "ringtail/reader/output/time_text.hpp"
#include "ringtail/reader/query/parsed_line.hpp"

namespace ringtail::reader {
namespace {

namespace dom = simdjson::dom;

constexpr int64_t kSecond = 1'000'000'000;
constexpr int64_t k20261122T210000Z = 1795381200;  // date -u -d 2026-11-22T21:00:00Z +%s

WhereClause parse_ok(std::string_view expression) {
  absl::StatusOr<WhereClause> clause = parse_where(expression);
  EXPECT_TRUE(clause.ok()) << expression << ": " << clause.status();
  if (!clause.ok()) return *parse_where("unused exists");
  return *std::move(clause);
}

dom::element parse_line(dom::parser& parser, std::string_view json) {
  dom::element line;
  EXPECT_EQ(parser.parse(json.data(), json.size()).get(line), simdjson::SUCCESS) << json;
  return line;
}

// Whether `expression` matches the line `json`.
bool where(std::string_view expression, std::string_view json) {
  const WhereClause clause = parse_ok(expression);
  dom::parser parser;
  return clause.matches(parse_line(parser, json));
}

// The message of parse_where's error, or "" (and a failure) if it parsed.
std::string where_error(std::string_view expression) {
  absl::StatusOr<WhereClause> clause = parse_where(expression);
  EXPECT_FALSE(clause.ok()) << expression << " parsed";
  if (clause.ok()) return "";
  EXPECT_EQ(clause.status().code(), absl::StatusCode::kInvalidArgument);
  return std::string(clause.status().message());
}

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

constexpr std::string_view kFieldKeys[] = {"k", "tool", "a\"b", "é", "x y", "code"};
constexpr std::string_view kLevels[] = {"TRACE", "DEBUG", "INFO", "WARN", "ERROR", "CRITICAL", "OFF"};

// A line as EventJsonFormatter writes it: reserved keys, then fields (each
// key at most once), sometimes a nested object.
std::string random_line(ValueGenerator& values, int64_t ns) {
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

std::vector<WhereClause> random_clauses(ValueGenerator& values, size_t count) {
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

TEST(FilterTest, MayMatchNeverRejectsAMatchingLine) {
  ValueGenerator values(99);
  std::mt19937_64& random = values.random();
  dom::parser parser;
  size_t matched = 0, skipped = 0;
  for (int round = 0; round < 300; ++round) {
    Filter filter;
    for (WhereClause& clause : random_clauses(values, random() % 3)) filter.add(std::move(clause));
    const int64_t base = k20261122T210000Z * kSecond;
    if (random() % 2) filter.set_min_level(static_cast<shm::Level>(random() % 6));
    if (random() % 2) filter.set_since(base + static_cast<int64_t>(random() % 1000) * kSecond);
    if (random() % 2) filter.set_until(base + static_cast<int64_t>(random() % 1000) * kSecond);
    for (int n = 0; n < 50; ++n) {
      const std::string json = random_line(values, base + static_cast<int64_t>(random() % (1000 * kSecond)));
      const bool matches = filter.matches(parse_line(parser, json));
      const bool may_match = filter.may_match(json);
      if (matches) {
        ++matched;
        EXPECT_TRUE(may_match) << json;
      }
      if (!may_match) ++skipped;
    }
  }
  EXPECT_GT(matched, 500U);
  EXPECT_GT(skipped, 2000U);
}

// ---------------------------------------------------------------------------
// Filter

TEST(FilterTest, DefaultKeepsEveryObject) {
  Filter filter;
  dom::parser parser;
  EXPECT_TRUE(filter.matches(parse_line(parser, R"({"a":1})")));
  EXPECT_TRUE(filter.matches(parse_line(parser, "{}")));
  EXPECT_FALSE(filter.matches(parse_line(parser, "[]")));
  EXPECT_TRUE(filter.may_match("anything"));
}

// Found by the where fuzzer: an empty raw line (a view with no data) was
// searched with memmem(nullptr, ...).
TEST(FilterTest, AnEmptyRawLineHoldsNoNeedle) {
  Filter filter;
  filter.add(parse_ok("tool=write_file"));
  EXPECT_FALSE(filter.may_match(std::string_view()));
  EXPECT_FALSE(filter.may_match(""));
  EXPECT_FALSE(filter.may_match("wri"));  // shorter than the needle
}

TEST(FilterTest, ClausesAreAnded) {
  Filter filter;
  filter.add(parse_ok("tool=write_file"));
  filter.add(parse_ok("duration_ms>1"));
  dom::parser parser;
  EXPECT_TRUE(filter.matches(parse_line(parser, R"({"tool":"write_file","duration_ms":1.5})")));
  EXPECT_FALSE(filter.matches(parse_line(parser, R"({"tool":"write_file","duration_ms":0.5})")));
  EXPECT_FALSE(filter.matches(parse_line(parser, R"({"tool":"read_file","duration_ms":1.5})")));
  EXPECT_TRUE(filter.may_match(R"({"tool":"write_file","duration_ms":1.5})"));
  EXPECT_FALSE(filter.may_match(R"({"tool":"read_file","duration_ms":1.5})"));
  EXPECT_FALSE(filter.may_match(R"({"tool":"write_file"})"));
}

TEST(FilterTest, EqualsForMessageServicePid) {
  const WhereClause service = WhereClause::equals("service", std::string("agent"));
  EXPECT_EQ(service.text(), R"("service" = "agent")");
  EXPECT_EQ(service.needle(), std::optional<std::string>(R"("service":"agent")"));
  const WhereClause pid = WhereClause::equals("pid", uint64_t{1234});
  EXPECT_EQ(pid.value(), JsonScalar(int64_t{1234}));
  EXPECT_EQ(pid.needle(), std::optional<std::string>(R"("pid":1234)"));
  // A message is a string even when it reads like a JSON literal.
  const WhereClause message = WhereClause::equals("message", std::string("true"));
  EXPECT_FALSE(message.is_path());
  const WhereClause dotted = WhereClause::equals("a.b", std::string("x"));
  EXPECT_FALSE(dotted.is_path());
  dom::parser parser;
  const dom::element line = parse_line(parser, R"({"message":"true","service":"agent","pid":1234,"a":{"b":"x"}})");
  EXPECT_TRUE(service.matches(line));
  EXPECT_TRUE(pid.matches(line));
  EXPECT_TRUE(message.matches(line));
  EXPECT_FALSE(dotted.matches(line));  // equals() names one top-level key
}

TEST(FilterTest, LevelFloor) {
  EXPECT_EQ(*parse_min_level("warn"), shm::Level::kWarn);
  EXPECT_EQ(*parse_min_level(" Error "), shm::Level::kError);
  EXPECT_EQ(*parse_min_level("CRITICAL"), shm::Level::kCritical);
  EXPECT_EQ(*parse_min_level("trace"), shm::Level::kTrace);
  EXPECT_EQ(*parse_min_level("Info"), shm::Level::kInfo);
  EXPECT_EQ(*parse_min_level("debug"), shm::Level::kDebug);
  // shm::parse_level's words: "warning" is warn, as for RINGTAIL_LEVEL.
  EXPECT_EQ(*parse_min_level("warning"), shm::Level::kWarn);
  EXPECT_EQ(*parse_min_level(" WARNING "), shm::Level::kWarn);
  for (std::string_view bad : {"verbose", "off", "OFF", "", "warnings", "INFO2"}) {
    const absl::StatusOr<shm::Level> level = parse_min_level(bad);
    ASSERT_FALSE(level.ok()) << bad;
    EXPECT_EQ(level.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(std::string(level.status().message()),
              std::string("bad --level '")
                  .append(bad)
                  .append("': expected one of TRACE, DEBUG, INFO, WARN, ERROR, CRITICAL (any case)"));
  }

  Filter filter;
  filter.set_min_level(shm::Level::kWarn);
  dom::parser parser;
  for (const std::string_view level : kLevels) {
    const std::string json = std::string(R"({"timestamp":"2026-11-22T21:00:00.000000000Z","level":")")
                                 .append(level)
                                 .append(R"(","message":"m"})");
    const bool expected = level == "WARN" || level == "ERROR" || level == "CRITICAL";
    EXPECT_EQ(filter.matches(parse_line(parser, json)), expected) << level;
    EXPECT_EQ(filter.may_match(json), expected) << level;  // decided on the raw text
  }
  EXPECT_FALSE(filter.matches(parse_line(parser, R"({"message":"m"})")));
  EXPECT_FALSE(filter.matches(parse_line(parser, R"({"level":"warn"})")));  // lines are upper case
  EXPECT_FALSE(filter.matches(parse_line(parser, R"({"level":3})")));
  // An escaped level cannot be decided on the raw text: let the parse decide.
  const std::string escaped = R"({"timestamp":"2026-11-22T21:00:00.000000000Z","level":"\u0045RROR"})";
  EXPECT_TRUE(filter.may_match(escaped));
  EXPECT_TRUE(filter.matches(parse_line(parser, escaped)));
}

TEST(FilterTest, TimeBoundsAreHalfOpen) {
  const int64_t since = k20261122T210000Z * kSecond;
  const int64_t until = since + 3600 * kSecond;
  Filter filter;
  filter.set_since(since);
  filter.set_until(until);
  EXPECT_EQ(filter.since(), since);
  EXPECT_EQ(filter.until(), until);
  dom::parser parser;
  const auto line_at = [](int64_t ns) {
    std::string json = R"({"timestamp":)";
    TimestampFormatter().append(json, ns);
    json += R"(,"level":"INFO","message":"m"})";
    return json;
  };
  const std::pair<int64_t, bool> cases[] = {
      {since - 1, false}, {since, true},      {since + 1, true}, {until - 1, true},
      {until, false},     {until + 1, false}, {0, false},        {INT64_MAX, false},
  };
  for (const auto& [ns, expected] : cases) {
    const std::string json = line_at(ns);
    EXPECT_EQ(filter.matches(parse_line(parser, json)), expected) << json;
    EXPECT_EQ(filter.may_match(json), expected) << json;
  }
  // Other timestamp forms are parsed, then compared in ns; may_match cannot tell.
  const std::pair<std::string_view, bool> others[] = {
      {R"({"timestamp":"2026-11-22T23:30:00+02:00"})", true},
      {R"({"timestamp":"2026-11-22T22:00:00Z"})", false},
      {R"({"timestamp":"2026-11-22T21:00:00Z"})", true},
      {R"({ "timestamp" : "2026-11-22T21:00:00.000000000Z" })", true},
      {R"({"timestamp":"yesterday"})", false},
      {R"({"timestamp":12})", false},
      {R"({"level":"INFO"})", false},
  };
  for (const auto& [json, expected] : others) {
    EXPECT_EQ(filter.matches(parse_line(parser, json)), expected) << json;
    EXPECT_TRUE(filter.may_match(json)) << json;
  }
}

// ---------------------------------------------------------------------------
// Time bounds

int64_t time_ok(std::string_view text, int64_t now_ns = 0) {
  const absl::StatusOr<int64_t> ns = parse_time_bound(text, now_ns);
  EXPECT_TRUE(ns.ok()) << text << ": " << ns.status();
  return ns.ok() ? *ns : INT64_MIN;
}

std::string time_error(std::string_view text, int64_t now_ns = 0) {
  const absl::StatusOr<int64_t> ns = parse_time_bound(text, now_ns);
  EXPECT_FALSE(ns.ok()) << text << " parsed as " << *ns;
  if (ns.ok()) return "";
  EXPECT_EQ(ns.status().code(), absl::StatusCode::kInvalidArgument);
  return std::string(ns.status().message());
}

TEST(TimeBoundTest, Rfc3339) {
  const int64_t base = k20261122T210000Z * kSecond;
  EXPECT_EQ(time_ok("2026-11-22T21:00:00Z"), base);
  EXPECT_EQ(time_ok("2026-11-22T21:00:00.123456789Z"), base + 123456789);
  EXPECT_EQ(time_ok("2026-11-22T21:00:00.5Z"), base + 500000000);
  EXPECT_EQ(time_ok("2026-11-22T21:00:00.000000001Z"), base + 1);
  EXPECT_EQ(time_ok("2026-11-22T21:00:00.120Z"), base + 120000000);
  EXPECT_EQ(time_ok("2026-11-22t21:00:00z"), base);
  EXPECT_EQ(time_ok("2026-11-22 21:00:00Z"), base);
  EXPECT_EQ(time_ok("  2026-11-22T21:00:00Z  "), base);
  EXPECT_EQ(time_ok("2026-11-22T23:00:00+02:00"), base);
  EXPECT_EQ(time_ok("2026-11-22T15:30:00-05:30"), base);
  EXPECT_EQ(time_ok("2026-11-23T06:45:00.25+09:45"), base + 250000000);
  EXPECT_EQ(time_ok("2026-11-22T21:00:00-00:00"), base);
  EXPECT_EQ(time_ok("2026-11-22"), base - 21 * 3600 * kSecond);
  EXPECT_EQ(time_ok("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(time_ok("1969-12-31T23:59:59.999999999Z"), -1);
  EXPECT_EQ(time_ok("2016-12-31T23:59:60Z"), time_ok("2017-01-01T00:00:00Z"));  // leap second
  EXPECT_EQ(time_ok("2024-02-29T00:00:00Z") + 86400 * kSecond, time_ok("2024-03-01T00:00:00Z"));
  EXPECT_EQ(time_ok("2000-02-29"), 951782400 * kSecond);
  EXPECT_EQ(time_ok("2262-04-11T23:47:16.854775807Z"), INT64_MAX);
  EXPECT_EQ(time_ok("1677-09-21T00:12:43.145224192Z"), INT64_MIN);
  EXPECT_EQ(time_ok("2262-04-12T01:47:16.854775807+02:00"), INT64_MAX);
}

TEST(TimeBoundTest, Rfc3339AgreesWithTimegm) {
  std::mt19937_64 random(3339);
  for (int round = 0; round < 2000; ++round) {
    std::tm tm{};
    tm.tm_year = static_cast<int>(random() % 580) + 1680 - 1900;
    tm.tm_mon = static_cast<int>(random() % 12);
    tm.tm_mday = static_cast<int>(random() % 28) + 1;
    tm.tm_hour = static_cast<int>(random() % 24);
    tm.tm_min = static_cast<int>(random() % 60);
    tm.tm_sec = static_cast<int>(random() % 60);
    const int offset_minutes = static_cast<int>(random() % (2 * 24 * 60 - 1)) - (24 * 60 - 1);
    const uint32_t nanos = static_cast<uint32_t>(random() % 1000000000);
    char text[128];
    std::snprintf(text, sizeof(text), "%04d-%02d-%02dT%02d:%02d:%02d.%09u%c%02d:%02d", tm.tm_year + 1900, tm.tm_mon + 1,
                  tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, nanos, offset_minutes < 0 ? '-' : '+',
                  std::abs(offset_minutes) / 60, std::abs(offset_minutes) % 60);
    const int64_t seconds = static_cast<int64_t>(timegm(&tm)) - int64_t{offset_minutes} * 60;
    EXPECT_EQ(time_ok(text), seconds * kSecond + nanos) << text;
  }
}

TEST(TimeBoundTest, Relative) {
  const int64_t now = k20261122T210000Z * kSecond + 123;
  EXPECT_EQ(time_ok("-1h", now), now - 3600 * kSecond);
  EXPECT_EQ(time_ok("1h", now), now - 3600 * kSecond);  // no sign: before now
  EXPECT_EQ(time_ok("+1h", now), now + 3600 * kSecond);
  EXPECT_EQ(time_ok("-7d", now), now - 7 * 86400 * kSecond);
  EXPECT_EQ(time_ok("-2w", now), now - 14 * 86400 * kSecond);
  EXPECT_EQ(time_ok("-30m", now), now - 1800 * kSecond);
  EXPECT_EQ(time_ok("-10s", now), now - 10 * kSecond);
  EXPECT_EQ(time_ok("-500ms", now), now - 500'000'000);
  EXPECT_EQ(time_ok("-250us", now), now - 250'000);
  EXPECT_EQ(time_ok("-9ns", now), now - 9);
  EXPECT_EQ(time_ok("-1h30m", now), now - 5400 * kSecond);
  EXPECT_EQ(time_ok("1d2h3m4s5ms", now), now - ((86400 + 7200 + 180 + 4) * kSecond + 5'000'000));
  EXPECT_EQ(time_ok("-0s", now), now);
  EXPECT_EQ(time_ok(" -1h ", now), now - 3600 * kSecond);
  EXPECT_EQ(time_ok("now", now), now);
  EXPECT_EQ(time_ok("NOW", now), now);
  EXPECT_EQ(time_ok("-106000d", now), now - int64_t{106000} * 86400 * kSecond);
}

TEST(TimeBoundTest, ErrorsNameTheBadPart) {
  const std::pair<std::string_view, std::string_view> cases[] = {
      {"", "empty; expected an RFC 3339 time"},
      {"yesterday",
       "expected an RFC 3339 time (2026-11-22T21:00:00Z) or a duration before now (-1h, 7d, 500ms), "
       "got 'yesterday'"},
      {"-", "expected a duration after '-'"},
      {"-h", "got 'h'"},
      {"-5", "expected a unit after '5' (ns, us, ms, s, m, h, d, w)"},
      {"2026", "expected a unit after '2026'"},
      {"-5x", "unknown unit 'x' (ns, us, ms, s, m, h, d, w)"},
      {"-5H", "unknown unit 'H'"},
      {"-1h-5m", "got '-5m'"},
      {"1.5h", "fractions are not accepted (at '1.5h'): use a smaller unit, e.g. 1h30m"},
      {"-200000d", "the duration '-200000d' is too long"},
      {"-99999999999999999999d", "out of range"},
      {"+100000d", "out of range (1677-09-21T00:12:43.145224192Z to 2262-04-11T23:47:16.854775807Z)"},
      {"2026-13-01T00:00:00Z", "month 13 does not exist"},
      {"2026-00-01", "month 00 does not exist"},
      {"2026-02-29", "day 29 does not exist in 2026-02"},
      {"1900-02-29", "day 29 does not exist in 1900-02"},
      {"2026-11-31", "day 31 does not exist in 2026-11"},
      {"2026-11-22T24:00:00Z", "time 24:00:00 does not exist"},
      {"2026-11-22T21:60:00Z", "time 21:60:00 does not exist"},
      {"2026-11-22T21:00:00", "expected 'Z' or an offset like +02:00 after the time (local time is not accepted)"},
      {"2026-11-22T21:00:00+0200", "expected an offset like +02:00, got '+0200'"},
      {"2026-11-22T21:00:00+2:00", "expected an offset like +02:00"},
      {"2026-11-22T21:00:00+24:00", "expected an offset like +02:00"},
      {"2026-11-22T21:00:00ZZ", "unexpected 'Z' after the time"},
      {"2026-11-22T21:00:00+02:00x", "unexpected 'x' after the time"},
      {"2026-11-22T21:00Z", "expected a time hh:mm:ss after the date, got '21:00Z'"},
      {"2026-11-22T21:00:00.Z", "expected digits after '.'"},
      {"2026-11-22T21:00:00.1234567891Z", "at most 9 fractional digits"},
      {"2026-11-22X21:00:00Z", "expected 'T' and a time hh:mm:ss after the date, got 'X21:00:00Z'"},
      {"2026-1-2", "expected a date YYYY-MM-DD"},
      {"2300-01-01T00:00:00Z", "out of range"},
      {"0000-01-01", "out of range"},
      {"2262-04-11T23:47:16.854775808Z", "out of range"},
  };
  for (const auto& [text, part] : cases) {
    const std::string message = time_error(text, k20261122T210000Z * kSecond);
    EXPECT_NE(message.find(part), std::string::npos) << "'" << text << "' gave: " << message;
    EXPECT_EQ(message.rfind(std::string("bad time '").append(text).append("': "), 0), 0U) << message;
  }
}

TEST(TimeBoundTest, FormattedBoundsOrderLikeNanoseconds) {
  EXPECT_EQ(format_timestamp(k20261122T210000Z * kSecond + 123456789), "2026-11-22T21:00:00.123456789Z");
  EXPECT_EQ(format_timestamp(0), "1970-01-01T00:00:00.000000000Z");
  EXPECT_EQ(format_timestamp(-1), "1969-12-31T23:59:59.999999999Z");
  EXPECT_EQ(format_timestamp(INT64_MAX), "2262-04-11T23:47:16.854775807Z");
  EXPECT_EQ(format_timestamp(INT64_MIN), "1677-09-21T00:12:43.145224192Z");
  std::mt19937_64 random(30);
  const auto random_ns = [&]() -> int64_t {
    switch (random() % 3) {
      case 0:
        return static_cast<int64_t>(random());  // anywhere
      case 1:
        return k20261122T210000Z * kSecond + static_cast<int64_t>(random() % (2 * kSecond)) - kSecond;
      default:
        return static_cast<int64_t>(random() % 4000) - 2000;  // around the epoch, across the sign
    }
  };
  for (int round = 0; round < 20000; ++round) {
    const int64_t a = random_ns();
    const bool extreme = a == INT64_MAX || a == INT64_MIN;
    const int64_t b = round % 2 || extreme ? random_ns() : a + static_cast<int64_t>(random() % 3) - 1;
    const std::string ta = format_timestamp(a);
    const std::string tb = format_timestamp(b);
    ASSERT_TRUE(is_canonical_timestamp(ta)) << ta;
    EXPECT_EQ(ta < tb, a < b) << ta << " " << tb;
    EXPECT_EQ(ta == tb, a == b) << ta << " " << tb;
    EXPECT_EQ(time_ok(ta), a) << ta;  // and it reads back
  }
}

TEST(TimeBoundTest, CanonicalLineTimestamp) {
  EXPECT_EQ(head_timestamp(R"({"timestamp":"2026-11-22T21:00:00.123456789Z","level":"INFO"})"),
            std::optional<std::string_view>("2026-11-22T21:00:00.123456789Z"));
  EXPECT_EQ(head_timestamp(R"({"timestamp":"2026-11-22T21:00:00.123456789Z"})"),
            std::optional<std::string_view>("2026-11-22T21:00:00.123456789Z"));
  for (std::string_view line : {
           R"({ "timestamp":"2026-11-22T21:00:00.123456789Z"})",
           R"({"timestamp":"2026-11-22T21:00:00Z","level":"INFO"})",
           R"({"timestamp":"2026-11-22T21:00:00.123456789+00:00"})",
           R"({"timestamp":"2026-11-22T21:00:00.12345678Z"})",
           R"({"timestamp":"2026-11-22T21:00:00.123456789Z)",
           R"({"level":"INFO","timestamp":"2026-11-22T21:00:00.123456789Z"})",
           R"({"timestamp":"2026-11-22T21:00:00.123456789Zx"})",
           "",
       }) {
    EXPECT_EQ(head_timestamp(line), std::nullopt) << line;
  }
  EXPECT_TRUE(is_canonical_timestamp("0000-00-00T00:00:00.000000000Z"));
  EXPECT_FALSE(is_canonical_timestamp("2026-11-22T21:00:00.123456789z"));
  EXPECT_FALSE(is_canonical_timestamp("2026-11-22 21:00:00.123456789Z"));
}

}  // namespace
}  // namespace ringtail::reader
