// The live endpoints' library (reader/live/): the Prometheus text format
// (label escaping, cutting, sample values), the bounded label sets, the
// MetricsSink's counts from hand-written shaped lines (events, agent
// vocabulary, histogram buckets, drops and notes, commit and discard, the
// cardinality cap, the per-layout cache), --listen addresses, and the
// LiveServer answering over a real loopback socket.
#include <sys/socket.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "live_http.hpp"
#include "loopback.hpp"
#include "ringtail/reader/live/live_server.hpp"
#include "ringtail/reader/live/metrics_sink.hpp"
#include "ringtail/reader/live/prometheus_text.hpp"
#include "shaped_text.hpp"

namespace ringtail::reader {
namespace {

using testing::batch_of;

std::string escaped(std::string_view value) {
  std::string out;
  append_label_value(out, value);
  return out;
}

std::string sample_text(double value) {
  std::string out;
  append_sample_value(out, value);
  return out;
}

// The value of the sample whose line starts with `series` ("name{labels}"),
// or -1 when there is none.
double sample(const std::string& text, const std::string& series) {
  size_t at = 0;
  while ((at = text.find(series + " ", at)) != std::string::npos) {
    if (at == 0 || text[at - 1] == '\n') return std::stod(text.substr(at + series.size() + 1));
    at += series.size();
  }
  return -1;
}

std::string line(std::string_view level, std::string_view message, int seq, std::string_view fields = "") {
  std::string out = "{\"timestamp\":\"2026-12-01T10:00:00.000000000Z\",\"level\":\"";
  out += level;
  out += "\",\"message\":\"";
  out += message;
  out += "\",\"service\":\"svc\",\"pid\":1,\"tid\":1,\"seq\":" + std::to_string(seq);
  if (!fields.empty()) out += "," + std::string(fields);
  out += "}\n";
  return out;
}

std::string metrics_of(const MetricsSink& sink) {
  std::string out;
  sink.append_prometheus(out);
  return out;
}

TEST(PrometheusText, LabelValuesAreEscapedAsTheFormatSays) {
  EXPECT_EQ(escaped("plain"), "plain");
  EXPECT_EQ(escaped("back\\slash"), "back\\\\slash");
  EXPECT_EQ(escaped("q\"uote"), "q\\\"uote");
  EXPECT_EQ(escaped("new\nline"), "new\\nline");
  // Other control characters are not the format's business, but they break terminals: U+FFFD.
  EXPECT_EQ(escaped(std::string("nul\0tab\t\x7f", 9)), "nul\xEF\xBF\xBDtab\xEF\xBF\xBD\xEF\xBF\xBD");
  EXPECT_EQ(escaped("\xC3\xA9t\xC3\xA9"), "\xC3\xA9t\xC3\xA9");  // UTF-8 as it is
}

TEST(PrometheusText, LongValuesAreCutAtACharacterBoundary) {
  EXPECT_EQ(cut_label_value("abcdef", 4), "abcd");
  EXPECT_EQ(cut_label_value("abc", 4), "abc");
  // "é" is two bytes: a cut through it keeps neither.
  EXPECT_EQ(cut_label_value("abc\xC3\xA9", 4), "abc");
  EXPECT_EQ(cut_label_value("\xF0\x9F\x98\x80x", 3), "");
  EXPECT_EQ(utf8_label_value("bad \xFF"), "bad \xEF\xBF\xBD");
}

TEST(PrometheusText, SampleValues) {
  EXPECT_EQ(sample_text(0), "0");
  EXPECT_EQ(sample_text(12345678901), "12345678901");
  EXPECT_EQ(sample_text(0.25), "0.25");
  EXPECT_EQ(sample_text(1.0 / 0.0), "+Inf");
  EXPECT_EQ(sample_text(-1.0 / 0.0), "-Inf");
  EXPECT_EQ(sample_text(0.0 / 0.0), "NaN");
  std::string out;
  PrometheusWriter writer(out);
  writer.family("m_total", "a\\b\nc", "counter");
  writer.sample("m_total", {"a", "b"}, {"x\"", "y"}, 3);
  writer.sample("up", {}, {}, 1);
  EXPECT_EQ(out, "# HELP m_total a\\\\b\\nc\n# TYPE m_total counter\nm_total{a=\"x\\\"\",b=\"y\"} 3\nup 1\n");
}

TEST(LabelTable, AtMostMaxSetsThenEveryLaterSetIsOther) {
  LabelTable table(2, 3, 8);
  bool overflowed = false;
  EXPECT_EQ(table.find_or_add({"a", "1"}, &overflowed), 0U);
  EXPECT_EQ(table.find_or_add({"b", "1"}, &overflowed), 1U);
  EXPECT_EQ(table.find_or_add({"a", "1"}, &overflowed), 0U);
  // Values are cut before they are compared: these two are one set.
  EXPECT_EQ(table.find_or_add({"0123456789", "x"}, &overflowed), 2U);
  EXPECT_EQ(table.find_or_add({"01234567zz", "x"}, &overflowed), 2U);
  EXPECT_EQ(table.value(2, 0), "01234567");
  EXPECT_FALSE(overflowed);
  // Full: a new set goes to "_other", which is one set however many come.
  const uint32_t other = table.find_or_add({"c", "1"}, &overflowed);
  EXPECT_TRUE(overflowed);
  EXPECT_EQ(other, 3U);
  EXPECT_EQ(table.value(other, 0), kOtherLabel);
  EXPECT_EQ(table.value(other, 1), kOtherLabel);
  overflowed = false;
  EXPECT_EQ(table.find_or_add({"d", "2"}, &overflowed), other);
  EXPECT_TRUE(overflowed);
  // A producer's own "_other" shares it rather than making a second series with the same labels.
  EXPECT_EQ(table.find_or_add({"_other", "_other"}, &overflowed), other);
  EXPECT_EQ(table.size(), 4U);
  // Sets seen before stay theirs.
  overflowed = false;
  EXPECT_EQ(table.find_or_add({"b", "1"}, &overflowed), 1U);
  EXPECT_FALSE(overflowed);
}

TEST(MetricsSink, CountsEventsAndAgentVocabularyFromShapes) {
  SegmentIdentity segment;
  segment.service = "agent \"one\"";
  const std::string text =
      line("INFO", "step.end", 1, R"("run_id":"r","step_id":1,"tool":"search","status":"SUCCESS","duration_ms":3)") +
      line("WARN", "step.end", 2, R"("run_id":"r","step_id":2,"tool":"search","status":"FAILURE","duration_ms":50)") +
      line("INFO", "step.end", 3,
           R"("run_id":"r","step_id":3,"tool":"sh\"ell\n","status":"SUCCESS","duration_ms":2000,"session_id":"s")") +
      line("INFO", "step.end", 4, R"("tool":"search","status":"SUCCESS","duration_ms":1e6)") +
      line("INFO", "llm.call", 5,
           R"("model":"gpt-x","input_tokens":100,"output_tokens":20,"cost_usd":0.25,"duration_ms":9)") +
      line("INFO", "cost", 6, R"("model":"gpt-x","tokens":7,"cost_usd":0.5)") +
      line("INFO", "cost", 7, R"("model":"gpt-x","tokens":-7,"cost_usd":"NaN")") +  // not counted
      line("INFO", "policy.check", 8,
           R"("policy":"pii","validator":"v","decision":"BLOCK","allow":false,"reason":"x")") +
      line("INFO", "policy.check", 9, R"("policy":"pii","decision":"ALLOW")") +
      line("ERROR", "something else", 10, R"("tool":"not a step")");
  MetricsSink sink;
  ASSERT_TRUE(sink.write(batch_of(segment, text)).ok());
  // Nothing is published before the flush.
  EXPECT_EQ(sample(metrics_of(sink), R"(ringtail_events_total{service="agent \"one\"",level="INFO"})"), -1);
  ASSERT_TRUE(sink.flush().ok());
  const std::string m = metrics_of(sink);
  SCOPED_TRACE(m);
  EXPECT_EQ(sample(m, R"(ringtail_events_total{service="agent \"one\"",level="INFO"})"), 8);
  EXPECT_EQ(sample(m, R"(ringtail_events_total{service="agent \"one\"",level="WARN"})"), 1);
  EXPECT_EQ(sample(m, R"(ringtail_events_total{service="agent \"one\"",level="ERROR"})"), 1);
  EXPECT_EQ(sample(m, R"(ringtail_lines_total{service="agent \"one\"",kind="event"})"), 10);
  EXPECT_EQ(sample(m, R"(ringtail_agent_steps_total{service="agent \"one\"",tool="search",status="SUCCESS"})"), 2);
  EXPECT_EQ(sample(m, R"(ringtail_agent_steps_total{service="agent \"one\"",tool="search",status="FAILURE"})"), 1);
  EXPECT_EQ(sample(m, R"(ringtail_agent_steps_total{service="agent \"one\"",tool="sh\"ell\n",status="SUCCESS"})"), 1);
  // Buckets are cumulative: 3 ms, 50 ms, and 1000 s (only in +Inf).
  EXPECT_EQ(sample(m, R"(ringtail_agent_step_duration_seconds_bucket{tool="search",le="0.001"})"), -1);
  EXPECT_EQ(sample(m, R"(ringtail_agent_step_duration_seconds_bucket{tool="search",le="0.005"})"), 1);
  EXPECT_EQ(sample(m, R"(ringtail_agent_step_duration_seconds_bucket{tool="search",le="0.025"})"), 1);
  EXPECT_EQ(sample(m, R"(ringtail_agent_step_duration_seconds_bucket{tool="search",le="0.05"})"), 2);
  EXPECT_EQ(sample(m, R"(ringtail_agent_step_duration_seconds_bucket{tool="search",le="300"})"), 2);
  EXPECT_EQ(sample(m, R"(ringtail_agent_step_duration_seconds_bucket{tool="search",le="+Inf"})"), 3);
  EXPECT_DOUBLE_EQ(sample(m, R"(ringtail_agent_step_duration_seconds_sum{tool="search"})"), 0.003 + 0.05 + 1000);
  EXPECT_EQ(sample(m, R"(ringtail_agent_step_duration_seconds_count{tool="search"})"), 3);
  EXPECT_EQ(sample(m, R"(ringtail_agent_step_duration_seconds_bucket{tool="sh\"ell\n",le="2.5"})"), 1);
  EXPECT_EQ(sample(m, R"(ringtail_agent_step_duration_seconds_bucket{tool="sh\"ell\n",le="1"})"), 0);
  EXPECT_DOUBLE_EQ(sample(m, R"(ringtail_agent_cost_usd_total{model="gpt-x"})"), 0.75);
  EXPECT_EQ(sample(m, R"(ringtail_agent_tokens_total{model="gpt-x",type="input"})"), 100);
  EXPECT_EQ(sample(m, R"(ringtail_agent_tokens_total{model="gpt-x",type="output"})"), 20);
  EXPECT_EQ(sample(m, R"(ringtail_agent_tokens_total{model="gpt-x",type="unsplit"})"), 7);
  EXPECT_EQ(sample(m, R"(ringtail_policy_decisions_total{policy="pii",decision="BLOCK"})"), 1);
  EXPECT_EQ(sample(m, R"(ringtail_policy_decisions_total{policy="pii",decision="ALLOW"})"), 1);
  EXPECT_DOUBLE_EQ(sample(m, R"(ringtail_last_event_timestamp_seconds{service="agent \"one\""})"), 1796119200);
  EXPECT_NE(m.find("# TYPE ringtail_agent_step_duration_seconds histogram\n"), std::string::npos);
}

TEST(MetricsSink, DropRecordsAndNotesCountByCause) {
  SegmentIdentity segment;
  segment.service = "svc";
  const std::string head = R"({"timestamp":"2026-12-01T10:00:00.000000000Z","level":"WARN","message":")";
  const std::string text =
      head + R"(ringtail.dropped","service":"svc","pid":1,"tid":1,"dropped":24,"first_seq":18,"last_seq":41})" + "\n" +
      head + R"(ringtail.dropped","service":"svc","pid":1,"tid":1,"dropped":5,"first_seq":0,"last_seq":4,)" +
      R"("cause":"overwritten"})" + "\n" + head +
      R"(ringtail.lost","service":"svc","pid":1,"lost_no_ring":3,"lost_callsite_table_full":2})" + "\n" + head +
      R"(ringtail.audit_lost","service":"svc","pid":1,"tid":1,"slot":0,"audit_lost":4,"audit_lost_total":4})" + "\n" +
      head + R"(ringtail.crashed","service":"svc","pid":1,"lost_no_ring":3})" + "\n";
  EventBatch batch = batch_of(segment, text);
  ASSERT_EQ(batch.lines.size(), 5U);
  batch.lines[0].kind = LineKind::kGap;  // as the formatter marks drop records
  batch.lines[1].kind = LineKind::kGap;
  MetricsSink sink;
  ASSERT_TRUE(sink.write(batch).ok());
  ASSERT_TRUE(sink.flush().ok());
  const std::string m = metrics_of(sink);
  SCOPED_TRACE(m);
  EXPECT_EQ(sample(m, R"(ringtail_dropped_events_total{service="svc",cause="ring_full_or_too_big"})"), 24);
  EXPECT_EQ(sample(m, R"(ringtail_dropped_events_total{service="svc",cause="overwritten"})"), 5);
  EXPECT_EQ(sample(m, R"(ringtail_dropped_events_total{service="svc",cause="no_ring"})"), 3);
  EXPECT_EQ(sample(m, R"(ringtail_dropped_events_total{service="svc",cause="callsite_table_full"})"), 2);
  EXPECT_EQ(sample(m, R"(ringtail_audit_lost_total{service="svc"})"), 4);
  EXPECT_EQ(sample(m, R"(ringtail_notes_total{service="svc",message="ringtail.crashed"})"), 1);
  EXPECT_EQ(sample(m, R"(ringtail_lines_total{service="svc",kind="gap"})"), 2);
  EXPECT_EQ(sample(m, R"(ringtail_lines_total{service="svc",kind="note"})"), 3);
  EXPECT_EQ(m.find("ringtail_events_total{"), std::string::npos);  // no event lines
}

