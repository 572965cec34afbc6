// The `ringtail` tool end to end: exit codes and one-line errors, ls, level,
// gc, drain and tail against producers in forked children, and query and
// retain against links planted in a store. Every command names its pids
// (--pid), so segments of tests running alongside are never touched. Needs
// $RINGTAIL_TEST_BIN_DIR/tools/ringtail (skipped without).
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "bin_dir.hpp"
#include "eventually.hpp"
#include "fork_child.hpp"
#include "needs_root.hpp"
#include "producer_child.hpp"
#include "ringtail/reader/ingest/consumer_lease.hpp"
#include "ringtail/reader/ingest/segment_view.hpp"
#include "ringtail/reader/storage/store_names.hpp"
#include "ringtail/shm/layout.hpp"
#include "ringtail/shm/process_identity.hpp"
#include "ringtail/shm/segment_file.hpp"
#include "signal_ready.hpp"
#include "stored_files.hpp"
#include "subprocess.hpp"

namespace ringtail::reader {
namespace {

using ringtail::test::eventually;
using ringtail::test::ProducerChild;
using ringtail::test::Result;
using ringtail::test::run;
using ringtail::test::Tool;

size_t lines_in(const std::string& text) { return static_cast<size_t>(std::count(text.begin(), text.end(), '\n')); }
bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

Options cli_options() { return ringtail::test::small_producer_options("rt-cli \"q\""); }

// Logs `events` INFO events, signals, waits for resume(), exits cleanly.
ProducerChild producer(int events) {
  return ProducerChild::start_held(cli_options(), [events] {
    for (int i = 0; i < events; ++i) RINGTAIL_INFO("cli event", ringtail::kv("i", i));
  });
}

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(ringtail::test::tool_built("ringtail")); }
};

TEST_F(CliTest, UsageErrorsAreOneLineAndExitTwo) {
  const std::vector<std::vector<std::string>> usage = {
      {},
      {"bogus"},
      {"ls", "--bogus"},
      {"ls", "--pid", "0"},
      {"ls", "--pid", "12x"},
      {"level", "123"},
      {"level", "123", "loud"},
      {"level", "-5", "info"},
      {"drain", "--out", "/tmp/ringtail-cli-test-unused"},
      {"drain", "--out", "/tmp/ringtail-cli-test-unused", "--once", "--follow"},
      {"drain", "--once"},
      {"tail", "--level", "chatty"},
  };
  for (const auto& args : usage) {
    std::string joined;
    for (const std::string& a : args) joined += " " + a;
    SCOPED_TRACE("ringtail" + joined);
    const Result r = run(args);
    EXPECT_EQ(r.code, 2);
    EXPECT_EQ(lines_in(r.err), 1u) << r.err;
    EXPECT_EQ(r.err.rfind("ringtail: ", 0), 0u) << r.err;
    EXPECT_TRUE(r.out.empty()) << r.out;
  }
}

TEST_F(CliTest, HelpAndVersion) {
  const Result version = run({"--version"});
  EXPECT_EQ(version.code, 0);
  EXPECT_EQ(version.out.rfind("ringtail ", 0), 0u) << version.out;
  for (const char* verb : {"ls", "level", "gc", "drain", "tail"}) {
    const Result help = run({verb, "--help"});
    EXPECT_EQ(help.code, 0) << verb;
    EXPECT_TRUE(has(help.out, "Exit status")) << verb << ": " << help.out;
  }
  EXPECT_TRUE(has(run({"tail", "--help"}).out, "never steals events"));
}

