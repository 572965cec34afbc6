// Error fields (kv("error", …), ringtail/field.hpp) through a real producer
// and the reader's drain: exceptions (their dynamic type demangled), codes of
// std::system_error and std::error_code, ringtail::error(), a cut message,
// and the opt-in stack capture (Options::error_stacks) on ERROR events only.
#include <dlfcn.h>

#include <algorithm>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <system_error>
#include <vector>

#include <gtest/gtest.h>
#include <simdjson.h>

#include "drain_test_support.hpp"
#include "producer_child.hpp"
#include "ringtail/reader/drain/drain_engine.hpp"
#include "ringtail/ringtail.hpp"

namespace error_field_test {
// An exception class of the application's own, in a namespace.
class ParseError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};
}  // namespace error_field_test

namespace ringtail::reader {
namespace {

using ringtail::kv;
using ringtail::test::ProducerChild;
using testing::MemorySink;

// An event line's message, level and "error" object, parsed.
struct ErrorLine {
  std::string message;
  std::string level;
  bool has_error = false;
  std::vector<std::string> error_keys;
  std::string type;
  std::string error_message;
  std::optional<int64_t> code;
  std::optional<std::vector<std::string>> stack;
  std::optional<int64_t> cut;  // "_cut"."error"
  std::string raw;
};

std::vector<ErrorLine> parse_error_lines(const std::string& text) {
  std::vector<ErrorLine> out;
  simdjson::dom::parser parser;
  size_t start = 0;
  while (start < text.size()) {
    const size_t end = text.find('\n', start);
    ErrorLine line;
    line.raw = text.substr(start, end - start);
    start = end == std::string::npos ? text.size() : end + 1;
    simdjson::dom::object object;
    if (parser.parse(line.raw).get(object) != simdjson::SUCCESS) {
      ADD_FAILURE() << "not JSON: " << line.raw;
      continue;
    }
    line.message = std::string(std::string_view(object["message"]));
    line.level = std::string(std::string_view(object["level"]));
    simdjson::dom::object error;
    if (object["error"].get(error) == simdjson::SUCCESS) {
      line.has_error = true;
      for (auto [key, value] : error) line.error_keys.emplace_back(key);
      line.type = std::string(std::string_view(error["type"]));
      line.error_message = std::string(std::string_view(error["message"]));
      int64_t code = 0;
      if (error["code"].get(code) == simdjson::SUCCESS) line.code = code;
      simdjson::dom::array stack;
      if (error["stack"].get(stack) == simdjson::SUCCESS) {
        line.stack.emplace();
        for (simdjson::dom::element frame : stack) line.stack->emplace_back(std::string_view(frame));
      }
    }
    int64_t cut = 0;
    if (object["_cut"]["error"].get(cut) == simdjson::SUCCESS) line.cut = cut;
    out.push_back(std::move(line));
  }
  return out;
}

// Drains the (finished) child's segment once.
std::vector<ErrorLine> drain(const ProducerChild& child) {
  MemorySink sink;
  DrainOptions options;
  options.discovery.pids = {child.pid()};
  DrainEngine engine(options, sink, nullptr);
  EXPECT_TRUE(engine.drain_once().ok());
  return parse_error_lines(sink.text);
}

const ErrorLine* find(const std::vector<ErrorLine>& lines, const std::string& message) {
  for (const ErrorLine& line : lines) {
    if (line.message == message) return &line;
  }
  ADD_FAILURE() << "no line with message " << message;
  return nullptr;
}

TEST(ErrorField, ExceptionsCodesAndOwnErrors) {
  Options options;
  options.service = "errors";
  options.max_threads = 2;
  options.max_string_bytes = 64;
  ProducerChild child = ProducerChild::start(options, [](ProducerChild::Link&) {
    int lost = 0;
    lost += !RINGTAIL_ERROR("runtime", kv("error", std::runtime_error("disk full")));
    try {
      throw std::system_error(std::make_error_code(std::errc::connection_refused), "connect");
    } catch (const std::exception& e) {
      // Through a base reference: the dynamic type and the code still show.
      lost += !RINGTAIL_ERROR("system", kv("error", e), kv("attempt", 3));
    }
    lost += !RINGTAIL_WARN("own", kv("error", ringtail::error("QuotaExceeded", "over by 3", 429)));
    lost += !RINGTAIL_ERROR("own no code", kv("error", ringtail::error("Timeout", "no answer")));
    lost += !RINGTAIL_ERROR("custom", kv("error", error_field_test::ParseError("bad token at 7")));
    lost += !RINGTAIL_ERROR("error_code", kv("error", std::make_error_code(std::errc::timed_out)));
    lost += !RINGTAIL_ERROR("cut", kv("error", std::runtime_error(std::string(200, 'm'))));
    return lost;
  });
  ASSERT_TRUE(child.ok()) << child.error();
  ASSERT_EQ(child.join(), 0);
  const std::vector<ErrorLine> lines = drain(child);
  ASSERT_EQ(lines.size(), 7u);

  const ErrorLine* runtime = find(lines, "runtime");
  ASSERT_NE(runtime, nullptr);
  EXPECT_EQ(runtime->error_keys, (std::vector<std::string>{"type", "message"})) << runtime->raw;
  EXPECT_EQ(runtime->type, "std::runtime_error");
  EXPECT_EQ(runtime->error_message, "disk full");
  EXPECT_FALSE(runtime->code.has_value());
  EXPECT_FALSE(runtime->stack.has_value());  // error_stacks is off

  const ErrorLine* system = find(lines, "system");
  ASSERT_NE(system, nullptr);
  EXPECT_EQ(system->type, "std::system_error");
  EXPECT_EQ(system->error_message,
            std::system_error(std::make_error_code(std::errc::connection_refused), "connect").what());
  EXPECT_EQ(system->code, static_cast<int64_t>(std::errc::connection_refused));
  EXPECT_NE(system->raw.find(R"("code":111},"attempt":3)"), std::string::npos) << system->raw;

  const ErrorLine* own = find(lines, "own");
  ASSERT_NE(own, nullptr);
  EXPECT_EQ(own->level, "WARN");
  EXPECT_EQ(own->type, "QuotaExceeded");
  EXPECT_EQ(own->error_message, "over by 3");
  EXPECT_EQ(own->code, 429);
  const ErrorLine* own_no_code = find(lines, "own no code");
  ASSERT_NE(own_no_code, nullptr);
  EXPECT_EQ(own_no_code->type, "Timeout");
  EXPECT_FALSE(own_no_code->code.has_value());

  const ErrorLine* custom = find(lines, "custom");
  ASSERT_NE(custom, nullptr);
  EXPECT_EQ(custom->type, "error_field_test::ParseError");
  EXPECT_EQ(custom->error_message, "bad token at 7");

  const ErrorLine* code = find(lines, "error_code");
  ASSERT_NE(code, nullptr);
  EXPECT_EQ(code->type, "generic");
  EXPECT_EQ(code->error_message, std::make_error_code(std::errc::timed_out).message());
  EXPECT_EQ(code->code, static_cast<int64_t>(std::errc::timed_out));

  const ErrorLine* cut = find(lines, "cut");
  ASSERT_NE(cut, nullptr);
  EXPECT_EQ(cut->error_message, std::string(64, 'm'));
  EXPECT_EQ(cut->cut, 200);
  for (const ErrorLine& line : lines) EXPECT_FALSE(line.stack.has_value()) << line.raw;
}

// Logs an ERROR event with an error from a function of its own, so that the
// captured stack's first frame can be checked against its address.
[[gnu::noinline]] bool log_failure_here() {
  return RINGTAIL_ERROR("with stack", kv("error", std::runtime_error("boom")));
}

TEST(ErrorField, StacksOnlyOnErrorEventsWhenAskedFor) {
  Options options;
  options.service = "stacks";
  options.max_threads = 2;
  options.error_stacks = true;
  ProducerChild child = ProducerChild::start(options, [](ProducerChild::Link&) {
    int lost = 0;
    lost += !log_failure_here();
    lost += !RINGTAIL_WARN("warn", kv("error", std::runtime_error("only a warning")));
    lost += !RINGTAIL_CRITICAL("critical", kv("error", ringtail::error("Fatal", "gone", 1)));
    lost += !RINGTAIL_ERROR("no error field", kv("n", 1));
    // After an event with a stack, an error field that is not captured (a
    // WARN) must not carry the earlier stack.
    lost += !RINGTAIL_WARN("warn again", kv("error", std::runtime_error("still a warning")));
    // Nor one field object logged twice.
    const auto reused = kv("error", ringtail::error("Reused", "twice"));
    lost += !RINGTAIL_ERROR("reused error", reused);
    lost += !RINGTAIL_WARN("reused warn", reused);
    return lost;
  });
  ASSERT_TRUE(child.ok()) << child.error();
  ASSERT_EQ(child.join(), 0);
  const std::vector<ErrorLine> lines = drain(child);
  ASSERT_EQ(lines.size(), 7u);

  const ErrorLine* error = find(lines, "with stack");
  ASSERT_NE(error, nullptr);
  EXPECT_EQ(error->error_keys, (std::vector<std::string>{"type", "message", "stack"})) << error->raw;
  ASSERT_TRUE(error->stack.has_value()) << error->raw;
  ASSERT_GE(error->stack->size(), 2u) << error->raw;
  // A frame is log_failure_here: "reader_agent_test+0x<offset>", the offset
  // inside that function. The child was forked from this process, so the
  // module sits at the same address here. In an optimised build it is the
  // first frame (ringtail's own are left out); a sanitizer build may keep an
  // inlined helper of ringtail's as a frame of its own, which an executable
  // without -rdynamic cannot name, so any of the first few will do.
  Dl_info info{};
  ASSERT_NE(dladdr(reinterpret_cast<void*>(&log_failure_here), &info), 0);
  const auto function_offset =
      reinterpret_cast<uintptr_t>(&log_failure_here) - reinterpret_cast<uintptr_t>(info.dli_fbase);
  const std::string prefix = "reader_agent_test+0x";
  bool found = false;
  for (size_t i = 0; i < std::min<size_t>(error->stack->size(), 4) && !found; ++i) {
    const std::string& frame = (*error->stack)[i];
    if (frame.compare(0, prefix.size(), prefix) != 0) continue;
    const uint64_t frame_offset = std::stoull(frame.substr(prefix.size()), nullptr, 16);
    found = frame_offset > function_offset && frame_offset < function_offset + 4096;
  }
  EXPECT_TRUE(found) << "no frame in log_failure_here among the first: " << error->raw;
  for (const std::string& frame : *error->stack) {
    EXPECT_EQ(frame.find("ringtail6detail"), std::string::npos) << frame;
    EXPECT_EQ(frame.find("ringtail::detail"), std::string::npos) << frame;
  }

  const ErrorLine* critical = find(lines, "critical");
  ASSERT_NE(critical, nullptr);
  ASSERT_TRUE(critical->stack.has_value()) << critical->raw;
  EXPECT_FALSE(critical->stack->empty());
  EXPECT_EQ(critical->code, 1);

  const ErrorLine* reused = find(lines, "reused error");
  ASSERT_NE(reused, nullptr);
  EXPECT_TRUE(reused->stack.has_value()) << reused->raw;

  for (const char* warn : {"warn", "warn again", "reused warn"}) {
    const ErrorLine* line = find(lines, warn);
    ASSERT_NE(line, nullptr);
    EXPECT_EQ(line->error_keys, (std::vector<std::string>{"type", "message"})) << line->raw;
    EXPECT_FALSE(line->stack.has_value()) << line->raw;
  }
  const ErrorLine* plain = find(lines, "no error field");
  ASSERT_NE(plain, nullptr);
  EXPECT_FALSE(plain->has_error);
}

}  // namespace
}  // namespace ringtail::reader