TEST(MetricsSink, DiscardDropsWhatWasNotFlushedSoLinesReadAgainCountOnce) {
  SegmentIdentity segment;
  segment.service = "svc";
  const EventBatch batch = batch_of(segment, line("INFO", "m", 1) + line("INFO", "m", 2));
  MetricsSink sink;
  ASSERT_TRUE(sink.write(batch).ok());
  ASSERT_TRUE(sink.flush().ok());
  ASSERT_TRUE(sink.write(batch).ok());
  sink.discard();  // the output failed: the engine reads these lines again
  ASSERT_TRUE(sink.write(batch).ok());
  ASSERT_TRUE(sink.flush().ok());
  EXPECT_EQ(sample(metrics_of(sink), R"(ringtail_events_total{service="svc",level="INFO"})"), 4);
}

TEST(MetricsSink, LabelSetsAreCappedAndTheOverflowIsCounted) {
  SegmentIdentity segment;
  segment.service = "svc";
  std::string text;
  for (int i = 0; i < 10; ++i) {
    text += line("INFO", "step.end", i,
                 "\"tool\":\"tool-" + std::to_string(i) + std::string(300, 'x') + "\",\"status\":\"SUCCESS\"");
  }
  MetricsOptions options;
  options.max_label_sets = 4;
  options.max_label_value_bytes = 16;
  MetricsSink sink(options);
  ASSERT_TRUE(sink.write(batch_of(segment, text)).ok());
  ASSERT_TRUE(sink.flush().ok());
  const std::string m = metrics_of(sink);
  SCOPED_TRACE(m);
  EXPECT_EQ(sample(m, R"(ringtail_agent_steps_total{service="svc",tool="tool-0xxxxxxxxxx",status="SUCCESS"})"), 1);
  EXPECT_EQ(sample(m, R"(ringtail_agent_steps_total{service="_other",tool="_other",status="_other"})"), 6);
  EXPECT_EQ(sample(m, R"(ringtail_metrics_label_overflow_total{family="ringtail_agent_steps_total"})"), 6);
  EXPECT_EQ(m.find(std::string(20, 'x')), std::string::npos) << "a value was not cut";
}

