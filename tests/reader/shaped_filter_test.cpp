// ShapedFilter (query/shaped_filter.hpp) answers, from a line's shape, what
// Filter::matches answers for the parsed line: a real producer logs every
// kind of line (escaped service and keys, every scalar type, errors, context,
// spans, cut strings, drops, a crash note), a real drain hands the batches to
// a sink, and for every line and every clause (each operator, head keys,
// fields, paths, missing keys) and a few combined filters both answers are
// compared.
#include <signal.h>

#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>
#include <simdjson.h>

#include "every_kind_of_line.hpp"
#include "producer_child.hpp"
#include "ringtail/reader/drain/drain_engine.hpp"
#include "ringtail/reader/query/parsed_line.hpp"
#include "ringtail/reader/query/shaped_filter.hpp"
#include "ringtail/reader/sinks/event_sink.hpp"
#include "ringtail/ringtail.hpp"
#include "shaped_text.hpp"

namespace ringtail::reader {
namespace {

using ringtail::test::ProducerChild;

// Which of the child's lines pass a clause: its parsed answer must be this
// (so that no comparison below is of two answers that never vary by chance).
enum class Passes { kSome, kAll, kNone };
constexpr Passes kSome = Passes::kSome;
constexpr Passes kAll = Passes::kAll;
constexpr Passes kNone = Passes::kNone;

const std::vector<std::pair<std::string, Passes>> kClauses = {
    {"message=tool call", kSome},
    {"message~^tool", kSome},
    {"message!=burst", kSome},
    {"message=\"critical \\u00e9 message\"", kSome},
    {"level=INFO", kSome},
    {"level>=\"INFO\"", kSome},
    {"service=\"counted \\\"index\\\"\\u0001\"", kAll},
    {"service~index", kAll},
    {"pid>0", kAll},
    {"pid exists", kAll},
    {"tid>0", kSome},
    {"tid exists", kSome},
    {"seq=0", kSome},
    {"seq>=3", kSome},
    {"seq<10", kSome},
    {"seq exists", kSome},
    {"i=42", kSome},
    {"i=42.0", kSome},
    {"i>=100", kSome},
    {"i<250", kSome},
    {"i!=7", kSome},
    {"n=1", kSome},
    {"ratio=0.5", kSome},
    {"ratio>0.25", kSome},
    {"ratio=\"0.5\"", kNone},
    {"count=7", kSome},
    {"big=18446744073709551615", kSome},
    {"big>18446744073709551614", kSome},
    {"big=1.8446744073709552e19", kNone},
    {"step=-3", kSome},
    {"step<0", kSome},
    {"flag=true", kSome},
    {"flag!=false", kSome},
    {"flag=\"true\"", kNone},
    {"parent=null", kAll},  // a null value, and every line without the key
    {"parent!=null", kNone},
    {"parent exists", kSome},
    {"parent=0", kNone},
    {"parent=\"null\"", kNone},
    {"\"key\\\"with\\tescapes\"=true", kSome},
    {"\"message\"=\"a field named message\"", kNone},
    {"_message=\"a field named message\"", kSome},
    {"session_id=s-1", kSome},
    {"user~u\"", kSome},
    {"span=process_query", kSome},
    {"span exists", kSome},
    {"status=ERROR", kSome},
    {"duration_ms>=0", kSome},
    {"error.type~runtime_error", kSome},
    {"error.message=boom", kSome},
    {"error.what exists", kNone},
    {"error exists", kSome},
    {"error=null", kSome},
    {"_cut exists", kSome},
    {"_cut.long>64", kSome},
    {"long~^x+$", kSome},
    {"missing=null", kAll},
    {"missing!=null", kNone},
    {"missing exists", kNone},
    {"missing.deeper exists", kNone},
    {"message.deeper exists", kNone},
    {"timestamp>=\"2000\"", kAll},
    {"timestamp<\"2000\"", kNone},
    {"count>=1", kSome},
    {"cause exists", kNone},  // only an overwritten gap has one (flight mode)
};

// Each clause's Filter, and the same as a ShapedFilter; plus a few filters
// that combine clauses with a level floor and time bounds.
struct Case {
  std::string name;
  Filter filter;
  std::unique_ptr<ShapedFilter> shaped;
  Passes passes = kSome;
  uint64_t passed = 0;
  uint64_t failed = 0;
};

class ComparingSink : public EventSink {
 public:
  explicit ComparingSink(std::vector<Case>& cases) : cases_(cases) {}

