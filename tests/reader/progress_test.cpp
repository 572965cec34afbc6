// Progress on stderr (tools/ringtail/progress.hpp): the meter over an
// injected clock and an in-memory output (nothing before the threshold, rate,
// time left, the refresh interval, erasing on finish and before other
// output, cutting to the terminal's width), compiled into this binary from
// tools/ringtail/progress.cpp. Then the real `ringtail stats` and `query`
// over a store made by ringtail-loadgen and `ringtail drain --once`, under a
// pseudo-terminal (util-linux script(1)): the line appears and is erased,
// and stdout is byte for byte what the same command writes into pipes, where
// no progress appears at all. $RINGTAIL_TEST_BIN_DIR/tools must hold both
// tools.
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "../../tools/ringtail/progress.hpp"
#include "subprocess.hpp"
#include "temp_dir.hpp"

namespace ringtail::cli {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using Time = std::chrono::steady_clock::time_point;

constexpr uint64_t kMiB = uint64_t{1} << 20;

// A clock the test moves, and everything the meter wrote.
struct Terminal {
  Time now{};
  std::string bytes;

  ProgressMeter::Output output() {
    return [this](std::string_view b) { bytes.append(b); };
  }
  ProgressMeter::Clock clock() {
    return [this] { return now; };
  }
  std::string take() { return std::exchange(bytes, std::string()); }
};

ProgressCounts files(uint64_t done_files, uint64_t all_files, uint64_t done, uint64_t total) {
  ProgressCounts counts;
  counts.done = done;
  counts.total = total;
  counts.items_done = done_files;
  counts.items_total = all_files;
  counts.items_noun = "files";
  return counts;
}

TEST(ProgressMeter, DrawsNothingBeforeOneSecond) {
  Terminal term;
  ProgressMeter meter(ProgressUnit::kBytes, term.output(), term.clock());
  for (const int ms : {0, 300, 999}) {
    term.now = Time{} + milliseconds(ms);
    meter.update(files(1, 4, 10 * kMiB, 40 * kMiB));
  }
  EXPECT_EQ(term.bytes, "");
  EXPECT_FALSE(meter.shown());
  meter.finish();  // a quick run leaves nothing at all
  EXPECT_EQ(term.bytes, "");
}

TEST(ProgressMeter, RateAndTimeLeft) {
  Terminal term;
  ProgressMeter meter(ProgressUnit::kBytes, term.output(), term.clock());
  term.now = Time{} + seconds(3);
  meter.update(files(3, 10, 30 * kMiB, 100 * kMiB));
  // 30 MiB in 3 s: 10 MiB/s, 70 MiB to go: 7 s.
  EXPECT_EQ(term.take(), "\r3/10 files, 30 MiB of 100 MiB, 10 MiB/s, 7 s left\x1b[K");
  EXPECT_TRUE(meter.shown());
}

TEST(ProgressMeter, RedrawsAtMostOncePerInterval) {
  Terminal term;
  ProgressMeter meter(ProgressUnit::kBytes, term.output(), term.clock());
  term.now = Time{} + milliseconds(1000);
  meter.update(files(0, 2, kMiB, 4 * kMiB));
  EXPECT_NE(term.take(), "");
  term.now += milliseconds(150);
  meter.update(files(1, 2, 2 * kMiB, 4 * kMiB));
  meter.advance(kMiB);
  EXPECT_EQ(term.take(), "");  // within 200 ms of the last drawing
  term.now += milliseconds(50);
  meter.advance(kMiB);  // 4 MiB of 4 MiB in 1.2 s
  EXPECT_EQ(term.take(), "\r1/2 files, 4.0 MiB of 4.0 MiB, 3.3 MiB/s, 0 s left\x1b[K");
}

TEST(ProgressMeter, FinishErasesOnceAndDrawsNothingMore) {
  Terminal term;
  ProgressMeter meter(ProgressUnit::kBytes, term.output(), term.clock());
  term.now = Time{} + seconds(2);
  meter.update(files(1, 2, kMiB, 2 * kMiB));
  term.take();
  meter.finish();
  EXPECT_EQ(term.take(), "\r\x1b[K");
  EXPECT_FALSE(meter.shown());
  term.now += seconds(5);
  meter.update(files(2, 2, 2 * kMiB, 2 * kMiB));
  meter.finish();
  EXPECT_EQ(term.take(), "");
}

TEST(ProgressMeter, ErasesBeforeOtherOutputAndDrawsAgainAfter) {
  Terminal term;
  ProgressMeter meter(ProgressUnit::kBytes, term.output(), term.clock());
  meter.erase_then([&] { term.bytes += "ringtail: early\n"; });  // nothing drawn: nothing to erase
  EXPECT_EQ(term.take(), "ringtail: early\n");
  term.now = Time{} + seconds(1);
  meter.update(files(0, 1, 0, kMiB));
  ASSERT_TRUE(meter.shown());
  term.take();
  meter.erase_then([&] { term.bytes += "ringtail: a report\n"; });
  EXPECT_EQ(term.take(), "\r\x1b[Kringtail: a report\n");
  EXPECT_FALSE(meter.shown());
  term.now += milliseconds(200);
  meter.update(files(1, 1, kMiB, kMiB));
  EXPECT_EQ(term.take().rfind('\r', 0), 0u);
  EXPECT_TRUE(meter.shown());
}

TEST(ProgressMeter, WithoutATotalNoTimeLeft) {
  Terminal term;
  ProgressMeter meter(ProgressUnit::kBytes, term.output(), term.clock());
  term.now = Time{} + seconds(4);
  ProgressCounts counts;
  counts.done = 6 * kMiB;
  counts.items_done = 3;
  counts.items_total = 10;
  counts.items_noun = "segments";
  counts.done_word = "written";
  meter.update(counts);
  EXPECT_EQ(term.take(), "\r3/10 segments, 6.0 MiB written, 1.5 MiB/s\x1b[K");
}

TEST(ProgressMeter, CutToTheTerminalWidth) {
  Terminal term;
  ProgressTiming timing;
  timing.columns = 20;
  ProgressMeter meter(ProgressUnit::kBytes, term.output(), term.clock(), timing);
  term.now = Time{} + seconds(3);
  meter.update(files(3, 10, 30 * kMiB, 100 * kMiB));
  EXPECT_EQ(term.take(), "\r3/10 files, 30 MiB \x1b[K");  // 19 columns: the cursor never wraps
}

TEST(ProgressMeter, Formats) {
  EXPECT_EQ(ProgressMeter::format_bytes(0), "0 B");
  EXPECT_EQ(ProgressMeter::format_bytes(1023), "1023 B");
  EXPECT_EQ(ProgressMeter::format_bytes(1024), "1.0 KiB");
  EXPECT_EQ(ProgressMeter::format_bytes(310.0 * kMiB), "310 MiB");
  EXPECT_EQ(ProgressMeter::format_bytes(3.4 * 1024 * kMiB), "3.4 GiB");
  EXPECT_EQ(ProgressMeter::format_bytes(9.97 * kMiB), "10 MiB");
  EXPECT_EQ(ProgressMeter::format_duration(seconds(0)), "0 s");
  EXPECT_EQ(ProgressMeter::format_duration(seconds(59)), "59 s");
  EXPECT_EQ(ProgressMeter::format_duration(seconds(125)), "2 min 5 s");
  EXPECT_EQ(ProgressMeter::format_duration(seconds(3780)), "1 h 3 min");
  ProgressCounts counts;
  counts.done = 2500;
  counts.total = 10000;
  EXPECT_EQ(ProgressMeter::format_line(ProgressUnit::kCount, counts, seconds(5)), "2500 of 10000, 500/s, 15 s left");
  counts.done = 0;
  EXPECT_EQ(ProgressMeter::format_line(ProgressUnit::kCount, counts, seconds(5)), "0 of 10000, 0/s");
}

// --- The real tool under a pseudo-terminal ---

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

bool has(const std::string& text, std::string_view part) { return text.find(part) != std::string::npos; }

// Runs `command` (a shell command line) with stdin, stdout and stderr on a
// pseudo-terminal (script -q: no banner; -e: its exit status) and returns
// what reached the terminal.
std::optional<std::string> on_terminal(const std::string& command, std::vector<std::string> env = {}) {
  test::SubprocessOptions options;
  options.env = std::move(env);
  test::Subprocess script("/usr/bin/script", {"-q", "-e", "-c", command, "/dev/null"}, options);
  const int code = script.wait(60000);
  if (code != 0) {
    ADD_FAILURE() << command << ": exit " << code << "\n" << script.err();
    return std::nullopt;
  }
  return script.out();
}

// A small store of several closed (compressed) files: a ringtail-loadgen
// producer, drained once, 128 KiB per file.
class ProgressCliTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (!test::tool_built("ringtail") || !test::tool_built("ringtail-loadgen")) return;
    store_ = new test::TempDir("progress-test");
    test::Tool gen({"--threads", "2", "--events", "10000", "--string-bytes", "64"}, test::tool_path("ringtail-loadgen"),
                   test::SubprocessOptions{.env = {"RINGTAIL_SERVICE=progress-test"}});
    if (gen.wait() != 0) return;
    const std::string& out = gen.out();  // {..., "pid":N, ...}
    const size_t at = out.find("\"pid\":");
    if (at == std::string::npos) return;
    const std::string pid = std::to_string(std::stoll(out.substr(at + 6)));
    const test::Result drain = test::run({"drain", "--once", "--out", store_->path(), "--pid", pid, "--max-file-bytes",
                                          "128K", "--no-retention", "--no-progress"});
    drained_ = drain.code == 0;
    if (!drained_) ADD_FAILURE() << drain.err;
  }
  static void TearDownTestSuite() {
    delete store_;
    store_ = nullptr;
  }
  void SetUp() override {
    ASSERT_TRUE(test::tool_built("ringtail"));
    ASSERT_TRUE(test::tool_built("ringtail-loadgen"));
    ASSERT_TRUE(drained_);
  }

  static std::string ringtail() { return test::tool_path("ringtail"); }

  static inline test::TempDir* store_ = nullptr;
  static inline bool drained_ = false;
};

