// ringtail/binding.hpp, the run-time typed call sites and frames of language
// bindings, through a real producer and the reader's drain: values of every
// type read back as the C++ templates write them, refused events write
// nothing, and frames bound again as resent records (the asyncio case) make
// no extra span lines while a span ended on another thread still ends once.
#include "ringtail/binding.hpp"

#include <bit>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "line_fields.hpp"
#include "producer_child.hpp"
#include "ringtail/ringtail.hpp"

namespace ringtail::reader {
namespace {

using ringtail::test::ProducerChild;
using shm::FieldType;
using testing::Fields;
using testing::find_line;
using testing::lines_with;

binding::Value scalar(FieldType type, uint64_t word) {
  binding::Value value;
  value.type = type;
  value.word = word;
  return value;
}

binding::Value text(std::string_view content) {
  binding::Value value;
  value.type = FieldType::kString;
  value.text = content;
  return value;
}

Options options_named(const char* service) {
  Options options;
  options.service = service;
  options.max_threads = 4;
  options.max_string_bytes = 64;
  return options;
}

TEST(Binding, ValuesOfEveryTypeReadBackAsTheirCppTwins) {
  ProducerChild child = ProducerChild::start(options_named("binding"), [](ProducerChild::Link&) {
    binding::Value error;
    error.type = FieldType::kError;
    error.error_type = "ValueError";
    error.text = "bad input";
    error.stack = "app.py:3 (run)\napp.py:9 (<module>)";
    error.code = 22;
    error.has_code = true;
    const std::string long_text(100, 'x');
    const std::vector<binding::Value> values = {
        scalar(FieldType::kBool, 1),
        scalar(FieldType::kI64, static_cast<uint64_t>(int64_t{-5})),
        scalar(FieldType::kU64, UINT64_MAX),
        scalar(FieldType::kF64, std::bit_cast<uint64_t>(1.5)),
        text("write_file"),
        text(long_text),
        scalar(FieldType::kDurationNs, 1'500'000),
        scalar(FieldType::kNull, 0),
        error,
    };
    const std::vector<std::string> keys = {"ok", "delta", "big", "ratio", "tool", "long", "took", "none", "error"};
    std::vector<FieldType> types;
    for (const binding::Value& value : values) types.push_back(value.type);
    binding::Site site(Level::kError, "typed at run time", "app.py", 3, "run", keys, types);
    if (binding::emit(site, values.data(), static_cast<uint32_t>(values.size()), FullRing::kDrop) !=
        EmitResult::kCommitted) {
      return 1;
    }
    // The same values through a C++ call site, for comparison.
    RINGTAIL_ERROR("typed at compile time", kv("ok", true), kv("delta", int64_t{-5}), kv("big", UINT64_MAX),
                   kv("ratio", 1.5), kv("tool", "write_file"), kv("long", long_text),
                   kv("took", std::chrono::microseconds(1500)), kv("none", nullptr),
                   kv("error", ringtail::error("ValueError", "bad input", 22)));
    return 0;
  });
  ASSERT_TRUE(child.ok()) << child.error();
  ASSERT_EQ(child.join(), 0);
  const std::vector<Fields> lines = testing::drain_lines(child.pid());
  const Fields& dynamic = *find_line(lines, "typed at run time");
  const Fields& templated = *find_line(lines, "typed at compile time");
  EXPECT_EQ(dynamic["level"], "ERROR");
  for (const char* key : {"ok", "delta", "big", "ratio", "tool", "long", "took", "none", "_cut"}) {
    EXPECT_EQ(dynamic[key], templated[key]) << key << "\n" << dynamic.raw << "\n" << templated.raw;
  }
  EXPECT_EQ(dynamic["none"], "null");
  EXPECT_EQ(dynamic["big"], "18446744073709551615");
  EXPECT_EQ(
      dynamic["error"],
      R"json({"type":"ValueError","message":"bad input","code":22,"stack":["app.py:3 (run)","app.py:9 (<module>)"]})json");
}

TEST(Binding, AMismatchedOrOversizedEventWritesNothing) {
  ProducerChild child = ProducerChild::start(options_named("binding_refused"), [](ProducerChild::Link&) {
    binding::Site site(Level::kInfo, "one string", "app.py", 1, "f", {"tool"}, {FieldType::kString});
    const binding::Value wrong_type = scalar(FieldType::kI64, 1);
    if (binding::emit(site, &wrong_type, 1, FullRing::kDrop) != EmitResult::kLost) return 1;
    if (binding::emit(site, nullptr, 0, FullRing::kDrop) != EmitResult::kLost) return 2;
    std::vector<std::string> keys;
    std::vector<FieldType> types;
    std::vector<binding::Value> values;
    for (int i = 0; i < 33; ++i) {
      keys.emplace_back("k").append(std::to_string(i));  // not "k" + ...: GCC 12's false -Wrestrict
      types.push_back(FieldType::kBool);
      values.push_back(scalar(FieldType::kBool, 0));
    }
    binding::Site too_wide(Level::kInfo, "too wide", "app.py", 2, "f", keys, types);
    if (binding::emit(too_wide, values.data(), 33, FullRing::kDrop) != EmitResult::kLost) return 3;
    const binding::Value right = text("ok");
    return binding::emit(site, &right, 1, FullRing::kDrop) == EmitResult::kCommitted ? 0 : 4;
  });
  ASSERT_TRUE(child.ok()) << child.error();
  ASSERT_EQ(child.join(), 0);
  const std::vector<Fields> lines = testing::drain_lines(child.pid());
  ASSERT_EQ(lines.size(), 1u) << lines.back().raw;
  EXPECT_EQ(lines[0]["message"], "one string");
  EXPECT_EQ(lines[0]["seq"], "0") << "refused events take no seq";
}

// Two chains bound in turn on one thread, as two asyncio tasks interleave:
// task A's context, task B's span. Each event carries only its chain's
// fields; the span gets one span.start and one span.end, the end written by
// another thread that binds B's chain again first.
TEST(Binding, ChainsReboundAsResentMakeNoExtraSpanLines) {
  ProducerChild child = ProducerChild::start(options_named("binding_frames"), [](ProducerChild::Link&) {
    binding::Site site(Level::kInfo, "tick", "app.py", 1, "task", {"i"}, {FieldType::kI64});
    const std::string task_key = "task";
    const binding::Value task_a = text("a");
    binding::FrameRecord context_a = binding::encode_context(&task_key, &task_a, 1);
    binding::FrameRecord span_b =
        binding::encode_span(new_trace_id(), new_span_id(), 0, 1, "fetch", nullptr, nullptr, 0);
    if (binding::bind_frame(context_a, /*resent=*/false) != 0) return 1;
    const binding::Value zero = scalar(FieldType::kI64, 0);
    (void)binding::emit(site, &zero, 1, FullRing::kDrop);
    // Task B starts: A's frames are unbound, B's span begins.
    binding::unbind_frames(0);
    if (binding::bind_frame(span_b, /*resent=*/false) != 0) return 2;
    const binding::Value one = scalar(FieldType::kI64, 1);
    (void)binding::emit(site, &one, 1, FullRing::kDrop);
    for (int round = 2; round < 6; ++round) {
      const binding::Value i = scalar(FieldType::kI64, static_cast<uint64_t>(round));
      binding::unbind_frames(0);
      (void)binding::bind_frame(round % 2 == 0 ? context_a : span_b, /*resent=*/true);
      (void)binding::emit(site, &i, 1, FullRing::kDrop);
    }
    if (binding::frame_depth() != 1) return 3;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    // B's span ends on another thread (asyncio.to_thread, a task moved to
    // another loop): bound there as resent, then ended for real.
    std::thread([&] {
      (void)binding::bind_frame(span_b, /*resent=*/true);
      binding::end_frame(0, /*is_span=*/true, "OK", nullptr);
    }).join();
    return binding::frame_depth() == 1 ? 0 : 4;
  });
  ASSERT_TRUE(child.ok()) << child.error();
  ASSERT_EQ(child.join(), 0);
  const std::vector<Fields> lines = testing::drain_lines(child.pid());
  const std::vector<const Fields*> starts = lines_with(lines, "span.start");
  const std::vector<const Fields*> ends = lines_with(lines, "span.end");
  ASSERT_EQ(starts.size(), 1u);
  ASSERT_EQ(ends.size(), 1u);
  EXPECT_EQ((*ends[0])["span_id"], (*starts[0])["span_id"]);
  EXPECT_NE((*ends[0])["tid"], (*starts[0])["tid"]) << "ended on the other thread";
  // Timed from the first binding, not the rebinding before the end.
  EXPECT_GE(std::stod((*ends[0])["duration_ms"]), 20.0);
  const std::vector<const Fields*> ticks = lines_with(lines, "tick");
  ASSERT_EQ(ticks.size(), 6u);
  for (const Fields* tick : ticks) {
    const bool in_a = std::stoi((*tick)["i"]) % 2 == 0;
    EXPECT_EQ(tick->has("task"), in_a) << tick->raw;
    EXPECT_EQ(tick->has("span_id"), !in_a) << tick->raw;
    if (!in_a) {
      EXPECT_EQ((*tick)["span_id"], (*starts[0])["span_id"]);
    }
  }
}

}  // namespace
}  // namespace ringtail::reader