TEST_F(CliTest, LsShowsALiveProducer) {
  ProducerChild child = producer(3);
  ASSERT_TRUE(child.ok()) << child.error();
  ASSERT_TRUE(child.wait_signal());
  const std::string pid = std::to_string(child.pid());

  const Result table = run({"ls", "--pid", pid});
  EXPECT_EQ(table.code, 0) << table.err;
  ASSERT_EQ(lines_in(table.out), 2u) << table.out;  // header and one row
  EXPECT_TRUE(has(table.out, "PENDING")) << table.out;
  EXPECT_TRUE(has(table.out, " alive ")) << table.out;
  EXPECT_TRUE(has(table.out, child.segment_name())) << table.out;

  const Result json = run({"ls", "--json", "--pid", pid});
  EXPECT_EQ(json.code, 0) << json.err;
  EXPECT_EQ(json.out.rfind("[\n{", 0), 0u) << json.out;
  EXPECT_TRUE(has(json.out, "\"name\":\"" + child.segment_name() + "\"")) << json.out;
  EXPECT_TRUE(has(json.out, "\"service\":\"rt-cli \\\"q\\\"\"")) << json.out;  // escaped
  EXPECT_TRUE(has(json.out, "\"state\":\"alive\"")) << json.out;
  EXPECT_TRUE(has(json.out, "\"rings_active\":1")) << json.out;
  EXPECT_TRUE(has(json.out, "\"lease_pid\":null")) << json.out;
  EXPECT_FALSE(has(json.out, "\"pending_bytes\":0,")) << json.out;  // 3 events wait

  // With a consuming reader: its pid in the lease column.
  absl::StatusOr<SegmentView> view = SegmentView::open(child.segment_name(), SegmentView::Access::kReadWrite);
  ASSERT_TRUE(view.ok()) << view.status();
  absl::StatusOr<ConsumerLease> lease = ConsumerLease::acquire(*view);
  ASSERT_TRUE(lease.ok()) << lease.status();
  EXPECT_TRUE(has(run({"ls", "--json", "--pid", pid}).out, "\"lease_pid\":" + std::to_string(::getpid())));

  // Nothing for a pid without segments: no rows, no header, exit 0.
  const Result none = run({"ls", "--pid", "999999999"});
  EXPECT_EQ(none.code, 0);
  EXPECT_TRUE(none.out.empty()) << none.out;
  EXPECT_EQ(run({"ls", "--json", "--pid", "999999999"}).out, "[\n]\n");
  child.resume();
  EXPECT_EQ(child.join(), 0);
}

TEST_F(CliTest, LevelSetsTheControlWord) {
  ProducerChild child = producer(0);
  ASSERT_TRUE(child.ok()) << child.error();
  ASSERT_TRUE(child.wait_signal());
  const std::string pid = std::to_string(child.pid());

  const Result r = run({"level", pid, "DeBuG"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "pid " + pid + ": level INFO -> DEBUG\n");
  absl::StatusOr<SegmentView> view = SegmentView::open(child.segment_name(), SegmentView::Access::kReadOnly);
  ASSERT_TRUE(view.ok()) << view.status();
  EXPECT_EQ(view->control_min_level_untrusted(), static_cast<uint32_t>(shm::Level::kDebug));
  EXPECT_EQ(run({"level", pid, "off"}).out, "pid " + pid + ": level DEBUG -> OFF\n");

  child.resume();
  ASSERT_EQ(child.join(), 0);
  const Result gone = run({"level", pid, "info"});  // its segment is still there
  EXPECT_EQ(gone.code, 1);
  EXPECT_TRUE(has(gone.err, "is not running")) << gone.err;
  EXPECT_EQ(lines_in(gone.err), 1u);
  const Result none = run({"level", "999999999", "info"});
  EXPECT_EQ(none.code, 1);
  EXPECT_TRUE(has(none.err, "no ringtail segment for pid 999999999")) << none.err;
}

TEST_F(CliTest, GcRemovesOnlyDrainedUnleasedDeadSegments) {
  ProducerChild child = producer(5);
  ASSERT_TRUE(child.ok()) << child.error();
  ASSERT_TRUE(child.wait_signal());
  const std::string pid = std::to_string(child.pid());
  const std::string name = child.segment_name();
  const std::string path = "/dev/shm/" + name;

  EXPECT_EQ(run({"gc", "--pid", pid}).out, "");  // alive: left alone, silently
  child.resume();
  ASSERT_EQ(child.join(), 0);

  // Events pending: kept, with a hint.
  Result r = run({"gc", "--pid", pid});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(has(r.out, "kept " + name + " (exited, ")) << r.out;
  EXPECT_TRUE(has(r.out, "bytes pending")) << r.out;
  EXPECT_TRUE(has(r.out, "ringtail drain --once")) << r.out;
  EXPECT_TRUE(std::filesystem::exists(path));

  // Consume everything (read_pos = write_pos), but hold the lease: kept.
  {
    absl::StatusOr<SegmentView> view = SegmentView::open(name, SegmentView::Access::kReadWrite);
    ASSERT_TRUE(view.ok()) << view.status();
    for (uint32_t i = 0; i < view->slot_count(); ++i) {
      ASSERT_TRUE(view->store_read_pos(i, view->slot_snapshot(i)->write_pos_untrusted).ok());
    }
    absl::StatusOr<ConsumerLease> lease = ConsumerLease::acquire(*view);
    ASSERT_TRUE(lease.ok()) << lease.status();
    r = run({"gc", "--pid", pid});
    EXPECT_EQ(r.out, "kept " + name + " (exited, being drained by pid " + std::to_string(::getpid()) + ")\n");
  }
  r = run({"gc", "--dry-run", "--pid", pid});
  EXPECT_EQ(r.out, "would remove " + name + " (exited, nothing pending)\n");
  EXPECT_TRUE(std::filesystem::exists(path));
  r = run({"gc", "--pid", pid});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "removed " + name + " (exited, nothing pending)\n");
  EXPECT_FALSE(std::filesystem::exists(path));
}

