// `ringtail drain --follow` when it cannot write its output, with real
// processes: a ringtail-loadgen producer logging numbered events and the
// ringtail tool. On a full disk (an 8 MiB tmpfs, so root only) and with a
// symbolic link planted in the store, the drain keeps running, says on
// stderr that nothing is committed, and `ringtail ls` shows the segment
// stalled; once the space (or the directory) is back, it carries on by
// itself and exits 0 on SIGTERM, and every event the producer logged is
// stored exactly once or counted in a "ringtail.dropped" line. Every wait
// polls with a deadline. Needs $RINGTAIL_TEST_BIN_DIR/tools/{ringtail,ringtail-loadgen}.
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "drain_test_support.hpp"
#include "eventually.hpp"
#include "signal_ready.hpp"
#include "stored_files.hpp"
#include "subprocess.hpp"
#include "tmpfs_mount.hpp"

namespace ringtail::reader {
namespace {

using ringtail::reader::testing::Line;
using ringtail::reader::testing::Loadgen;
using ringtail::test::Tool;

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// Output failures and their backoff take seconds: a minute before giving up.
template <class Predicate>
bool eventually(Predicate predicate) {
  return ringtail::test::eventually(predicate, std::chrono::seconds(60), std::chrono::milliseconds(20));
}

// Bytes in the regular files under `dir` (without reading them: the drain
// may be renaming them).
uint64_t stored_bytes(const std::string& dir) {
  uint64_t total = 0;
  std::error_code ec;
  for (auto it = std::filesystem::recursive_directory_iterator(dir, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    std::error_code size_ec;
    if (std::filesystem::is_regular_file(it->symlink_status())) total += it->file_size(size_ec);
  }
  return total;
}

// `ringtail ls --json --pid <pid>` (what it printed).
std::string ls_json(pid_t pid) { return ringtail::test::run({"ls", "--json", "--pid", std::to_string(pid)}).out; }

std::vector<Line> stored_lines(const std::string& dir) {
  std::vector<Line> lines;
  for (const std::string& text : ringtail::test::read_stored_texts(dir)) {
    std::vector<Line> parsed = ringtail::reader::testing::parse_lines(text);
    lines.insert(lines.end(), parsed.begin(), parsed.end());
  }
  return lines;
}

// Every event the producer `pid` logged, `events` per thread of `threads`, is
// stored exactly once or counted in a "ringtail.dropped" line: per tid, the
// stored seqs and the dropped ranges together cover `events` consecutive
// seqs, none twice.
void expect_each_event_stored_once_or_counted(const std::vector<Line>& lines, pid_t pid, size_t threads,
                                              uint64_t events) {
  std::map<uint64_t, std::vector<std::pair<uint64_t, uint64_t>>> by_tid;  // [first, last] seq ranges
  uint64_t dropped = 0;
  for (const Line& line : lines) {
    if (line.pid != static_cast<uint64_t>(pid)) continue;
    if (line.message == "loadgen" && line.seq.has_value()) by_tid[line.tid].emplace_back(*line.seq, *line.seq);
    if (line.message == "ringtail.dropped") {
      ASSERT_TRUE(line.has("first_seq") && line.has("last_seq")) << line.raw;
      by_tid[line.tid].emplace_back(line.get("first_seq"), line.get("last_seq"));
      dropped += static_cast<uint64_t>(line.get("last_seq") - line.get("first_seq") + 1);
    }
  }
  ASSERT_EQ(by_tid.size(), threads);
  for (auto& [tid, ranges] : by_tid) {
    std::sort(ranges.begin(), ranges.end());
    uint64_t covered = 0;
    for (size_t i = 0; i < ranges.size(); ++i) {
      ASSERT_LE(ranges[i].first, ranges[i].second) << "tid " << tid;
      if (i > 0) {
        ASSERT_FALSE(ranges[i].first <= ranges[i - 1].second)
            << "tid " << tid << ": seq " << ranges[i].first << " stored or counted twice";
        ASSERT_EQ(ranges[i].first, ranges[i - 1].second + 1)
            << "tid " << tid << ": seqs " << ranges[i - 1].second + 1 << " to " << ranges[i].first - 1
            << " neither stored nor counted";
      }
      covered += ranges[i].second - ranges[i].first + 1;
    }
    EXPECT_EQ(covered, events) << "tid " << tid;
  }
  // How many the producer dropped while nothing was consumed (for the log).
  ::testing::Test::RecordProperty("dropped_events", std::to_string(dropped));
}

// After the output works again: the producer finishes, the drain drains its
// segment to the end and removes it, and a SIGTERM ends the drain with 0.
void finish_and_stop(Loadgen& loadgen, Tool& drain) {
  const int status = loadgen.wait(std::chrono::seconds(120));
  ASSERT_EQ(status, 0) << "ringtail-loadgen exit";
  ASSERT_TRUE(eventually([&] { return !loadgen.segment_exists(); }))
      << "the drain never finished the producer's segment: " << drain.err();
  ASSERT_TRUE(ringtail::test::wait_until_ready_for(drain.pid(), SIGTERM));
  ::kill(drain.pid(), SIGTERM);
  EXPECT_EQ(drain.wait(), 0) << drain.err();
}

class DrainOutputFailureCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* tool : {"ringtail", "ringtail-loadgen"}) ASSERT_TRUE(ringtail::test::tool_built(tool));
  }
};