TEST_F(ProgressCliTest, StatsShowsProgressOnATerminalAndErasesIt) {
  const std::string dir = store_->path();
  // Pipes: no progress at all.
  const test::Result piped = test::run({"stats", dir, "--by", "level"});
  ASSERT_EQ(piped.code, 0) << piped.err;
  EXPECT_TRUE(has(piped.out, "INFO")) << piped.out;  // (some of the 20000 events may have been dropped)
  EXPECT_EQ(piped.err, "");

  // stderr on the terminal, stdout into a file; the threshold at 0 ms
  // (RINGTAIL_PROGRESS_AFTER_MS, for tests) so that a small store shows it.
  test::TempDir scratch("progress-out");
  const std::string answer = scratch / "stats.txt";
  const std::string command = std::string("'") + ringtail() + "' stats '" + dir + "' --by level > '" + answer + "'";
  const std::optional<std::string> shown = on_terminal(command, {"RINGTAIL_PROGRESS_AFTER_MS=0"});
  ASSERT_TRUE(shown);
  EXPECT_TRUE(has(*shown, " files, ")) << *shown;
  EXPECT_TRUE(has(*shown, "/s")) << *shown;
  // Every drawing starts at the line's start and clears to its end; the last
  // bytes erase the line: the terminal is left clean.
  EXPECT_EQ(shown->rfind('\r', 0), 0u) << *shown;
  ASSERT_GE(shown->size(), ProgressMeter::kErase.size());
  EXPECT_EQ(shown->substr(shown->size() - ProgressMeter::kErase.size()), ProgressMeter::kErase) << *shown;
  EXPECT_FALSE(has(*shown, "\n")) << *shown;
  EXPECT_EQ(read_file(answer), piped.out);

  // --json too: stdout untouched.
  const test::Result json = test::run({"stats", dir, "--by", "level", "--json"});
  ASSERT_EQ(json.code, 0) << json.err;
  const std::string json_answer = scratch / "stats.json";
  ASSERT_TRUE(
      on_terminal(std::string("'") + ringtail() + "' stats '" + dir + "' --by level --json > '" + json_answer + "'",
                  {"RINGTAIL_PROGRESS_AFTER_MS=0"}));
  EXPECT_EQ(read_file(json_answer), json.out);

  // --no-progress: nothing on the terminal.
  const std::optional<std::string> quiet = on_terminal(command + " --no-progress", {"RINGTAIL_PROGRESS_AFTER_MS=0"});
  ASSERT_TRUE(quiet);
  EXPECT_EQ(*quiet, "");

  // The default threshold (1 s): this small store is read in far less, so
  // nothing at all is drawn.
  const std::optional<std::string> quick = on_terminal(command);
  ASSERT_TRUE(quick);
  EXPECT_EQ(*quick, "");
}