TEST_F(CliTest, InvalidSegmentsAreReportedAndRemovedOnlyOnRequest) {
  // A reaped child's pid: a segment name of a dead process, with bad contents.
  const pid_t dead = ringtail::test::dead_pid();
  const std::string name = "ringtail." + std::to_string(dead) + ".12345";
  const std::string path = "/dev/shm/" + name;
  {
    std::ofstream file(path, std::ios::binary);
    file << std::string(100, 'x');
  }
  const std::string pid = std::to_string(dead);

  Result r = run({"ls", "--pid", pid});
  EXPECT_EQ(r.code, 0);
  EXPECT_TRUE(r.out.empty()) << r.out;
  EXPECT_EQ(r.err.rfind("ringtail: " + name + ": ", 0), 0u) << r.err;
  EXPECT_EQ(lines_in(r.err), 1u) << r.err;
  r = run({"ls", "--json", "--pid", pid});
  EXPECT_TRUE(has(r.out, "\"state\":\"invalid\"")) << r.out;
  EXPECT_TRUE(has(r.out, "\"error\":")) << r.out;

  r = run({"gc", "--pid", pid});
  EXPECT_EQ(r.code, 0);
  EXPECT_TRUE(has(r.out, "kept " + name + " (invalid: ")) << r.out;
  EXPECT_TRUE(std::filesystem::exists(path));
  r = run({"gc", "--invalid", "--pid", pid});
  EXPECT_EQ(r.code, 0);
  EXPECT_TRUE(has(r.out, "removed " + name + " (invalid: ")) << r.out;
  EXPECT_FALSE(std::filesystem::exists(path));
  std::filesystem::remove(path);
}

TEST_F(CliTest, DrainOnceConsumesAndRemovesADeadProducer) {
  ProducerChild child = producer(7);
  ASSERT_TRUE(child.ok()) << child.error();
  ASSERT_TRUE(child.wait_signal());
  child.resume();
  ASSERT_EQ(child.join(), 0);
  const std::string pid = std::to_string(child.pid());

  char dir_template[] = "/tmp/ringtail-cli-drain-XXXXXX";
  ASSERT_NE(::mkdtemp(dir_template), nullptr);
  const std::string out = dir_template;
  const Result r = run({"drain", "--once", "--out", out, "--pid", pid});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(has(r.out, "drained 7 events")) << r.out;
  EXPECT_FALSE(std::filesystem::exists("/dev/shm/" + child.segment_name()));
  size_t lines = 0;
  for (const std::string& text : ringtail::test::read_stored_texts(out)) {
    lines += static_cast<size_t>(std::count(text.begin(), text.end(), '\n'));
  }
  EXPECT_EQ(lines, 7u);
  std::filesystem::remove_all(out);
}

// A producer's service name is the producer's to choose: terminal control
// sequences in it reach no terminal through ls, drain's reports or tail.
TEST_F(CliTest, SegmentTextIsPrintedInert) {
  Options options = cli_options();
  options.service =
      "evil\x1b]0;owned\x07\x1b[2J\xc2\x9b"
      "6n";
  ProducerChild child = ProducerChild::start(options, [](ProducerChild::Link& link) {
    RINGTAIL_INFO("before the crash");
    link.signal();
    link.wait();
    ::kill(::getpid(), SIGKILL);
    return 1;
  });
  ASSERT_TRUE(child.ok()) << child.error();
  ASSERT_TRUE(child.wait_signal());
  const std::string pid = std::to_string(child.pid());
  auto inert = [](const std::string& text) {
    return text.find('\x1b') == std::string::npos && text.find('\x07') == std::string::npos &&
           text.find("\xc2\x9b") == std::string::npos;
  };

  const Result table = run({"ls", "--pid", pid});
  EXPECT_EQ(table.code, 0) << table.err;
  EXPECT_TRUE(inert(table.out)) << table.out;
  EXPECT_TRUE(has(table.out, "evil\\x1b]0;owned\\x07")) << "escaped, still readable: " << table.out;

  child.resume();
  ASSERT_EQ(child.join(), 128 + SIGKILL);
  char dir_template[] = "/tmp/ringtail-cli-inert-XXXXXX";
  ASSERT_NE(::mkdtemp(dir_template), nullptr);
  const std::string out = dir_template;
  const Result drain = run({"drain", "--once", "--out", out, "--pid", pid});
  EXPECT_EQ(drain.code, 0) << drain.err;
  EXPECT_TRUE(has(drain.err, "crashed")) << "the report names the crashed producer: " << drain.err;
  EXPECT_TRUE(inert(drain.err)) << drain.err;
  EXPECT_TRUE(inert(drain.out)) << drain.out;
  std::filesystem::remove_all(out);
}