class DrainDiskFullCliTest : public DrainOutputFailureCliTest {
 protected:
  void SetUp() override {
    DrainOutputFailureCliTest::SetUp();
    if (HasFatalFailure()) return;
    RINGTAIL_SKIP_OR_FAIL_WITHOUT_ROOT("mounts an 8 MiB tmpfs");
    disk_.emplace("8m");
    ASSERT_TRUE(disk_->mounted()) << disk_->error();
  }
  // Also after a failed assertion: the processes are gone by now (the test's
  // Tool and Loadgen kill theirs), so the unmount does not have to wait.
  void TearDown() override { disk_.reset(); }

  std::optional<ringtail::test::TmpfsMount> disk_;
};

TEST_F(DrainDiskFullCliTest, FollowSurvivesAFullDiskAndCarriesOnWhenSpaceReturns) {
  constexpr int kThreads = 2;
  constexpr uint64_t kEvents = 10000;  // per thread; about 4 MB of lines, half the disk
  const std::string out = disk_->path() + "/store";
  // 64 KiB rings: full within a fraction of a second once nothing is consumed.
  Loadgen loadgen({"--threads", std::to_string(kThreads), "--events", std::to_string(kEvents), "--rate", "2000",
                   "--service", "rt-diskfull"},
                  {"RINGTAIL_RING_BYTES=65536"});
  ASSERT_GT(loadgen.pid(), 0);
  Tool drain({"drain", "--follow", "--out", out, "--pid", std::to_string(loadgen.pid())});
  ASSERT_TRUE(eventually([&] { return stored_bytes(out) > 0; })) << "nothing stored: " << drain.err();

  ASSERT_TRUE(disk_->fill("filler"));
  ASSERT_TRUE(drain.wait_for_err("nothing after the last flush was committed", 30000)) << drain.err();
  EXPECT_TRUE(has(drain.err(), "No space left on device")) << drain.err();
  EXPECT_TRUE(has(drain.err(), "producers' rings fill")) << drain.err();
  ASSERT_TRUE(drain.running()) << "the drain exited on a full disk: " << drain.err();

  // ls shows the stall on the producer's segment, with the errno.
  std::string listed;
  ASSERT_TRUE(eventually([&] {
    listed = ls_json(loadgen.pid());
    return has(listed, "\"reader_stalled_since\":\"2") && has(listed, "\"reader_stall_error\":\"ENOSPC");
  })) << listed;
  EXPECT_TRUE(has(listed, "\"lease_pid\":" + std::to_string(drain.pid()))) << listed;
  const ringtail::test::Result table = ringtail::test::run({"ls", "--pid", std::to_string(loadgen.pid())});
  EXPECT_TRUE(has(table.out, ", stalled (ENOSPC)")) << table.out;
  ASSERT_TRUE(drain.running()) << drain.err();

  std::filesystem::remove(disk_->path() + "/filler");
  ASSERT_TRUE(drain.wait_for_err("output resumed after", 60000)) << drain.err();
  EXPECT_TRUE(drain.running()) << drain.err();
  EXPECT_TRUE(eventually([&] { return !has(ls_json(loadgen.pid()), "\"reader_stalled_since\":\""); }))
      << "still marked stalled: " << ls_json(loadgen.pid());

  ASSERT_NO_FATAL_FAILURE(finish_and_stop(loadgen, drain));
  ASSERT_NO_FATAL_FAILURE(
      expect_each_event_stored_once_or_counted(stored_lines(out), loadgen.pid(), kThreads, kEvents));
}

