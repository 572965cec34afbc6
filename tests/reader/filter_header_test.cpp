// filter.hpp stands without a JSON parser: a front end that builds filters
// (a CLI, an HTTP endpoint) compiles without simdjson; only code that parses
// lines includes parsed_line.hpp.
#include "ringtail/reader/query/filter.hpp"

#if defined(SIMDJSON_H)
#error "filter.hpp includes simdjson.h; keep parser types behind ParsedLine (parsed_line.hpp)"
#endif

#include <gtest/gtest.h>

namespace ringtail::reader {
namespace {

TEST(FilterHeaderTest, BuildsFiltersWithoutAParser) {
  Filter filter;
  filter.add(WhereClause::equals("service", std::string("agent")));
  filter.set_min_level(shm::Level::kWarn);
  EXPECT_TRUE(filter.may_match(R"({"timestamp":"2026-11-22T21:00:00.000000000Z","level":"ERROR","service":"agent"})"));
  EXPECT_FALSE(filter.may_match(R"({"timestamp":"2026-11-22T21:00:00.000000000Z","level":"INFO","service":"agent"})"));
}

}  // namespace
}  // namespace ringtail::reader