// Lines with this message in what drain stored under `dir` so far.
size_t stored_with_message(const std::string& dir, const std::string& message) {
  size_t n = 0;
  const std::string needle = "\"message\":\"" + message + "\"";
  for (const std::string& text : ringtail::test::read_stored_texts(dir)) {
    for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  }
  return n;
}

// A producer that cuts its own segment short under a running drain (as a
// buggy or hostile one can) does not take the drain down: that segment is
// reported and let go, and the other producers' events keep being stored.
TEST_F(CliTest, ASegmentCutShortUnderTheDrainIsLetGoOthersCarryOn) {
  Options options = cli_options();
  options.ring_bytes = 64 << 10;
  ProducerChild cutter = ProducerChild::start(options, [](ProducerChild::Link& link) {
    for (int i = 0; i < 100; ++i) RINGTAIL_INFO("cutter before", kv("i", i));
    link.signal();
    link.wait();
    std::string path = "/";
    path += ringtail::segment_name();
    const int fd = ::shm_open(path.c_str(), O_RDWR, 0);
    if (fd < 0 || ::ftruncate(fd, 4096) != 0) return 3;  // the header page only
    ::close(fd);
    link.signal();
    link.wait();
    std::fflush(nullptr);
    ::_exit(0);  // no shutdown(): its state word is the only page left
  });
  ProducerChild other = ProducerChild::start(options, [](ProducerChild::Link& link) {
    for (int i = 0; i < 100; ++i) RINGTAIL_INFO("other before", kv("i", i));
    link.signal();
    link.wait();
    for (int i = 0; i < 100; ++i) RINGTAIL_INFO("other after", kv("i", i));
    link.signal();
    link.wait();
    return 0;
  });
  ASSERT_TRUE(cutter.ok()) << cutter.error();
  ASSERT_TRUE(other.ok()) << other.error();
  ASSERT_TRUE(cutter.wait_signal());
  ASSERT_TRUE(other.wait_signal());

  char dir_template[] = "/tmp/ringtail-cli-cut-XXXXXX";
  ASSERT_NE(::mkdtemp(dir_template), nullptr);
  const std::string out = dir_template;
  Tool drain(
      {"drain", "--follow", "--out", out, "--pid", std::to_string(cutter.pid()), "--pid", std::to_string(other.pid())});
  ASSERT_TRUE(eventually([&] { return stored_with_message(out, "cutter before") == 100; })) << drain.err();

  ASSERT_TRUE(cutter.resume());
  ASSERT_TRUE(cutter.wait_signal()) << "the producer could not cut its segment";
  ASSERT_TRUE(drain.wait_for_err("cut short")) << "no report of the cut segment: " << drain.err();
  EXPECT_TRUE(drain.running()) << "the drain died: " << drain.err();

  ASSERT_TRUE(other.resume());
  ASSERT_TRUE(other.wait_signal());
  EXPECT_TRUE(eventually([&] { return stored_with_message(out, "other after") == 100; }))
      << "the other producer's events stopped being stored: " << drain.err();

  ASSERT_TRUE(ringtail::test::wait_until_ready_for(drain.pid(), SIGINT));
  ::kill(drain.pid(), SIGINT);
  EXPECT_EQ(drain.wait(), 0) << drain.err();
  EXPECT_EQ(stored_with_message(out, "cutter before"), 100u);
  EXPECT_EQ(stored_with_message(out, "other before"), 100u);
  EXPECT_EQ(stored_with_message(out, "other after"), 100u);
  cutter.resume();
  other.resume();
  EXPECT_EQ(cutter.join(), 0);
  EXPECT_EQ(other.join(), 0);
  std::filesystem::remove_all(out);
}

// The uid the hostile producers below run as.
constexpr uid_t kNobody = 65534;