TEST(MetricsSink, ALayoutsFieldsAreFoundOnceAndHoldForEveryLineOfIt) {
  SegmentIdentity segment;
  segment.service = "svc";
  EventBatch batch = batch_of(segment, line("INFO", "step.end", 1, R"("tool":"a","status":"SUCCESS")") +
                                           line("INFO", "step.end", 2, R"("tool":"b","status":"FAILURE")") +
                                           line("INFO", "other", 3, R"("x":1,"y":2)"));
  batch.lines[0].layout = 7;
  batch.lines[1].layout = 7;
  batch.lines[2].layout = 8;
  MetricsSink sink;
  for (int pass = 0; pass < 2; ++pass) ASSERT_TRUE(sink.write(batch).ok());
  ASSERT_TRUE(sink.flush().ok());
  const std::string m = metrics_of(sink);
  EXPECT_EQ(sample(m, R"(ringtail_agent_steps_total{service="svc",tool="a",status="SUCCESS"})"), 2) << m;
  EXPECT_EQ(sample(m, R"(ringtail_agent_steps_total{service="svc",tool="b",status="FAILURE"})"), 2) << m;
}

TEST(ListenAddress, Parses) {
  absl::StatusOr<ListenAddress> a = parse_listen_address(":9464");
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->host, "127.0.0.1");  // loopback unless asked
  EXPECT_EQ(a->port, 9464);
  a = parse_listen_address("0.0.0.0:80");
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->text(), "0.0.0.0:80");
  a = parse_listen_address("[::1]:9464");
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->host, "::1");
  EXPECT_EQ(a->text(), "[::1]:9464");
  a = parse_listen_address("localhost:1");
  ASSERT_TRUE(a.ok()) << a.status();
  for (const char* bad : {"9464", ":0", ":65536", ":x", "h:", "999.1.1.1:80", "[::1:80", "[zz]:80", "a b:80", ""}) {
    EXPECT_FALSE(parse_listen_address(bad).ok()) << bad;
  }
}

