// `ringtail top`: the model (reader/top/top_sampler.hpp) against forked
// producers whose counts are known, the frame's text (top_view.hpp), and the
// verb itself against a running ringtail-loadgen: `--once` into a pipe, and
// the interactive view in a real terminal, a tmux pane on a private socket
// (tmux missing is a failure: scripts/install-deps.sh installs it).
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "drain_test_support.hpp"
#include "eventually.hpp"
#include "producer_child.hpp"
#include "ringtail/reader/top/top_sampler.hpp"
#include "ringtail/reader/top/top_view.hpp"
#include "ringtail/ringtail.hpp"
#include "subprocess.hpp"
#include "temp_dir.hpp"

namespace ringtail::reader {
namespace {

using ringtail::reader::testing::Loadgen;
using ringtail::test::ProducerChild;

bool has(std::string_view text, std::string_view part) { return text.find(part) != std::string_view::npos; }

TopOptions options_for(pid_t pid) {
  TopOptions options;
  options.discovery.pids = {pid};
  return options;
}

// The one process of a frame sampled for one pid.
const TopProcess& only_process(const TopFrame& frame) {
  EXPECT_EQ(frame.processes.size(), 1u);
  return frame.processes.front();
}

std::vector<std::string> split_words(const std::string& line) {
  std::istringstream in(line);
  std::vector<std::string> words;
  for (std::string word; in >> word;) words.push_back(word);
  return words;
}

// The cell of `column` in the row of `pid`, from a frame's lines (header
// words and row words line up: the cells a loadgen row holds have no blanks).
std::string cell(const std::string& text, pid_t pid, const std::string& column) {
  std::istringstream in(text);
  std::vector<std::string> header;
  for (std::string line; std::getline(in, line);) {
    const std::vector<std::string> words = split_words(line);
    if (!words.empty() && words.front().rfind("PID", 0) == 0) header = words;
    if (!header.empty() && !words.empty() && words.front() == std::to_string(pid) && words.size() == header.size()) {
      for (size_t c = 0; c < header.size(); ++c) {
        std::string name = header[c];
        if (!name.empty() && name.back() == '*') name.pop_back();
        if (name == column) return words[c];
      }
    }
  }
  return "";
}

TEST(TopSamplerTest, RatesAndTopMessagesOfTwoCallSites) {
  Options options = ringtail::test::small_producer_options("top-rates");
  options.ring_bytes = uint64_t{1} << 20;  // 400 events fit: no drops
  ProducerChild child = ProducerChild::start(options, [](ProducerChild::Link& link) {
    link.signal();
    if (!link.wait()) return 1;
    for (int i = 0; i < 100; ++i) {
      for (int k = 0; k < 3; ++k) RINGTAIL_INFO("alpha", kv("i", i));
      RINGTAIL_WARN("beta", kv("i", i));
    }
    link.signal();
    return link.wait() ? 0 : 1;
  });
  ASSERT_TRUE(child.ok()) << child.error();
  ASSERT_TRUE(child.wait_signal());

  TopSampler sampler(options_for(child.pid()));
  absl::StatusOr<TopFrame> first = sampler.sample();
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_FALSE(only_process(*first).has_rates) << "one sample gives no rate";
  EXPECT_EQ(only_process(*first).state, "alive");

  ASSERT_TRUE(child.resume());
  ASSERT_TRUE(child.wait_signal());
  absl::StatusOr<TopFrame> second = sampler.sample();
  ASSERT_TRUE(second.ok()) << second.status();
  const TopProcess& p = only_process(*second);
  ASSERT_TRUE(p.has_rates);
  EXPECT_EQ(p.pid, child.pid());
  EXPECT_EQ(p.service, "top-rates");
  EXPECT_EQ(p.events, 400u);
  EXPECT_EQ(p.committed, 400u);
  EXPECT_GT(p.seconds, 0);
  EXPECT_NEAR(p.events_per_second, 400.0 / p.seconds, 1e-6);
  EXPECT_EQ(p.drops, 0u);
  EXPECT_EQ(p.dropped, 0u);
  EXPECT_FALSE(p.messages_sampled);
  EXPECT_EQ(p.messages_counted, 400u);
  ASSERT_EQ(p.messages.size(), 2u);
  EXPECT_EQ(p.messages[0].message, "alpha");
  EXPECT_EQ(p.messages[0].events, 300u);
  EXPECT_EQ(p.messages[0].level, shm::Level::kInfo);
  EXPECT_TRUE(has(p.messages[0].file, "top_test.cpp")) << p.messages[0].file;
  EXPECT_DOUBLE_EQ(p.messages[0].share, 0.75);
  EXPECT_NEAR(p.messages[0].per_second, 0.75 * p.events_per_second, 1e-6);
  EXPECT_EQ(p.messages[1].message, "beta");
  EXPECT_EQ(p.messages[1].events, 100u);
  EXPECT_EQ(p.messages[1].level, shm::Level::kWarn);
  EXPECT_EQ(p.rings_claimed, 1u);
  EXPECT_FALSE(p.lease.has_value());

  // Nothing new: no events, and the messages already counted are not counted again.
  absl::StatusOr<TopFrame> third = sampler.sample();
  ASSERT_TRUE(third.ok()) << third.status();
  EXPECT_EQ(only_process(*third).events, 0u);
  EXPECT_EQ(only_process(*third).messages_counted, 0u);
  EXPECT_TRUE(only_process(*third).messages.empty());

  ASSERT_TRUE(child.resume());
  EXPECT_EQ(child.join(), 0);
}

// A budget smaller than what was written: the process is marked sampled and
// the counts cover only what was read.
TEST(TopSamplerTest, PeekBudgetMarksTheMessagesSampled) {
  Options options = ringtail::test::small_producer_options("top-budget");
  options.ring_bytes = uint64_t{1} << 20;
  ProducerChild child = ProducerChild::start(options, [](ProducerChild::Link& link) {
    link.signal();
    if (!link.wait()) return 1;
    for (int i = 0; i < 2000; ++i) RINGTAIL_INFO("many", kv("i", i));
    link.signal();
    return link.wait() ? 0 : 1;
  });
  ASSERT_TRUE(child.ok()) << child.error();
  ASSERT_TRUE(child.wait_signal());
  TopOptions top = options_for(child.pid());
  top.peek_bytes_per_ring = 4096;
  TopSampler sampler(top);
  ASSERT_TRUE(sampler.sample().ok());
  ASSERT_TRUE(child.resume());
  ASSERT_TRUE(child.wait_signal());
  absl::StatusOr<TopFrame> frame = sampler.sample();
  ASSERT_TRUE(frame.ok()) << frame.status();
  const TopProcess& p = only_process(*frame);
  EXPECT_EQ(p.events, 2000u);
  EXPECT_TRUE(p.messages_sampled);
  EXPECT_GT(p.messages_counted, 0u);
  EXPECT_LT(p.messages_counted, 2000u);
  ASSERT_EQ(p.messages.size(), 1u);
  EXPECT_EQ(p.messages[0].message, "many");
  EXPECT_NEAR(p.messages[0].per_second, p.events_per_second, 1e-6) << "the share scales to the process's rate";
  EXPECT_LE(frame->peeked_bytes, 4096u + 512u);  // the budget, plus at most one record
  ASSERT_TRUE(child.resume());
  EXPECT_EQ(child.join(), 0);
}

#define TOP_SITE(n) RINGTAIL_INFO("site " #n)

TEST(TopSamplerTest, DropsByCauseAndTheFillOfARingNobodyDrains) {
  Options options = ringtail::test::small_producer_options("top-drops");
  options.ring_bytes = 4096;
  options.max_threads = 1;  // a second thread gets no ring
  options.max_callsites = 16;
  options.sample = "msg:sampled=0";
  ProducerChild child = ProducerChild::start(options, [](ProducerChild::Link& link) {
    // One call site for both rounds (a second one would find the table full).
    auto fill = [](int i) { RINGTAIL_INFO("fill", kv("i", i)); };
    RINGTAIL_INFO("big", kv("payload", std::string(3000, 'x')));  // more than half the ring: too big
    for (int i = 0; i < 500; ++i) fill(i);                        // nobody drains: the ring fills
    std::thread([] { RINGTAIL_INFO("no ring"); }).join();
    for (int i = 0; i < 3; ++i) RINGTAIL_INFO("sampled", kv("i", i));
    TOP_SITE(1);
    TOP_SITE(2);
    TOP_SITE(3);
    TOP_SITE(4);
    TOP_SITE(5);
    TOP_SITE(6);
    TOP_SITE(7);
    TOP_SITE(8);
    TOP_SITE(9);
    TOP_SITE(10);
    TOP_SITE(11);
    TOP_SITE(12);
    TOP_SITE(13);
    TOP_SITE(14);
    TOP_SITE(15);
    TOP_SITE(16);
    TOP_SITE(17);
    TOP_SITE(18);
    link.signal();
    if (!link.wait()) return 1;
    for (int i = 0; i < 100; ++i) fill(i);  // all dropped: the ring is full
    link.signal();
    return link.wait() ? 0 : 1;
  });
  ASSERT_TRUE(child.ok()) << child.error();
  ASSERT_TRUE(child.wait_signal());

  TopSampler sampler(options_for(child.pid()));
  absl::StatusOr<TopFrame> first = sampler.sample();
  ASSERT_TRUE(first.ok()) << first.status();
  const TopProcess& p = only_process(*first);
  EXPECT_EQ(p.dropped_by_cause.too_big, 1u);
  EXPECT_GT(p.dropped_by_cause.ring_full, 0u);
  EXPECT_EQ(p.dropped_by_cause.no_ring, 1u);
  EXPECT_GT(p.dropped_by_cause.callsite_table_full, 0u);
  EXPECT_EQ(p.dropped, p.dropped_by_cause.ring_full + p.dropped_by_cause.too_big + p.dropped_by_cause.no_ring +
                           p.dropped_by_cause.callsite_table_full);
  EXPECT_EQ(p.sampled_out, 3u);
  EXPECT_EQ(p.audit_lost, 0u);
  EXPECT_EQ(p.rings_claimed, 1u);
  EXPECT_GE(p.fill_max, 0.9) << "a ring nobody drains is full";
  EXPECT_DOUBLE_EQ(p.fill_mean, p.fill_max) << "one ring";
  EXPECT_GT(p.pending_bytes, 0u);
  EXPECT_LE(p.pending_bytes, 4096u);
  EXPECT_FALSE(p.lease.has_value());
  const uint64_t full_before = p.dropped_by_cause.ring_full;

  ASSERT_TRUE(child.resume());
  ASSERT_TRUE(child.wait_signal());
  absl::StatusOr<TopFrame> second = sampler.sample();
  ASSERT_TRUE(second.ok()) << second.status();
  const TopProcess& q = only_process(*second);
  ASSERT_TRUE(q.has_rates);
  EXPECT_EQ(q.events, 0u);
  EXPECT_EQ(q.drops, 100u);
  EXPECT_EQ(q.dropped_by_cause.ring_full, full_before + 100);
  EXPECT_NEAR(q.drops_per_second, 100.0 / q.seconds, 1e-6);

  std::vector<TopProcess> processes = second->processes;
  sort_top_processes(processes, TopSort::kDrops);  // one process: only that it runs
  ASSERT_TRUE(child.resume());
  EXPECT_EQ(child.join(), 0);

  // Gone: the segment stays (nothing drained it), the producer is exited.
  absl::StatusOr<TopFrame> after = sampler.sample();
  ASSERT_TRUE(after.ok()) << after.status();
  ASSERT_EQ(after->processes.size(), 1u);
  EXPECT_EQ(after->processes[0].state, "exited");
}

TopProcess made_process(pid_t pid, double events_per_second, double drops_per_second, double fill, uint64_t pending) {
  TopProcess p;
  p.segment = "ringtail." + std::to_string(pid) + ".1";
  p.pid = pid;
  p.service = "svc" + std::to_string(pid);
  p.state = "alive";
  p.has_rates = true;
  p.seconds = 1;
  p.events_per_second = events_per_second;
  p.drops_per_second = drops_per_second;
  p.rings_claimed = 1;
  p.fill_max = p.fill_mean = fill;
  p.pending_bytes = pending;
  return p;
}

TEST(TopViewTest, SortsByEachColumnAndMarksIt) {
  std::vector<TopProcess> processes = {made_process(30, 5, 0, 0.1, 10), made_process(10, 50, 1, 0.2, 5),
                                       made_process(20, 1, 9, 0.9, 100)};
  auto pids = [&](TopSort sort) {
    sort_top_processes(processes, sort);
    std::vector<pid_t> out;
    for (const TopProcess& p : processes) out.push_back(p.pid);
    return out;
  };
  EXPECT_EQ(pids(TopSort::kEventRate), (std::vector<pid_t>{10, 30, 20}));
  EXPECT_EQ(pids(TopSort::kDrops), (std::vector<pid_t>{20, 10, 30}));
  EXPECT_EQ(pids(TopSort::kRingFill), (std::vector<pid_t>{20, 10, 30}));
  EXPECT_EQ(pids(TopSort::kLag), (std::vector<pid_t>{20, 30, 10}));
  EXPECT_EQ(pids(TopSort::kPid), (std::vector<pid_t>{10, 20, 30}));

  TopSort sort = TopSort::kEventRate;
  std::vector<TopSort> cycle;
  for (size_t i = 0; i < 5; ++i) cycle.push_back(sort = next_top_sort(sort));
  EXPECT_EQ(cycle, (std::vector<TopSort>{TopSort::kDrops, TopSort::kRingFill, TopSort::kLag, TopSort::kPid,
                                         TopSort::kEventRate}));
  for (const TopSort s : kTopSorts) EXPECT_EQ(parse_top_sort(top_sort_name(s)), s);
  EXPECT_FALSE(parse_top_sort("bogus").has_value());

  TopFrame frame;
  frame.processes = processes;
  TopViewOptions view;
  view.sort = TopSort::kDrops;
  const std::vector<std::string> lines = render_top_frame(frame, view);
  std::string text;
  for (const std::string& line : lines) text += line + "\n";
  EXPECT_TRUE(has(lines.front(), "sort: drops")) << text;
  EXPECT_TRUE(has(text, "DROPS/S*")) << text;
  EXPECT_FALSE(has(text, "EVENTS/S*")) << text;
  EXPECT_EQ(cell(text, 20, "DROPS/S"), "9.0") << text;
  EXPECT_EQ(cell(text, 10, "EVENTS/S"), "50") << text;
  EXPECT_EQ(cell(text, 20, "MAXFILL"), "90%") << text;
  // Rows in the sorted order.
  EXPECT_LT(text.find("svc20"), text.find("svc10")) << text;
  EXPECT_LT(text.find("svc10"), text.find("svc30")) << text;
}

TEST(TopViewTest, HostileTextIsInertAndLinesFitTheScreen) {
  TopProcess p = made_process(42, 1000, 0, 0.5, 0);
  p.service = "\x1b]0;owned\x07";
  TopMessage m;
  m.message = "\x1b[2Jwiped\r\nforged line";
  m.file = "/src/\x1b[31mred.cpp";
  m.line = 7;
  m.events = 10;
  m.share = 1;
  m.per_second = 1000;
  p.messages.push_back(m);
  p.messages_counted = 10;
  TopFrame frame;
  frame.processes.push_back(p);
  frame.notes.push_back("ringtail.9.9: bad \x1b[H");
  TopViewOptions view;
  view.keys = true;
  view.paused = true;
  std::vector<std::string> lines = render_top_frame(frame, view);
  std::string text;
  for (const std::string& line : lines) {
    text += line + "\n";
    EXPECT_EQ(line.find_first_of("\x1b\r\n\a"), std::string::npos) << line;
  }
  EXPECT_TRUE(has(text, "wiped")) << text;
  EXPECT_TRUE(has(text, "red.cpp:7")) << text;
  EXPECT_TRUE(has(lines.front(), "PAUSED")) << text;
  EXPECT_TRUE(has(lines.front(), "q quit")) << text;

  view.width = 40;
  view.height = 4;
  lines = render_top_frame(frame, view);
  ASSERT_EQ(lines.size(), 4u);
  for (const std::string& line : lines) EXPECT_LE(line.size(), 40u) << line;
  EXPECT_TRUE(has(lines.back(), "more lines")) << lines.back();
}

TEST(TopViewTest, NumbersFitNarrowColumns) {
  EXPECT_EQ(top_rate_text(0), "0");
  EXPECT_EQ(top_rate_text(2.25), "2.2");
  EXPECT_EQ(top_rate_text(812), "812");
  EXPECT_EQ(top_rate_text(12'345), "12.3k");
  EXPECT_EQ(top_rate_text(4'500'000), "4.5M");
  EXPECT_EQ(top_count_text(99'999), "99999");
  EXPECT_EQ(top_count_text(123'456), "123.5k");
  EXPECT_EQ(top_count_text(UINT64_MAX), "18446744073.7G");
  EXPECT_EQ(top_bytes_text(0), "0");
  EXPECT_EQ(top_bytes_text(512), "512B");
  EXPECT_EQ(top_bytes_text(4096), "4.0K");
  EXPECT_EQ(top_bytes_text(uint64_t{3} << 20), "3.0M");
}

// A long, paced ringtail-loadgen run with a 16 MiB ring: it neither ends nor
// fills its ring while a test watches it.
class TopCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* tool : {"ringtail", "ringtail-loadgen"}) ASSERT_TRUE(ringtail::test::tool_built(tool));
    loadgen_ =
        std::make_unique<Loadgen>(std::vector<std::string>{"--threads", "1", "--events", "100000000", "--rate", "500",
                                                           "--burst", "5", "--service", "top-cli"},
                                  std::vector<std::string>{"RINGTAIL_RING_BYTES=16777216", "RINGTAIL_MAX_THREADS=2"});
    ASSERT_GT(loadgen_->pid(), 0);
    ASSERT_TRUE(ringtail::test::eventually([&] { return loadgen_->segment_exists(); }))
        << "ringtail-loadgen made no segment: " << loadgen_->err();
  }
  void TearDown() override { loadgen_.reset(); }

  pid_t pid() const { return loadgen_->pid(); }
  std::unique_ptr<Loadgen> loadgen_;
};

TEST_F(TopCliTest, OnceIntoAPipePrintsOnePlainFrame) {
  const ringtail::test::Result r =
      ringtail::test::run({"top", "--once", "--pid", std::to_string(pid()), "--interval", "0.5"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out.find('\x1b'), std::string::npos) << "escape codes in a pipe:\n" << r.out;
  const std::string rate = cell(r.out, pid(), "EVENTS/S");
  ASSERT_FALSE(rate.empty()) << "no row for pid " << pid() << ":\n" << r.out;
  EXPECT_GT(std::atof(rate.c_str()), 0.0) << r.out;
  EXPECT_EQ(cell(r.out, pid(), "SERVICE"), "top-cli") << r.out;
  EXPECT_TRUE(has(r.out, "INFO  loadgen  (main.cpp:")) << "the loadgen's call site as top message:\n" << r.out;
  EXPECT_TRUE(has(r.out, "sort: events/s")) << r.out;
}

TEST_F(TopCliTest, UsageErrorsExit2) {
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"top", "--interval", "0"}, std::vector<std::string>{"top", "--sort", "bogus"},
        std::vector<std::string>{"top", "--pid", "x"}}) {
    const ringtail::test::Result r = ringtail::test::run(args);
    EXPECT_EQ(r.code, 2) << args[1] << ": " << r.err;
    EXPECT_TRUE(has(r.err, "ringtail: ")) << r.err;
  }
  const ringtail::test::Result help = ringtail::test::run({"top", "--help"});
  EXPECT_EQ(help.code, 0);
  EXPECT_TRUE(has(help.out, "Examples:")) << help.out;
}

// tmux on $PATH; empty if there is none.
std::string tmux_program() {
  const char* path = std::getenv("PATH");
  std::string_view dirs = path != nullptr ? path : "/usr/bin:/bin";
  while (!dirs.empty()) {
    const size_t colon = std::min(dirs.find(':'), dirs.size());
    std::string candidate = std::string(dirs.substr(0, colon)) + "/tmux";
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
    dirs.remove_prefix(std::min(colon + 1, dirs.size()));
  }
  return "";
}

// A tmux server of its own (-L: a private socket, -f /dev/null: no user
// configuration), killed with everything in it when the Tmux goes.
class Tmux {
 public:
  Tmux() : program_(tmux_program()), socket_("ringtail-top-test-" + std::to_string(::getpid())) {}
  ~Tmux() {
    if (!program_.empty()) (void)run({"kill-server"});
  }
  Tmux(const Tmux&) = delete;
  Tmux& operator=(const Tmux&) = delete;

  bool found() const { return !program_.empty(); }
  ringtail::test::Result run(const std::vector<std::string>& args) const {
    std::vector<std::string> all = {"-L", socket_, "-f", "/dev/null"};
    all.insert(all.end(), args.begin(), args.end());
    ringtail::test::Subprocess tmux(program_, all);
    ringtail::test::Result r;
    r.code = tmux.wait(20000);
    r.out = tmux.out();
    r.err = tmux.err();
    return r;
  }
  std::string pane(const std::string& session) const { return run({"capture-pane", "-p", "-t", session}).out; }

 private:
  std::string program_;
  std::string socket_;
};

TEST_F(TopCliTest, InteractiveViewInATerminalSortsAndQuits) {
  Tmux tmux;
  ASSERT_TRUE(tmux.found()) << "tmux is not installed (scripts/install-deps.sh installs it): this test needs a "
                               "real terminal";
  const std::string session = "top";
  // The shell around top keeps its exit status in a file (tmux's own
  // #{pane_dead_status} was seen to stay empty).
  ringtail::test::TempDir dir("top-tmux");
  const std::string status_file = dir / "status";
  const std::string command = ringtail::test::tool_path("ringtail") + " top --interval 0.5 --pid " +
                              std::to_string(pid()) + "; echo $? > " + status_file;
  // remain-on-exit: the pane outlives top, so that its exit status can be read.
  const ringtail::test::Result started = tmux.run({"new-session", "-d", "-s", session, "-x", "160", "-y", "40", command,
                                                   ";", "set-option", "-t", session, "remain-on-exit", "on"});
  ASSERT_EQ(started.code, 0) << started.err;

  const std::string row_start = std::to_string(pid()) + "  top-cli";
  std::string screen;
  ASSERT_TRUE(ringtail::test::eventually([&] {
    screen = tmux.pane(session);
    return has(screen, row_start) && has(screen, "sort: events/s") && has(screen, "EVENTS/S*");
  })) << "the pane never showed pid "
      << pid() << ":\n"
      << screen;
  // Rates come with the second sample.
  ASSERT_TRUE(ringtail::test::eventually([&] {
    screen = tmux.pane(session);
    return std::atof(cell(screen, pid(), "EVENTS/S").c_str()) > 0;
  })) << "no events/s for the loadgen:\n"
      << screen;

  ASSERT_EQ(tmux.run({"send-keys", "-t", session, "s"}).code, 0);
  ASSERT_TRUE(ringtail::test::eventually([&] {
    screen = tmux.pane(session);
    return has(screen, "sort: drops") && has(screen, "DROPS/S*") && !has(screen, "EVENTS/S*");
  })) << "s did not move the sort to the next column:\n"
      << screen;

  ASSERT_EQ(tmux.run({"send-keys", "-t", session, "p"}).code, 0);
  ASSERT_TRUE(ringtail::test::eventually([&] { return has(screen = tmux.pane(session), "PAUSED"); })) << screen;

  ASSERT_EQ(tmux.run({"send-keys", "-t", session, "q"}).code, 0);
  std::string status;
  ASSERT_TRUE(ringtail::test::eventually([&] {
    std::ifstream in(status_file);
    return static_cast<bool>(std::getline(in, status));
  })) << "top still runs after q:\n"
      << tmux.pane(session);
  EXPECT_EQ(status, "0") << "top's exit status";
  ASSERT_TRUE(ringtail::test::eventually([&] {
    return tmux.run({"display-message", "-p", "-t", session, "#{pane_dead}"}).out == "1\n";
  })) << "the pane's shell did not end";
  // The alternate screen was left: the pane shows the (empty) main screen, not a frame.
  screen = tmux.pane(session);
  EXPECT_FALSE(has(screen, "sort: ")) << screen;

  ASSERT_EQ(tmux.run({"kill-session", "-t", session}).code, 0);
  EXPECT_NE(tmux.run({"has-session", "-t", session}).code, 0) << "the session outlived kill-session";
}

}  // namespace
}  // namespace ringtail::reader