// Another user must not be able to speak for a process: as `nobody`, a
// hostile producer squats a root process's segment name with a segment of
// its own, its header forged to name that process (and uid 0). The real
// producer's init() takes another name; ls and drain refuse the forgery,
// naming both uids, and store only the real producer's lines, both while it
// runs and after it is gone.
TEST_F(CliTest, AnotherUsersSegmentUnderAProcesssNameIsRefused) {
  RINGTAIL_SKIP_OR_FAIL_WITHOUT_ROOT("runs a producer as uid " << kNobody);
  // The victim: waits for the word before init().
  ringtail::test::ForkedChild victim = ringtail::test::ForkedChild::start([](ringtail::test::ChildChannel& ch) {
    if (ch.receive() != "init") return 1;
    Options options = cli_options();
    options.service = "victim";
    const absl::Status status = ringtail::init(options);
    ch.value("init", status.ok() ? std::string("ok") : status.ToString());
    if (!status.ok()) return 2;
    for (int i = 0; i < 5; ++i) RINGTAIL_INFO("genuine", kv("i", i));
    ch.value("segment", ringtail::segment_name());
    return ch.receive() == "exit" ? 0 : 3;
  });
  const std::string victim_pid = std::to_string(victim.pid());
  const std::string victim_name = victim.expected_segment();

  // The squatter, as nobody: a real segment of its own, renamed to the
  // victim's name and its identity rewritten to match.
  ringtail::test::ForkedChild squatter =
      ringtail::test::ForkedChild::start([&victim, &victim_name](ringtail::test::ChildChannel& ch) {
        if (::setgroups(0, nullptr) != 0 || ::setgid(kNobody) != 0 || ::setuid(kNobody) != 0) return 10;
        Options options = cli_options();
        options.service = "victim";
        if (!CHILD_EXPECT(ch, ringtail::init(options).ok())) return 11;
        for (int i = 0; i < 5; ++i) RINGTAIL_INFO("forged", kv("i", i));
        const std::string own = "/dev/shm/" + ringtail::segment_name();
        const std::string target = "/dev/shm/" + victim_name;
        if (!CHILD_EXPECT(ch, ::rename(own.c_str(), target.c_str()) == 0)) return 12;
        const int fd = ::open(target.c_str(), O_RDWR | O_CLOEXEC);
        void* map = fd < 0 ? MAP_FAILED : ::mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        if (!CHILD_EXPECT(ch, map != MAP_FAILED)) return 13;
        auto& header = *static_cast<shm::SegmentHeader*>(map);
        header.pid = static_cast<uint32_t>(victim.pid());
        header.process_start_ticks = victim.start_ticks();
        header.uid = 0;
        ch.value("squatted", target);
        ringtail::shutdown();
        return 0;
      });
  squatter.clean_up_segments_of(victim.pid());
  ASSERT_TRUE(squatter.await("squatted").has_value()) << "the squatter could not set up";
  const ringtail::test::ChildOutcome squatted = squatter.finish();
  ASSERT_TRUE(squatted.ok()) << squatted.describe();
  struct stat st {};
  ASSERT_EQ(::stat(("/dev/shm/" + victim_name).c_str(), &st), 0);
  ASSERT_EQ(st.st_uid, kNobody);

  victim.send("init");
  ASSERT_EQ(victim.await("init").value_or("?"), "ok") << "init() did not survive the squatted name";
  const std::string real_name = victim.await("segment").value_or("?");
  EXPECT_NE(real_name, victim_name);
  EXPECT_EQ(real_name.rfind(victim_name + ".", 0), 0u) << real_name;

  // ls: the forgery refused with both uids named, the real segment listed.
  const Result json = run({"ls", "--json", "--pid", victim_pid});
  EXPECT_EQ(json.code, 0) << json.err;
  EXPECT_TRUE(has(json.out, "\"name\":\"" + victim_name + "\"")) << json.out;
  EXPECT_TRUE(has(json.out, "\"state\":\"refused\"")) << json.out;
  EXPECT_TRUE(has(json.out, "owned by uid 65534 but pid " + victim_pid + " runs as uid 0")) << json.out;
  EXPECT_TRUE(has(json.out, "\"name\":\"" + real_name + "\"")) << json.out;
  const Result table = run({"ls", "--pid", victim_pid});
  EXPECT_TRUE(has(table.err, victim_name + ": refused")) << table.err;
  EXPECT_TRUE(has(table.out, real_name)) << table.out;

  auto drain_lines = [&](const std::string& dir, Result* result) {
    *result = run({"drain", "--once", "--out", dir, "--pid", victim_pid});
    std::string all;
    for (const std::string& text : ringtail::test::read_stored_texts(dir)) all += text;
    return all;
  };
  char dir_template[] = "/tmp/ringtail-cli-squat-XXXXXX";
  ASSERT_NE(::mkdtemp(dir_template), nullptr);
  const std::string out = dir_template;
  Result live;
  std::string stored = drain_lines(out, &live);
  EXPECT_EQ(live.code, 0) << live.err;
  EXPECT_TRUE(has(live.err, "refused")) << live.err;
  EXPECT_TRUE(has(live.err, "uid 65534")) << live.err;
  EXPECT_EQ(stored_with_message(out, "genuine"), 5u) << stored;
  EXPECT_EQ(stored_with_message(out, "forged"), 0u) << stored;

  // Once the victim is gone, nothing vouches for the forgery but its header,
  // which names another uid than its owner: still refused.
  victim.send("exit");
  const ringtail::test::ChildOutcome victim_exit = victim.finish();
  EXPECT_CHILD_OK(victim_exit);
  Result dead;
  stored = drain_lines(out, &dead);
  EXPECT_EQ(dead.code, 0) << dead.err;
  EXPECT_TRUE(has(dead.err, "refused")) << dead.err;
  EXPECT_TRUE(has(dead.err, "process is gone")) << dead.err;
  EXPECT_EQ(stored_with_message(out, "forged"), 0u) << stored;
  EXPECT_EQ(stored_with_message(out, "genuine"), 5u) << stored;
  std::filesystem::remove_all(out);
}