TEST_F(ProgressCliTest, QueryToATerminalShowsNoProgressBetweenItsLines) {
  const std::string dir = store_->path();
  // stdout on the terminal too: the lines are the progress, none is drawn.
  const std::optional<std::string> both =
      on_terminal(std::string("'") + ringtail() + "' query '" + dir + "' --limit 3", {"RINGTAIL_PROGRESS_AFTER_MS=0"});
  ASSERT_TRUE(both);
  EXPECT_FALSE(has(*both, "\x1b[K")) << *both;
  EXPECT_FALSE(has(*both, " files, ")) << *both;

  // stdout into a file: progress on the terminal, the same lines as through pipes.
  const test::Result piped = test::run({"query", dir, "--where", "i<100"});
  ASSERT_EQ(piped.code, 0) << piped.err;
  EXPECT_EQ(piped.err, "");
  test::TempDir scratch("progress-out");
  const std::string answer = scratch / "query.jsonl";
  const std::optional<std::string> shown =
      on_terminal(std::string("'") + ringtail() + "' query '" + dir + "' --where 'i<100' > '" + answer + "'",
                  {"RINGTAIL_PROGRESS_AFTER_MS=0"});
  ASSERT_TRUE(shown);
  EXPECT_TRUE(has(*shown, " files, ")) << *shown;
  ASSERT_GE(shown->size(), ProgressMeter::kErase.size());
  EXPECT_EQ(shown->substr(shown->size() - ProgressMeter::kErase.size()), ProgressMeter::kErase) << *shown;
  EXPECT_EQ(read_file(answer), piped.out);
  EXPECT_FALSE(piped.out.empty());
}

}  // namespace
}  // namespace ringtail::cli
