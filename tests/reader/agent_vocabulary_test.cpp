// The agent vocabulary (ringtail/agent.hpp): each typed call site, logged by a
// real producer and drained, gives the message, level, keys and values
// docs/FORMAT.md lists.
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "drain_test_support.hpp"
#include "producer_child.hpp"
#include "ringtail/reader/drain/drain_engine.hpp"
#include "ringtail/ringtail.hpp"

namespace ringtail::reader {
namespace {

using ringtail::test::ProducerChild;
using testing::Line;
using testing::MemorySink;
using testing::parse_lines;
namespace agent = ringtail::agent;

TEST(AgentVocabulary, EveryCallSiteWritesItsKeys) {
  Options options;
  options.service = "vocabulary";
  options.max_threads = 2;
  ProducerChild child = ProducerChild::start(options, [](ProducerChild::Link&) {
    int lost = 0;
    lost += !agent::step_start("run-1", 3, "write_file");
    lost += !agent::step_end("run-1", 3, "write_file", agent::Status::kSuccess, 1.5);
    lost += !agent::step_end("run-1", 4, "run_code", agent::Status::kFailure, 2.25);
    lost += !agent::policy_check("fs.workspace_only", "path_validator", agent::Decision::kBlock, "outside");
    lost += !agent::policy_check("net", "egress", agent::Decision::kAllow, "ok");
    lost += !agent::cost("gpt-4o", 1200, 0.012);
    lost += !agent::audit_decision("agent-7", "shell", "exec", R"({"cmd":"ls"})", false, "denied", 0.4);
    lost += !agent::memory_op(agent::MemoryOp::kRecall, "u1", "s1", "e1,e2", agent::Status::kFailure, 0.3, "no match");
    lost += !agent::memory_op(agent::MemoryOp::kCompact, "u1", "s1", "", agent::Status::kPartial, 0.1);
    lost += !agent::llm_call("claude-sonnet", 1500, 320, 0.0093, 812.5);
    lost += !agent::llm_call("gpt-4o", 900, 100, 0.004, 410.0, "openai");
    return lost;
  });
  ASSERT_TRUE(child.ok()) << child.error();
  ASSERT_EQ(child.join(), 0);
  MemorySink sink;
  DrainOptions drain;
  drain.discovery.pids = {child.pid()};
  DrainEngine engine(drain, sink, nullptr);
  ASSERT_TRUE(engine.drain_once().ok());
  const std::vector<Line> lines = parse_lines(sink.text);
  ASSERT_EQ(lines.size(), 11u) << sink.text;
  const auto& raw = [&](size_t i) { return lines[i].raw; };
  auto has = [&](size_t i, const std::string& text) { return raw(i).find(text) != std::string::npos; };
  EXPECT_EQ(lines[0].message, "step.start");
  EXPECT_TRUE(has(0, R"("run_id":"run-1","step_id":3,"tool":"write_file"})")) << raw(0);
  EXPECT_EQ(lines[1].level, "INFO");
  EXPECT_TRUE(has(1, R"("status":"SUCCESS","duration_ms":1.5)")) << raw(1);
  EXPECT_EQ(lines[2].level, "WARN");
  EXPECT_TRUE(has(2, R"("status":"FAILURE")")) << raw(2);
  EXPECT_EQ(lines[3].message, "policy.check");
  EXPECT_EQ(lines[3].level, "WARN");
  EXPECT_TRUE(has(
      3,
      R"("policy":"fs.workspace_only","validator":"path_validator","decision":"BLOCK","allow":false,"reason":"outside")"))
      << raw(3);
  EXPECT_EQ(lines[4].level, "INFO");
  EXPECT_TRUE(has(4, R"("decision":"ALLOW","allow":true)")) << raw(4);
  EXPECT_TRUE(has(5, R"("message":"cost")") && has(5, R"("model":"gpt-4o","tokens":1200,"cost_usd":0.012)")) << raw(5);
  EXPECT_TRUE(has(
      6,
      R"("agent_id":"agent-7","tool":"shell","function":"exec","arguments":"{\"cmd\":\"ls\"}","allow":false,"reason":"denied","duration_ms":0.4)"))
      << raw(6);
  EXPECT_EQ(lines[6].level, "WARN");
  EXPECT_TRUE(has(
      7,
      R"("operation":"RECALL","user_id":"u1","session_id":"s1","entry_ids":"e1,e2","status":"FAILURE","duration_ms":0.3,"error_message":"no match")"))
      << raw(7);
  EXPECT_EQ(lines[8].level, "INFO");
  EXPECT_TRUE(has(8, R"("operation":"COMPACT")") && has(8, R"("status":"PARTIAL")")) << raw(8);
  EXPECT_EQ(lines[9].message, "llm.call");
  EXPECT_EQ(lines[9].level, "INFO");
  EXPECT_TRUE(has(
      9, R"("model":"claude-sonnet","input_tokens":1500,"output_tokens":320,"cost_usd":0.0093,"duration_ms":812.5})"))
      << raw(9);
  EXPECT_TRUE(has(10, R"("cost_usd":0.004,"duration_ms":410,"provider":"openai"})")) << raw(10);
}

}  // namespace
}  // namespace ringtail::reader
