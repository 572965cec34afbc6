// OtlpEncoder on hand-written lines, in its JSON encoding (which the OTLP
// sink's end-to-end test shows decodes to the same requests as protobuf):
// what a hostile producer can put in a line never becomes an id, a span, or
// an unbounded table. Open spans are bounded and counted; a span whose start
// was not kept still goes out, timed from its duration; a finished segment's
// open spans are forgotten.
#include <cstdint>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <simdjson.h>

#include "ringtail/reader/sinks/otlp_encoder.hpp"
#include "shaped_text.hpp"

namespace ringtail::reader {
namespace {

constexpr const char* kHead = R"("timestamp":"2026-12-06T10:00:00.000000000Z","level":"INFO",)";

SegmentIdentity segment(uint32_t pid) {
  SegmentIdentity identity;
  identity.pid = pid;
  identity.process_start_ticks = 77;
  identity.service = "agent";
  return identity;
}

// batch_of() with span lines given their kind (it knows events and notes only).
EventBatch batch(const SegmentIdentity& identity, const std::string& text) {
  EventBatch out = testing::batch_of(identity, text);
  for (LineShape& shape : out.lines) {
    if (out.message(shape) == "span.start") shape.kind = LineKind::kSpanStart;
    if (out.message(shape) == "span.end") shape.kind = LineKind::kSpanEnd;
  }
  return out;
}

std::string span_start(int n) {
  char id[17];
  std::snprintf(id, sizeof(id), "%016x", n + 1);
  return std::string("{") + kHead +
         R"("message":"span.start","service":"agent","pid":7,"tid":7,"span":"s","trace_id":"0123456789abcdef0123456789abcdef","span_id":")" +
         id + R"(","attr":)" + std::to_string(n) + "}\n";
}

std::string span_end(int n) {
  char id[17];
  std::snprintf(id, sizeof(id), "%016x", n + 1);
  return std::string("{") + kHead +
         R"("message":"span.end","service":"agent","pid":7,"tid":7,"span":"s","trace_id":"0123456789abcdef0123456789abcdef","span_id":")" +
         id + R"(","status":"OK","duration_ms":2.5})" + "\n";
}

struct Parsed {
  simdjson::dom::parser parser;
  simdjson::dom::element root;
};

// The records of a JSON request: logRecords or spans of every scope.
std::vector<simdjson::dom::element> records(Parsed& parsed, const std::string& body, const char* resources,
                                            const char* scopes, const char* items) {
  std::vector<simdjson::dom::element> out;
  EXPECT_EQ(parsed.parser.parse(body).get(parsed.root), simdjson::SUCCESS) << body;
  simdjson::dom::array resource_list;
  if (parsed.root[resources].get_array().get(resource_list) != simdjson::SUCCESS) return out;
  for (simdjson::dom::element resource : resource_list) {
    simdjson::dom::array scope_list;
    if (resource[scopes].get_array().get(scope_list) != simdjson::SUCCESS) continue;
    for (simdjson::dom::element scope : scope_list) {
      simdjson::dom::array item_list;
      if (scope[items].get_array().get(item_list) != simdjson::SUCCESS) continue;
      for (simdjson::dom::element item : item_list) out.push_back(item);
    }
  }
  return out;
}

TEST(OtlpEncoder, IdsThatDoNotParseStayAttributesAndMakeNoSpan) {
  const SegmentIdentity identity = segment(7);
  OtlpEncoder encoder(OtlpEncoding::kJson, "host");
  const std::string text =
      std::string("{") + kHead +
      R"("message":"m","service":"agent","pid":7,"tid":7,"seq":1,"trace_id":"zz456789abcdef0123456789abcdefzz","span_id":"0000000000000000"})"
      "\n{" +
      kHead +
      R"("message":"span.end","service":"agent","pid":7,"tid":7,"span":"s","trace_id":"0123","span_id":"00f067aa0ba902b7","status":"OK","duration_ms":1})"
      "\n";
  encoder.add(batch(identity, text), 1);
  const OtlpRequests requests = encoder.take();
  EXPECT_EQ(requests.log_records, 1U);
  EXPECT_EQ(requests.spans, 0U);
  EXPECT_TRUE(requests.traces.empty());
  Parsed parsed;
  const auto logs = records(parsed, requests.logs, "resourceLogs", "scopeLogs", "logRecords");
  ASSERT_EQ(logs.size(), 1U);
  simdjson::dom::element ignored;
  EXPECT_NE(logs[0]["traceId"].get(ignored), simdjson::SUCCESS);
  EXPECT_NE(logs[0]["spanId"].get(ignored), simdjson::SUCCESS);
  std::vector<std::string> keys;
  simdjson::dom::array attributes;
  ASSERT_EQ(logs[0]["attributes"].get_array().get(attributes), simdjson::SUCCESS);
  for (simdjson::dom::element kv : attributes) keys.emplace_back(kv["key"].get_string().value_unsafe());
  EXPECT_EQ(keys, (std::vector<std::string>{"thread.id", "ringtail.seq", "trace_id", "span_id"}));
}

