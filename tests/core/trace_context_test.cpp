// W3C trace context (ringtail/trace_context.hpp): traceparent text both ways,
// every invalid form the spec names, and the random ids (never zero, distinct
// across draws, threads and a fork).
#include "ringtail/trace_context.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "fork_child.hpp"

// In ringtail::test: the core tests use its fork harness (ForkedChild,
// ChildChannel, ChildOutcome), SegmentView and small_options() as they are.
namespace ringtail::test {
namespace {

// The example of the W3C Trace Context spec, section 3.2.
constexpr std::string_view kSpecExample = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

TEST(TraceContext, ParsesTheSpecExample) {
  const std::optional<TraceParent> parsed = parse_traceparent(kSpecExample);
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(parsed->trace_id.high, 0x4bf92f3577b34da6ULL);
  EXPECT_EQ(parsed->trace_id.low, 0xa3ce929d0e0e4736ULL);
  EXPECT_EQ(parsed->parent_span_id, 0x00f067aa0ba902b7ULL);
  EXPECT_EQ(parsed->trace_flags, 1);
  EXPECT_TRUE(parsed->sampled());
  EXPECT_EQ(format_traceparent(parsed->trace_id, parsed->parent_span_id, parsed->trace_flags), kSpecExample);
}

TEST(TraceContext, FormatsIdsAsLowercaseHexWithoutTerminator) {
  char trace[kTraceIdChars + 1];
  trace[kTraceIdChars] = '#';
  format_trace_id(TraceId{0x4bf92f3577b34da6ULL, 0xa3ce929d0e0e4736ULL}, trace);
  EXPECT_EQ(std::string_view(trace, kTraceIdChars), "4bf92f3577b34da6a3ce929d0e0e4736");
  EXPECT_EQ(trace[kTraceIdChars], '#');
  char span[kSpanIdChars + 1];
  span[kSpanIdChars] = '#';
  format_span_id(0xABCDEF, span);
  EXPECT_EQ(std::string_view(span, kSpanIdChars), "0000000000abcdef");
  EXPECT_EQ(span[kSpanIdChars], '#');
  char header[kTraceParentChars + 1];
  header[kTraceParentChars] = '#';
  format_traceparent(TraceId{1, 2}, 3, 0xfe, header);
  EXPECT_EQ(std::string_view(header, kTraceParentChars), "00-00000000000000010000000000000002-0000000000000003-fe");
  EXPECT_EQ(header[kTraceParentChars], '#');
}

TEST(TraceContext, RoundTripsRandomIdsAndEveryFlagsByte) {
  for (int flags = 0; flags < 256; ++flags) {
    const TraceId trace = new_trace_id();
    const uint64_t span = new_span_id();
    const std::string text = format_traceparent(trace, span, static_cast<uint8_t>(flags));
    ASSERT_EQ(text.size(), kTraceParentChars);
    const std::optional<TraceParent> parsed = parse_traceparent(text);
    ASSERT_TRUE(parsed.has_value()) << text;
    EXPECT_EQ(parsed->trace_id, trace);
    EXPECT_EQ(parsed->parent_span_id, span);
    EXPECT_EQ(parsed->trace_flags, flags);
    EXPECT_EQ(parsed->sampled(), (flags & 1) != 0);
  }
  // Extreme ids.
  const TraceId max{UINT64_MAX, UINT64_MAX};
  const std::optional<TraceParent> parsed = parse_traceparent(format_traceparent(max, UINT64_MAX, 0));
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(parsed->trace_id, max);
  EXPECT_EQ(parsed->parent_span_id, UINT64_MAX);
  EXPECT_FALSE(parsed->sampled());
}

TEST(TraceContext, ToleratesSurroundingSpacesAndTabs) {
  for (const std::string& text : {std::string(" ") + std::string(kSpecExample), std::string(kSpecExample) + "\t",
                                  std::string(" \t ") + std::string(kSpecExample) + " \t"}) {
    const std::optional<TraceParent> parsed = parse_traceparent(text);
    ASSERT_TRUE(parsed.has_value()) << "'" << text << "'";
    EXPECT_EQ(parsed->parent_span_id, 0x00f067aa0ba902b7ULL);
  }
  // Other whitespace is not optional whitespace.
  EXPECT_FALSE(parse_traceparent(std::string(kSpecExample) + "\n"));
  EXPECT_FALSE(parse_traceparent(std::string("\r") + std::string(kSpecExample)));
  // Nor is whitespace inside.
  EXPECT_FALSE(parse_traceparent("00- 4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"));
}

TEST(TraceContext, RejectsWhatTheSpecCallsInvalid) {
  const std::string base(kSpecExample);
  auto with = [&](size_t at, std::string_view replacement) {
    std::string text = base;
    text.replace(at, replacement.size(), replacement);
    return text;
  };
  const std::vector<std::pair<std::string, std::string>> invalid = {
      {"empty", ""},
      {"only spaces", "   "},
      {"version ff", with(0, "ff")},
      {"version ff with extra fields", with(0, "ff") + "-00"},
      {"uppercase version", with(0, "0A")},
      {"non-hex version", with(0, "0g")},
      {"all-zero trace id", with(3, "00000000000000000000000000000000")},
      {"all-zero parent id", with(36, "0000000000000000")},
      {"uppercase trace id", with(3, "4BF92F3577B34DA6A3CE929D0E0E4736")},
      {"one uppercase digit in the trace id", with(34, "A")},
      {"uppercase parent id", with(36, "00F067AA0BA902B7")},
      {"uppercase flags", with(53, "0A")},
      {"non-hex trace id", with(10, "x")},
      {"non-hex parent id", with(40, "-")},
      {"non-hex flags", with(54, "z")},
      {"short trace id", "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01"},
      {"long trace id", "00-4bf92f3577b34da6a3ce929d0e0e47366-00f067aa0ba902b7-01"},
      {"short parent id", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b-01"},
      {"long parent id", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b77-01"},
      {"one-digit flags", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-1"},
      {"three-digit flags", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-011"},
      {"one-digit version", "0-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"},
      {"underscores", "00_4bf92f3577b34da6a3ce929d0e0e4736_00f067aa0ba902b7_01"},
      {"separator after the version", with(2, "+")},
      {"separator after the trace id", with(35, ".")},
      {"separator after the parent id", with(52, ":")},
      {"version 00 with an extra field", base + "-00"},
      {"version 00 with a trailing dash", base + "-"},
      {"version 00 with trailing text", base + "x"},
      {"truncated", base.substr(0, 54)},
      {"a later version followed by something other than '-'", with(0, "01") + "x"},
      {"a later version followed by an extra field without '-'", with(0, "cc") + "00"},
      {"a later version shorter than 55 characters", with(0, "01").substr(0, 54)},
  };
  for (const auto& [what, text] : invalid) {
    EXPECT_FALSE(parse_traceparent(text).has_value()) << what << ": '" << text << "'";
  }
}

TEST(TraceContext, AcceptsLaterVersionsWithAppendedFields) {
  const std::string base(kSpecExample);
  for (const std::string& text : {"01" + base.substr(2), "cc" + base.substr(2), "fe" + base.substr(2) + "-what-ever",
                                  "01" + base.substr(2) + "-", "cc" + base.substr(2) + "-0123456789abcdef-00"}) {
    const std::optional<TraceParent> parsed = parse_traceparent(text);
    ASSERT_TRUE(parsed.has_value()) << text;
    EXPECT_EQ(parsed->trace_id, (TraceId{0x4bf92f3577b34da6ULL, 0xa3ce929d0e0e4736ULL}));
    EXPECT_EQ(parsed->parent_span_id, 0x00f067aa0ba902b7ULL);
    EXPECT_TRUE(parsed->sampled());
  }
  // The spec's fields must still be valid in a later version.
  EXPECT_FALSE(parse_traceparent("01-00000000000000000000000000000000-00f067aa0ba902b7-01-extra"));
}

TEST(TraceContext, IdsAreNeverZeroAndDistinct) {
  constexpr int kDraws = 100'000;
  std::set<std::pair<uint64_t, uint64_t>> traces;
  std::set<uint64_t> spans;
  for (int i = 0; i < kDraws; ++i) {
    const TraceId trace = new_trace_id();
    ASSERT_TRUE(trace.valid());
    traces.emplace(trace.high, trace.low);
    const uint64_t span = new_span_id();
    ASSERT_NE(span, 0U);
    spans.insert(span);
  }
  EXPECT_EQ(traces.size(), static_cast<size_t>(kDraws));
  EXPECT_EQ(spans.size(), static_cast<size_t>(kDraws));
}

TEST(TraceContext, ThreadsDrawDistinctIds) {
  constexpr int kThreads = 4;
  constexpr int kDraws = 10'000;
  std::vector<std::vector<uint64_t>> drawn(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&drawn, t] {
      for (int i = 0; i < kDraws; ++i) drawn[t].push_back(new_span_id());
    });
  }
  for (std::thread& thread : threads) thread.join();
  std::set<uint64_t> all;
  for (const std::vector<uint64_t>& ids : drawn) all.insert(ids.begin(), ids.end());
  EXPECT_EQ(all.size(), static_cast<size_t>(kThreads * kDraws));
}

// Without the fork epoch, the child would hold a copy of this thread's
// generator and draw exactly the ids the parent draws next.
TEST(TraceContext, AForkChildDoesNotRepeatItsParentsIds) {
  constexpr int kDraws = 64;
  (void)new_span_id();  // this thread's generator is seeded before the fork
  ForkedChild child = ForkedChild::start([](ChildChannel& ch) {
    for (int i = 0; i < kDraws; ++i) ch.value("span", new_span_id());
    const TraceId trace = new_trace_id();
    ch.value("trace_high", trace.high);
    ch.value("trace_low", trace.low);
    return 0;
  });
  std::set<std::string> parent;
  for (int i = 0; i < kDraws; ++i) parent.insert(std::to_string(new_span_id()));
  const TraceId parent_trace = new_trace_id();
  const ChildOutcome outcome = child.finish();
  ASSERT_CHILD_OK(outcome);
  int spans = 0;
  for (const std::string& line : outcome.lines) {
    if (line.rfind("span=", 0) != 0) continue;
    ++spans;
    EXPECT_EQ(parent.count(line.substr(5)), 0U) << "the child repeated the parent's id " << line;
  }
  EXPECT_EQ(spans, kDraws);
  EXPECT_NE(outcome.value_or("trace_high"), std::to_string(parent_trace.high));
  EXPECT_NE(outcome.value_or("trace_low"), std::to_string(parent_trace.low));
}

}  // namespace
}  // namespace ringtail::test