TEST(LiveServer, ServesMetricsHealthAndStatsAndRefusesAPortInUse) {
  const uint16_t port = ringtail::test::free_loopback_port(SOCK_STREAM);
  ASSERT_NE(port, 0);
  absl::StatusOr<std::unique_ptr<LiveServer>> server = LiveServer::bind({"127.0.0.1", port});
  ASSERT_TRUE(server.ok()) << server.status();
  // The port is taken from bind() on, before the server serves.
  const absl::StatusOr<std::unique_ptr<LiveServer>> second = LiveServer::bind({"127.0.0.1", port});
  ASSERT_FALSE(second.ok());
  EXPECT_NE(second.status().message().find("address in use"), std::string_view::npos) << second.status();

  SegmentIdentity segment;
  segment.service = "svc";
  MetricsSink metrics;
  ASSERT_TRUE(metrics.write(batch_of(segment, line("INFO", "m", 1))).ok());
  ASSERT_TRUE(metrics.flush().ok());
  LiveSources sources;
  sources.metrics = &metrics;
  sources.sinks = [] {
    SinkStats s;
    s.name = "http://collector/";
    s.delivery = Delivery::kBestEffort;
    s.failed_lines = 5;
    s.queued_bytes = 123;
    return std::vector<SinkStats>{s};
  };
  sources.network_sinks = [] {
    NetworkSinkCounts otlp;
    otlp.records_sent = 40;
    otlp.records_failed = 7;
    otlp.requests_sent_again = 3;
    return std::vector<std::pair<std::string, NetworkSinkCounts>>{{"otlp+http://collector:4318", otlp}};
  };
  sources.alerts = [] {
    AlertRuleCounts denied;
    denied.name = "denied";
    denied.matched = 12;
    denied.fired = 2;
    denied.failed = 1;
    return std::vector<AlertRuleCounts>{denied};
  };
  sources.drain = [] {
    DrainStats s;
    s.passes = 9;
    return s;
  };
  sources.discovery.pids = {2147483646};  // no such producer: no segments
  (*server)->start(sources);

  using ringtail::test::http_get;
  const ringtail::test::HttpAnswer answer = http_get(port, "/metrics");
  const std::string& m = answer.body;
  EXPECT_EQ(answer.status, 200) << answer.head;
  EXPECT_NE(answer.head.find("Content-Type: text/plain; version=0.0.4"), std::string::npos) << answer.head;
  EXPECT_NE(m.find("\nringtail_events_total{service=\"svc\",level=\"INFO\"} 1\n"), std::string::npos) << m;
  EXPECT_NE(m.find("\nringtail_sink_failed_lines_total{sink=\"http://collector/\",delivery=\"best_effort\"} 5\n"),
            std::string::npos)
      << m;
  EXPECT_NE(m.find("\nringtail_sink_records_total{sink=\"otlp+http://collector:4318\",result=\"delivered\"} 40\n"),
            std::string::npos)
      << m;
  EXPECT_NE(m.find("\nringtail_sink_records_total{sink=\"otlp+http://collector:4318\",result=\"failed\"} 7\n"),
            std::string::npos)
      << m;
  EXPECT_NE(m.find("\nringtail_sink_requests_retried_total{sink=\"otlp+http://collector:4318\"} 3\n"),
            std::string::npos)
      << m;
  EXPECT_NE(m.find("\nringtail_alerts_fired_total{rule=\"denied\"} 2\n"), std::string::npos) << m;
  EXPECT_NE(m.find("\nringtail_alert_notifications_total{rule=\"denied\",result=\"failed\"} 1\n"), std::string::npos)
      << m;
  EXPECT_NE(m.find("\nringtail_sink_queued_bytes{sink=\"http://collector/\",delivery=\"best_effort\"} 123\n"),
            std::string::npos)
      << m;
  EXPECT_NE(m.find("\nringtail_drain_passes_total 9\n"), std::string::npos) << m;
  const ringtail::test::HttpAnswer health = http_get(port, "/healthz");
  EXPECT_EQ(health.status, 200) << health.head;
  EXPECT_EQ(health.body, "ok\n");
  const ringtail::test::HttpAnswer stats = http_get(port, "/stats");
  EXPECT_EQ(stats.status, 200) << stats.head;
  EXPECT_NE(stats.body.find(R"({"segments":[],"sinks":[{"name":"http://collector/","delivery":"best_effort",)"),
            std::string::npos)
      << stats.body;
  EXPECT_NE(stats.body.find(R"("failed_lines":5,)"), std::string::npos) << stats.body;
  EXPECT_NE(stats.body.find(R"("passes":9,)"), std::string::npos) << stats.body;
  EXPECT_EQ(http_get(port, "/nope").status, 404);
  (*server)->stop();
  EXPECT_FALSE(ringtail::test::tcp_accepts(port));
}

// The drain's writer counts while scrapes render: under TSan, a race between
// the two would show here.
TEST(LiveServer, ScrapesWhileTheWriterCounts) {
  const uint16_t port = ringtail::test::free_loopback_port(SOCK_STREAM);
  absl::StatusOr<std::unique_ptr<LiveServer>> server = LiveServer::bind({"127.0.0.1", port});
  ASSERT_TRUE(server.ok()) << server.status();
  MetricsSink metrics;
  LiveSources sources;
  sources.metrics = &metrics;
  sources.discovery.pids = {2147483646};
  (*server)->start(sources);
  SegmentIdentity segment;
  segment.service = "svc";
  const EventBatch batch =
      batch_of(segment, line("INFO", "step.end", 1, R"("tool":"t","status":"SUCCESS","duration_ms":1)"));
  constexpr int kBatches = 2000;
  std::thread writer([&] {
    for (int i = 0; i < kBatches; ++i) {
      (void)metrics.write(batch);
      (void)metrics.flush();
    }
  });
  for (int i = 0; i < 20; ++i) EXPECT_EQ(ringtail::test::http_get(port, "/metrics").status, 200);
  writer.join();
  const std::string m = ringtail::test::http_get(port, "/metrics").body;
  EXPECT_EQ(sample(m, R"(ringtail_agent_steps_total{service="svc",tool="t",status="SUCCESS"})"), kBatches) << m;
}

TEST(LiveServer, StopsRightAfterStartAndWhenNeverStarted) {
  for (int round = 0; round < 20; ++round) {
    const uint16_t port = ringtail::test::free_loopback_port(SOCK_STREAM);
    absl::StatusOr<std::unique_ptr<LiveServer>> server = LiveServer::bind({"127.0.0.1", port});
    ASSERT_TRUE(server.ok()) << server.status();
    if (round % 2 == 0) (*server)->start(LiveSources{});
    (*server)->stop();
    EXPECT_FALSE(ringtail::test::tcp_accepts(port)) << "round " << round;  // the port is given back either way
  }
}

}  // namespace
}  // namespace ringtail::reader
