// AlertSink (alerts/alert_sink.hpp) fed hand-built batches (shaped_text.hpp)
// whose timestamps the test chooses: windows by the lines' own time, one
// notification per rule per window, COUNT/WINDOW thresholds, late lines,
// the engine's commit (discard takes a pass back), the payload (valid JSON,
// the first matching line as it was given), bounds on what is kept, failed
// deliveries retried and counted, a full queue dropping and counting.
// Notifications go to a function target (AlertTarget::Kind::kFunction), so
// nothing here needs a network; the CLI tests (alert_cli_test.cpp) use real
// webhooks and syslog sockets.
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <simdjson.h>

#include "eventually.hpp"
#include "ringtail/reader/alerts/alert_sink.hpp"
#include "ringtail/reader/output/time_text.hpp"
#include "shaped_text.hpp"

namespace ringtail::reader {
namespace {

constexpr int64_t kBase = 1'796'000'000'000'000'000;  // 2026-11-30
constexpr int64_t kSecond = 1'000'000'000;

// What a function target received, in order.
class Received {
 public:
  AlertTarget target(std::function<absl::Status()> answer = {}) {
    AlertTarget target;
    target.kind = AlertTarget::Kind::kFunction;
    target.uri = "test";
    target.deliver = [this, answer = std::move(answer)](const EventBatch& batch) {
      absl::Status status = answer ? answer() : absl::OkStatus();
      std::lock_guard lock(mutex_);
      ++calls_;
      if (status.ok()) {
        EXPECT_EQ(batch.size(), 1U);
        EXPECT_NE(batch.segment, nullptr);
        lines_.push_back(batch.text);
      }
      return status;
    };
    return target;
  }
  std::vector<std::string> lines() const {
    std::lock_guard lock(mutex_);
    return lines_;
  }
  int calls() const {
    std::lock_guard lock(mutex_);
    return calls_;
  }

 private:
  mutable std::mutex mutex_;
  std::vector<std::string> lines_;
  int calls_ = 0;
};

class AlertSinkTest : public ::testing::Test {
 protected:
  AlertSinkTest() {
    segment_.service = "agent";
    segment_.pid = 4242;
  }

  // One event line at kBase + `seconds`, with `fields` (JSON members) after its head.
  std::string line(double seconds, std::string_view level, std::string_view message, std::string_view fields = {}) {
    std::string text = "{\"timestamp\":\"" + format_timestamp(kBase + static_cast<int64_t>(seconds * kSecond)) +
                       "\",\"level\":\"" + std::string(level) + "\",\"message\":\"" + std::string(message) +
                       "\",\"service\":\"agent\",\"pid\":4242,\"tid\":7,\"seq\":" + std::to_string(seq_++);
    if (!fields.empty()) text += "," + std::string(fields);
    return text + "}\n";
  }
  std::string denial(double seconds, std::string_view reason = "outside workspace") {
    return line(seconds, "WARN", "policy.check",
                "\"policy\":\"fs\",\"validator\":\"path\",\"decision\":\"BLOCK\",\"allow\":false,\"reason\":\"" +
                    std::string(reason) + "\"");
  }
  std::string allowed(double seconds) {
    return line(seconds, "INFO", "policy.check",
                "\"policy\":\"fs\",\"validator\":\"path\",\"decision\":\"ALLOW\",\"allow\":true,\"reason\":\"ok\"");
  }
  EventBatch batch(std::string_view text) { return testing::batch_of(segment_, text); }

  static std::vector<AlertRule> rules(const std::vector<std::string>& texts) {
    absl::StatusOr<std::vector<AlertRule>> parsed = parse_alert_rules(texts);
    EXPECT_TRUE(parsed.ok()) << parsed.status();
    return parsed.ok() ? *std::move(parsed) : std::vector<AlertRule>{};
  }
  // Writes and flushes `text` as one pass.
  static void pass(AlertSink& sink, const EventBatch& batch) {
    ASSERT_TRUE(sink.write(batch).ok());
    ASSERT_TRUE(sink.flush().ok());
  }

