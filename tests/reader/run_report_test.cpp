// The HTML run report's data (ringtail/reader/report/): TimeBuckets (amounts
// over time in at most kMaxBuckets buckets whose width widens up a ladder:
// out-of-order times, exact totals across widening, times before the epoch,
// the whole int64 range), TraceWaterfalls (spans of chosen traces from their
// span.start / span.end lines and events: order, depth, offsets, lost starts
// and ends, exact cost and tokens, parent cycles, the span cap, deep chains)
// and RunReport (its data object parsed back with simdjson: overview counts
// and losses, timelines, tools, policy, cost against CostAccumulator, error
// groups, the traces chosen for waterfalls, odd and hostile lines). Every
// line is hand-built as docs/FORMAT.md describes it.
#include <gtest/gtest.h>
#include <simdjson.h>

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "ringtail/reader/output/time_text.hpp"
#include "ringtail/reader/query/cost.hpp"
#include "ringtail/reader/query/stats.hpp"
#include "ringtail/reader/report/run_report.hpp"
#include "ringtail/reader/report/time_buckets.hpp"
#include "ringtail/reader/report/trace_waterfall.hpp"

namespace ringtail::reader {
namespace {

namespace dom = simdjson::dom;

constexpr int64_t kMs = 1'000'000;
constexpr int64_t kSecond = 1'000'000'000;
constexpr int64_t kBase = int64_t{1795381200} * kSecond;  // 2026-11-22T21:00:00Z (date -u +%s)

// ---------------------------------------------------------------------------
// Lines

// A JSON string literal for any bytes (the escapes RFC 8259 requires).
std::string json_quoted(std::string_view text) {
  std::string out = "\"";
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (byte < 0x20) {
      char escaped[8];
      std::snprintf(escaped, sizeof escaped, "\\u%04x", byte);
      out += escaped;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

// The shortest text of a double that reads back to it.
std::string number_text(double value) {
  char buffer[64];
  const auto result = std::to_chars(buffer, buffer + sizeof buffer, value);
  return std::string(buffer, result.ptr);
}

// One stored line (docs/FORMAT.md): the reserved keys, then `fields` (JSON
// members without braces). seq >= 0: an event (tid and seq); otherwise a span
// line or a reader note.
std::string line(int64_t ns, std::string_view level, std::string_view message, std::string_view fields = "",
                 std::string_view service = "agent", int64_t seq = -1) {
  std::string out = "{\"timestamp\":\"";
  out.append(format_timestamp(ns)).append("\",\"level\":\"").append(level);
  out.append("\",\"message\":").append(json_quoted(message)).append(",\"service\":").append(json_quoted(service));
  out.append(",\"pid\":1234");
  if (seq >= 0) out.append(",\"tid\":1240,\"seq\":").append(std::to_string(seq));
  if (!fields.empty()) out.append(",").append(fields);
  return out.append("}");
}

// `prefix` and a number: "s12" (appended: GCC 12 warns falsely about
// "literal" + std::string, its bug 105329).
std::string named(std::string_view prefix, int64_t n) {
  std::string out(prefix);
  out += std::to_string(n);
  return out;
}

int64_t next_seq = 1;

std::string event(int64_t ns, std::string_view level, std::string_view message, std::string_view fields = "",
                  std::string_view service = "agent") {
  return line(ns, level, message, fields, service, next_seq++);
}

std::string note(int64_t ns, std::string_view level, std::string_view message, std::string_view fields) {
  return line(ns, level, message, fields);
}

// `"span":…,"trace_id":…,"span_id":…[,"parent_span_id":…]` (no parent when empty).
std::string span_keys(std::string_view trace, std::string_view span, std::string_view parent, std::string_view name) {
  std::string out =
      "\"span\":" + json_quoted(name) + ",\"trace_id\":" + json_quoted(trace) + ",\"span_id\":" + json_quoted(span);
  if (!parent.empty()) out += ",\"parent_span_id\":" + json_quoted(parent);
  return out;
}

std::string span_start(int64_t ns, std::string_view trace, std::string_view span, std::string_view parent,
                       std::string_view name, std::string_view attributes = "", std::string_view service = "agent") {
  std::string fields = span_keys(trace, span, parent, name);
  if (!attributes.empty()) fields.append(",").append(attributes);
  return line(ns, "INFO", "span.start", fields, service);
}

std::string span_end(int64_t ns, std::string_view trace, std::string_view span, std::string_view parent,
                     std::string_view name, double duration_ms, std::string_view status = "OK",
                     std::string_view error = "", std::string_view service = "agent") {
  std::string fields = span_keys(trace, span, parent, name) + ",\"status\":" + json_quoted(status);
  if (!error.empty()) fields.append(",\"error\":").append(error);
  fields.append(",\"duration_ms\":").append(number_text(duration_ms));
  return line(ns, status == "ERROR" ? "WARN" : "INFO", "span.end", fields, service);
}

// `,"trace_id":…,"span_id":…`: an event inside a span.
std::string in_span(std::string_view trace, std::string_view span) {
  return "\"trace_id\":" + json_quoted(trace) + ",\"span_id\":" + json_quoted(span);
}

// Parses lines and hands them (text and element) to the report's builders.
class Feed {
 public:
  dom::element parse(const std::string& text) {
    dom::element element;
    EXPECT_EQ(parser_.parse(text).get(element), simdjson::SUCCESS) << text;
    return element;
  }
  void add(TraceWaterfalls& waterfalls, const std::string& text) { waterfalls.add(text, parse(text)); }
  void add(RunReport& report, const std::string& text) { report.add(text, parse(text)); }
  void add_trace(RunReport& report, const std::string& text) { report.add_trace_line(text, parse(text)); }

 private:
  dom::parser parser_;
};

// ---------------------------------------------------------------------------
// Reading the output

dom::element parse_document(dom::parser& parser, const std::string& text) {
  dom::element document;
  EXPECT_EQ(parser.parse(text).get(document), simdjson::SUCCESS) << text;
  return document;
}

dom::element at(dom::element element, std::string_view pointer) {
  dom::element value;
  EXPECT_EQ(element.at_pointer(pointer).get(value), simdjson::SUCCESS)
      << pointer << " in " << simdjson::minify(element);
  return value;
}

std::string_view str(dom::element element, std::string_view pointer) {
  std::string_view text;
  EXPECT_EQ(at(element, pointer).get(text), simdjson::SUCCESS) << pointer << " in " << simdjson::minify(element);
  return text;
}

uint64_t uint(dom::element element, std::string_view pointer) {
  uint64_t value = 0;
  EXPECT_EQ(at(element, pointer).get(value), simdjson::SUCCESS) << pointer << " in " << simdjson::minify(element);
  return value;
}

double number(dom::element element, std::string_view pointer) {
  double value = 0;
  EXPECT_EQ(at(element, pointer).get(value), simdjson::SUCCESS) << pointer << " in " << simdjson::minify(element);
  return value;
}

bool is_null(dom::element element, std::string_view pointer) {
  dom::element value;
  return element.at_pointer(pointer).get(value) == simdjson::SUCCESS && value.is_null();
}

std::vector<dom::element> array(dom::element element, std::string_view pointer) {
  std::vector<dom::element> items;
  dom::array list;
  EXPECT_EQ(at(element, pointer).get(list), simdjson::SUCCESS) << pointer << " in " << simdjson::minify(element);
  for (dom::element item : list) items.push_back(item);
  return items;
}

std::vector<double> numbers(dom::element element, std::string_view pointer) {
  std::vector<double> values;
  for (dom::element item : array(element, pointer)) {
    double value = 0;
    EXPECT_EQ(item.get(value), simdjson::SUCCESS) << simdjson::minify(item);
    values.push_back(value);
  }
  return values;
}

double sum(const std::vector<double>& values) {
  double total = 0;
  for (double value : values) total += value;
  return total;
}

// The series of a timeline object ({"name": [amounts], ...}), in its order.
std::vector<std::pair<std::string, std::vector<double>>> series(dom::element element, std::string_view pointer) {
  std::vector<std::pair<std::string, std::vector<double>>> out;
  dom::object object;
  EXPECT_EQ(at(element, pointer).get(object), simdjson::SUCCESS) << pointer;
  for (dom::key_value_pair member : object) {
    std::vector<double> values;
    dom::array list;
    EXPECT_EQ(member.value.get(list), simdjson::SUCCESS);
    for (dom::element item : list) values.push_back(item.get_double().value_unsafe());
    out.emplace_back(std::string(member.key), std::move(values));
  }
  return out;
}

// {"key": k, "count": n} rows as a map, checking they are largest first.
std::map<std::string, uint64_t> count_rows(dom::element element, std::string_view pointer) {
  std::map<std::string, uint64_t> counts;
  uint64_t previous = UINT64_MAX;
  for (dom::element row : array(element, pointer)) {
    const uint64_t count = uint(row, "/count");
    EXPECT_LE(count, previous) << "not largest first: " << simdjson::minify(row);
    previous = count;
    std::string_view key = "(null)";
    if (!is_null(row, "/key")) key = str(row, "/key");
    EXPECT_TRUE(counts.emplace(std::string(key), count).second) << "twice: " << key;
  }
  return counts;
}

std::vector<std::string> ids_of(const std::vector<dom::element>& traces) {
  std::vector<std::string> ids;
  for (dom::element trace : traces) ids.emplace_back(str(trace, "/trace_id"));
  return ids;
}

// ---------------------------------------------------------------------------
// TimeBuckets

// The widths, from the header: the checks below are about how they are used.
constexpr auto& kLadder = TimeBuckets::kWidthsMs;

int64_t floor_div(int64_t a, int64_t b) { return a / b - (a % b != 0 && (a < 0) != (b < 0) ? 1 : 0); }

struct Added {
  std::string series;
  int64_t ns;
  double amount;
};

// Buckets in use from the first to the last amount at `width`.
int64_t span_at_width(const std::vector<Added>& added, int64_t width) {
  int64_t first = INT64_MAX, last = INT64_MIN;
  for (const Added& a : added) {
    first = std::min(first, floor_div(floor_div(a.ns, kMs), width));
    last = std::max(last, floor_div(floor_div(a.ns, kMs), width));
  }
  return last - first + 1;
}

// Checks `buckets` against what was added: the width is the narrowest of the
// ladder that fits, the first bucket holds the earliest amount, and every
// amount is in the bucket of its time (the amounts are whole numbers, so the
// sums are exact whatever the order of adding).
void expect_buckets(const TimeBuckets& buckets, const std::vector<Added>& added) {
  ASSERT_FALSE(buckets.empty());
  const int64_t width = buckets.width_ms();
  const auto rung = std::find(std::begin(kLadder), std::end(kLadder), width);
  ASSERT_NE(rung, std::end(kLadder)) << width;
  EXPECT_LE(span_at_width(added, width), TimeBuckets::kMaxBuckets) << width;
  if (rung != std::begin(kLadder)) {
    EXPECT_GT(span_at_width(added, *(rung - 1)), TimeBuckets::kMaxBuckets) << width;
  }
  EXPECT_LE(buckets.bucket_count(), static_cast<size_t>(TimeBuckets::kMaxBuckets));
  EXPECT_EQ(static_cast<int64_t>(buckets.bucket_count()), span_at_width(added, width));

  const int64_t start = buckets.start_ms();
  EXPECT_EQ(start % width, 0) << start;
  int64_t earliest = INT64_MAX;
  for (const Added& a : added) earliest = std::min(earliest, floor_div(a.ns, kMs));
  EXPECT_LE(start, earliest);
  EXPECT_GT(start + width, earliest);

  std::map<std::string, std::vector<double>> expected;
  for (const Added& a : added) {
    std::vector<double>& values = expected[a.series];
    values.resize(buckets.bucket_count(), 0.0);
    const int64_t index = floor_div(floor_div(a.ns, kMs), width) - floor_div(start, width);
    ASSERT_GE(index, 0);
    ASSERT_LT(index, static_cast<int64_t>(values.size()));
    values[static_cast<size_t>(index)] += a.amount;
  }
  for (const auto& [name, values] : expected) {
    EXPECT_EQ(buckets.values(name), values) << name;
    EXPECT_EQ(sum(buckets.values(name)), sum(values)) << name;
    EXPECT_EQ(buckets.total(name), sum(values)) << name;
  }
}

TEST(TimeBucketsTest, EmptyHasNoBuckets) {
  const TimeBuckets buckets;
  EXPECT_TRUE(buckets.empty());
  EXPECT_EQ(buckets.bucket_count(), 0u);
  EXPECT_EQ(buckets.start_ms(), 0);
  EXPECT_EQ(buckets.width_ms(), 1);
  EXPECT_TRUE(buckets.values("x").empty());
  EXPECT_TRUE(buckets.series_by_total().empty());
  EXPECT_EQ(buckets.total("x"), 0);
}

TEST(TimeBucketsTest, OutOfOrderAmountsLandInTheirMillisecond) {
  TimeBuckets buckets;
  buckets.add("a", kBase + 5 * kMs, 1);
  buckets.add("a", kBase + 2 * kMs + 999'999, 2);  // still the 2nd millisecond
  buckets.add("a", kBase + 5 * kMs + 500'000, 3);
  buckets.add("b", kBase + 3 * kMs, 4);
  EXPECT_FALSE(buckets.empty());
  EXPECT_EQ(buckets.width_ms(), 1);
  EXPECT_EQ(buckets.start_ms(), kBase / kMs + 2);
  EXPECT_EQ(buckets.bucket_count(), 4u);
  EXPECT_EQ(buckets.values("a"), (std::vector<double>{2, 0, 0, 4}));
  EXPECT_EQ(buckets.values("b"), (std::vector<double>{0, 4, 0, 0}));
  EXPECT_EQ(buckets.total("a"), 6);
}

TEST(TimeBucketsTest, WideningStepsUpTheLadderAndKeepsTotalsExact) {
  TimeBuckets buckets;
  std::vector<Added> added;
  const auto add = [&](std::string_view series, int64_t ns, double amount) {
    buckets.add(series, ns, amount);
    added.push_back({std::string(series), ns, amount});
  };
  add("x", kBase, 1);
  add("x", kBase + 239 * kMs, 2);  // 240 buckets of 1 ms: the most there may be
  EXPECT_EQ(buckets.width_ms(), 1);
  EXPECT_EQ(buckets.bucket_count(), 240u);
  add("y", kBase + 240 * kMs, 4);  // 241: 5 ms
  EXPECT_EQ(buckets.width_ms(), 5);
  EXPECT_EQ(buckets.bucket_count(), 49u);
  expect_buckets(buckets, added);

  // Then out of order, from a millisecond to hours apart, each width a step
  // up from the one before.
  std::mt19937_64 rng(7);
  int64_t previous_width = buckets.width_ms();
  const int64_t offsets_ms[] = {3, 1'000, 17, 60'000, 59'999, 5 * 3'600'000, 2'500'000, 3'600'001, 123, 4 * 3'600'000};
  for (const int64_t offset : offsets_ms) {
    for (int i = 0; i < 20; ++i) {
      const int64_t jitter = static_cast<int64_t>(rng() % 1'000'000);
      add(i % 3 == 0 ? "y" : "x", kBase + offset * kMs + jitter, static_cast<double>(i + 1));
    }
    EXPECT_GE(buckets.width_ms(), previous_width);
    previous_width = buckets.width_ms();
    expect_buckets(buckets, added);
  }
  // 5 hours over 240 buckets: 75 s each at least, so 300 s (60 s would make 301).
  EXPECT_EQ(buckets.width_ms(), 300'000);
  EXPECT_LE(buckets.bucket_count(), static_cast<size_t>(TimeBuckets::kMaxBuckets));
  double x = 0, y = 0;
  for (const Added& a : added) (a.series == "x" ? x : y) += a.amount;
  EXPECT_EQ(sum(buckets.values("x")), x);
  EXPECT_EQ(sum(buckets.values("y")), y);
}

TEST(TimeBucketsTest, TimesBeforeTheEpochFloorToTheEarlierBucket) {
  TimeBuckets buckets;
  std::vector<Added> added = {{"a", -1, 1}, {"a", -1'500'000, 2}, {"a", 0, 4}, {"b", -2 * kMs, 8}};
  for (const Added& a : added) buckets.add(a.series, a.ns, a.amount);
  EXPECT_EQ(buckets.width_ms(), 1);
  EXPECT_EQ(buckets.start_ms(), -2);
  EXPECT_EQ(buckets.values("a"), (std::vector<double>{2, 1, 4}));
  EXPECT_EQ(buckets.values("b"), (std::vector<double>{8, 0, 0}));
  expect_buckets(buckets, added);

  // Widened with negative indexes: buckets still merge whole.
  added.push_back({"a", -3 * kSecond - 7, 16});
  buckets.add("a", -3 * kSecond - 7, 16);
  EXPECT_EQ(buckets.width_ms(), 50);
  EXPECT_EQ(buckets.start_ms(), -3'050);
  expect_buckets(buckets, added);
}

TEST(TimeBucketsTest, TheWholeInt64RangeStaysBounded) {
  TimeBuckets buckets;
  std::vector<Added> added;
  // 1970 to 2262, then back to 1677.
  for (const int64_t ns : {int64_t{0}, INT64_MAX, kBase, INT64_MAX - 1, int64_t{1}, INT64_MIN, INT64_MIN + 1, -kBase}) {
    buckets.add("s", ns, 1);
    added.push_back({"s", ns, 1});
    EXPECT_LE(buckets.bucket_count(), static_cast<size_t>(TimeBuckets::kMaxBuckets));
  }
  EXPECT_EQ(buckets.width_ms(), 290'304'000'000);  // the top of the ladder
  expect_buckets(buckets, added);
  EXPECT_EQ(sum(buckets.values("s")), 8);
}

TEST(TimeBucketsTest, SeriesByTotalThenNameAndUnknownSeriesAreZeros) {
  TimeBuckets buckets;
  buckets.add("b", kBase, 5);
  buckets.add("d", kBase + 10 * kMs, 1);
  buckets.add("a", kBase + 3 * kMs, 2);
  buckets.add("a", kBase + 4 * kMs, 3);
  buckets.add("c", kBase, 7);
  EXPECT_EQ(buckets.series_by_total(), (std::vector<std::string>{"c", "a", "b", "d"}));
  EXPECT_EQ(buckets.values("nope"), std::vector<double>(11, 0.0));
  EXPECT_EQ(buckets.total("nope"), 0);
}

// ---------------------------------------------------------------------------
// TraceWaterfalls

constexpr std::string_view kTrace = "4bf92f3577b34da6a3ce929d0e0e4736";

// The one trace's object, parsed.
dom::element waterfall_json(const TraceWaterfalls& waterfalls, std::string_view trace, dom::parser& parser,
                            std::string& text) {
  text.clear();
  EXPECT_TRUE(waterfalls.append_json(text, trace));
  return parse_document(parser, text);
}

TEST(TraceWaterfallTest, ParentsFirstSiblingsByStartWithDepthAndOffset) {
  const int64_t t0 = kBase + 123'456'789;
  const auto ms = [t0](int64_t n) { return t0 + n * kMs; };
  const std::string error = R"({"type":"TimeoutError","message":"no answer in 30 s","code":504})";
  std::vector<std::string> lines = {
      span_start(ms(0), kTrace, "r", "", "request"),
      span_start(ms(10), kTrace, "a", "r", "plan"),
      span_start(ms(5), kTrace, "b", "r", "search"),
      span_start(ms(20), kTrace, "a1", "a", "think"),
      span_start(ms(12), kTrace, "a2", "a", "recall"),
      span_start(ms(6), kTrace, "b1", "b", "fetch"),
      span_start(ms(50), kTrace, "x", "remote-parent", "callback"),
      span_end(ms(30), kTrace, "a1", "a", "think", 10),
      span_end(ms(15), kTrace, "a2", "a", "recall", 3),
      span_end(ms(80), kTrace, "b1", "b", "fetch", 74),
      span_end(ms(40), kTrace, "a", "r", "plan", 30),
      span_end(ms(90), kTrace, "b", "r", "search", 85, "ERROR", error),
      span_end(ms(60), kTrace, "x", "remote-parent", "callback", 10),
      span_end(ms(100), kTrace, "r", "", "request", 100),
  };
  // Ends before starts, children before parents.
  std::reverse(lines.begin(), lines.end());
  TraceWaterfalls waterfalls({std::string(kTrace)});
  Feed feed;
  for (const std::string& text : lines) feed.add(waterfalls, text);

  dom::parser parser;
  std::string text;
  const dom::element trace = waterfall_json(waterfalls, kTrace, parser, text);
  EXPECT_EQ(str(trace, "/trace_id"), kTrace);
  EXPECT_EQ(str(trace, "/root"), "request");
  EXPECT_EQ(str(trace, "/service"), "agent");
  EXPECT_EQ(str(trace, "/start"), format_timestamp(t0));
  EXPECT_EQ(number(trace, "/duration_ms"), 100);
  EXPECT_EQ(str(trace, "/status"), "ERROR");
  EXPECT_EQ(uint(trace, "/spans_truncated"), 0u);

  struct Expected {
    std::string_view id, parent, name;
    int64_t depth;
    double offset, duration;
    std::string_view status;
  };
  const Expected expected[] = {
      {"r", "", "request", 0, 0, 100, "OK"},
      {"b", "r", "search", 1, 5, 85, "ERROR"},
      {"b1", "b", "fetch", 2, 6, 74, "OK"},
      {"a", "r", "plan", 1, 10, 30, "OK"},
      {"a2", "a", "recall", 2, 12, 3, "OK"},
      {"a1", "a", "think", 2, 20, 10, "OK"},
      {"x", "remote-parent", "callback", 0, 50, 10, "OK"},
  };
  const std::vector<dom::element> spans = array(trace, "/spans");
  ASSERT_EQ(spans.size(), std::size(expected)) << text;
  for (size_t i = 0; i < spans.size(); ++i) {
    const Expected& e = expected[i];
    const dom::element span = spans[i];
    EXPECT_EQ(str(span, "/span_id"), e.id) << i;
    if (e.parent.empty()) {
      EXPECT_TRUE(is_null(span, "/parent_span_id")) << i;
    } else {
      EXPECT_EQ(str(span, "/parent_span_id"), e.parent) << i;
    }
    EXPECT_EQ(str(span, "/name"), e.name) << i;
    int64_t depth = -1;
    EXPECT_EQ(at(span, "/depth").get(depth), simdjson::SUCCESS);
    EXPECT_EQ(depth, e.depth) << e.id;
    EXPECT_EQ(number(span, "/offset_ms"), e.offset) << e.id;
    EXPECT_EQ(number(span, "/duration_ms"), e.duration) << e.id;
    EXPECT_EQ(str(span, "/status"), e.status) << e.id;
    EXPECT_EQ(uint(span, "/events"), 0u) << e.id;
    for (const char* none : {"/tool", "/model", "/tokens", "/cost_usd", "/cost_text"}) {
      EXPECT_TRUE(is_null(span, none)) << e.id << none;
    }
    if (e.status == "ERROR") {
      EXPECT_EQ(str(span, "/error/type"), "TimeoutError");
      EXPECT_EQ(str(span, "/error/message"), "no answer in 30 s");
    } else {
      EXPECT_TRUE(is_null(span, "/error")) << e.id;
    }
  }
}

TEST(TraceWaterfallTest, LostStartEndsAtItsDurationAndLostEndIsUnended) {
  const int64_t t0 = kBase;
  TraceWaterfalls waterfalls({std::string(kTrace)});
  Feed feed;
  feed.add(waterfalls, span_start(t0, kTrace, "r", "", "request"));
  feed.add(waterfalls, span_end(t0 + 100 * kMs, kTrace, "r", "", "request", 100));
  feed.add(waterfalls, span_end(t0 + 50 * kMs, kTrace, "s", "r", "no_start", 20.5));  // its start was lost
  feed.add(waterfalls, span_start(t0 + 60 * kMs, kTrace, "u", "r", "no_end"));        // its end was lost

  dom::parser parser;
  std::string text;
  const dom::element trace = waterfall_json(waterfalls, kTrace, parser, text);
  EXPECT_EQ(str(trace, "/status"), "OK");
  EXPECT_EQ(number(trace, "/duration_ms"), 100);
  const std::vector<dom::element> spans = array(trace, "/spans");
  ASSERT_EQ(spans.size(), 3u) << text;
  EXPECT_EQ(str(spans[1], "/span_id"), "s");
  EXPECT_EQ(str(spans[1], "/name"), "no_start");
  EXPECT_EQ(number(spans[1], "/offset_ms"), 29.5);  // 50 - 20.5
  EXPECT_EQ(number(spans[1], "/duration_ms"), 20.5);
  EXPECT_EQ(str(spans[1], "/status"), "OK");
  EXPECT_EQ(str(spans[2], "/span_id"), "u");
  EXPECT_EQ(number(spans[2], "/offset_ms"), 60);
  EXPECT_TRUE(is_null(spans[2], "/duration_ms")) << text;
  EXPECT_EQ(str(spans[2], "/status"), "UNENDED");
  EXPECT_TRUE(is_null(spans[2], "/error"));
  int64_t depth = -1;
  EXPECT_EQ(at(spans[2], "/depth").get(depth), simdjson::SUCCESS);
  EXPECT_EQ(depth, 1);
}

TEST(TraceWaterfallTest, EventsOfASpanAreCountedAndTheirCostSummedExactly) {
  const int64_t t0 = kBase;
  TraceWaterfalls waterfalls({std::string(kTrace)});
  Feed feed;
  feed.add(waterfalls, span_start(t0, kTrace, "r", "", "request"));
  feed.add(waterfalls, span_start(t0 + kMs, kTrace, "llm", "r", "answer"));
  feed.add(waterfalls, span_start(t0 + kMs, kTrace, "io", "r", "write", "\"tool\":\"write_file\""));
  const std::string llm = in_span(kTrace, "llm");
  feed.add(waterfalls, event(t0 + 2 * kMs, "INFO", "llm.call",
                             "\"model\":\"gpt-4o\",\"input_tokens\":100,\"output_tokens\":23,\"cost_usd\":0.1,"
                             "\"duration_ms\":5," +
                                 llm));
  feed.add(waterfalls,
           event(t0 + 3 * kMs, "INFO", "cost", "\"model\":\"gpt-4o\",\"tokens\":7,\"cost_usd\":0.2," + llm));
  feed.add(waterfalls, event(t0 + 4 * kMs, "INFO", "step.end",
                             "\"tool\":\"web_search\",\"status\":\"SUCCESS\",\"duration_ms\":1," + llm));
  feed.add(waterfalls,
           event(t0 + 5 * kMs, "INFO", "step.end",
                 "\"tool\":\"other_tool\",\"status\":\"SUCCESS\",\"duration_ms\":1," + in_span(kTrace, "io")));
  // Not this trace's, or in no span: not counted.
  feed.add(waterfalls, event(t0 + 6 * kMs, "INFO", "cost",
                             "\"model\":\"x\",\"tokens\":1,\"cost_usd\":9," + in_span("other-trace", "llm")));
  feed.add(waterfalls,
           event(t0 + 6 * kMs, "INFO", "cost",
                 "\"trace_id\":\"" + std::string(kTrace) + "\",\"model\":\"x\",\"tokens\":1,\"cost_usd\":9"));
  feed.add(waterfalls, span_end(t0 + 8 * kMs, kTrace, "llm", "r", "answer", 7));
  feed.add(waterfalls, span_end(t0 + 9 * kMs, kTrace, "io", "r", "write", 8));
  feed.add(waterfalls, span_end(t0 + 10 * kMs, kTrace, "r", "", "request", 10));

  dom::parser parser;
  std::string text;
  const dom::element trace = waterfall_json(waterfalls, kTrace, parser, text);
  const std::vector<dom::element> spans = array(trace, "/spans");
  ASSERT_EQ(spans.size(), 3u) << text;
  std::map<std::string, dom::element> by_id;
  for (dom::element span : spans) by_id[std::string(str(span, "/span_id"))] = span;
  ASSERT_EQ(by_id.size(), 3u);

  const dom::element answer = by_id["llm"];
  EXPECT_EQ(uint(answer, "/events"), 3u);
  EXPECT_EQ(str(answer, "/model"), "gpt-4o");
  EXPECT_EQ(str(answer, "/tool"), "web_search");
  EXPECT_EQ(str(answer, "/cost_usd"), "0.3");  // not 0.30000000000000004
  EXPECT_EQ(str(answer, "/cost_text"), "$0.30");
  EXPECT_EQ(str(answer, "/tokens"), "130");  // 100 + 23 + 7

  const dom::element write = by_id["io"];
  EXPECT_EQ(uint(write, "/events"), 1u);
  EXPECT_EQ(str(write, "/tool"), "write_file");  // its attribute
  EXPECT_TRUE(is_null(write, "/model"));
  EXPECT_TRUE(is_null(write, "/cost_usd"));
  EXPECT_TRUE(is_null(write, "/tokens"));

  const dom::element root = by_id["r"];
  EXPECT_EQ(uint(root, "/events"), 0u);
  EXPECT_TRUE(is_null(root, "/cost_text"));
}

TEST(TraceWaterfallTest, LinesOfTracesNotChosenAreIgnored) {
  TraceWaterfalls waterfalls({"t1", "t2"});
  Feed feed;
  feed.add(waterfalls, span_start(kBase, "t3", "r", "", "request"));
  feed.add(waterfalls, span_end(kBase + kMs, "t3", "r", "", "request", 1));
  feed.add(waterfalls, event(kBase, "INFO", "step.end", "\"trace_id\":\"t1\",\"tool\":\"no_span\""));  // no span_id
  feed.add(waterfalls, event(kBase, "INFO", "step.end", "\"span_id\":\"r\",\"tool\":\"no_trace\""));   // no trace_id
  std::string out = "kept";
  EXPECT_FALSE(waterfalls.append_json(out, "t3"));
  EXPECT_FALSE(waterfalls.append_json(out, "t1"));
  EXPECT_FALSE(waterfalls.append_json(out, "t2"));
  EXPECT_EQ(out, "kept");

  feed.add(waterfalls, span_start(kBase, "t1", "r", "", "request"));
  EXPECT_TRUE(waterfalls.append_json(out, "t1"));
  EXPECT_EQ(out.substr(0, 4), "kept");
  dom::parser parser;
  const dom::element trace = parse_document(parser, out.substr(4));
  EXPECT_EQ(array(trace, "/spans").size(), 1u);
  EXPECT_FALSE(waterfalls.append_json(out, "t2"));
}

TEST(TraceWaterfallTest, ParentCyclesAndSelfParentsNeitherHangNorCrash) {
  TraceWaterfalls waterfalls({"cycle", "only_cycle"});
  Feed feed;
  for (std::string_view trace : {"cycle", "only_cycle"}) {
    feed.add(waterfalls, span_start(kBase + 1 * kMs, trace, "a", "b", "a"));
    feed.add(waterfalls, span_start(kBase + 2 * kMs, trace, "b", "a", "b"));
    feed.add(waterfalls, span_start(kBase + 3 * kMs, trace, "c", "a", "c"));  // hangs off the cycle
    feed.add(waterfalls, span_end(kBase + 9 * kMs, trace, "a", "b", "a", 8));
  }
  feed.add(waterfalls, span_start(kBase, "cycle", "r", "", "request"));
  feed.add(waterfalls, span_end(kBase + 10 * kMs, "cycle", "r", "", "request", 10));
  feed.add(waterfalls, span_start(kBase + 4 * kMs, "cycle", "s", "s", "self"));
  feed.add(waterfalls, span_end(kBase + 5 * kMs, "cycle", "s", "s", "self", 1));

  dom::parser parser;
  std::string text;
  {
    const dom::element trace = waterfall_json(waterfalls, "cycle", parser, text);
    const std::vector<dom::element> spans = array(trace, "/spans");
    std::vector<std::string> ids;
    for (dom::element span : spans) ids.emplace_back(str(span, "/span_id"));
    // The root, and the span that is its own parent (at depth 0); a, b and c
    // cannot be reached from a root.
    EXPECT_EQ(ids, (std::vector<std::string>{"r", "s"})) << text;
    EXPECT_EQ(uint(trace, "/spans_truncated"), 3u);
    EXPECT_EQ(str(trace, "/root"), "request");
    ASSERT_EQ(spans.size(), 2u);
    int64_t depth = -1;
    EXPECT_EQ(at(spans[1], "/depth").get(depth), simdjson::SUCCESS);
    EXPECT_EQ(depth, 0);
    EXPECT_EQ(str(spans[1], "/parent_span_id"), "s");
  }
  {
    const dom::element trace = waterfall_json(waterfalls, "only_cycle", parser, text);
    EXPECT_TRUE(array(trace, "/spans").empty()) << text;
    EXPECT_EQ(uint(trace, "/spans_truncated"), 3u);
    EXPECT_TRUE(is_null(trace, "/root"));
    EXPECT_EQ(number(trace, "/duration_ms"), 8);  // from a's start to a's end
  }
}

TEST(TraceWaterfallTest, SpansPastTheCapAreLeftOutAndCounted) {
  TraceWaterfalls waterfalls({std::string(kTrace)});
  Feed feed;
  const size_t total = TraceWaterfalls::kMaxSpans + 200;
  feed.add(waterfalls, span_start(kBase, kTrace, "root", "", "request"));
  for (size_t i = 1; i < total; ++i) {
    const std::string id = named("s", i);
    const int64_t start = kBase + static_cast<int64_t>(i) * kMs;
    feed.add(waterfalls, span_start(start, kTrace, id, "root", "step"));
    feed.add(waterfalls, event(start, "INFO", "step.end", "\"tool\":\"t\"," + in_span(kTrace, id)));
    feed.add(waterfalls, span_end(start + kMs, kTrace, id, "root", "step", 1));
  }
  dom::parser parser;
  std::string text;
  const dom::element trace = waterfall_json(waterfalls, kTrace, parser, text);
  const std::vector<dom::element> spans = array(trace, "/spans");
  EXPECT_EQ(spans.size(), TraceWaterfalls::kMaxSpans);
  EXPECT_EQ(uint(trace, "/spans_truncated"), total - TraceWaterfalls::kMaxSpans);
  // The first spans seen are the ones kept, in their order, each with its event.
  ASSERT_FALSE(spans.empty());
  EXPECT_EQ(str(spans[0], "/span_id"), "root");
  for (size_t i = 1; i < spans.size(); ++i) {
    EXPECT_EQ(str(spans[i], "/span_id"), named("s", i));
    EXPECT_EQ(uint(spans[i], "/events"), 1u);
  }
}

TEST(TraceWaterfallTest, AVeryDeepChainDoesNotOverflowTheStack) {
  TraceWaterfalls waterfalls({std::string(kTrace)});
  Feed feed;
  constexpr int kChain = 5000;
  for (int i = 0; i < kChain; ++i) {
    const std::string parent = i == 0 ? "" : named("s", i - 1);
    feed.add(waterfalls, span_start(kBase + i * kMs, kTrace, named("s", i), parent, "nested"));
  }
  for (int i = kChain - 1; i >= 0; --i) {
    const std::string parent = i == 0 ? "" : named("s", i - 1);
    feed.add(waterfalls, span_end(kBase + (2 * kChain - i) * kMs, kTrace, named("s", i), parent, "nested",
                                  static_cast<double>(2 * (kChain - i))));
  }
  dom::parser parser;
  std::string text;
  const dom::element trace = waterfall_json(waterfalls, kTrace, parser, text);
  const std::vector<dom::element> spans = array(trace, "/spans");
  ASSERT_EQ(spans.size(), TraceWaterfalls::kMaxSpans);
  EXPECT_EQ(uint(trace, "/spans_truncated"), kChain - TraceWaterfalls::kMaxSpans);
  for (size_t i = 0; i < spans.size(); ++i) {
    int64_t depth = -1;
    EXPECT_EQ(at(spans[i], "/depth").get(depth), simdjson::SUCCESS);
    EXPECT_EQ(depth, static_cast<int64_t>(i));
    EXPECT_EQ(str(spans[i], "/span_id"), named("s", i));
  }
}

// ---------------------------------------------------------------------------
// RunReport

RunReportOptions options(std::vector<std::string> traces = {}) {
  RunReportOptions o;
  o.source = "demo-out";
  o.filter_text = "--service agent";
  o.generated_at = "2026-11-22T22:00:00.000000000Z";
  o.traces = std::move(traces);
  return o;
}

// The second scan's prefilter: a line passes when its text names a chosen
// trace under "trace_id", wherever the key is; never for an id that could be
// written escaped.
TEST(TraceWaterfallTest, PrefilterPassesTheLinesNamingAChosenTrace) {
  const std::string a(32, 'a'), b = "0123456789abcdef0123456789abcdef", other(32, 'c');
  const LinePrefilter pass = trace_line_prefilter({b, a});
  ASSERT_TRUE(pass);
  EXPECT_TRUE(pass(R"({"message":"x","trace_id":")" + a + R"(","span_id":"00f067aa0ba902b7"})"));
  EXPECT_TRUE(pass(R"({"message":"x","trace_id":")" + b + R"("})"));
  // A nested object's key first, then the line's own.
  EXPECT_TRUE(pass(R"({"o":{"trace_id":")" + other + R"("},"trace_id":")" + b + R"("})"));
  EXPECT_FALSE(pass(R"({"message":"x","trace_id":")" + other + R"("})"));
  EXPECT_FALSE(pass(R"({"message":"x","_trace_id":")" + a.substr(1) + R"("})"));
  EXPECT_FALSE(pass(R"({"message":"x","trace_id":")" + a.substr(0, 31) + R"("})"));  // cut at the end
  EXPECT_FALSE(pass(R"({"message":"no trace"})"));
  EXPECT_FALSE(trace_line_prefilter({a, "ABCDEF0123456789ABCDEF0123456789"}));
  EXPECT_FALSE(trace_line_prefilter({"a\u0062"}));
  EXPECT_TRUE(trace_line_prefilter({}));  // no id: passes nothing
  EXPECT_FALSE(trace_line_prefilter({})(R"({"trace_id":")" + a + R"("})"));
}

TEST(RunReportTest, EmptyReportIsValidJson) {
  RunReport report(options());
  const std::string json = report.finish_json();
  dom::parser parser;
  const dom::element data = parse_document(parser, json);
  EXPECT_EQ(uint(data, "/version"), 1u);
  EXPECT_EQ(str(data, "/source"), "demo-out");
  EXPECT_EQ(str(data, "/filter"), "--service agent");
  EXPECT_EQ(str(data, "/generated_at"), "2026-11-22T22:00:00.000000000Z");
  EXPECT_EQ(uint(data, "/overview/events"), 0u);
  EXPECT_TRUE(is_null(data, "/overview/first"));
  EXPECT_TRUE(is_null(data, "/overview/last"));
  EXPECT_EQ(number(data, "/overview/error_rate"), 0);
  EXPECT_TRUE(array(data, "/overview/by_level").empty());
  EXPECT_TRUE(series(data, "/overview/timeline/levels").empty());
  EXPECT_EQ(uint(data, "/tools/calls"), 0u);
  EXPECT_TRUE(array(data, "/tools/rows").empty());
  EXPECT_EQ(array(data, "/tools/histogram_edges_ms").size(), 18u);
  EXPECT_TRUE(array(data, "/traces/slowest").empty());
  EXPECT_TRUE(array(data, "/traces/requested").empty());
  EXPECT_TRUE(array(data, "/policy/denied").empty());
  EXPECT_EQ(str(data, "/cost/cost_usd"), "0");
  EXPECT_EQ(uint(data, "/errors/total"), 0u);
  EXPECT_EQ(uint(data, "/errors/other_groups"), 0u);
  EXPECT_TRUE(report.chosen_traces().empty());
}

TEST(RunReportTest, OverviewCountsLevelsServicesErrorsAndLosses) {
  RunReport report(options());
  Feed feed;
  std::map<std::string, uint64_t> levels, services;
  uint64_t events = 0, errors = 0;
  int64_t t = kBase + 5 * kSecond;
  const auto add = [&](const std::string& text, std::string_view level, std::string_view service) {
    feed.add(report, text);
    ++levels[std::string(level)];
    ++services[std::string(service)];
    ++events;
    if (level == "ERROR" || level == "CRITICAL") ++errors;
  };
  const auto add_event = [&](std::string_view level, std::string_view service) {
    t += 7 * kSecond;
    add(event(t, level, "work", "", service), level, service);
  };
  for (int i = 0; i < 5; ++i) add_event("INFO", "agent");
  for (int i = 0; i < 2; ++i) add_event("WARN", "worker");
  for (int i = 0; i < 2; ++i) add_event("ERROR", "agent");
  add_event("CRITICAL", "worker");
  add_event("DEBUG", "agent");
  const int64_t first = kBase;  // notes come later in the scan, earlier in time
  const auto add_note = [&](int64_t ns, std::string_view level, std::string_view message, std::string_view fields) {
    add(note(ns, level, message, fields), level, "agent");
  };
  add_note(first, "WARN", "ringtail.dropped", "\"tid\":7,\"dropped\":24,\"first_seq\":18,\"last_seq\":41");
  add_note(first + kSecond, "WARN", "ringtail.dropped",
           "\"tid\":7,\"dropped\":6,\"first_seq\":50,\"last_seq\":55,\"cause\":\"overwritten\"");
  add_note(first + kSecond, "WARN", "ringtail.lost", "\"lost_no_ring\":12,\"lost_callsite_table_full\":3");
  add_note(first + kSecond, "WARN", "ringtail.lost", "\"lost_no_ring\":1,\"lost_callsite_table_full\":0");
  add_note(first + 2 * kSecond, "ERROR", "ringtail.audit_lost",
           "\"tid\":7,\"slot\":1,\"audit_lost\":4,\"audit_lost_total\":4");
  add_note(first + 2 * kSecond, "ERROR", "ringtail.audit_lost",
           "\"audit_lost\":2,\"audit_lost_total\":6,\"cause\":\"no_ring_or_callsite_table_full\"");
  add_note(first + 3 * kSecond, "WARN", "ringtail.too_big", "\"slot\":1,\"tid\":7,\"record_seq\":9");
  add_note(first + 3 * kSecond, "WARN", "ringtail.too_big", "\"slot\":1,\"tid\":7,\"record_seq\":10");
  add_note(first + 4 * kSecond, "ERROR", "ringtail.crashed", "\"lost_no_ring\":12");
  add_note(first + 4 * kSecond, "ERROR", "ringtail.ring_corrupt", "\"slot\":3,\"reason\":\"bad\"");

  dom::parser parser;
  const std::string json = report.finish_json();
  const dom::element data = parse_document(parser, json);
  EXPECT_EQ(uint(data, "/overview/events"), events);
  EXPECT_EQ(str(data, "/overview/first"), format_timestamp(first));
  EXPECT_EQ(str(data, "/overview/last"), format_timestamp(t));
  EXPECT_EQ(number(data, "/overview/span_s"), static_cast<double>(t - first) / 1e9);
  EXPECT_EQ(uint(data, "/overview/errors"), errors);
  EXPECT_EQ(errors, 7u);  // 2 ERROR + 1 CRITICAL events, and the ERROR notes
  EXPECT_DOUBLE_EQ(number(data, "/overview/error_rate"), static_cast<double>(errors) / static_cast<double>(events));
  EXPECT_EQ(count_rows(data, "/overview/by_level"), levels);
  EXPECT_EQ(count_rows(data, "/overview/by_service"), services);

  EXPECT_EQ(uint(data, "/overview/drops/dropped"), 30u);
  EXPECT_EQ(uint(data, "/overview/drops/overwritten"), 6u);
  EXPECT_EQ(uint(data, "/overview/drops/lost_no_ring"), 13u);  // ringtail.crashed's totals are not added again
  EXPECT_EQ(uint(data, "/overview/drops/lost_callsite_table_full"), 3u);
  EXPECT_EQ(uint(data, "/overview/drops/audit_lost"), 6u);
  EXPECT_EQ(uint(data, "/overview/drops/too_big"), 2u);
  EXPECT_EQ(uint(data, "/overview/drops/crashes"), 1u);
  EXPECT_EQ(uint(data, "/overview/drops/corrupt_rings"), 1u);

  // The timeline: one series per level, all as long, summing to the counts.
  const double bucket_s = number(data, "/overview/timeline/bucket_s");
  const double start = number(data, "/overview/timeline/start");
  const auto width_ms = static_cast<int64_t>(bucket_s * 1000 + 0.5);
  EXPECT_NE(std::find(std::begin(kLadder), std::end(kLadder), width_ms), std::end(kLadder)) << bucket_s;
  EXPECT_LE(start, static_cast<double>(first) / 1e9);
  EXPECT_GT(start + bucket_s, static_cast<double>(first) / 1e9);
  const auto level_series = series(data, "/overview/timeline/levels");
  ASSERT_EQ(level_series.size(), levels.size()) << json;
  const size_t buckets = level_series.front().second.size();
  EXPECT_GT(buckets, 1u);
  EXPECT_LE(buckets, static_cast<size_t>(TimeBuckets::kMaxBuckets));
  EXPECT_LE(static_cast<double>(t) / 1e9, start + static_cast<double>(buckets) * bucket_s);
  for (const auto& [level, values] : level_series) {
    EXPECT_EQ(values.size(), buckets) << level;
    EXPECT_EQ(sum(values), static_cast<double>(levels[level])) << level;
  }
  const auto service_series = series(data, "/overview/timeline/services");
  ASSERT_EQ(service_series.size(), services.size());
  EXPECT_EQ(service_series[0].first, "agent");  // the largest first
  for (const auto& [service, values] : service_series) {
    EXPECT_EQ(values.size(), buckets) << service;
    EXPECT_EQ(sum(values), static_cast<double>(services[service])) << service;
  }
  // The cost chart shares the buckets.
  EXPECT_EQ(number(data, "/cost/timeline/start"), start);
  EXPECT_EQ(number(data, "/cost/timeline/bucket_s"), bucket_s);
}

TEST(RunReportTest, TimelineKeepsTheSevenLargestServicesAndFoldsTheRestIntoOther) {
  RunReport report(options());
  Feed feed;
  // Service k has k + 1 lines: svc9 (10) ... svc0 (1).
  for (int k = 0; k < 10; ++k) {
    for (int i = 0; i <= k; ++i) {
      feed.add(report, event(kBase + (k * 11 + i) * kSecond, "INFO", "work", "", named("svc", k)));
    }
  }
  dom::parser parser;
  const dom::element data = parse_document(parser, report.finish_json());
  const auto services = series(data, "/overview/timeline/services");
  std::vector<std::string> names;
  for (const auto& [name, values] : services) names.push_back(name);
  EXPECT_EQ(names, (std::vector<std::string>{"svc9", "svc8", "svc7", "svc6", "svc5", "svc4", "svc3", "(other)"}));
  ASSERT_EQ(services.size(), 8u);
  EXPECT_EQ(sum(services[0].second), 10);
  EXPECT_EQ(sum(services[7].second), 3 + 2 + 1);               // svc2, svc1, svc0
  EXPECT_EQ(array(data, "/overview/by_service").size(), 10u);  // the table has them all
}

TEST(RunReportTest, ToolsFromStepEndLines) {
  RunReport report(options());
  Feed feed;
  StatsOptions stats_options;
  stats_options.by = {"tool"};
  stats_options.duration_field = "duration_ms";
  StatsAccumulator stats(stats_options);
  dom::parser stats_parser;
  int64_t t = kBase;
  const auto step_end = [&](std::string_view fields) {
    t += kSecond;
    const std::string text = event(t, "INFO", "step.end", fields);
    feed.add(report, text);
    stats.add(parse_document(stats_parser, text));
  };
  step_end(R"("tool":"web_search","status":"SUCCESS","duration_ms":0.1)");
  step_end(R"("tool":"web_search","status":"SUCCESS","duration_ms":0.15)");
  step_end(R"("tool":"web_search","status":"SUCCESS","duration_ms":0.2)");
  step_end(R"("tool":"web_search","status":"FAILURE","duration_ms":70000)");
  step_end(R"("tool":"web_search","status":"SUCCESS","duration_ms":5)");
  step_end(R"("tool":"read_file","status":"PARTIAL","duration_ms":1)");
  step_end(R"("tool":"read_file")");
  step_end(R"("tool":"noop","duration_ms":"slow")");
  // Not step.end: not a call.
  feed.add(report, event(t, "INFO", "step.start", R"("tool":"web_search")"));
  feed.add(report, event(t, "INFO", "llm.call", R"("tool":"web_search","duration_ms":3)"));

  dom::parser parser;
  const std::string json = report.finish_json();
  const dom::element data = parse_document(parser, json);
  EXPECT_EQ(uint(data, "/tools/calls"), 8u);
  const std::vector<double> edges = numbers(data, "/tools/histogram_edges_ms");
  ASSERT_EQ(edges.size(), 18u);
  EXPECT_EQ(edges.front(), 0.1);
  EXPECT_EQ(edges.back(), 60000);
  EXPECT_TRUE(std::is_sorted(edges.begin(), edges.end()));

  const std::vector<dom::element> rows = array(data, "/tools/rows");
  ASSERT_EQ(rows.size(), 3u) << json;
  EXPECT_EQ(str(rows[0], "/tool"), "web_search");
  EXPECT_EQ(str(rows[1], "/tool"), "read_file");
  EXPECT_EQ(str(rows[2], "/tool"), "noop");

  const dom::element web = rows[0];
  EXPECT_EQ(uint(web, "/calls"), 5u);
  EXPECT_EQ(uint(web, "/outcomes"), 5u);
  EXPECT_EQ(uint(web, "/successes"), 4u);
  EXPECT_EQ(number(web, "/success_rate"), 0.8);
  EXPECT_EQ(number(web, "/p50_ms"), 0.2);  // nearest rank: the 3rd of 5
  EXPECT_EQ(number(web, "/p95_ms"), 70000);
  EXPECT_EQ(number(web, "/max_ms"), 70000);
  std::vector<double> histogram(19, 0);
  histogram[0] = 1;   // 0.1: <= 0.1
  histogram[1] = 2;   // 0.15 and 0.2: (0.1, 0.2]
  histogram[5] = 1;   // 5: (2, 5]
  histogram[18] = 1;  // 70000: past 60000
  EXPECT_EQ(numbers(web, "/histogram"), histogram);

  const dom::element read = rows[1];
  EXPECT_EQ(uint(read, "/calls"), 2u);
  EXPECT_EQ(uint(read, "/outcomes"), 1u);
  EXPECT_EQ(uint(read, "/successes"), 0u);
  EXPECT_EQ(number(read, "/success_rate"), 0);
  EXPECT_EQ(number(read, "/p50_ms"), 1);
  EXPECT_EQ(number(read, "/max_ms"), 1);
  EXPECT_EQ(sum(numbers(read, "/histogram")), 1);
  EXPECT_EQ(numbers(read, "/histogram")[3], 1);  // 1: (0.5, 1]

  const dom::element noop = rows[2];
  EXPECT_EQ(uint(noop, "/calls"), 1u);
  EXPECT_TRUE(is_null(noop, "/success_rate"));
  for (const char* figure : {"/avg_ms", "/p50_ms", "/p95_ms", "/p99_ms", "/max_ms"}) {
    EXPECT_TRUE(is_null(noop, figure)) << figure;
  }
  EXPECT_EQ(numbers(noop, "/histogram"), std::vector<double>(19, 0));

  // The figures are `ringtail stats --message step.end --by tool --duration duration_ms`'s.
  const StatsResult expected = stats.finish();
  ASSERT_EQ(expected.groups.size(), rows.size());
  for (size_t i = 0; i < rows.size(); ++i) {
    const GroupStats& g = expected.groups[i];
    EXPECT_EQ("\"" + std::string(str(rows[i], "/tool")) + "\"", g.key[0]);
    EXPECT_EQ(uint(rows[i], "/calls"), g.count);
    if (g.duration_count == 0) continue;
    EXPECT_EQ(number(rows[i], "/avg_ms"), g.duration_avg) << i;
    EXPECT_EQ(number(rows[i], "/p50_ms"), g.duration_p50) << i;
    EXPECT_EQ(number(rows[i], "/p95_ms"), g.duration_p95) << i;
    EXPECT_EQ(number(rows[i], "/p99_ms"), g.duration_p99) << i;
    EXPECT_EQ(number(rows[i], "/max_ms"), g.duration_max) << i;
  }
}

std::string policy_check(std::string_view policy, std::string_view decision, std::string_view reason) {
  return "\"policy\":" + json_quoted(policy) + ",\"validator\":" + json_quoted("v-" + std::string(policy)) +
         ",\"decision\":" + json_quoted(decision) + ",\"allow\":" + (decision == "ALLOW" ? "true" : "false") +
         ",\"reason\":" + json_quoted(reason);
}

std::string audit_decision(bool allow, std::string_view reason) {
  return std::string(
             "\"agent_id\":\"agent-7\",\"tool\":\"shell\",\"function\":\"run\",\"arguments\":\"{}\",\"allow\":") +
         (allow ? "true" : "false") + ",\"reason\":" + json_quoted(reason) + ",\"duration_ms\":0.5";
}

TEST(RunReportTest, PolicyDecisionsDenialsAndBreakglass) {
  RunReport report(options());
  Feed feed;
  int64_t t = kBase;
  const auto add = [&](std::string_view level, std::string_view message, const std::string& fields) {
    t += kSecond;
    feed.add(report, event(t, level, message, fields));
  };
  for (int i = 0; i < 3; ++i) add("WARN", "policy.check", policy_check("net", "BLOCK", "egress"));
  for (int i = 0; i < 2; ++i) add("INFO", "policy.check", policy_check("net", "ALLOW", "ok"));
  add("WARN", "policy.check", policy_check("net", "WARN", "suspicious"));  // allow false, but not denied
  add("WARN", "policy.check", policy_check("fs", "BLOCK", "path"));
  add("WARN", "audit.decision", audit_decision(false, "egress"));
  add("WARN", "audit.decision", audit_decision(false, "not allowed"));
  add("INFO", "audit.decision", audit_decision(true, "fine"));
  const int64_t breakglass_at = t + kSecond;
  add("WARN", "breakglass",
      R"("enabled_by":"alice","reason":"incident 42","expires_at":"2026-11-22T22:00:00.000Z",)"
      R"("token_hash":"hmac:0123456789abcdef","affected_validators":"a,b","affected_decisions":"BLOCK,WARN")");

  dom::parser parser;
  const std::string json = report.finish_json();
  const dom::element data = parse_document(parser, json);
  EXPECT_EQ(uint(data, "/policy/checks"), 7u);
  std::map<std::pair<std::string, std::string>, uint64_t> decisions;
  uint64_t previous = UINT64_MAX;
  for (dom::element row : array(data, "/policy/decisions")) {
    EXPECT_LE(uint(row, "/count"), previous);
    previous = uint(row, "/count");
    decisions[{std::string(str(row, "/policy")), std::string(str(row, "/decision"))}] = uint(row, "/count");
  }
  const std::map<std::pair<std::string, std::string>, uint64_t> expected_decisions = {
      {{"net", "BLOCK"}, 3}, {{"net", "ALLOW"}, 2}, {{"net", "WARN"}, 1}, {{"fs", "BLOCK"}, 1}};
  EXPECT_EQ(decisions, expected_decisions);

  EXPECT_EQ(uint(data, "/policy/denied_total"), 6u);  // 4 BLOCK, 2 allow false
  const std::vector<dom::element> reasons = array(data, "/policy/denied_reasons");
  ASSERT_EQ(reasons.size(), 3u) << json;
  EXPECT_EQ(str(reasons[0], "/reason"), "egress");
  EXPECT_EQ(uint(reasons[0], "/count"), 4u);
  EXPECT_EQ(str(reasons[1], "/reason"), "not allowed");  // ties: by text
  EXPECT_EQ(str(reasons[2], "/reason"), "path");

  const std::vector<dom::element> denied = array(data, "/policy/denied");
  ASSERT_EQ(denied.size(), 6u);
  for (size_t i = 1; i < denied.size(); ++i) EXPECT_GT(str(denied[i - 1], "/timestamp"), str(denied[i], "/timestamp"));
  // Newest first: the second audit.decision, then the first, then fs's BLOCK.
  EXPECT_EQ(str(denied[0], "/kind"), "audit.decision");
  EXPECT_EQ(str(denied[0], "/reason"), "not allowed");
  EXPECT_EQ(str(denied[0], "/agent_id"), "agent-7");
  EXPECT_EQ(str(denied[0], "/tool"), "shell");
  EXPECT_EQ(str(denied[0], "/service"), "agent");
  EXPECT_TRUE(is_null(denied[0], "/policy"));
  EXPECT_TRUE(is_null(denied[0], "/validator"));
  EXPECT_EQ(str(denied[2], "/kind"), "policy.check");
  EXPECT_EQ(str(denied[2], "/policy"), "fs");
  EXPECT_EQ(str(denied[2], "/validator"), "v-fs");
  EXPECT_EQ(str(denied[2], "/reason"), "path");
  EXPECT_TRUE(is_null(denied[2], "/agent_id"));
  EXPECT_TRUE(is_null(denied[2], "/tool"));
  EXPECT_EQ(str(denied[2], "/timestamp"), format_timestamp(kBase + 7 * kSecond));

  const std::vector<dom::element> breakglass = array(data, "/policy/breakglass");
  ASSERT_EQ(breakglass.size(), 1u);
  EXPECT_EQ(str(breakglass[0], "/timestamp"), format_timestamp(breakglass_at));
  EXPECT_EQ(str(breakglass[0], "/service"), "agent");
  EXPECT_EQ(str(breakglass[0], "/enabled_by"), "alice");
  EXPECT_EQ(str(breakglass[0], "/reason"), "incident 42");
  EXPECT_EQ(str(breakglass[0], "/expires_at"), "2026-11-22T22:00:00.000Z");
  EXPECT_EQ(str(breakglass[0], "/token_hash"), "hmac:0123456789abcdef");
  EXPECT_EQ(str(breakglass[0], "/affected_validators"), "a,b");
  EXPECT_EQ(str(breakglass[0], "/affected_decisions"), "BLOCK,WARN");
}

TEST(RunReportTest, DeniedAndBreakglassKeepTheHundredMostRecentNewestFirst) {
  RunReport report(options());
  Feed feed;
  for (int i = 0; i < 250; ++i) {
    feed.add(report, event(kBase + i * kSecond, "WARN", "policy.check", policy_check("net", "BLOCK", named("r", i))));
  }
  // Breakglass activations out of time order.
  std::vector<int> order(150);
  for (int i = 0; i < 150; ++i) order[static_cast<size_t>(i)] = i;
  std::shuffle(order.begin(), order.end(), std::mt19937(3));
  for (const int i : order) {
    feed.add(report, event(kBase + i * kSecond + kMs, "WARN", "breakglass",
                           named("\"enabled_by\":\"u", i) + "\",\"reason\":\"x\""));
  }
  dom::parser parser;
  const dom::element data = parse_document(parser, report.finish_json());
  EXPECT_EQ(uint(data, "/policy/denied_total"), 250u);
  const std::vector<dom::element> denied = array(data, "/policy/denied");
  ASSERT_EQ(denied.size(), RunReport::kRecentRows);
  for (size_t i = 0; i < denied.size(); ++i) {
    EXPECT_EQ(str(denied[i], "/reason"), named("r", 249 - i));
    EXPECT_EQ(str(denied[i], "/timestamp"), format_timestamp(kBase + static_cast<int64_t>(249 - i) * kSecond));
  }
  const std::vector<dom::element> breakglass = array(data, "/policy/breakglass");
  ASSERT_EQ(breakglass.size(), RunReport::kRecentRows);
  for (size_t i = 0; i < breakglass.size(); ++i) {
    EXPECT_EQ(str(breakglass[i], "/enabled_by"), named("u", 149 - i));
    EXPECT_TRUE(is_null(breakglass[i], "/token_hash"));
  }
  // The 20 largest of 250 reasons (each once).
  EXPECT_EQ(array(data, "/policy/denied_reasons").size(), RunReport::kDeniedReasons);
}

TEST(RunReportTest, CostIsTheCostReportByModel) {
  RunReport report(options());
  CostAccumulator expected({"model"});
  Feed feed;
  dom::parser cost_parser;
  int64_t t = kBase;
  const auto add = [&](std::string_view message, const std::string& fields) {
    t += 3 * kSecond;
    const std::string text = event(t, "INFO", message, fields);
    feed.add(report, text);
    expected.add(text, parse_document(cost_parser, text));
  };
  add("llm.call", R"("model":"gpt-4o","input_tokens":100,"output_tokens":20,"cost_usd":0.1,"duration_ms":900)");
  add("cost", R"("model":"gpt-4o","tokens":30,"cost_usd":0.2)");
  add("cost", R"("model":"claude","tokens":1000,"cost_usd":0.015394999999999999)");
  add("cost", R"("model":"claude","tokens":1,"cost_usd":1e-05)");
  add("cost", R"("tokens":5,"cost_usd":2)");                       // no model
  add("cost", R"("model":"gpt-4o","tokens":5,"cost_usd":"0.5")");  // not a number: unreadable
  add("work", R"("model":"gpt-4o","tokens":5)");                   // no cost_usd

  dom::parser parser;
  const std::string json = report.finish_json();
  const dom::element data = parse_document(parser, json);
  const CostReport cost = expected.finish();
  EXPECT_EQ(uint(data, "/cost/requests"), cost.total.requests);
  EXPECT_EQ(uint(data, "/cost/requests"), 5u);
  EXPECT_EQ(str(data, "/cost/cost_usd"), cost.total.cost.exact());
  EXPECT_EQ(str(data, "/cost/cost_usd"), "2.315404999999999999");
  EXPECT_EQ(str(data, "/cost/cost_text"), dollars_text(cost.total.cost));
  EXPECT_EQ(str(data, "/cost/cost_text"), "$2.32");
  EXPECT_EQ(str(data, "/cost/tokens"), cost.total.tokens.exact());
  EXPECT_EQ(str(data, "/cost/tokens"), "1156");
  EXPECT_EQ(str(data, "/cost/tokens_text"), "1,156");
  EXPECT_EQ(str(data, "/cost/average_usd"), cost.total.average_cost().exact());
  EXPECT_EQ(str(data, "/cost/average_text"), dollars_text(cost.total.average_cost()));

  const std::vector<dom::element> rows = array(data, "/cost/by_model");
  ASSERT_EQ(rows.size(), cost.groups.size()) << json;
  ASSERT_EQ(rows.size(), 3u);
  for (size_t i = 0; i < rows.size(); ++i) {
    const CostGroup& g = cost.groups[i];
    if (g.key[0] == "null") {
      EXPECT_TRUE(is_null(rows[i], "/model")) << i;
    } else {
      EXPECT_EQ("\"" + std::string(str(rows[i], "/model")) + "\"", g.key[0]);
    }
    EXPECT_EQ(uint(rows[i], "/requests"), g.requests);
    EXPECT_EQ(str(rows[i], "/cost_usd"), g.cost.exact());
    EXPECT_EQ(str(rows[i], "/cost_text"), dollars_text(g.cost));
    EXPECT_EQ(str(rows[i], "/tokens"), g.tokens.exact());
    EXPECT_EQ(str(rows[i], "/average_usd"), g.average_cost().exact());
    EXPECT_EQ(str(rows[i], "/average_text"), dollars_text(g.average_cost()));
    EXPECT_DOUBLE_EQ(number(rows[i], "/share"),
                     static_cast<double>(g.cost.units()) / static_cast<double>(cost.total.cost.units()));
  }
  EXPECT_TRUE(is_null(rows[0], "/model"));  // 2 dollars
  EXPECT_EQ(str(rows[1], "/model"), "gpt-4o");
  EXPECT_EQ(str(rows[1], "/cost_usd"), "0.3");
  EXPECT_EQ(str(rows[1], "/cost_text"), "$0.30");
  EXPECT_EQ(str(rows[1], "/tokens"), "150");  // 100 + 20 + 30
  EXPECT_EQ(str(rows[1], "/average_usd"), "0.15");
  EXPECT_EQ(str(rows[2], "/model"), "claude");
  EXPECT_EQ(str(rows[2], "/cost_usd"), "0.015404999999999999");
  EXPECT_EQ(str(rows[2], "/cost_text"), "$0.0154");

  // USD over time, per model, as numbers.
  const auto models = series(data, "/cost/timeline/models");
  std::map<std::string, double> totals;
  for (const auto& [model, values] : models) totals[model] = sum(values);
  ASSERT_EQ(totals.size(), 3u) << json;
  EXPECT_DOUBLE_EQ(totals["gpt-4o"], 0.3);
  EXPECT_DOUBLE_EQ(totals["claude"], 0.015404999999999999);
  EXPECT_DOUBLE_EQ(totals["null"], 2);
}

std::string error_object(std::string_view type, std::string_view message, std::string_view code = "") {
  std::string out = "\"error\":{\"type\":" + json_quoted(type) + ",\"message\":" + json_quoted(message);
  if (!code.empty()) out.append(",\"code\":").append(code);
  return out + "}";
}

TEST(RunReportTest, ErrorsGroupedByTypeAndCodeWithTheEarliestExample) {
  RunReport report(options());
  Feed feed;
  feed.add(report, event(kBase + 3 * kSecond, "ERROR", "tool.error", error_object("TimeoutError", "third", "504")));
  feed.add(report,
           event(kBase + 1 * kSecond, "ERROR", "tool.error", error_object("TimeoutError", "first", "504"), "worker"));
  feed.add(report, event(kBase + 2 * kSecond, "ERROR", "tool.error", error_object("TimeoutError", "second", "504")));
  feed.add(report, event(kBase + 4 * kSecond, "WARN", "retry", error_object("TimeoutError", "no code")));
  feed.add(report, event(kBase + 5 * kSecond, "ERROR", "io", error_object("std::system_error", "refused", "111")));
  feed.add(report, event(kBase + 6 * kSecond, "ERROR", "io", error_object("std::system_error", "again", "111")));
  feed.add(report, event(kBase + 7 * kSecond, "ERROR", "io", R"("error":"a string, not an object")"));
  feed.add(report, event(kBase + 8 * kSecond, "ERROR", "io", R"("error":null)"));

  dom::parser parser;
  const std::string json = report.finish_json();
  const dom::element data = parse_document(parser, json);
  EXPECT_EQ(uint(data, "/errors/total"), 6u);
  EXPECT_EQ(uint(data, "/errors/other_groups"), 0u);
  const std::vector<dom::element> groups = array(data, "/errors/groups");
  ASSERT_EQ(groups.size(), 3u) << json;
  EXPECT_EQ(str(groups[0], "/type"), "TimeoutError");
  EXPECT_EQ(uint(groups[0], "/code"), 504u);
  EXPECT_EQ(uint(groups[0], "/count"), 3u);
  EXPECT_EQ(str(groups[0], "/example/timestamp"), format_timestamp(kBase + kSecond));
  EXPECT_EQ(str(groups[0], "/example/service"), "worker");
  EXPECT_EQ(str(groups[0], "/example/message"), "tool.error");
  EXPECT_EQ(str(groups[0], "/example/error_message"), "first");

  EXPECT_EQ(str(groups[1], "/type"), "std::system_error");
  EXPECT_EQ(uint(groups[1], "/code"), 111u);
  EXPECT_EQ(uint(groups[1], "/count"), 2u);
  EXPECT_EQ(str(groups[1], "/example/error_message"), "refused");

  EXPECT_EQ(str(groups[2], "/type"), "TimeoutError");
  EXPECT_TRUE(is_null(groups[2], "/code"));
  EXPECT_EQ(uint(groups[2], "/count"), 1u);
  EXPECT_EQ(str(groups[2], "/example/message"), "retry");
  EXPECT_EQ(str(groups[2], "/example/error_message"), "no code");
}

TEST(RunReportTest, PastFiftyErrorGroupsTheRestAreCounted) {
  RunReport report(options());
  Feed feed;
  // Group k has k % 3 + 1 lines: 20 of 3, 20 of 2, 20 of 1.
  for (int k = 0; k < 60; ++k) {
    for (int i = 0; i <= k % 3; ++i) {
      feed.add(report, event(kBase + (k * 3 + i) * kSecond, "ERROR", "fail",
                             error_object(named("E", k), "m", std::to_string(k))));
    }
  }
  dom::parser parser;
  const dom::element data = parse_document(parser, report.finish_json());
  EXPECT_EQ(uint(data, "/errors/total"), 120u);
  const std::vector<dom::element> groups = array(data, "/errors/groups");
  ASSERT_EQ(groups.size(), RunReport::kErrorGroups);
  EXPECT_EQ(uint(data, "/errors/other_groups"), 10u);
  for (size_t i = 0; i < groups.size(); ++i) {
    const uint64_t expected = i < 20 ? 3 : i < 40 ? 2 : 1;
    EXPECT_EQ(uint(groups[i], "/count"), expected) << i;
    const uint64_t code = uint(groups[i], "/code");
    EXPECT_EQ(str(groups[i], "/type"), named("E", code));
    EXPECT_EQ(code % 3 + 1, expected);
  }
}

// A trace of a root span and one child (which fails when `child_fails`), the
// root ending at `end_ns` after `ms`; the child has one event.
std::vector<std::string> simple_trace(std::string_view trace, int64_t end_ns, double ms, bool child_fails) {
  const int64_t start = end_ns - static_cast<int64_t>(ms * 1e6);
  const std::string child_error = child_fails ? R"({"type":"ToolError","message":"boom"})" : "";
  return {
      span_start(start, trace, "root", "", "request"),
      span_start(start, trace, "child", "root", "step"),
      event(start, "INFO", "step.end", "\"tool\":\"web_search\",\"status\":\"SUCCESS\"," + in_span(trace, "child")),
      span_end(end_ns, trace, "child", "root", "step", ms, child_fails ? "ERROR" : "OK", child_error),
      span_end(end_ns, trace, "root", "", "request", ms),
  };
}

// "s07": a trace id that sorts as its number does.
std::string two_digits(std::string_view prefix, int n) { return named(std::string(prefix) + (n < 10 ? "0" : ""), n); }

TEST(RunReportTest, ChosenTracesAreTheSlowestTheRecentlyFailedAndTheRequested) {
  RunReport report(options({"req"}));
  Feed feed;
  std::vector<std::string> lines;
  const auto add = [&](const std::vector<std::string>& trace) {
    lines.insert(lines.end(), trace.begin(), trace.end());
  };
  for (int k = 1; k <= 15; ++k) add(simple_trace(two_digits("s", k), kBase + k * kSecond, 10.0 * k, false));
  for (int k = 1; k <= 12; ++k) add(simple_trace(two_digits("f", k), kBase + (100 + k) * kSecond, 1, true));
  add(simple_trace("req", kBase + 200 * kSecond, 1000, true));  // the slowest and failed, but asked for
  // A scan reads files one after the other: not in time order.
  std::shuffle(lines.begin(), lines.end(), std::mt19937(11));
  for (const std::string& text : lines) feed.add(report, text);

  std::vector<std::string> expected = {"req"};
  for (int k = 6; k <= 15; ++k) expected.push_back(two_digits("s", k));
  for (int k = 3; k <= 12; ++k) expected.push_back(two_digits("f", k));
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(report.chosen_traces(), expected);

  for (const std::string& text : lines) feed.add_trace(report, text);
  dom::parser parser;
  const std::string json = report.finish_json();
  const dom::element data = parse_document(parser, json);
  EXPECT_EQ(uint(data, "/traces/roots"), 28u);
  EXPECT_EQ(uint(data, "/traces/failed_spans"), 13u);

  const std::vector<dom::element> slowest = array(data, "/traces/slowest");
  std::vector<std::string> slowest_ids;
  for (int k = 15; k >= 6; --k) slowest_ids.push_back(two_digits("s", k));
  EXPECT_EQ(ids_of(slowest), slowest_ids) << json;
  ASSERT_FALSE(slowest.empty());
  EXPECT_EQ(number(slowest[0], "/duration_ms"), 150);
  EXPECT_EQ(str(slowest[0], "/status"), "OK");
  EXPECT_EQ(str(slowest[0], "/root"), "request");
  EXPECT_EQ(str(slowest[0], "/start"), format_timestamp(kBase + 15 * kSecond - 150 * kMs));
  const std::vector<dom::element> spans = array(slowest[0], "/spans");
  ASSERT_EQ(spans.size(), 2u);
  EXPECT_EQ(str(spans[0], "/span_id"), "root");
  EXPECT_EQ(str(spans[1], "/span_id"), "child");
  EXPECT_EQ(uint(spans[1], "/events"), 1u);
  EXPECT_EQ(str(spans[1], "/tool"), "web_search");

  const std::vector<dom::element> failed = array(data, "/traces/failed");
  std::vector<std::string> failed_ids;
  for (int k = 12; k >= 3; --k) failed_ids.push_back(two_digits("f", k));
  EXPECT_EQ(ids_of(failed), failed_ids) << json;
  for (dom::element trace : failed) {
    EXPECT_EQ(str(trace, "/status"), "ERROR");
    const std::vector<dom::element> failed_spans = array(trace, "/spans");
    ASSERT_EQ(failed_spans.size(), 2u);
    EXPECT_EQ(str(failed_spans[1], "/status"), "ERROR");
    EXPECT_EQ(str(failed_spans[1], "/error/type"), "ToolError");
    EXPECT_EQ(str(failed_spans[1], "/error/message"), "boom");
  }

  const std::vector<dom::element> requested = array(data, "/traces/requested");
  EXPECT_EQ(ids_of(requested), std::vector<std::string>{"req"});
}

// The slowest are traces: one whose root span.end was stored twice (or that
// has two root spans) takes one place, not two.
TEST(RunReportTest, ATraceWithItsRootEndTwiceIsListedOnceAmongTheSlowest) {
  RunReport report(options());
  Feed feed;
  std::vector<std::string> lines = simple_trace("dup", kBase + 10 * kSecond, 500, false);
  lines.push_back(lines.back());  // the root's span.end stored twice
  for (int k = 1; k <= 3; ++k) {
    const std::vector<std::string> other = simple_trace(named("s", k), kBase + k * kSecond, 10.0 * k, false);
    lines.insert(lines.end(), other.begin(), other.end());
  }
  for (const std::string& text : lines) feed.add(report, text);
  for (const std::string& text : lines) feed.add_trace(report, text);
  dom::parser parser;
  const std::string json = report.finish_json();
  const dom::element data = parse_document(parser, json);
  EXPECT_EQ(ids_of(array(data, "/traces/slowest")), (std::vector<std::string>{"dup", "s3", "s2", "s1"}));
}

// With more traces than places, a duplicated root span.end takes no second
// place either: the 10 slowest distinct traces are listed.
TEST(RunReportTest, ADuplicatedRootEndDoesNotPushOutAnotherSlowTrace) {
  RunReport report(options());
  Feed feed;
  std::vector<std::string> lines = simple_trace("dup", kBase + 100 * kSecond, 500, false);
  lines.push_back(lines.back());  // the root's span.end stored twice
  for (int k = 1; k <= 12; ++k) {
    const std::vector<std::string> other = simple_trace(two_digits("s", k), kBase + k * kSecond, 10.0 * k, false);
    lines.insert(lines.end(), other.begin(), other.end());
  }
  for (const std::string& text : lines) feed.add(report, text);
  std::vector<std::string> expected = {"dup"};
  for (int k = 12; k >= 4; --k) expected.push_back(two_digits("s", k));
  std::vector<std::string> chosen = expected;
  std::sort(chosen.begin(), chosen.end());
  EXPECT_EQ(report.chosen_traces(), chosen);
  for (const std::string& text : lines) feed.add_trace(report, text);
  dom::parser parser;
  const dom::element data = parse_document(parser, report.finish_json());
  EXPECT_EQ(ids_of(array(data, "/traces/slowest")), expected);
}

TEST(RunReportTest, LinesMissingKeysOrWithWrongTypesAreCountedWhereTheyApply) {
  RunReport report(options());
  Feed feed;
  const std::vector<std::string> lines = {
      "{}",
      R"({"timestamp":"2026-11-22T21:00:01.000000000Z","level":5,"message":"x","service":"agent"})",
      R"({"timestamp":"garbage","level":"ERROR","message":7,"service":["a"]})",
      R"({"timestamp":12,"level":"CRITICAL"})",
      R"({"timestamp":"2026-11-22T21:00:02.000000000Z","level":"WARN","message":"ringtail.dropped","dropped":"24"})",
      R"({"timestamp":"2026-11-22T21:00:02.000000000Z","level":"WARN","message":"ringtail.dropped","dropped":-5})",
      R"({"timestamp":"2026-11-22T21:00:02.000000000Z","level":"WARN","message":"ringtail.dropped","dropped":1.5})",
      R"({"timestamp":"2026-11-22T21:00:02.000000000Z","level":"WARN","message":"ringtail.dropped","dropped":2,"cause":7})",
      R"({"message":"ringtail.lost","lost_no_ring":{"n":1},"lost_callsite_table_full":[3]})",
      R"({"message":"ringtail.audit_lost","audit_lost":null})",
      R"({"level":"INFO","message":"step.end","tool":7,"duration_ms":"12","status":5})",
      R"({"level":"INFO","message":"step.end","duration_ms":1e308})",
      R"({"level":"INFO","message":"span.end","trace_id":"t-bad","span_id":"r","duration_ms":"slow","status":1})",
      R"({"level":"INFO","message":"span.end","trace_id":12,"span_id":"r","status":"ERROR"})",
      R"({"level":"INFO","message":"span.end","status":"ERROR"})",
      R"({"level":"ERROR","message":"io","error":"boom"})",
      R"({"level":"ERROR","message":"io","error":[1,2]})",
      R"({"level":"ERROR","message":"io","error":{}})",
      R"({"level":"ERROR","message":"io","error":{"type":5,"code":[1,"x"],"message":{"a":1}}})",
      R"({"level":"WARN","message":"policy.check","decision":1,"policy":null,"allow":"false"})",
      R"({"level":"WARN","message":"policy.check","decision":"BLOCK"})",
      R"({"level":"WARN","message":"audit.decision","allow":"false"})",
      R"({"level":"WARN","message":"audit.decision","allow":0})",
      R"({"level":"WARN","message":"breakglass","enabled_by":3})",
      R"({"level":"INFO","message":"cost","cost_usd":"abc","model":7})",
      R"({"level":"INFO","message":"cost","cost_usd":true})",
      R"({"level":"INFO","message":"cost","cost_usd":1e400})",
  };
  for (const std::string& text : lines) {
    // simdjson refuses 1e400: that line is never stored (the reader writes
    // non-finite numbers as strings), so it is left out here.
    dom::parser check;
    dom::element element;
    if (check.parse(text).get(element) != simdjson::SUCCESS) continue;
    feed.add(report, text);
  }
  EXPECT_EQ(report.chosen_traces(), std::vector<std::string>{"t-bad"});
  for (const std::string& text : lines) {
    dom::parser check;
    dom::element element;
    if (check.parse(text).get(element) == simdjson::SUCCESS) feed.add_trace(report, text);
  }

  dom::parser parser;
  const std::string json = report.finish_json();
  const dom::element data = parse_document(parser, json);
  EXPECT_EQ(uint(data, "/overview/events"), lines.size() - 1);
  const std::map<std::string, uint64_t> levels = count_rows(data, "/overview/by_level");
  EXPECT_EQ(levels.at("5"), 1u);  // a number's text
  EXPECT_EQ(levels.at("(null)"), 3u);
  EXPECT_EQ(levels.at("ERROR"), 5u);
  EXPECT_EQ(uint(data, "/overview/errors"), 6u);  // ERROR and CRITICAL strings only
  const std::map<std::string, uint64_t> services = count_rows(data, "/overview/by_service");
  EXPECT_EQ(services.at("[\"a\"]"), 1u);

  EXPECT_EQ(uint(data, "/overview/drops/dropped"), 2u);
  EXPECT_EQ(uint(data, "/overview/drops/overwritten"), 0u);
  EXPECT_EQ(uint(data, "/overview/drops/lost_no_ring"), 0u);
  EXPECT_EQ(uint(data, "/overview/drops/lost_callsite_table_full"), 0u);
  EXPECT_EQ(uint(data, "/overview/drops/audit_lost"), 0u);

  EXPECT_EQ(uint(data, "/tools/calls"), 2u);
  const std::vector<dom::element> rows = array(data, "/tools/rows");
  ASSERT_EQ(rows.size(), 2u) << json;
  std::map<std::string, dom::element> tools;
  for (dom::element row : rows) tools[is_null(row, "/tool") ? "(null)" : std::string(str(row, "/tool"))] = row;
  ASSERT_EQ(tools.count("7"), 1u) << json;
  EXPECT_TRUE(is_null(tools["7"], "/avg_ms"));
  EXPECT_TRUE(is_null(tools["7"], "/success_rate"));
  EXPECT_EQ(numbers(tools["7"], "/histogram"), std::vector<double>(19, 0));
  ASSERT_EQ(tools.count("(null)"), 1u) << json;
  EXPECT_EQ(number(tools["(null)"], "/max_ms"), 1e308);
  EXPECT_EQ(numbers(tools["(null)"], "/histogram").back(), 1);

  EXPECT_EQ(uint(data, "/traces/roots"), 3u);
  EXPECT_EQ(uint(data, "/traces/failed_spans"), 2u);
  const std::vector<dom::element> slowest = array(data, "/traces/slowest");
  ASSERT_EQ(slowest.size(), 1u) << json;
  EXPECT_EQ(str(slowest[0], "/trace_id"), "t-bad");
  const std::vector<dom::element> bad_spans = array(slowest[0], "/spans");
  ASSERT_EQ(bad_spans.size(), 1u);
  EXPECT_TRUE(is_null(bad_spans[0], "/duration_ms"));  // no number, no start: unknown
  EXPECT_EQ(str(bad_spans[0], "/status"), "OK");

  EXPECT_EQ(uint(data, "/errors/total"), 2u);
  const std::vector<dom::element> groups = array(data, "/errors/groups");
  ASSERT_EQ(groups.size(), 2u) << json;
  for (dom::element group : groups) {
    if (str(group, "/type").empty()) {
      EXPECT_TRUE(is_null(group, "/code"));
      EXPECT_TRUE(is_null(group, "/example/error_message"));
      EXPECT_TRUE(is_null(group, "/example/timestamp") || str(group, "/example/timestamp").empty());
    } else {
      EXPECT_EQ(str(group, "/type"), "5");
      EXPECT_EQ(simdjson::minify(at(group, "/code")), "[1,\"x\"]");
      EXPECT_EQ(str(group, "/example/error_message"), "{\"a\":1}");
    }
  }

  EXPECT_EQ(uint(data, "/policy/checks"), 2u);
  EXPECT_EQ(uint(data, "/policy/denied_total"), 1u);  // the BLOCK only
  const std::vector<dom::element> denied = array(data, "/policy/denied");
  ASSERT_EQ(denied.size(), 1u);
  EXPECT_TRUE(is_null(denied[0], "/service"));
  EXPECT_TRUE(is_null(denied[0], "/reason"));
  const std::vector<dom::element> breakglass = array(data, "/policy/breakglass");
  ASSERT_EQ(breakglass.size(), 1u);
  EXPECT_EQ(str(breakglass[0], "/enabled_by"), "3");
  EXPECT_TRUE(is_null(breakglass[0], "/reason"));

  EXPECT_EQ(uint(data, "/cost/requests"), 0u);
  EXPECT_EQ(str(data, "/cost/cost_usd"), "0");
}

TEST(RunReportTest, AProducerEventNamedLikeAReaderNoteIsNotALoss) {
  // docs/FORMAT.md: a producer may log a message starting with "ringtail.";
  // only the reader's own lines (no "seq") are notes.
  RunReport report(options());
  Feed feed;
  feed.add(report, event(kBase, "WARN", "ringtail.dropped", R"("dropped":1000000,"cause":"overwritten")"));
  feed.add(report, event(kBase, "WARN", "ringtail.lost", R"("lost_no_ring":5,"lost_callsite_table_full":5)"));
  feed.add(report, event(kBase, "ERROR", "ringtail.audit_lost", R"("audit_lost":7)"));
  feed.add(report, event(kBase, "ERROR", "ringtail.crashed", ""));
  feed.add(report, note(kBase, "WARN", "ringtail.dropped", R"("tid":1,"dropped":3)"));
  dom::parser parser;
  const dom::element data = parse_document(parser, report.finish_json());
  EXPECT_EQ(uint(data, "/overview/events"), 5u);
  EXPECT_EQ(uint(data, "/overview/drops/dropped"), 3u);
  EXPECT_EQ(uint(data, "/overview/drops/overwritten"), 0u);
  EXPECT_EQ(uint(data, "/overview/drops/lost_no_ring"), 0u);
  EXPECT_EQ(uint(data, "/overview/drops/lost_callsite_table_full"), 0u);
  EXPECT_EQ(uint(data, "/overview/drops/audit_lost"), 0u);
  EXPECT_EQ(uint(data, "/overview/drops/crashes"), 0u);
}

TEST(RunReportTest, HostileStringsComeBackExactly) {
  const std::string hostile = std::string("q\"uote \\back </script><img src=x onerror=alert(1)> & \x01") +
                              "\x1f\t\n\r end \xc3\xa9 \xe2\x80\xa8";
  RunReportOptions o = options({hostile});
  o.source = hostile;
  o.filter_text = hostile;
  o.generated_at = hostile;
  RunReport report(std::move(o));
  Feed feed;
  const std::string q = json_quoted(hostile);
  std::vector<std::string> lines = {
      event(kBase, "INFO", "step.end", "\"tool\":" + q + ",\"status\":\"SUCCESS\",\"duration_ms\":1", hostile),
      event(kBase + kSecond, "ERROR", hostile,
            "\"error\":{\"type\":" + q + ",\"message\":" + q + ",\"code\":" + q + "}", hostile),
      event(kBase + 2 * kSecond, "WARN", "policy.check", policy_check(hostile, "BLOCK", hostile), hostile),
      event(kBase + 3 * kSecond, "WARN", "audit.decision",
            "\"agent_id\":" + q + ",\"tool\":" + q + ",\"allow\":false,\"reason\":" + q, hostile),
      event(kBase + 4 * kSecond, "WARN", "breakglass", "\"enabled_by\":" + q + ",\"reason\":" + q, hostile),
      event(kBase + 5 * kSecond, "INFO", "cost", "\"model\":" + q + ",\"tokens\":3,\"cost_usd\":0.5", hostile),
      span_start(kBase + 6 * kSecond, hostile, hostile, "", hostile, "\"tool\":" + q, hostile),
      event(kBase + 6 * kSecond, "INFO", "llm.call", "\"model\":" + q + "," + in_span(hostile, hostile), hostile),
      span_end(kBase + 7 * kSecond, hostile, hostile, "", hostile, 1000, "ERROR",
               "{\"type\":" + q + ",\"message\":" + q + "}", hostile),
  };
  for (const std::string& text : lines) feed.add(report, text);
  EXPECT_EQ(report.chosen_traces(), std::vector<std::string>{hostile});
  for (const std::string& text : lines) feed.add_trace(report, text);

  dom::parser parser;
  const std::string json = report.finish_json();
  const dom::element data = parse_document(parser, json);
  EXPECT_EQ(str(data, "/source"), hostile);
  EXPECT_EQ(str(data, "/filter"), hostile);
  EXPECT_EQ(str(data, "/generated_at"), hostile);
  EXPECT_EQ(count_rows(data, "/overview/by_service").at(hostile), lines.size());
  const auto services = series(data, "/overview/timeline/services");
  ASSERT_EQ(services.size(), 1u);
  EXPECT_EQ(services[0].first, hostile);
  EXPECT_EQ(str(data, "/tools/rows/0/tool"), hostile);
  EXPECT_EQ(str(data, "/errors/groups/0/type"), hostile);
  EXPECT_EQ(str(data, "/errors/groups/0/code"), hostile);
  EXPECT_EQ(str(data, "/errors/groups/0/example/service"), hostile);
  EXPECT_EQ(str(data, "/errors/groups/0/example/message"), hostile);
  EXPECT_EQ(str(data, "/errors/groups/0/example/error_message"), hostile);
  EXPECT_EQ(str(data, "/policy/decisions/0/policy"), hostile);
  EXPECT_EQ(str(data, "/policy/denied_reasons/0/reason"), hostile);
  EXPECT_EQ(uint(data, "/policy/denied_reasons/0/count"), 2u);
  const std::vector<dom::element> denied = array(data, "/policy/denied");
  ASSERT_EQ(denied.size(), 2u);
  EXPECT_EQ(str(denied[0], "/agent_id"), hostile);
  EXPECT_EQ(str(denied[0], "/tool"), hostile);
  EXPECT_EQ(str(denied[1], "/policy"), hostile);
  EXPECT_EQ(str(denied[1], "/reason"), hostile);
  EXPECT_EQ(str(denied[1], "/service"), hostile);
  EXPECT_EQ(str(data, "/policy/breakglass/0/enabled_by"), hostile);
  EXPECT_EQ(str(data, "/cost/by_model/0/model"), hostile);
  ASSERT_EQ(series(data, "/cost/timeline/models").size(), 1u);
  EXPECT_EQ(series(data, "/cost/timeline/models")[0].first, hostile);

  const std::vector<dom::element> requested = array(data, "/traces/requested");
  ASSERT_EQ(requested.size(), 1u) << json;
  EXPECT_EQ(str(requested[0], "/trace_id"), hostile);
  EXPECT_EQ(str(requested[0], "/root"), hostile);
  EXPECT_EQ(str(requested[0], "/service"), hostile);
  EXPECT_EQ(str(requested[0], "/spans/0/span_id"), hostile);
  EXPECT_EQ(str(requested[0], "/spans/0/name"), hostile);
  EXPECT_EQ(str(requested[0], "/spans/0/tool"), hostile);
  EXPECT_EQ(str(requested[0], "/spans/0/model"), hostile);
  EXPECT_EQ(str(requested[0], "/spans/0/error/type"), hostile);
  EXPECT_EQ(str(requested[0], "/spans/0/error/message"), hostile);
  EXPECT_EQ(uint(requested[0], "/spans/0/events"), 1u);
  EXPECT_TRUE(array(data, "/traces/slowest").empty());  // asked for: not also among these
  EXPECT_TRUE(array(data, "/traces/failed").empty());
}

}  // namespace
}  // namespace ringtail::reader