// A segment may declare huge rings and fill them with huge records; the
// reader copies at most reader::kMaxRecordCopyBytes of any one record. Here
// a same-uid writer puts a 400 MiB event (sparse: it costs /dev/shm almost
// nothing) into a live producer's 1 GiB ring, then a small one after it.
TEST_F(CliTest, AHugeRecordIsSkippedWithANoteNotCopied) {
  Options options = cli_options();
  options.ring_bytes = uint64_t{1} << 30;  // sparse until a thread claims it: nobody does here
  options.max_threads = 1;
  ProducerChild child = ProducerChild::start(options, [](ProducerChild::Link& link) {
    link.signal();
    link.wait();
    return 0;
  });
  ASSERT_TRUE(child.ok()) << child.error();
  ASSERT_TRUE(child.wait_signal());
  absl::StatusOr<shm::SegmentFile> file =
      shm::SegmentFile::open(child.segment_name(), shm::SegmentFile::Access::kReadWrite);
  ASSERT_TRUE(file.ok()) << file.status();
  auto& h = *reinterpret_cast<shm::SegmentHeader*>(file->data());
  const uint64_t now = (h.flags & shm::kFlagRealtimeTimestamps) != 0 ? h.anchor_realtime_ns : h.anchor_tsc;

  // Call site 0: "huge", one string field "s".
  auto& entry = *reinterpret_cast<shm::CallSiteEntry*>(file->data() + h.callsite_table_offset);
  entry.id = 0;
  entry.level = static_cast<uint8_t>(shm::Level::kInfo);
  entry.field_count = 1;
  entry.line = 1;
  entry.field_types[0] = static_cast<uint8_t>(shm::FieldType::kString);
  size_t text = 0;
  for (std::string_view part : {"huge", "huge.cpp", "main", "s"}) {
    const uint16_t length = static_cast<uint16_t>(part.size());
    std::memcpy(entry.text + text, &length, 2);
    std::memcpy(entry.text + text + 2, part.data(), part.size());
    text += 2 + part.size();
  }
  entry.text_bytes = static_cast<uint16_t>(text);
  h.callsite_count.store(1);

  // Ring 0: an owner, the 400 MiB event, then one of 40 bytes with s = "ok".
  auto& slot = *reinterpret_cast<shm::RingSlot*>(file->data() + h.directory_offset);
  std::byte* ring = file->data() + h.rings_offset;
  shm::ThreadStartRecord start{};
  start.header = {sizeof(start), shm::kThreadStartId, 0, now};
  start.os_tid = 4242;
  std::memcpy(ring, &start, sizeof(start));
  constexpr uint32_t kHuge = uint32_t{400} << 20;
  const shm::RecordHeader huge{kHuge, 0, 0, now};
  const shm::StringHeader huge_string{kHuge - 32, kHuge - 32};
  std::memcpy(ring + sizeof(start), &huge, sizeof(huge));
  std::memcpy(ring + sizeof(start) + sizeof(huge), &huge_string, sizeof(huge_string));
  const uint64_t small_at = sizeof(start) + kHuge;
  const shm::RecordHeader small{40, 0, 1, now};
  const shm::StringHeader small_string{2, 2};
  std::memcpy(ring + small_at, &small, sizeof(small));
  std::memcpy(ring + small_at + sizeof(small), &small_string, sizeof(small_string));
  std::memcpy(ring + small_at + sizeof(small) + sizeof(small_string), "ok", 2);
  slot.committed.store(2);
  slot.os_tid.store(4242);
  slot.write_pos.store(small_at + 40, std::memory_order_release);
  slot.state.store(static_cast<uint32_t>(shm::SlotState::kActive), std::memory_order_release);

  char dir_template[] = "/tmp/ringtail-cli-huge-XXXXXX";
  ASSERT_NE(::mkdtemp(dir_template), nullptr);
  const std::string out = dir_template;
  Tool drain({"drain", "--once", "--out", out, "--pid", std::to_string(child.pid())});
  EXPECT_EQ(drain.wait(), 0) << drain.err();
  // Copying the record would have made the drain hold 400 MiB.
  EXPECT_LT(drain.max_rss_kib(), 256 * 1024) << "the drain's peak RSS";
  EXPECT_EQ(stored_with_message(out, "ringtail.too_big"), 1u);
  std::string stored;
  for (const std::string& t : ringtail::test::read_stored_texts(out)) stored += t;
  EXPECT_TRUE(has(stored, "\"record_bytes\":" + std::to_string(kHuge))) << stored;
  EXPECT_EQ(stored_with_message(out, "huge"), 1u) << "the event after it: " << stored;
  EXPECT_TRUE(has(stored, "\"s\":\"ok\"")) << stored;
  EXPECT_EQ(stored_with_message(out, "ringtail.dropped"), 0u) << "its seq was accounted for: " << stored;
  child.resume();
  EXPECT_EQ(child.join(), 0);
  std::filesystem::remove_all(out);
}

