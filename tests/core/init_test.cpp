// init(): option checks, once per process, no re-init after shutdown, and
// options from RINGTAIL_* environment variables.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "fork_child.hpp"
#include "producer_options.hpp"
#include "ringtail/ringtail.hpp"
#include "segment_view.hpp"

// In ringtail::test: the core tests use its fork harness (ForkedChild,
// ChildChannel, ChildOutcome), SegmentView and small_options() as they are.
namespace ringtail::test {
namespace {

bool contains(absl::string_view text, std::string_view part) {
  return std::string_view(text.data(), text.size()).find(part) != std::string_view::npos;
}

bool no_segment_of_this_process() { return segments_of(::getpid()).empty(); }

struct BadOptions {
  const char* what;
  Options options;
  const char* message_part;  // the error must name the bad input
};

std::vector<BadOptions> bad_options() {
  std::vector<BadOptions> bad;
  auto add = [&](const char* what, const char* part, auto change) {
    Options o = small_options();
    change(o);
    bad.push_back({what, o, part});
  };
  add("ring_bytes not a power of two", "ring capacity 3000", [](Options& o) { o.ring_bytes = 3000; });
  add("ring_bytes too small", "ring capacity 2048", [](Options& o) { o.ring_bytes = 2048; });
  add("ring_bytes too big", "ring capacity", [](Options& o) { o.ring_bytes = uint64_t{1} << 31; });
  add("max_threads 0", "ring slot count 0", [](Options& o) { o.max_threads = 0; });
  add("max_threads too many", "ring slot count 4097", [](Options& o) { o.max_threads = 4097; });
  add("max_callsites too few", "call-site capacity 8", [](Options& o) { o.max_callsites = 8; });
  add("max_string_bytes too small", "max_string_bytes 8", [](Options& o) { o.max_string_bytes = 8; });
  add("max_string_bytes too big", "max_string_bytes", [](Options& o) { o.max_string_bytes = 32U << 20; });
  add("shm_mode without owner read", "shm_mode", [](Options& o) { o.shm_mode = 0200; });
  add("shm_mode without owner write", "shm_mode", [](Options& o) { o.shm_mode = 0400; });
  add("shm_mode with setuid bit", "shm_mode", [](Options& o) { o.shm_mode = 04600; });
  add("min_level not a level", "min_level", [](Options& o) { o.min_level = static_cast<Level>(9); });
  return bad;
}

TEST(InitTest, BadOptionsAreInvalidArgumentAndCreateNoSegment) {
  ForkedChild child = ForkedChild::start([](ChildChannel& ch) {
    for (const BadOptions& bad : bad_options()) {
      const absl::Status s = init(bad.options);
      if (!CHILD_EXPECT_EQ(ch, s.code(), absl::StatusCode::kInvalidArgument)) ch.value("status", s);
      if (!CHILD_EXPECT(ch, contains(s.message(), bad.message_part))) {
        ch.value("unclear", std::string(bad.what) + ": '" + std::string(s.message()) + "'");
      }
      CHILD_EXPECT(ch, no_segment_of_this_process());
      CHILD_EXPECT_EQ(ch, segment_name(), "");
      // Call sites keep writing nothing, and count it.
      CHILD_EXPECT(ch, !RINGTAIL_INFO("after a failed init"));
    }
    CHILD_EXPECT_EQ(ch, loss_counters().before_init, bad_options().size());
    // After errors, init may be called again.
    const absl::Status s = init(small_options());
    CHILD_EXPECT(ch, s.ok());
    CHILD_EXPECT(ch, RINGTAIL_INFO("after a good init"));
    ch.value("segment", segment_name());
    return 0;
  });
  const ChildOutcome out = child.finish();
  EXPECT_CHILD_OK(out);
  EXPECT_EQ(out.value_or("segment"), child.expected_segment());
  EXPECT_EQ(segments_of(child.pid()), std::vector<std::string>{child.expected_segment()});
}

TEST(InitTest, ShmModeErrorShowsTheModeInOctal) {
  Options options = small_options();
  options.shm_mode = 0200;
  ForkedChild child = ForkedChild::start([&](ChildChannel& ch) {
    ch.value("message", init(options).message());
    return 0;
  });
  const ChildOutcome out = child.finish();
  EXPECT_CHILD_OK(out);
  // 0200 is 128: the message must not call it "0128".
  EXPECT_NE(out.value_or("message").find("0200"), std::string::npos) << out.value_or("message");
}

TEST(InitTest, SecondInitIsAlreadyExists) {
  ForkedChild child = ForkedChild::start([](ChildChannel& ch) {
    CHILD_EXPECT(ch, init(small_options()).ok());
    const std::string name = segment_name();
    Options other = small_options();
    other.service = "other";
    other.max_threads = 2;
    for (const Options& options : {small_options(), other}) {
      const absl::Status s = init(options);
      CHILD_EXPECT_EQ(ch, s.code(), absl::StatusCode::kAlreadyExists);
      CHILD_EXPECT(ch, contains(s.message(), name));
    }
    // The first segment is still the live one.
    CHILD_EXPECT_EQ(ch, segment_name(), name);
    CHILD_EXPECT(ch, RINGTAIL_INFO("still logging"));
    CHILD_EXPECT_EQ(ch, segments_of(::getpid()).size(), 1U);
    return 0;
  });
  std::optional<SegmentView> seg = SegmentView::open_after_exit(child);
  ASSERT_TRUE(seg);
  EXPECT_EQ(seg->header_text(seg->header().service), "core-test");
  EXPECT_EQ(seg->header().ring_slot_count, 8U);
}

TEST(InitTest, InitAfterShutdownFails) {
  ForkedChild child = ForkedChild::start([](ChildChannel& ch) {
    CHILD_EXPECT(ch, init(small_options()).ok());
    shutdown();
    shutdown();  // harmless the second time
    const absl::Status s = init(small_options());
    CHILD_EXPECT_EQ(ch, s.code(), absl::StatusCode::kFailedPrecondition);
    CHILD_EXPECT(ch, contains(s.message(), "shut down"));
    CHILD_EXPECT(ch, !RINGTAIL_CRITICAL("after shutdown"));
    CHILD_EXPECT_EQ(ch, min_level(), Level::kOff);
    CHILD_EXPECT_EQ(ch, segments_of(::getpid()).size(), 1U);
    return 0;
  });
  std::optional<SegmentView> seg = SegmentView::open_after_exit(child);
  ASSERT_TRUE(seg);
  EXPECT_EQ(seg->state(), shm::SegmentState::kFinished);
  EXPECT_EQ(seg->callsite_count(), 0U) << "an event after shutdown reached the segment";
}

// Sets the RINGTAIL_* variables of one test and restores the environment.
class EnvScope {
 public:
  EnvScope() {
    for (const char* name : kNames) {
      if (const char* v = std::getenv(name)) saved_.emplace_back(name, v);
      ::unsetenv(name);
    }
  }
  ~EnvScope() {
    for (const char* name : kNames) ::unsetenv(name);
    for (const auto& [name, value] : saved_) ::setenv(name.c_str(), value.c_str(), 1);
  }
  void set(const char* name, const char* value) { ::setenv(name, value, 1); }