// A "<service>" directory that is a symbolic link fails every write of that
// service: reported and retried, never followed, and once the link is gone
// the drain carries on.
TEST_F(DrainOutputFailureCliTest, APlantedLinkIsReportedAndRetriedNotFatal) {
  char dir_template[] = "/tmp/ringtail-cli-stall-link-XXXXXX";
  ASSERT_NE(::mkdtemp(dir_template), nullptr);
  const std::filesystem::path scratch = dir_template;
  const std::filesystem::path out = scratch / "store";
  const std::filesystem::path elsewhere = scratch / "elsewhere";
  std::filesystem::create_directories(out);
  std::filesystem::create_directories(elsewhere);
  std::filesystem::create_symlink(elsewhere, out / "rt-linked");
  struct RemoveScratch {
    std::filesystem::path path;
    ~RemoveScratch() {
      std::error_code ec;
      std::filesystem::remove_all(path, ec);
    }
  } remove_scratch{scratch};

  constexpr uint64_t kEvents = 4000;
  Loadgen loadgen({"--threads", "1", "--events", std::to_string(kEvents), "--rate", "1000", "--service", "rt-linked"},
                  {"RINGTAIL_RING_BYTES=65536"});
  ASSERT_GT(loadgen.pid(), 0);
  Tool drain({"drain", "--follow", "--out", out.string(), "--pid", std::to_string(loadgen.pid())});
  ASSERT_TRUE(drain.wait_for_err("nothing after the last flush was committed", 30000)) << drain.err();
  EXPECT_TRUE(has(drain.err(), (out / "rt-linked").string() + " is a symbolic link")) << drain.err();
  ASSERT_TRUE(drain.running()) << "the drain exited on a planted link: " << drain.err();
  std::string listed;
  ASSERT_TRUE(eventually([&] {
    listed = ls_json(loadgen.pid());
    return has(listed, "\"reader_stalled_since\":\"2");
  })) << listed;
  EXPECT_TRUE(has(listed, "\"reader_stall_error\":null")) << "no errno for a refused link: " << listed;
  EXPECT_TRUE(std::filesystem::is_empty(elsewhere)) << "written through the link";
  ASSERT_TRUE(drain.running()) << drain.err();

  std::filesystem::remove(out / "rt-linked");
  ASSERT_TRUE(drain.wait_for_err("output resumed after", 60000)) << drain.err();
  ASSERT_NO_FATAL_FAILURE(finish_and_stop(loadgen, drain));
  EXPECT_TRUE(std::filesystem::is_empty(elsewhere));
  ASSERT_NO_FATAL_FAILURE(
      expect_each_event_stored_once_or_counted(stored_lines(out.string()), loadgen.pid(), 1, kEvents));
}

}  // namespace
}  // namespace ringtail::reader
