// Naming a value in a line (ringtail/reader/query/json_path.hpp): the one
// rule --where keys and the --by keys of stats and cost share.
#include "ringtail/reader/query/json_path.hpp"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <string>
#include <string_view>

#include "ringtail/reader/query/filter.hpp"
#include "ringtail/reader/query/json_value.hpp"
#include "ringtail/reader/query/parsed_line.hpp"

namespace ringtail::reader {
namespace {

constexpr std::string_view kLine = R"({"a.b":1,"a":{"b":2,"":{"b":3}},"x":{"y":{"z":4}},"s":"t","w..v":5,"":{"b":6}})";

// The value `key` names as compact JSON text, or "missing".
std::string named(simdjson::dom::parser& parser, std::string_view key) {
  simdjson::dom::element line;
  EXPECT_EQ(parser.parse(kLine.data(), kLine.size()).get(line), simdjson::SUCCESS);
  simdjson::dom::element value;
  return lookup(line, key, &value) ? json_value_text(value) : "missing";
}

TEST(JsonPathTest, TopLevelKeyFirstThenPath) {
  simdjson::dom::parser parser;
  EXPECT_EQ(named(parser, "a.b"), "1");  // the top-level key of that name wins
  EXPECT_EQ(named(parser, "x.y.z"), "4");
  EXPECT_EQ(named(parser, "x.y"), R"({"z":4})");
  EXPECT_EQ(named(parser, "s"), R"("t")");
  EXPECT_EQ(named(parser, "s.t"), "missing");  // a string has no keys
  EXPECT_EQ(named(parser, "x.q"), "missing");
  EXPECT_EQ(named(parser, "missing"), "missing");
}

// The rule where the two copies disagreed: stats followed an empty segment
// to the key "", --where refused it. Now an empty segment names nothing
// (only a top-level key spelled that way), and --where still refuses it.
TEST(JsonPathTest, AnEmptySegmentNamesOnlyATopLevelKey) {
  simdjson::dom::parser parser;
  EXPECT_EQ(named(parser, "a..b"), "missing");  // not {"a":{"":{"b":3}}}
  EXPECT_EQ(named(parser, ".b"), "missing");    // not {"":{"b":6}}
  EXPECT_EQ(named(parser, "a."), "missing");
  EXPECT_EQ(named(parser, "w..v"), "5");
  EXPECT_FALSE(is_json_path("a..b"));
  EXPECT_FALSE(is_json_path(".a"));
  EXPECT_FALSE(is_json_path("a."));
  EXPECT_FALSE(is_json_path("ab"));
  EXPECT_TRUE(is_json_path("a.b.c"));
  EXPECT_FALSE(parse_where("a..b=3").ok());
}

TEST(JsonPathTest, WhereNamesValuesTheSameWay) {
  simdjson::dom::parser parser;
  simdjson::dom::element line;
  ASSERT_EQ(parser.parse(kLine.data(), kLine.size()).get(line), simdjson::SUCCESS);
  for (const std::string_view key : {"a.b", "x.y.z", "x.y", "s", "s.t", "x.q", "missing", "w..v"}) {
    simdjson::dom::element value;
    const bool found = lookup(line, key, &value);
    const absl::StatusOr<WhereClause> exists = parse_where(std::string("\"").append(key).append("\" exists"));
    ASSERT_TRUE(exists.ok()) << key;
    if (is_json_path(key)) {
      const absl::StatusOr<WhereClause> bare = parse_where(std::string(key).append(" exists"));
      ASSERT_TRUE(bare.ok()) << key;
      EXPECT_EQ(bare->matches(line), found) << key;
    } else {
      EXPECT_EQ(exists->matches(line), found) << key;  // a quoted key: one top-level key
    }
  }
}

}  // namespace
}  // namespace ringtail::reader