  SegmentIdentity segment_;
  uint64_t seq_ = 0;
};

// The payload's top-level members, parsed.
struct Payload {
  std::string rule, where, window, first, last, event, event_note, message;
  uint64_t count = 0;
};

Payload parse_payload(const std::string& text) {
  Payload out;
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  EXPECT_EQ(parser.parse(text).get(root), simdjson::SUCCESS) << text;
  if (root.type() != simdjson::dom::element_type::OBJECT) return out;
  std::string_view s;
  if (root["rule"].get(s) == simdjson::SUCCESS) out.rule = s;
  if (root["where"].get(s) == simdjson::SUCCESS) out.where = s;
  if (root["window"].get(s) == simdjson::SUCCESS) out.window = s;
  if (root["first"].get(s) == simdjson::SUCCESS) out.first = s;
  if (root["last"].get(s) == simdjson::SUCCESS) out.last = s;
  if (root["message"].get(s) == simdjson::SUCCESS) out.message = s;
  if (root["event_note"].get(s) == simdjson::SUCCESS) out.event_note = s;
  if (root["count"].get(out.count) != simdjson::SUCCESS) out.count = 0;
  simdjson::dom::element event;
  if (root["event"].get(event) == simdjson::SUCCESS) out.event = simdjson::minify(event);
  return out;
}

// `line` (one hand-built line with its newline) as simdjson writes it back.
std::string minified(const std::string& line) {
  simdjson::dom::parser parser;
  simdjson::dom::element element;
  EXPECT_EQ(parser.parse(line).get(element), simdjson::SUCCESS) << line;
  return simdjson::minify(element);
}

AlertSinkOptions to(AlertTarget target) {
  AlertSinkOptions options;
  options.targets.push_back(std::move(target));
  return options;
}

std::string at(double seconds) { return format_timestamp(kBase + static_cast<int64_t>(seconds * kSecond)); }

TEST_F(AlertSinkTest, OneNotificationPerWindowByTheLinesOwnTime) {
  Received received;
  AlertSink sink(rules({"denied=message=policy.check,allow=false"}), to(received.target()));
  const std::string first = denial(0, "first");
  // Four denials within a minute of the first (and two allowed checks): one notification.
  pass(sink, batch(first + allowed(1) + denial(10) + denial(20)));
  pass(sink, batch(allowed(30) + denial(59.9)));
  // A minute after the line that fired: the next window.
  const std::string next = denial(60, "next");
  pass(sink, batch(next + denial(61) + denial(119)));
  sink.finish();
  const std::vector<std::string> lines = received.lines();
  ASSERT_EQ(lines.size(), 2U);
  Payload one = parse_payload(lines[0]);
  EXPECT_EQ(one.message, "ringtail.alert");
  EXPECT_EQ(one.rule, "denied");
  EXPECT_EQ(one.where, "message=policy.check,allow=false");
  EXPECT_EQ(one.count, 1U);
  EXPECT_EQ(one.window, "1m");
  EXPECT_EQ(one.first, at(0));
  EXPECT_EQ(one.last, at(0));
  EXPECT_EQ(one.event, minified(first));
  EXPECT_TRUE(one.event_note.empty());
  Payload two = parse_payload(lines[1]);
  EXPECT_EQ(two.first, at(60));
  EXPECT_EQ(two.event, minified(next));

  const std::vector<AlertRuleCounts> counts = sink.counts();
  ASSERT_EQ(counts.size(), 1U);
  EXPECT_EQ(counts[0].name, "denied");
  EXPECT_EQ(counts[0].matched, 7U);
  EXPECT_EQ(counts[0].fired, 2U);
  EXPECT_EQ(counts[0].sent, 2U);
  EXPECT_EQ(counts[0].failed, 0U);
  EXPECT_EQ(counts[0].dropped, 0U);
}

TEST_F(AlertSinkTest, CountMatchesMustFallWithinTheWindow) {
  Received received;
  AlertSink sink(rules({"errors=level>=ERROR@3/10s"}), to(received.target()));
  // 0, 5, then 11: the one at 0 is out of the window by then (two left).
  const std::string first = line(0, "ERROR", "e");
  const std::string second = line(1, "WARN", "w");
  const std::string fifth = line(5, "CRITICAL", "c");
  pass(sink, batch(first + second + fifth + line(11, "ERROR", "e") + line(11.5, "INFO", "i")));
  EXPECT_EQ(sink.counts()[0].fired, 0U);
  // 5, 11, 12: three within 10 s.
  const std::string third = line(12, "ERROR", "e");
  pass(sink, batch(third));
  // 13 and 14 fall within the window of the notification (until 22): quiet.
  pass(sink, batch(line(13, "ERROR", "e") + line(14, "ERROR", "e")));
  sink.finish();
  const std::vector<std::string> lines = received.lines();
  ASSERT_EQ(lines.size(), 1U);
  const Payload payload = parse_payload(lines[0]);
  EXPECT_EQ(payload.rule, "errors");
  EXPECT_EQ(payload.count, 3U);
  EXPECT_EQ(payload.window, "10s");
  EXPECT_EQ(payload.first, at(5));
  EXPECT_EQ(payload.last, at(12));
  EXPECT_EQ(payload.event, minified(fifth));  // the window's first
  EXPECT_EQ(sink.counts()[0].matched, 6U);
  EXPECT_EQ(sink.counts()[0].fired, 1U);
}

TEST_F(AlertSinkTest, ASustainedConditionNotifiesOncePerWindow) {
  Received received;
  AlertSink sink(rules({"busy=message=step@2/10s"}), to(received.target()));
  std::string text;
  for (int s = 0; s < 60; ++s) text += line(s, "INFO", "step");  // one a second for a minute
  pass(sink, batch(text));
  sink.finish();
  // Fires at 1 s, then at the first line at least 10 s after each: 11, 21, 31, 41, 51.
  const std::vector<std::string> lines = received.lines();
  ASSERT_EQ(lines.size(), 6U);
  for (size_t i = 0; i < lines.size(); ++i) EXPECT_EQ(parse_payload(lines[i]).last, at(1 + 10.0 * i)) << i;
}

TEST_F(AlertSinkTest, ALateLineTakesItsPlaceInTheWindow) {
  Received received;
  AlertSink sink(rules({"errors=level>=ERROR@3/10s"}), to(received.target()));
  // Another thread's line at 1 s comes after the one at 2 s.
  pass(sink, batch(line(0, "ERROR", "a") + line(2, "ERROR", "c") + line(1, "ERROR", "b")));
  // A line older than the window by the newest is no part of it.
  pass(sink, batch(line(30, "ERROR", "d") + line(31, "ERROR", "e") + line(15, "ERROR", "late")));
  sink.finish();
  const std::vector<std::string> lines = received.lines();
  ASSERT_EQ(lines.size(), 1U);
  const Payload payload = parse_payload(lines[0]);
  EXPECT_EQ(payload.first, at(0));
  EXPECT_EQ(payload.last, at(2));
  EXPECT_NE(payload.event.find("\"message\":\"a\""), std::string::npos) << payload.event;
}

TEST_F(AlertSinkTest, DiscardTakesThePassBackSoLinesReadAgainCountOnce) {
  Received received;
  AlertSink sink(rules({"denied=allow=false", "pair=allow=false@2/1m"}), to(received.target()));
  const EventBatch first = batch(denial(0));
  ASSERT_TRUE(sink.write(first).ok());
  sink.discard();  // the store failed: the engine reads the line again
  pass(sink, first);
  // Read twice, counted once: "pair" has seen one denial, not two.
  EXPECT_EQ(sink.counts()[0].matched, 1U);
  EXPECT_EQ(sink.counts()[1].matched, 1U);
  EXPECT_EQ(sink.counts()[1].fired, 0U);
  const EventBatch second = batch(denial(1));
  ASSERT_TRUE(sink.write(second).ok());
  sink.discard();
  pass(sink, second);
  sink.finish();
  const std::vector<std::string> lines = received.lines();
  ASSERT_EQ(lines.size(), 2U);  // "denied" once, "pair" once
  EXPECT_EQ(parse_payload(lines[0]).rule, "denied");
  EXPECT_EQ(parse_payload(lines[1]).rule, "pair");
  EXPECT_EQ(parse_payload(lines[1]).count, 2U);
  const std::vector<AlertRuleCounts> counts = sink.counts();
  EXPECT_EQ(counts[0].matched, 2U);
  EXPECT_EQ(counts[0].fired, 1U);
  EXPECT_EQ(counts[1].matched, 2U);
  EXPECT_EQ(counts[1].fired, 1U);
}

TEST_F(AlertSinkTest, TheNotificationIsAShapedLineForSyslog) {
  Received received;
  AlertSink sink(rules({"denied=allow=false"}), to(received.target()));
  pass(sink, batch(denial(3)));
  sink.finish();
  const std::vector<std::string> lines = received.lines();
  ASSERT_EQ(lines.size(), 1U);
  // The shape the notifier handed on describes the text: parse it the way
  // the tests do, and compare the keys.
  SegmentIdentity self;
  const EventBatch again = testing::batch_of(self, lines[0]);
  ASSERT_EQ(again.size(), 1U);
  EXPECT_EQ(again.message(again.lines[0]), "ringtail.alert");
  EXPECT_EQ(again.lines[0].level, shm::Level::kWarn);
  EXPECT_EQ(again.lines[0].time_ns, kBase + 3 * kSecond);
  std::vector<std::string> keys;
  for (uint32_t i = 0; i < again.lines[0].field_count; ++i) {
    keys.emplace_back(again.key(again.lines[0], again.fields[again.lines[0].first_field + i]));
  }
  EXPECT_EQ(keys, (std::vector<std::string>{"rule", "where", "count", "window", "first", "last", "event"}));
}

TEST_F(AlertSinkTest, LinesTooLongToKeepStillCountAndThePayloadSaysSo) {
  Received received;
  AlertSink sink(rules({"denied=allow=false"}), to(received.target()));
  const std::string huge(AlertSink::kMaxEventBytes, 'x');
  pass(sink, batch(denial(0, huge)));
  sink.finish();
  const std::vector<std::string> lines = received.lines();
  ASSERT_EQ(lines.size(), 1U);
  EXPECT_LT(lines[0].size(), 2048U);
  const Payload payload = parse_payload(lines[0]);
  EXPECT_EQ(payload.event, "null");
  EXPECT_NE(payload.event_note.find("no line of the window was kept (over 16 KiB"), std::string::npos)
      << payload.event_note;
  EXPECT_EQ(sink.counts()[0].fired, 1U);

  // Of two, the first is not kept: the payload has the second and says so.
  Received pairs;
  AlertSink pair_sink(rules({"pair=allow=false@2/1m"}), to(pairs.target()));
  const std::string kept = denial(2, "short");
  pass(pair_sink, batch(denial(1, huge) + kept));
  pair_sink.finish();
  ASSERT_EQ(pairs.lines().size(), 1U);
  const Payload pair = parse_payload(pairs.lines()[0]);
  EXPECT_EQ(pair.first, at(1));
  EXPECT_EQ(pair.event, minified(kept));
  EXPECT_NE(pair.event_note.find("the window's first line was not kept"), std::string::npos) << pair.event_note;
}

TEST_F(AlertSinkTest, AFailedDeliveryIsRetriedThenCountedAndTheTargetBacksOff) {
  Received received;
  AlertSinkOptions options;
  options.targets = {received.target([] { return absl::UnavailableError("receiver down"); })};
  options.notifier.tries = 3;
  options.notifier.first_retry = std::chrono::milliseconds(1);
  options.notifier.backoff_first = std::chrono::hours(1);  // never due again in this test
  std::vector<std::string> reports;
  std::mutex reports_mutex;
  options.notifier.report = [&](std::string_view line) {
    std::lock_guard lock(reports_mutex);
    reports.emplace_back(line);
  };
  {
    AlertSink sink(rules({"denied=allow=false"}), std::move(options));
    pass(sink, batch(denial(0)));
    ASSERT_TRUE(ringtail::test::eventually([&] { return sink.counts()[0].failed == 1; }));
    EXPECT_EQ(received.calls(), 3);  // tried three times
    // The next one waits for the backoff; finish() gives up on it at once.
    pass(sink, batch(denial(100)));
    sink.finish();
    EXPECT_EQ(received.calls(), 3);
    const std::vector<AlertRuleCounts> counts = sink.counts();
    EXPECT_EQ(counts[0].fired, 2U);
    EXPECT_EQ(counts[0].sent, 0U);
    EXPECT_EQ(counts[0].failed, 2U);
  }
  std::lock_guard lock(reports_mutex);
  ASSERT_EQ(reports.size(), 1U);  // said once
  EXPECT_NE(reports[0].find("alert to test failed: receiver down"), std::string::npos) << reports[0];
}

TEST_F(AlertSinkTest, AFullQueueDropsAndCountsWithoutBlocking) {
  std::mutex mutex;
  std::condition_variable changed;
  bool release = false;
  std::atomic<int> started{0};
  Received received;
  AlertSinkOptions options;
  options.targets = {received.target([&] {
    ++started;
    std::unique_lock lock(mutex);
    changed.wait(lock, [&] { return release; });
    return absl::OkStatus();
  })};
  options.notifier.max_queued = 2;
  AlertSink sink(rules({"denied=allow=false"}), std::move(options));
  // Six windows in one pass: two may be queued per pass, the rest are dropped.
  pass(sink, batch(denial(0) + denial(100) + denial(200) + denial(300) + denial(400) + denial(500)));
  ASSERT_TRUE(ringtail::test::eventually([&] { return started == 1; }));
  // One is being delivered (blocked), one queued. Of three more, two may
  // be queued by the pass, and the queue takes one of them.
  pass(sink, batch(denial(600) + denial(700) + denial(800)));
  EXPECT_EQ(sink.counts()[0].dropped, 4U + 1U + 1U);
  {
    std::lock_guard lock(mutex);
    release = true;
  }
  changed.notify_all();
  sink.finish();
  const std::vector<AlertRuleCounts> counts = sink.counts();
  EXPECT_EQ(counts[0].fired, 9U);
  EXPECT_EQ(counts[0].sent, 3U);
  EXPECT_EQ(counts[0].dropped, 6U);
  EXPECT_EQ(counts[0].sent + counts[0].dropped, counts[0].fired);
}

}  // namespace
}  // namespace ringtail::reader