TEST_F(CliTest, TailPeeksAndStopsOnSigint) {
  ProducerChild child = producer(4);
  ASSERT_TRUE(child.ok()) << child.error();
  ASSERT_TRUE(child.wait_signal());
  const std::string pid = std::to_string(child.pid());

  Tool tail({"tail", "--pid", pid});
  ASSERT_TRUE(tail.read_lines(4)) << tail.out() << tail.err();
  EXPECT_TRUE(has(tail.out(), "\"message\":\"cli event\"")) << tail.out();
  ASSERT_EQ(::kill(tail.pid(), SIGINT), 0);
  EXPECT_EQ(tail.wait(), 0) << tail.err();
  EXPECT_EQ(lines_in(tail.out()), 4u) << tail.out();

  // Nothing was consumed.
  absl::StatusOr<SegmentView> view = SegmentView::open(child.segment_name(), SegmentView::Access::kReadOnly);
  ASSERT_TRUE(view.ok()) << view.status();
  for (uint32_t i = 0; i < view->slot_count(); ++i) EXPECT_EQ(view->slot_snapshot(i)->read_pos_untrusted, 0u);

  // --where filters as `ringtail query` does: i>=2 keeps two of the four.
  Tool where({"tail", "--pid", pid, "--where", "i>=2"});
  ASSERT_TRUE(where.read_lines(2)) << where.out() << where.err();
  ASSERT_TRUE(ringtail::test::wait_until_ready_for(where.pid(), SIGINT));
  ASSERT_EQ(::kill(where.pid(), SIGINT), 0);
  EXPECT_EQ(where.wait(), 0) << where.err();
  EXPECT_EQ(lines_in(where.out()), 2u) << where.out();
  EXPECT_TRUE(has(where.out(), "\"i\":2") && has(where.out(), "\"i\":3")) << where.out();
  EXPECT_EQ(Tool({"tail", "--where", "i>>2"}).wait(), 2);

  // --level filters the INFO events out; SIGTERM stops it too (after its
  // final drain, which reads the events if the first passes did not).
  Tool warn({"tail", "--pid", pid, "--level", "warn"});
  ASSERT_TRUE(ringtail::test::wait_until_ready_for(warn.pid(), SIGTERM));
  ASSERT_EQ(::kill(warn.pid(), SIGTERM), 0);
  EXPECT_EQ(warn.wait(), 0) << warn.err();
  EXPECT_TRUE(warn.out().empty()) << warn.out();
  child.resume();
  EXPECT_EQ(child.join(), 0);
}

TEST_F(CliTest, SecondSigintEndsATailStuckInItsFinalDrain) {
  // Far more output than a pipe holds, and the test reads none of it: the
  // tail's final drain cannot finish, so only the second SIGINT ends it.
  Options options = cli_options();
  options.ring_bytes = 1 << 20;
  ProducerChild child = ProducerChild::start(options, [](ProducerChild::Link& link) {
    const std::string pad(300, 'x');
    for (int i = 0; i < 1500; ++i) RINGTAIL_INFO("cli event", ringtail::kv("i", i), ringtail::kv("pad", pad));
    link.signal();
    link.wait();
    return 0;
  });
  ASSERT_TRUE(child.ok()) << child.error();
  ASSERT_TRUE(child.wait_signal());

  Tool tail({"tail", "--pid", std::to_string(child.pid())});
  ASSERT_TRUE(ringtail::test::wait_until_ready_for(tail.pid(), SIGINT));
  ASSERT_TRUE(eventually([&] { return tail.unread_stdout() >= 32 * 1024; }, std::chrono::seconds(60)))
      << "unread stdout " << tail.unread_stdout();

  ASSERT_EQ(::kill(tail.pid(), SIGINT), 0);
  ASSERT_TRUE(ringtail::test::wait_until_taken(tail.pid(), SIGINT)) << "the tail never took the first SIGINT";
  EXPECT_TRUE(tail.running()) << "the first SIGINT must wait for the final drain";
  ASSERT_EQ(::kill(tail.pid(), SIGINT), 0);
  EXPECT_EQ(tail.wait(), 128 + SIGINT) << tail.err();
  child.resume();
  EXPECT_EQ(child.join(), 0);
}