 private:
  static constexpr const char* kNames[] = {"RINGTAIL_SERVICE",       "RINGTAIL_LEVEL",
                                           "RINGTAIL_RING_BYTES",    "RINGTAIL_MAX_THREADS",
                                           "RINGTAIL_MAX_CALLSITES", "RINGTAIL_MAX_STRING_BYTES",
                                           "RINGTAIL_SHM_MODE",      "RINGTAIL_MODE"};
  std::vector<std::pair<std::string, std::string>> saved_;
};

void expect_env_error(const char* name, const char* value) {
  EnvScope env;
  env.set(name, value);
  const absl::StatusOr<Options> options = options_from_env();
  ASSERT_FALSE(options.ok()) << name << "='" << value << "' was accepted";
  EXPECT_EQ(options.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(contains(options.status().message(), name)) << options.status();
}

TEST(EnvOptionsTest, DefaultsWithoutVariables) {
  EnvScope env;
  const absl::StatusOr<Options> options = options_from_env();
  ASSERT_TRUE(options.ok()) << options.status();
  const Options defaults;
  EXPECT_EQ(options->service, defaults.service);
  EXPECT_EQ(options->min_level, defaults.min_level);
  EXPECT_EQ(options->ring_bytes, defaults.ring_bytes);
  EXPECT_EQ(options->max_threads, defaults.max_threads);
  EXPECT_EQ(options->max_callsites, defaults.max_callsites);
  EXPECT_EQ(options->max_string_bytes, defaults.max_string_bytes);
  EXPECT_EQ(options->shm_mode, defaults.shm_mode);
  EXPECT_EQ(options->mode, RingMode::kNormal);
}

TEST(EnvOptionsTest, ParsesEveryVariable) {
  EnvScope env;
  env.set("RINGTAIL_SERVICE", "env-service");
  env.set("RINGTAIL_LEVEL", "debug");
  env.set("RINGTAIL_RING_BYTES", "64K");
  env.set("RINGTAIL_MAX_THREADS", "12");
  env.set("RINGTAIL_MAX_CALLSITES", "100");
  env.set("RINGTAIL_MAX_STRING_BYTES", "1k");
  env.set("RINGTAIL_SHM_MODE", "0640");
  env.set("RINGTAIL_MODE", "flight");
  const absl::StatusOr<Options> options = options_from_env();
  ASSERT_TRUE(options.ok()) << options.status();
  EXPECT_EQ(options->service, "env-service");
  EXPECT_EQ(options->min_level, Level::kDebug);
  EXPECT_EQ(options->ring_bytes, 65536U);
  EXPECT_EQ(options->max_threads, 12U);
  EXPECT_EQ(options->max_callsites, 100U);
  EXPECT_EQ(options->max_string_bytes, 1024U);
  EXPECT_EQ(options->shm_mode, 0640U);
  EXPECT_EQ(options->mode, RingMode::kFlight);
}

TEST(EnvOptionsTest, LevelNamesInAnyCase) {
  const std::pair<const char*, Level> levels[] = {
      {"trace", Level::kTrace},  {"DEBUG", Level::kDebug}, {"Info", Level::kInfo},         {"warn", Level::kWarn},
      {"warning", Level::kWarn}, {"error", Level::kError}, {"CRITICAL", Level::kCritical}, {"off", Level::kOff},
  };
  for (const auto& [text, level] : levels) {
    EnvScope env;
    env.set("RINGTAIL_LEVEL", text);
    const absl::StatusOr<Options> options = options_from_env();
    ASSERT_TRUE(options.ok()) << text << ": " << options.status();
    EXPECT_EQ(options->min_level, level) << text;
    EXPECT_EQ(parse_level(text), level) << text;
  }
  EXPECT_EQ(parse_level("bogus"), std::nullopt);
  EXPECT_EQ(parse_level(""), std::nullopt);
  EXPECT_EQ(level_name(Level::kWarn), "WARN");
  EXPECT_EQ(level_name(Level::kOff), "OFF");
}

TEST(EnvOptionsTest, ByteSizesWithSuffixes) {
  const std::pair<const char*, uint64_t> sizes[] = {
      {"4096", 4096}, {"64K", 65536}, {"64k", 65536}, {"2M", 2 << 20}, {"1G", uint64_t{1} << 30}};
  for (const auto& [text, bytes] : sizes) {
    EnvScope env;
    env.set("RINGTAIL_RING_BYTES", text);
    const absl::StatusOr<Options> options = options_from_env();
    ASSERT_TRUE(options.ok()) << text << ": " << options.status();
    EXPECT_EQ(options->ring_bytes, bytes) << text;
  }
}

TEST(EnvOptionsTest, BadValuesNameTheVariable) {
  expect_env_error("RINGTAIL_LEVEL", "bogus");
  expect_env_error("RINGTAIL_LEVEL", "");
  expect_env_error("RINGTAIL_RING_BYTES", "12Q");
  expect_env_error("RINGTAIL_RING_BYTES", "K");
  expect_env_error("RINGTAIL_RING_BYTES", "");
  expect_env_error("RINGTAIL_RING_BYTES", "-1");
  expect_env_error("RINGTAIL_RING_BYTES", "99999999999G");
  expect_env_error("RINGTAIL_MAX_THREADS", "many");
  expect_env_error("RINGTAIL_MAX_THREADS", "-3");
  expect_env_error("RINGTAIL_MAX_CALLSITES", "1e3");
  expect_env_error("RINGTAIL_MAX_STRING_BYTES", "5G");
  expect_env_error("RINGTAIL_SHM_MODE", "0999");
  expect_env_error("RINGTAIL_SHM_MODE", "rw-r-----");
  expect_env_error("RINGTAIL_SHM_MODE", "01000");
  expect_env_error("RINGTAIL_SHM_MODE", "");
  expect_env_error("RINGTAIL_MODE", "Flight");
  expect_env_error("RINGTAIL_MODE", "overwrite");
  expect_env_error("RINGTAIL_MODE", "");
}

TEST(InitTest, InitFromEnvironment) {
  ForkedChild child = ForkedChild::start([](ChildChannel& ch) {
    ::setenv("RINGTAIL_SERVICE", "env-service", 1);
    ::setenv("RINGTAIL_LEVEL", "debug", 1);
    ::setenv("RINGTAIL_RING_BYTES", "64K", 1);
    ::setenv("RINGTAIL_MAX_THREADS", "4", 1);
    ::setenv("RINGTAIL_MAX_CALLSITES", "32", 1);
    ::setenv("RINGTAIL_SHM_MODE", "0640", 1);
    ::umask(077);  // the mode must not depend on the umask
    const absl::Status s = init();
    CHILD_EXPECT(ch, s.ok());
    CHILD_EXPECT(ch, RINGTAIL_DEBUG("debug passes"));
    CHILD_EXPECT(ch, !RINGTAIL_TRACE("trace does not"));
    return 0;
  });
  const ChildOutcome out = child.finish();
  EXPECT_CHILD_OK(out);
  struct stat st {};
  ASSERT_EQ(::stat(("/dev/shm/" + child.expected_segment()).c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0640U);
  std::optional<SegmentView> seg = SegmentView::open(child.expected_segment());
  ASSERT_TRUE(seg);
  EXPECT_EQ(seg->header_text(seg->header().service), "env-service");
  EXPECT_EQ(seg->header().ring_capacity, 65536U);
  EXPECT_EQ(seg->header().ring_slot_count, 4U);
  EXPECT_EQ(seg->header().callsite_capacity, 32U);
  EXPECT_EQ(seg->header().control_min_level.load(), static_cast<uint32_t>(Level::kDebug));
  EXPECT_EQ(seg->callsite_count(), 1U);
}

TEST(InitTest, InitFromBadEnvironmentFailsWithoutSegment) {
  ForkedChild child = ForkedChild::start([](ChildChannel& ch) {
    ::setenv("RINGTAIL_LEVEL", "bogus", 1);
    absl::Status s = init();
    CHILD_EXPECT_EQ(ch, s.code(), absl::StatusCode::kInvalidArgument);
    CHILD_EXPECT(ch, contains(s.message(), "RINGTAIL_LEVEL"));
    CHILD_EXPECT(ch, no_segment_of_this_process());
    ::unsetenv("RINGTAIL_LEVEL");
    // Parses, but is no valid ring size.
    ::setenv("RINGTAIL_RING_BYTES", "3000", 1);
    s = init();
    CHILD_EXPECT_EQ(ch, s.code(), absl::StatusCode::kInvalidArgument);
    CHILD_EXPECT(ch, contains(s.message(), "3000"));
    CHILD_EXPECT(ch, no_segment_of_this_process());
    ::setenv("RINGTAIL_RING_BYTES", "8K", 1);
    ::setenv("RINGTAIL_MAX_THREADS", "2", 1);
    CHILD_EXPECT(ch, init().ok());
    return 0;
  });
  std::optional<SegmentView> seg = SegmentView::open_after_exit(child);
  ASSERT_TRUE(seg);
  EXPECT_EQ(seg->header().ring_capacity, 8192U);
  EXPECT_EQ(seg->header().ring_slot_count, 2U);
}

}  // namespace
}  // namespace ringtail::test