TEST(OtlpEncoder, OpenSpansAreBoundedAndAnEndWithoutItsStartIsTimedByItsDuration) {
  const SegmentIdentity identity = segment(7);
  OtlpEncoder encoder(OtlpEncoding::kJson, "host");
  constexpr int kMore = 10;
  const int starts = static_cast<int>(OtlpEncoder::kMaxOpenSpans) + kMore;
  std::string text;
  for (int n = 0; n < starts; ++n) {
    text += span_start(n);
    if (text.size() > (size_t{1} << 20)) {
      encoder.add(batch(identity, text), 1);
      text.clear();
    }
  }
  encoder.add(batch(identity, text), 1);
  EXPECT_EQ(encoder.counts().span_starts_not_kept, static_cast<uint64_t>(kMore));
  EXPECT_EQ(encoder.pending_records(), 0U);  // starts are kept, not sent

  // The first start was kept (its attribute comes back); the last was not.
  encoder.add(batch(identity, span_end(0) + span_end(starts - 1)), 1);
  EXPECT_EQ(encoder.counts().spans_without_start, 1U);
  const OtlpRequests requests = encoder.take();
  ASSERT_EQ(requests.spans, 2U);
  Parsed parsed;
  const auto spans = records(parsed, requests.traces, "resourceSpans", "scopeSpans", "spans");
  ASSERT_EQ(spans.size(), 2U);
  const auto attribute_count = [](simdjson::dom::element span) {
    size_t n = 0;
    simdjson::dom::array attributes;
    if (span["attributes"].get_array().get(attributes) != simdjson::SUCCESS) return n;
    for (simdjson::dom::element kv : attributes) n += kv["key"].get_string().value_unsafe() == "attr";
    return n;
  };
  EXPECT_EQ(attribute_count(spans[0]), 1U);
  EXPECT_EQ(attribute_count(spans[1]), 0U);
  const auto start = std::stoull(std::string(spans[1]["startTimeUnixNano"].get_string().value_unsafe()));
  const auto end = std::stoull(std::string(spans[1]["endTimeUnixNano"].get_string().value_unsafe()));
  EXPECT_EQ(end - start, 2'500'000U);
}

TEST(OtlpEncoder, AFinishedSegmentsOpenSpansAreForgotten) {
  const SegmentIdentity one = segment(7);
  const SegmentIdentity other = segment(8);
  OtlpEncoder encoder(OtlpEncoding::kJson, "host");
  encoder.add(batch(one, span_start(0)), 1);
  encoder.add(batch(other, span_start(0)), 1);  // the same span id in another process
  encoder.segment_finished(one);
  encoder.add(batch(one, span_end(0)), 1);
  encoder.add(batch(other, span_end(0)), 1);
  EXPECT_EQ(encoder.counts().spans_without_start, 1U);  // only the finished segment's
  const OtlpRequests requests = encoder.take();
  EXPECT_EQ(requests.spans, 2U);
  Parsed parsed;
  // One resource per process.
  EXPECT_EQ(parsed.parser.parse(requests.traces).get(parsed.root), simdjson::SUCCESS);
  EXPECT_EQ(parsed.root["resourceSpans"].get_array().value_unsafe().size(), 2U);
}

}  // namespace
}  // namespace ringtail::reader