// A scratch directory holding a store and, beside it, what planted links
// point at; removed with everything in it.
class ScratchDirectory {
 public:
  ScratchDirectory() {
    char dir_template[] = "/tmp/ringtail-cli-links-XXXXXX";
    if (::mkdtemp(dir_template) != nullptr) path_ = dir_template;
  }
  ~ScratchDirectory() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

std::string read_raw(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// `ringtail query` (run as root, say) reads the store's regular files only: a
// link named like a data file, pointing outside the store, is reported, not
// read, and gets no index written for it.
TEST_F(CliTest, QueryDoesNotReadThroughALink) {
  ScratchDirectory scratch;
  ASSERT_FALSE(scratch.path().empty());
  const std::filesystem::path day = scratch.path() / "store" / "svc" / "2026-11-30";
  std::filesystem::create_directories(day);
  std::filesystem::create_directories(scratch.path() / "outside");
  std::ofstream(day / "svc-1-info-20261130T100000.000000000Z-20261130T100000.000000000Z.jsonl")
      << R"({"timestamp":"2026-11-30T10:00:00.000000000Z","level":"INFO","message":"stored"})"
      << "\n";
  const std::filesystem::path victim = scratch.path() / "outside" / "victim.jsonl";
  const std::string secret = R"({"timestamp":"2026-11-30T10:00:01.000000000Z","level":"INFO","message":"secret"})"
                             "\n";
  std::ofstream(victim) << secret;
  const std::filesystem::path link = day / "svc-2-info-20261130T100001.000000000Z-20261130T100001.000000000Z.jsonl";
  std::filesystem::create_symlink(victim, link);

  const Result r = run({"query", (scratch.path() / "store").string()});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(has(r.out, "stored")) << r.out;
  EXPECT_FALSE(has(r.out, "secret")) << r.out;
  EXPECT_TRUE(has(r.err, link.string() + " is a symbolic link")) << r.err;
  EXPECT_FALSE(std::filesystem::exists(std::filesystem::symlink_status(
      day / "svc-2-info-20261130T100001.000000000Z-20261130T100001.000000000Z.index.json")));
  EXPECT_EQ(read_raw(victim), secret);
  EXPECT_TRUE(std::filesystem::is_symlink(link));
}

// `ringtail retain --archive` never moves a file through a linked directory
// of the archive: it says so, exits 1, and the file stays in the store.
TEST_F(CliTest, RetainNeverArchivesThroughALink) {
  ScratchDirectory scratch;
  ASSERT_FALSE(scratch.path().empty());
  const std::filesystem::path store = scratch.path() / "store";
  const std::filesystem::path day = store / "svc" / "2026-10-21";
  const std::filesystem::path archive = scratch.path() / "archive";
  const std::filesystem::path elsewhere = scratch.path() / "elsewhere";
  std::filesystem::create_directories(day);
  std::filesystem::create_directories(archive);
  std::filesystem::create_directories(elsewhere);
  std::filesystem::create_symlink(elsewhere, archive / "svc");
  // A closed file written 40 days ago (its lines say so too).
  const int64_t written = static_cast<int64_t>(::time(nullptr) - 40 * 86400) * 1'000'000'000;
  StoredFileName name;
  name.kind = StoredFileName::Kind::kClosed;
  name.service = "svc";
  name.pid = 1;
  name.level_class = LevelClass::kInfo;
  name.first = name.last = name_stamp_from_ns(written);
  const std::filesystem::path plain = day / name.file_name();
  std::ofstream(plain) << R"({"timestamp":")" << timestamp_from_name_stamp(name.last)
                       << R"(","level":"INFO","message":"old"})"
                       << "\n";
  const timespec times[2] = {{0, UTIME_OMIT}, {static_cast<time_t>(written / 1'000'000'000), 0}};
  ASSERT_EQ(::utimensat(AT_FDCWD, plain.c_str(), times, 0), 0);

  const Result r = run({"retain", store.string(), "--max-age", "30d", "--archive", archive.string()});
  EXPECT_EQ(r.code, 1) << r.out << r.err;
  EXPECT_TRUE(has(r.err, (archive / "svc").string() + " is a symbolic link")) << r.err;
  EXPECT_TRUE(std::filesystem::is_empty(elsewhere));
  name.kind = StoredFileName::Kind::kCompressed;
  EXPECT_TRUE(std::filesystem::exists(day / name.file_name()));  // compressed by retain's recovery, kept
}

}  // namespace
}  // namespace ringtail::reader