  absl::Status write(const EventBatch& batch) override {
    for (const LineShape& shape : batch.lines) {
      const std::string_view line = batch.line(shape).substr(0, shape.size - 1);
      simdjson::dom::element parsed;
      if (parser_.parse(line.data(), line.size()).get(parsed) != simdjson::SUCCESS) {
        ADD_FAILURE() << "the drain wrote a line that does not parse: " << line;
        continue;
      }
      ++lines;
      for (Case& c : cases_) {
        const bool expected = c.filter.matches(ParsedLine(parsed));
        EXPECT_EQ(c.shaped->matches(batch, shape), expected) << c.name << " on " << line;
        ++(expected ? c.passed : c.failed);
      }
      // A batch without a segment is answered by parsing: the same again.
      EventBatch alone;
      alone.append_line(batch, shape);
      for (Case& c : cases_) {
        EXPECT_EQ(c.shaped->matches(alone, alone.lines[0]), c.filter.matches(ParsedLine(parsed)))
            << c.name << " (no segment) on " << line;
      }
    }
    return absl::OkStatus();
  }
  absl::Status flush() override { return absl::OkStatus(); }

  uint64_t lines = 0;

 private:
  std::vector<Case>& cases_;
  simdjson::dom::parser parser_;
};

TEST(ShapedFilterTest, AnswersAsTheParsedLineForEveryKindOfLineAndClause) {
  ProducerChild child = testing::start_every_kind_of_line();
  ASSERT_TRUE(child.ok()) << child.error();
  ASSERT_EQ(child.join(), 128 + SIGKILL);

  // A line's time, for bounds that fall exactly on a line (since is
  // inclusive, until exclusive): read once without consuming.
  class TimeSink : public EventSink {
   public:
    absl::Status write(const EventBatch& batch) override {
      for (const LineShape& shape : batch.lines) times.push_back(shape.time_ns);
      return absl::OkStatus();
    }
    absl::Status flush() override { return absl::OkStatus(); }
    std::vector<int64_t> times;
  } time_sink;
  {
    DrainOptions peek;
    peek.mode = DrainOptions::Mode::kPeek;
    peek.discovery.pids = {child.pid()};
    DrainEngine engine(peek, time_sink, nullptr);
    ASSERT_TRUE(engine.drain_once().ok());
  }
  ASSERT_GT(time_sink.times.size(), 20u);
  const int64_t middle = time_sink.times[time_sink.times.size() / 2];

  std::vector<Case> cases;
  auto add = [&](std::string name, Filter filter, Passes passes) {
    Case& c = cases.emplace_back();
    c.name = std::move(name);
    c.shaped = std::make_unique<ShapedFilter>(filter);
    c.filter = std::move(filter);
    c.passes = passes;
  };
  for (const auto& [text, passes] : kClauses) {
    absl::StatusOr<WhereClause> clause = parse_where(text);
    ASSERT_TRUE(clause.ok()) << clause.status();
    Filter filter;
    filter.add(*clause);
    add(text, std::move(filter), passes);
  }
  {
    Filter warn;
    warn.set_min_level(shm::Level::kWarn);
    add("--level warn", warn, kSome);
    warn.add(*parse_where("message!=failed"));
    add("--level warn, message!=failed", std::move(warn), kSome);
    Filter window;
    window.set_since(1);
    window.set_until(std::numeric_limits<int64_t>::max());
    add("--since 1ns", window, kAll);
    window.set_since(std::numeric_limits<int64_t>::max() - 1);
    add("--since the end of time", window, kNone);
    Filter from;
    from.set_since(middle);
    add("--since a line's time", std::move(from), kSome);
    Filter to;
    to.set_until(middle);
    add("--until a line's time", std::move(to), kSome);
  }

  ComparingSink sink(cases);
  DrainOptions drain;
  drain.discovery.pids = {child.pid()};
  DrainEngine engine(drain, sink, nullptr);
  ASSERT_TRUE(engine.drain_once().ok());
  EXPECT_GT(sink.lines, 20u);
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(c.passed > 0, c.passes != kNone) << c.passed << " lines passed";
    EXPECT_EQ(c.failed > 0, c.passes != kAll) << c.failed << " lines failed";
  }
}

}  // namespace
}  // namespace ringtail::reader
