// ScopedContext and Span (ringtail/context.hpp, ringtail/span.hpp) through a
// real producer and the reader's drain: context fields on every event of the
// thread that bound them and no other, nesting and shadowing, span lines with
// their ids, parents and durations, a remote traceparent joined, context
// re-sent after a forced drop, and redaction of context values.
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <simdjson.h>

#include "drain_test_support.hpp"
#include "line_fields.hpp"
#include "producer_child.hpp"
#include "ringtail/reader/drain/drain_engine.hpp"
#include "ringtail/reader/output/redaction.hpp"
#include "ringtail/ringtail.hpp"

namespace ringtail::reader {
namespace {

using ringtail::test::ProducerChild;
using testing::MemorySink;

using testing::drain_lines;
using testing::Fields;
using testing::find_line;
using testing::parse_lines;

TEST(ContextSpan, NestedScopesAndSpansAnnotateTheirThreadsEvents) {
  Options options;
  options.service = "context";
  options.max_threads = 4;
  ProducerChild child = ProducerChild::start(options, [](ProducerChild::Link&) {
    ScopedContext outer{kv("session_id", "s-1"), kv("user_id", "u-1")};
    RINGTAIL_INFO("a");
    {
      ScopedContext inner{kv("user_id", "u-2"), kv("request", "r-9"), kv("attempt", 2)};
      RINGTAIL_INFO("b", kv("request", "own"));
      {
        Span span("process_query", kv("query_id", 7));
        RINGTAIL_INFO("c");
        {
          Span tool("tool_call");
          RINGTAIL_INFO("d");
          tool.set_status(SpanStatus::kError);
        }
        // Another thread has none of this thread's frames.
        std::thread([] { RINGTAIL_INFO("other thread", kv("n", 1)); }).join();
      }
      RINGTAIL_INFO("e");
    }
    RINGTAIL_INFO("f");
    return 0;
  });
  ASSERT_TRUE(child.ok()) << child.error();
  ASSERT_EQ(child.join(), 0);
  const std::vector<Fields> lines = drain_lines(child.pid());

  const Fields& a = *find_line(lines, "a");
  EXPECT_EQ(a["session_id"], "s-1");
  EXPECT_EQ(a["user_id"], "u-1");
  EXPECT_FALSE(a.has("trace_id"));

  const Fields& b = *find_line(lines, "b");
  EXPECT_EQ(b["user_id"], "u-2") << "the inner scope's field wins";
  EXPECT_EQ(b["request"], "own") << "the event's own field wins";
  EXPECT_EQ(b["attempt"], "2");
  EXPECT_EQ(b["session_id"], "s-1");
  int requests = 0;
  for (const std::string& key : b.keys) requests += key == "request";
  EXPECT_EQ(requests, 1) << b.raw;

  const Fields& start = *find_line(lines, "span.start");
  EXPECT_EQ(start["span"], "process_query");
  EXPECT_EQ(start["query_id"], "7");
  EXPECT_EQ(start["trace_id"].size(), 32u);
  EXPECT_EQ(start["span_id"].size(), 16u);
  EXPECT_FALSE(start.has("parent_span_id")) << "a root span";
  EXPECT_EQ(start["session_id"], "s-1") << "span lines carry the context around them";
  EXPECT_EQ(start["user_id"], "u-2");
  EXPECT_FALSE(start.has("seq")) << "span lines are not events";

  const Fields& c = *find_line(lines, "c");
  EXPECT_EQ(c["trace_id"], start["trace_id"]);
  EXPECT_EQ(c["span_id"], start["span_id"]);
  EXPECT_FALSE(c.has("query_id")) << "span attributes stay on span.start";
  // After the event's own keys: outer frames first, each frame's fields in
  // the order they were bound, the span's ids last.
  const std::vector<std::string> context_keys = {"session_id", "user_id", "request", "attempt", "trace_id", "span_id"};
  ASSERT_GE(c.keys.size(), context_keys.size());
  EXPECT_EQ(std::vector<std::string>(c.keys.end() - static_cast<std::ptrdiff_t>(context_keys.size()), c.keys.end()),
            context_keys)
      << c.raw;
  EXPECT_EQ(c["user_id"], "u-2");

  const Fields& d = *find_line(lines, "d");
  EXPECT_EQ(d["trace_id"], start["trace_id"]) << "a child span stays in its parent's trace";
  EXPECT_NE(d["span_id"], start["span_id"]);

  std::vector<const Fields*> starts;
  std::vector<const Fields*> ends;
  for (const Fields& line : lines) {
    if (line["message"] == "span.start") starts.push_back(&line);
    if (line["message"] == "span.end") ends.push_back(&line);
  }
  ASSERT_EQ(starts.size(), 2u);
  ASSERT_EQ(ends.size(), 2u);
  const Fields& tool_start = *starts[1];
  EXPECT_EQ(tool_start["span"], "tool_call");
  EXPECT_EQ(tool_start["span_id"], d["span_id"]);
  EXPECT_EQ(tool_start["parent_span_id"], start["span_id"]);
  // The inner span ends first.
  const Fields& tool_end = *ends[0];
  EXPECT_EQ(tool_end["span_id"], d["span_id"]);
  EXPECT_EQ(tool_end["status"], "ERROR");
  EXPECT_EQ(tool_end["level"], "WARN");
  const Fields& end = *ends[1];
  EXPECT_EQ(end["span"], "process_query");
  EXPECT_EQ(end["span_id"], start["span_id"]);
  EXPECT_EQ(end["status"], "OK");
  EXPECT_EQ(end["level"], "INFO");
  ASSERT_TRUE(end.has("duration_ms"));
  // It spans a thread's creation and join: measurably longer than nothing,
  // and no longer than the whole test.
  EXPECT_GT(std::stod(end["duration_ms"]), 0.0);
  EXPECT_LT(std::stod(end["duration_ms"]), 20000.0);
  EXPECT_GE(std::stod(end["duration_ms"]), std::stod(tool_end["duration_ms"]));

  const Fields& other = *find_line(lines, "other thread");
  EXPECT_FALSE(other.has("session_id")) << other.raw;
  EXPECT_FALSE(other.has("trace_id")) << other.raw;

  const Fields& e = *find_line(lines, "e");
  EXPECT_FALSE(e.has("trace_id")) << "the span ended";
  EXPECT_EQ(e["request"], "r-9");
  const Fields& f = *find_line(lines, "f");
  EXPECT_EQ(f["user_id"], "u-1") << "the inner scope ended";
  EXPECT_FALSE(f.has("request"));
  EXPECT_FALSE(f.has("attempt"));
}

TEST(ContextSpan, JoinsARemoteTraceAndFormatsTheNextHop) {
  Options options;
  options.service = "traceparent";
  options.max_threads = 2;
  ProducerChild child = ProducerChild::start(options, [](ProducerChild::Link& link) {
    const std::optional<TraceParent> incoming =
        parse_traceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
    if (!incoming) return 1;
    Span span("handle_request", *incoming);
    RINGTAIL_INFO("inside");
    const std::string next = span.traceparent();
    return link.send(next.data(), next.size()) ? 0 : 2;
  });
  ASSERT_TRUE(child.ok()) << child.error();
  std::string next(kTraceParentChars, '\0');
  ASSERT_TRUE(child.receive(next.data(), next.size()));
  ASSERT_EQ(child.join(), 0);
  const std::vector<Fields> lines = drain_lines(child.pid());
  const Fields& start = *find_line(lines, "span.start");
  EXPECT_EQ(start["trace_id"], "4bf92f3577b34da6a3ce929d0e0e4736");
  EXPECT_EQ(start["parent_span_id"], "00f067aa0ba902b7");
  EXPECT_EQ(find_line(lines, "inside")->values.at("trace_id"), "4bf92f3577b34da6a3ce929d0e0e4736");
  // The next hop's header: the same trace, this span as its parent.
  EXPECT_EQ(next, "00-4bf92f3577b34da6a3ce929d0e0e4736-" + start["span_id"] + "-01");
  const std::optional<TraceParent> parsed = parse_traceparent(next);
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(parsed->trace_id, (TraceId{0x4bf92f3577b34da6ULL, 0xa3ce929d0e0e4736ULL}));
}

// Span::fail ends the span at once, with the error in its span.end line.
// kv(key, nullptr) is JSON null wherever a field goes: an event's own
// fields, a ScopedContext's and a span's attributes.
TEST(ContextSpan, NullValuesInEventsContextsAndSpans) {
  Options options;
  options.service = "nulls";
  options.max_threads = 2;
  ProducerChild child = ProducerChild::start(options, [](ProducerChild::Link&) {
    ScopedContext context{kv("parent", nullptr), kv("tenant", "acme")};
    RINGTAIL_INFO("own null", kv("x", nullptr), kv("after", 1));
    {
      Span span("lookup", kv("cache", nullptr));
      RINGTAIL_INFO("in span");
    }
    return 0;
  });
  ASSERT_TRUE(child.ok()) << child.error();
  ASSERT_EQ(child.join(), 0);
  const std::vector<Fields> lines = drain_lines(child.pid());

  const Fields& own = *find_line(lines, "own null");
  EXPECT_NE(own.raw.find(R"("x":null,"after":1,"parent":null,"tenant":"acme")"), std::string::npos) << own.raw;
  EXPECT_EQ(own["x"], "null");
  EXPECT_EQ(own["parent"], "null");

  const Fields& start = *find_line(lines, "span.start");
  EXPECT_EQ(start["span"], "lookup");
  EXPECT_EQ(start["cache"], "null") << start.raw;
  EXPECT_EQ(start["parent"], "null") << start.raw;
  const Fields& in_span = *find_line(lines, "in span");
  EXPECT_EQ(in_span["parent"], "null") << in_span.raw;
  EXPECT_FALSE(in_span.has("cache")) << "span attributes stay on span.start";
}

TEST(ContextSpan, FailEndsTheSpanWithItsError) {
  Options options;
  options.service = "span-fail";
  options.max_threads = 2;
  ProducerChild child = ProducerChild::start(options, [](ProducerChild::Link&) {
    Span span("parse_input");
    span.fail(std::runtime_error("unexpected token at 7"));
    RINGTAIL_INFO("after fail");  // the span has ended: no trace ids
    span.end();                   // ended once only
    return 0;
  });
  ASSERT_TRUE(child.ok()) << child.error();
  ASSERT_EQ(child.join(), 0);
  const std::vector<Fields> lines = drain_lines(child.pid());
  size_t ends = 0;
  for (const Fields& line : lines) ends += line["message"] == "span.end";
  EXPECT_EQ(ends, 1u);
  const Fields& end = *find_line(lines, "span.end");
  EXPECT_EQ(end["status"], "ERROR");
  EXPECT_EQ(end["level"], "WARN");
  EXPECT_EQ(end["error"], R"({"type":"std::runtime_error","message":"unexpected token at 7"})") << end.raw;
  EXPECT_FALSE(find_line(lines, "after fail")->has("trace_id"));
}

// A full ring drops events and frame records alike; the producer re-sends the
// thread's frames before its next event, so no event after the drop lacks its
// context, and the drop itself is reported.
TEST(ContextSpan, ContextSurvivesAForcedDrop) {
  Options options;
  options.service = "context-drop";
  options.max_threads = 2;
  options.ring_bytes = 4096;
  ProducerChild child = ProducerChild::start(options, [](ProducerChild::Link& link) {
    ScopedContext outer{kv("session_id", "s-7")};
    Span span("long_job");
    int n = 0;
    while (RINGTAIL_INFO("fill", kv("n", n))) ++n;  // until the ring is full: one drop
    // Bound after the drop, while the ring is still full: the thread is
    // already due to re-send its frames, and this one goes with them.
    ScopedContext late{kv("phase", "late")};
    if (!link.signal() || !link.wait()) return 1;  // the parent drains the ring
    RINGTAIL_INFO("after drop");
    return n > 0 ? 0 : 2;
  });
  ASSERT_TRUE(child.ok()) << child.error();
  ASSERT_TRUE(child.wait_signal());
  MemorySink sink;
  DrainOptions drain_options;
  drain_options.discovery.pids = {child.pid()};
  DrainEngine engine(drain_options, sink, nullptr);
  ASSERT_TRUE(engine.drain_once().ok());
  ASSERT_TRUE(child.resume());
  ASSERT_EQ(child.join(), 0);
  ASSERT_TRUE(engine.drain_once().ok());
  const std::vector<Fields> lines = parse_lines(sink.text);

  const Fields& start = *find_line(lines, "span.start");
  size_t fills = 0;
  for (const Fields& line : lines) {
    if (line["message"] != "fill") continue;
    ++fills;
    EXPECT_EQ(line["session_id"], "s-7") << line.raw;
    EXPECT_EQ(line["trace_id"], start["trace_id"]) << line.raw;
  }
  EXPECT_GT(fills, 0u);
  const Fields& dropped = *find_line(lines, "ringtail.dropped");
  EXPECT_EQ(std::stoi(dropped["dropped"]), 1) << "the event that found the ring full";
  const Fields& after = *find_line(lines, "after drop");
  EXPECT_EQ(after["session_id"], "s-7") << after.raw;
  EXPECT_EQ(after["phase"], "late") << "the frame bound during the drop was re-sent";
  EXPECT_EQ(after["trace_id"], start["trace_id"]);
  EXPECT_EQ(after["span_id"], start["span_id"]);
  // The re-sent span is not a second start; its end comes once.
  size_t starts = 0;
  size_t ends = 0;
  for (const Fields& line : lines) {
    starts += line["message"] == "span.start";
    ends += line["message"] == "span.end";
  }
  EXPECT_EQ(starts, 1u);
  EXPECT_EQ(ends, 1u);
}

// A fork child keeps the frames in scope where it forked: its own segment
// gets them before its first event.
TEST(ContextSpan, AForkChildKeepsItsFrames) {
  Options options;
  options.service = "context-fork";
  options.max_threads = 2;
  ProducerChild child = ProducerChild::start(options, [](ProducerChild::Link& link) {
    ScopedContext context{kv("session_id", "s-fork")};
    Span span("forking_job");
    RINGTAIL_INFO("in parent");
    const pid_t grandchild = ::fork();
    if (grandchild == 0) {
      RINGTAIL_INFO("in child");
      ringtail::shutdown();
      ::_exit(0);
    }
    int status = 0;
    if (grandchild < 0 || ::waitpid(grandchild, &status, 0) != grandchild || status != 0) return 1;
    return link.send(&grandchild, sizeof(grandchild)) ? 0 : 2;
  });
  ASSERT_TRUE(child.ok()) << child.error();
  pid_t grandchild = 0;
  ASSERT_TRUE(child.receive(&grandchild, sizeof(grandchild)));
  ASSERT_EQ(child.join(), 0);
  const std::vector<Fields> parent_lines = drain_lines(child.pid());
  const std::vector<Fields> child_lines = drain_lines(grandchild);
  const Fields& in_parent = *find_line(parent_lines, "in parent");
  const Fields& in_child = *find_line(child_lines, "in child");
  EXPECT_EQ(in_child["session_id"], "s-fork") << in_child.raw;
  EXPECT_EQ(in_child["trace_id"], in_parent["trace_id"]);
  EXPECT_EQ(in_child["span_id"], in_parent["span_id"]);
  for (const Fields& line : child_lines) {
    EXPECT_NE(line["message"], "span.start") << "the span began in the parent";
  }
  // The grandchild's segment is ours to remove: ProducerChild cleans up only its own pid.
  for (const auto& entry : std::filesystem::directory_iterator("/dev/shm")) {
    if (entry.path().filename().string().rfind("ringtail." + std::to_string(grandchild) + ".", 0) == 0) {
      std::filesystem::remove(entry.path());
    }
  }
}

// Context values go through the reader's redaction like the event's own.
TEST(ContextSpan, ContextValuesAreRedacted) {
  Options options;
  options.service = "context-redaction";
  options.max_threads = 2;
  ProducerChild child = ProducerChild::start(options, [](ProducerChild::Link&) {
    ScopedContext ctx{kv("api_key", "canary-context-4b1d"), kv("user_id", "u-1")};
    Span span("call", kv("authorization", "canary-span-77e2"));
    RINGTAIL_INFO("event");
    return 0;
  });
  ASSERT_TRUE(child.ok()) << child.error();
  ASSERT_EQ(child.join(), 0);
  const std::vector<Fields> lines = drain_lines(
      child.pid(), std::make_shared<const Redactor>(std::vector<RedactionRule>{}, /*default_rules=*/true, nullptr));
  ASSERT_FALSE(lines.empty());
  for (const Fields& line : lines) {
    EXPECT_EQ(line.raw.find("canary"), std::string::npos) << line.raw;
  }
  const Fields& event = *find_line(lines, "event");
  EXPECT_EQ(event["api_key"], std::string(kRedactedText));
  EXPECT_EQ(event["user_id"], "u-1");
  EXPECT_EQ(find_line(lines, "span.start")->values.at("authorization"), std::string(kRedactedText));
}

}  // namespace
}  // namespace ringtail::reader
