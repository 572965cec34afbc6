// End to end: real `ringtail-loadgen` producers drained by the real `ringtail`
// tool, the JSONL output parsed back with simdjson. Every test uses its own
// output directory and service name and names its producers' pids (--pid), so
// segments of tests running alongside are never touched; children are killed
// and their segments removed even when a test fails. Needs
// $RINGTAIL_TEST_BIN_DIR/tools/{ringtail,ringtail-loadgen} (skipped without).
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <gtest/gtest.h>
#include <simdjson.h>

#include "bin_dir.hpp"
#include "eventually.hpp"
#include "producer_child.hpp"
#include "ringtail/context.hpp"
#include "ringtail/log.hpp"
#include "signal_ready.hpp"
#include "stored_files.hpp"
#include "subprocess.hpp"

namespace ringtail::reader {
namespace {

using ringtail::test::Subprocess;

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr bool kSanitized = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
constexpr bool kSanitized = true;
#else
constexpr bool kSanitized = false;
#endif
#else
constexpr bool kSanitized = false;
#endif

constexpr int kTimeoutMs = 120000;

std::string ringtail_path() { return ringtail::test::tool_path("ringtail"); }
std::string loadgen_path() { return ringtail::test::tool_path("ringtail-loadgen"); }

// Removes the output directory and the segments of the listed pids. Declared
// before the children of a test, so it runs after they are killed.
class Cleanup {
 public:
  explicit Cleanup(const std::string& tag) {
    std::string templ = "/tmp/ringtail-e2e-" + tag + "-XXXXXX";
    if (::mkdtemp(templ.data()) != nullptr) dir_ = templ;
  }
  Cleanup(const Cleanup&) = delete;
  Cleanup& operator=(const Cleanup&) = delete;
  ~Cleanup() {
    for (pid_t pid : pids_) remove_segments(pid);
    std::error_code ec;
    if (!dir_.empty()) std::filesystem::remove_all(dir_, ec);
  }
  const std::string& dir() const { return dir_; }
  void own(pid_t pid) {
    if (pid > 0) pids_.push_back(pid);
  }

  static std::vector<std::string> segments_of(pid_t pid) {
    std::vector<std::string> names;
    const std::string prefix = "ringtail." + std::to_string(pid) + ".";
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator("/dev/shm", ec)) {
      const std::string name = entry.path().filename().string();
      if (name.rfind(prefix, 0) == 0) names.push_back(name);
    }
    return names;
  }
  static void remove_segments(pid_t pid) {
    for (const std::string& name : segments_of(pid)) ::unlink(("/dev/shm/" + name).c_str());
  }

 private:
  std::string dir_;
  std::vector<pid_t> pids_;
};

// One parsed output line.
struct Line {
  std::string file;
  std::string timestamp;
  std::string message;
  int64_t pid = -1;
  int64_t tid = -1;
  bool has_seq = false;
  bool has_i = false;
  int64_t thread_index = -1;
  uint64_t i = 0;
  std::string payload;
  std::string tenant;  // a context field, where there is one
};

struct Output {
  std::vector<Line> lines;
  std::vector<std::string> errors;  // lines that did not parse
  std::vector<std::string> files;
};

Output read_output(const std::string& dir) {
  Output output;
  std::error_code ec;
  std::vector<std::string> files;
  for (const std::filesystem::path& path : ringtail::test::stored_data_files(dir)) files.push_back(path.string());
  output.files = files;
  simdjson::dom::parser parser;
  for (const std::string& file : files) {
    std::istringstream in(ringtail::test::read_stored_text(file));
    std::string text;
    while (std::getline(in, text)) {
      simdjson::dom::element doc;
      if (parser.parse(text).get(doc) != simdjson::SUCCESS || !doc.is_object()) {
        output.errors.push_back(file + ": " + text);
        continue;
      }
      Line line;
      line.file = file;
      std::string_view message;
      if (doc["message"].get(message) == simdjson::SUCCESS) line.message = std::string(message);
      std::string_view timestamp;
      if (doc["timestamp"].get(timestamp) == simdjson::SUCCESS) line.timestamp = std::string(timestamp);
      if (doc["pid"].get(line.pid) != simdjson::SUCCESS) line.pid = -1;
      if (doc["tid"].get(line.tid) != simdjson::SUCCESS) line.tid = -1;
      line.has_seq = doc["seq"].error() == simdjson::SUCCESS;
      uint64_t i = 0;
      if (doc["i"].get(i) == simdjson::SUCCESS) {
        line.has_i = true;
        line.i = i;
      }
      if (doc["thread_index"].get(line.thread_index) != simdjson::SUCCESS) line.thread_index = -1;
      std::string_view payload;
      if (doc["payload"].get(payload) == simdjson::SUCCESS) line.payload = std::string(payload);
      std::string_view tenant;
      if (doc["tenant"].get(tenant) == simdjson::SUCCESS) line.tenant = std::string(tenant);
      output.lines.push_back(std::move(line));
    }
  }
  return output;
}

std::string expected_payload(size_t bytes) {
  std::string payload(bytes, '\0');
  for (size_t k = 0; k < bytes; ++k) payload[k] = static_cast<char>('a' + k % 26);
  return payload;
}

// Waits until a --follow drain has drained the finished producers' segments
// to their end and removed them: then it is up and has its signal handlers, so
// the SIGINT that follows ends it through its final drain.
bool wait_segments_gone(const std::vector<pid_t>& pids, int timeout_ms = kTimeoutMs) {
  return ringtail::test::eventually(
      [&] {
        return std::all_of(pids.begin(), pids.end(), [](pid_t pid) { return Cleanup::segments_of(pid).empty(); });
      },
      std::chrono::milliseconds(timeout_ms), std::chrono::milliseconds(10));
}

// Waits for a following `drain` to remove the segments of the finished
// producers `pids`, then stops it with SIGINT: it must exit 0.
void stop_drain_once_segments_gone(Subprocess& drain, const std::vector<pid_t>& pids) {
  ASSERT_TRUE(wait_segments_gone(pids)) << "the drain never removed the finished "
                                        << (pids.size() == 1 ? "producer's segment" : "producers' segments");
  ASSERT_TRUE(ringtail::test::wait_until_ready_for(drain.pid(), SIGINT)) << drain.err();
  drain.signal(SIGINT);
  ASSERT_EQ(drain.wait(), 0) << drain.err();
}

// Bytes in the data files under `dir` (a file renamed meanwhile counts 0).
uint64_t stored_bytes(const std::string& dir) {
  uint64_t bytes = 0;
  for (const std::filesystem::path& file : ringtail::test::stored_data_files(dir)) {
    std::error_code ec;
    const uintmax_t size = std::filesystem::file_size(file, ec);
    if (!ec) bytes += size;
  }
  return bytes;
}

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

std::string unique_service(const std::string& base) {
  return "e2e-" + base + "-" + std::to_string(::getpid()) + "-" +
         std::to_string(std::chrono::steady_clock::now().time_since_epoch().count() % 1000000);
}

std::vector<std::string> loadgen_args(const std::string& service, int threads, uint64_t events,
                                      const std::vector<std::string>& extra) {
  std::vector<std::string> args = {
      "--threads", std::to_string(threads), "--events", std::to_string(events), "--service", service};
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

// The loadgen events of `lines` per (pid, tid), i values in file order.
using Sequences = std::map<std::pair<int64_t, int64_t>, std::vector<uint64_t>>;

Sequences loadgen_sequences(const std::vector<Line>& lines) {
  Sequences seqs;
  for (const Line& line : lines) {
    if (line.message == "loadgen" && line.has_i) seqs[{line.pid, line.tid}].push_back(line.i);
  }
  return seqs;
}

size_t count_message(const std::vector<Line>& lines, const std::string& message) {
  return static_cast<size_t>(
      std::count_if(lines.begin(), lines.end(), [&](const Line& l) { return l.message == message; }));
}

// Every i in 0..n-1 exactly once and in order; an empty string when so.
std::string check_exact(const std::vector<uint64_t>& seq, uint64_t n) {
  if (seq.size() != n) return "holds " + std::to_string(seq.size()) + " events, want " + std::to_string(n);
  for (uint64_t k = 0; k < n; ++k) {
    if (seq[k] != k) return "line " + std::to_string(k) + " has i=" + std::to_string(seq[k]);
  }
  return "";
}

// Every test runs both tools: one missing is every test's failure, told
// once up front.
class EndToEndTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const std::string& tool : {ringtail_path(), loadgen_path()}) {
      ASSERT_EQ(::access(tool.c_str(), X_OK), 0) << tool << " is not built";
    }
  }
};

TEST_F(EndToEndTest, FollowDrainsEveryEventOnceInOrder) {
  const uint64_t events = kSanitized ? 20000 : 200000;
  constexpr int kThreads = 4;
  Cleanup cleanup("follow");
  ASSERT_FALSE(cleanup.dir().empty());
  const std::string service = unique_service("follow");
  Subprocess loadgen(loadgen_path(),
                     loadgen_args(service, kThreads, events, {"--retry-when-full", "--string-bytes", "16"}));
  cleanup.own(loadgen.pid());
  ASSERT_GT(loadgen.pid(), 0);
  Subprocess drain(ringtail_path(),
                   {"drain", "--follow", "--out", cleanup.dir(), "--pid", std::to_string(loadgen.pid())});
  ASSERT_GT(drain.pid(), 0);

  ASSERT_EQ(loadgen.wait(), 0) << loadgen.err();
  ASSERT_NO_FATAL_FAILURE(stop_drain_once_segments_gone(drain, {loadgen.pid()}));

  const Output output = read_output(cleanup.dir());
  EXPECT_TRUE(output.errors.empty()) << output.errors.front();
  // INFO events of one process: info files only (more than one once they
  // rotate at 64 MiB), in time order by name.
  ASSERT_FALSE(output.files.empty());
  for (const std::string& file : output.files) {
    const auto name = reader::parse_stored_file_name(std::filesystem::path(file).filename().string());
    ASSERT_TRUE(name.has_value()) << file;
    EXPECT_EQ(name->pid, static_cast<uint32_t>(loadgen.pid())) << file;
    EXPECT_EQ(name->level_class, reader::LevelClass::kInfo) << file;
  }
  EXPECT_EQ(count_message(output.lines, "ringtail.dropped"), 0u);
  const std::string payload = expected_payload(16);
  std::map<int64_t, int64_t> index_of_tid;
  for (const Line& line : output.lines) {
    if (line.message != "loadgen") continue;
    EXPECT_EQ(line.pid, loadgen.pid());
    EXPECT_TRUE(line.has_seq);
    ASSERT_EQ(line.payload, payload) << "tid " << line.tid << " i " << line.i;
    auto [it, fresh] = index_of_tid.emplace(line.tid, line.thread_index);
    ASSERT_EQ(it->second, line.thread_index) << "tid " << line.tid << " logged for two thread indexes";
  }
  const Sequences seqs = loadgen_sequences(output.lines);
  EXPECT_EQ(seqs.size(), static_cast<size_t>(kThreads));
  std::set<int64_t> indexes;
  for (const auto& [key, seq] : seqs) {
    indexes.insert(index_of_tid[key.second]);
    EXPECT_EQ(check_exact(seq, events), "") << "tid " << key.second;
  }
  EXPECT_EQ(indexes.size(), static_cast<size_t>(kThreads));
  EXPECT_TRUE(Cleanup::segments_of(loadgen.pid()).empty()) << "the drained segment of a finished producer stays";
}

TEST_F(EndToEndTest, AbortAfterKeepsExactlyTheCommittedPrefix) {
  Cleanup cleanup("abort");
  ASSERT_FALSE(cleanup.dir().empty());
  const std::string service = unique_service("abort");
  // Rings large enough for every event: no reader runs while it logs, so none may be dropped.
  Subprocess loadgen(loadgen_path(), loadgen_args(service, 2, 100000, {"--abort-after", "50000"}),
                     {.env = {"RINGTAIL_RING_BYTES=16M", "RINGTAIL_MAX_THREADS=4"}});
  cleanup.own(loadgen.pid());
  ASSERT_GT(loadgen.pid(), 0);
  ASSERT_EQ(loadgen.wait(), 128 + SIGKILL) << loadgen.out() << loadgen.err();
  ASSERT_FALSE(Cleanup::segments_of(loadgen.pid()).empty());

  Subprocess drain(ringtail_path(),
                   {"drain", "--once", "--out", cleanup.dir(), "--pid", std::to_string(loadgen.pid())});
  ASSERT_EQ(drain.wait(), 0) << drain.err();

  const Output output = read_output(cleanup.dir());
  EXPECT_TRUE(output.errors.empty()) << output.errors.front();
  EXPECT_EQ(count_message(output.lines, "ringtail.crashed"), 1u);
  EXPECT_EQ(count_message(output.lines, "ringtail.dropped"), 0u);
  std::map<int64_t, std::vector<uint64_t>> by_index;
  for (const Line& line : output.lines) {
    if (line.message == "loadgen") by_index[line.thread_index].push_back(line.i);
  }
  ASSERT_EQ(by_index.count(0), 1u);
  EXPECT_EQ(check_exact(by_index[0], 50000), "") << "thread_index 0";
  if (by_index.count(1) != 0) {
    EXPECT_EQ(check_exact(by_index[1], by_index[1].size()), "") << "thread_index 1";
  }
  EXPECT_LE(by_index.size(), 2u);
  // The crash note (ERROR: in the error file) comes after every event of the producer.
  std::string last_event;
  const Line* note = nullptr;
  for (const Line& line : output.lines) {
    if (line.message == "loadgen") last_event = std::max(last_event, line.timestamp);
    if (line.message == "ringtail.crashed") note = &line;
  }
  ASSERT_NE(note, nullptr);
  EXPECT_NE(note->file.find("-error-"), std::string::npos) << note->file;
  EXPECT_GE(note->timestamp, last_event);
  EXPECT_TRUE(Cleanup::segments_of(loadgen.pid()).empty()) << "the crashed producer's segment stays";
}

// Exactly once: what a killed drain wrote is neither lost nor written again.
TEST_F(EndToEndTest, DrainKilledTwiceStoresEveryEventExactlyOnce) {
  const uint64_t events = kSanitized ? 20000 : 200000;
  Cleanup cleanup("killed");
  ASSERT_FALSE(cleanup.dir().empty());
  const std::string service = unique_service("killed");
  Subprocess loadgen(loadgen_path(), loadgen_args(service, 2, events, {"--retry-when-full"}));
  cleanup.own(loadgen.pid());
  ASSERT_GT(loadgen.pid(), 0);
  const std::vector<std::string> drain_args = {"drain",       "--follow", "--out",
                                               cleanup.dir(), "--pid",    std::to_string(loadgen.pid())};
  int kills = 0;
  for (int round = 0; round < 2; ++round) {
    const uint64_t stored_before = stored_bytes(cleanup.dir());
    Subprocess drain(ringtail_path(), drain_args);
    ASSERT_GT(drain.pid(), 0);
    // Killed once it has stored something of its own (or found nothing left
    // to store: the producer finished and its segment is gone).
    EXPECT_TRUE(ringtail::test::eventually(
        [&] { return stored_bytes(cleanup.dir()) > stored_before || Cleanup::segments_of(loadgen.pid()).empty(); },
        std::chrono::milliseconds(kTimeoutMs)))
        << "round " << round << ": the drain stored nothing: " << drain.err();
    drain.signal(SIGKILL);
    const int code = drain.wait();
    // It may have failed on its own (then the output tells); a kill is 128 + SIGKILL.
    EXPECT_EQ(code, 128 + SIGKILL) << drain.err();
    ++kills;
  }
  Subprocess drain(ringtail_path(), drain_args);
  ASSERT_GT(drain.pid(), 0);
  ASSERT_EQ(loadgen.wait(), 0) << loadgen.err();
  ASSERT_NO_FATAL_FAILURE(stop_drain_once_segments_gone(drain, {loadgen.pid()}));

  const Output output = read_output(cleanup.dir());
  EXPECT_TRUE(output.errors.empty()) << output.errors.front();
  EXPECT_EQ(count_message(output.lines, "ringtail.dropped"), 0u);
  const Sequences seqs = loadgen_sequences(output.lines);
  EXPECT_EQ(seqs.size(), 2u);
  for (const auto& [key, seq] : seqs) EXPECT_EQ(check_exact(seq, events), "") << "tid " << key.second;
  RecordProperty("drain_kills", kills);
}

// The "-open" files under `dir` that hold lines: those a running drain
// writes, or a killed one left (a starting drain closes them).
std::set<std::string> open_files_with_lines(const std::string& dir) {
  std::set<std::string> names;
  std::error_code ec;
  for (const std::filesystem::path& path : ringtail::test::stored_data_files(dir)) {
    if (path.filename().string().ends_with("-open.jsonl") && std::filesystem::file_size(path, ec) > 0 && !ec) {
      names.insert(path.filename().string());
    }
  }
  return names;
}

// A drain killed just after it wrote lines (before it can publish their read
// positions) and started again stores every event exactly once, and the
// events read after each restart still carry the context their thread bound
// before the killed drain's read position (a restarted drain used to know
// only the frames pushed after it).
TEST_F(EndToEndTest, DrainKilledAfterAWriteStoresEachEventOnceWithItsContext) {
  constexpr int kRounds = 6;
  constexpr int kPerRound = 2000;
  Cleanup cleanup("exactly-once");
  ASSERT_FALSE(cleanup.dir().empty());
  Options options;
  options.service = unique_service("exactly-once");
  options.ring_bytes = 8 << 20;  // every event fits while no drain runs: no drop, so no frame is re-sent
  options.max_threads = 2;
  ringtail::test::ProducerChild child =
      ringtail::test::ProducerChild::start(options, [](ringtail::test::ProducerChild::Link& link) {
        ScopedContext request{kv("tenant", "acme"), kv("request_id", "r-7")};
        for (int round = 0; round < kRounds; ++round) {
          for (int i = 0; i < kPerRound; ++i) RINGTAIL_INFO("eo", kv("i", round * kPerRound + i));
          link.signal();
          link.wait();
        }
        return 0;
      });
  ASSERT_TRUE(child.ok()) << child.error();
  cleanup.own(child.pid());
  const std::vector<std::string> drain_args = {"drain",       "--follow", "--out",
                                               cleanup.dir(), "--pid",    std::to_string(child.pid())};
  for (int round = 0; round < kRounds; ++round) {
    ASSERT_TRUE(child.wait_signal()) << "round " << round;
    const std::set<std::string> left_open = open_files_with_lines(cleanup.dir());
    Subprocess drain(ringtail_path(), drain_args);
    ASSERT_GT(drain.pid(), 0);
    // Killed as soon as its first lines are in a file of its own: mostly
    // before the pass that published their read positions.
    auto wrote = [&] {
      for (const std::string& name : open_files_with_lines(cleanup.dir())) {
        if (left_open.count(name) == 0) return true;
      }
      return false;
    };
    EXPECT_TRUE(
        ringtail::test::eventually(wrote, std::chrono::milliseconds(kTimeoutMs), std::chrono::microseconds(200)))
        << "round " << round << ": the drain stored nothing: " << drain.err();
    drain.signal(SIGKILL);
    EXPECT_EQ(drain.wait(), 128 + SIGKILL) << drain.err();
    ASSERT_TRUE(child.resume());
  }
  Subprocess drain(ringtail_path(), drain_args);
  ASSERT_GT(drain.pid(), 0);
  ASSERT_EQ(child.join(), 0);
  ASSERT_NO_FATAL_FAILURE(stop_drain_once_segments_gone(drain, {child.pid()}));

  const Output output = read_output(cleanup.dir());
  EXPECT_TRUE(output.errors.empty()) << output.errors.front();
  EXPECT_EQ(count_message(output.lines, "ringtail.dropped"), 0u);
  std::vector<int> times_stored(kRounds * kPerRound, 0);
  size_t without_context = 0;
  for (const Line& line : output.lines) {
    if (line.message != "eo") continue;
    ASSERT_TRUE(line.has_i && line.i < times_stored.size()) << line.i;
    ++times_stored[line.i];
    if (line.tenant != "acme") ++without_context;
  }
  size_t missing = 0;
  size_t repeated = 0;
  for (int times : times_stored) {
    if (times == 0) ++missing;
    if (times > 1) repeated += static_cast<size_t>(times - 1);
  }
  EXPECT_EQ(missing, 0u) << "events not stored";
  EXPECT_EQ(repeated, 0u) << "lines stored twice";
  EXPECT_EQ(without_context, 0u) << "events stored without the context bound before a restart";
  // Finished: the segment's checkpoint went with it, and the temporaries killed drains left.
  std::error_code ec;
  EXPECT_TRUE(std::filesystem::is_empty(cleanup.dir() + "/.checkpoints", ec) && !ec) << ec.message();
}

TEST_F(EndToEndTest, CorruptAndTruncatedSegmentsAreReportedOthersDrained) {
  Cleanup cleanup("corrupt");
  ASSERT_FALSE(cleanup.dir().empty());
  struct Producer {
    pid_t pid = -1;
    std::string segment;
  };
  std::vector<Producer> producers;
  for (const char* which : {"corrupt", "truncated", "good"}) {
    Subprocess loadgen(loadgen_path(), loadgen_args(unique_service(which), 1, 1000, {}));
    cleanup.own(loadgen.pid());
    ASSERT_GT(loadgen.pid(), 0);
    ASSERT_EQ(loadgen.wait(), 0) << loadgen.err();
    simdjson::dom::parser parser;
    simdjson::dom::element doc;
    ASSERT_EQ(parser.parse(loadgen.out()).get(doc), simdjson::SUCCESS) << loadgen.out();
    std::string_view segment;
    ASSERT_EQ(doc["segment"].get(segment), simdjson::SUCCESS) << loadgen.out();
    uint64_t committed = 0;
    ASSERT_EQ(doc["committed"].get(committed), simdjson::SUCCESS) << loadgen.out();
    ASSERT_EQ(committed, 1000u) << loadgen.out();
    producers.push_back({loadgen.pid(), std::string(segment)});
  }
  const Producer& corrupt = producers[0];
  const Producer& truncated = producers[1];
  const Producer& good = producers[2];

  {
    const int fd = ::open(("/dev/shm/" + corrupt.segment).c_str(), O_WRONLY | O_CLOEXEC);
    ASSERT_GE(fd, 0) << corrupt.segment;
    std::mt19937_64 rng(0x5eed);
    std::vector<unsigned char> noise(4096);
    for (unsigned char& b : noise) b = static_cast<unsigned char>(rng());
    const ssize_t n = ::pwrite(fd, noise.data(), noise.size(), 0);
    ::close(fd);
    ASSERT_EQ(n, static_cast<ssize_t>(noise.size()));
  }
  {
    const std::string path = "/dev/shm/" + truncated.segment;
    struct stat st {};
    ASSERT_EQ(::stat(path.c_str(), &st), 0);
    ASSERT_EQ(::truncate(path.c_str(), st.st_size / 2), 0);
  }

  std::vector<std::string> pid_args;
  for (const Producer& p : producers) {
    pid_args.push_back("--pid");
    pid_args.push_back(std::to_string(p.pid));
  }
  std::vector<std::string> ls_args = {"ls"};
  ls_args.insert(ls_args.end(), pid_args.begin(), pid_args.end());
  Subprocess ls(ringtail_path(), ls_args);
  const int ls_code = ls.wait();
  EXPECT_EQ(ls_code, 0) << ls.err();
  EXPECT_TRUE(has(ls.err(), corrupt.segment)) << ls.err();
  EXPECT_TRUE(has(ls.err(), truncated.segment)) << ls.err();
  EXPECT_FALSE(has(ls.err(), good.segment)) << ls.err();
  EXPECT_EQ(std::count(ls.err().begin(), ls.err().end(), '\n'), 2) << ls.err();
  EXPECT_TRUE(has(ls.out(), good.segment)) << ls.out();

  std::vector<std::string> drain_args = {"drain", "--once", "--out", cleanup.dir()};
  drain_args.insert(drain_args.end(), pid_args.begin(), pid_args.end());
  Subprocess drain(ringtail_path(), drain_args);
  const int drain_code = drain.wait();
  EXPECT_EQ(drain_code, 0) << drain.err();
  EXPECT_LT(drain_code, 128) << "killed by a signal: " << drain.err();
  EXPECT_TRUE(has(drain.err(), corrupt.segment)) << drain.err();
  EXPECT_TRUE(has(drain.err(), truncated.segment)) << drain.err();
  EXPECT_EQ(std::count(drain.err().begin(), drain.err().end(), '\n'), 2) << drain.err();

  const Output output = read_output(cleanup.dir());
  EXPECT_TRUE(output.errors.empty()) << output.errors.front();
  const Sequences seqs = loadgen_sequences(output.lines);
  ASSERT_EQ(seqs.size(), 1u);
  EXPECT_EQ(seqs.begin()->first.first, good.pid);
  EXPECT_EQ(check_exact(seqs.begin()->second, 1000), "");
  EXPECT_TRUE(Cleanup::segments_of(good.pid).empty()) << "the drained segment stays";
}

TEST_F(EndToEndTest, TwoProducersEightThreadsDrainedTogether) {
  constexpr uint64_t kEvents = 20000;
  Cleanup cleanup("two");
  ASSERT_FALSE(cleanup.dir().empty());
  Subprocess a(loadgen_path(), loadgen_args(unique_service("two-a"), 8, kEvents, {"--retry-when-full"}));
  cleanup.own(a.pid());
  Subprocess b(loadgen_path(), loadgen_args(unique_service("two-b"), 8, kEvents, {"--retry-when-full"}));
  cleanup.own(b.pid());
  ASSERT_GT(a.pid(), 0);
  ASSERT_GT(b.pid(), 0);
  Subprocess drain(ringtail_path(), {"drain", "--follow", "--out", cleanup.dir(), "--pid", std::to_string(a.pid()),
                                     "--pid", std::to_string(b.pid())});
  ASSERT_GT(drain.pid(), 0);
  ASSERT_EQ(a.wait(), 0) << a.err();
  ASSERT_EQ(b.wait(), 0) << b.err();
  ASSERT_NO_FATAL_FAILURE(stop_drain_once_segments_gone(drain, {a.pid(), b.pid()}));

  const Output output = read_output(cleanup.dir());
  EXPECT_TRUE(output.errors.empty()) << output.errors.front();
  EXPECT_EQ(output.files.size(), 2u);
  EXPECT_EQ(count_message(output.lines, "ringtail.dropped"), 0u);
  const Sequences seqs = loadgen_sequences(output.lines);
  EXPECT_EQ(seqs.size(), 16u);
  std::map<int64_t, int> threads_per_pid;
  for (const auto& [key, seq] : seqs) {
    ++threads_per_pid[key.first];
    EXPECT_EQ(check_exact(seq, kEvents), "") << "pid " << key.first << " tid " << key.second;
  }
  EXPECT_EQ(threads_per_pid[a.pid()], 8);
  EXPECT_EQ(threads_per_pid[b.pid()], 8);
}

// Today's UTC date, as the drain names its directories: "2026-11-30".
std::string utc_today() {
  const time_t now = ::time(nullptr);
  tm parts{};
  ::gmtime_r(&now, &parts);
  char text[40];
  std::snprintf(text, sizeof(text), "%04d-%02d-%02d", parts.tm_year + 1900, parts.tm_mon + 1, parts.tm_mday);
  return text;
}

std::string read_raw(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// Runs ringtail-loadgen to the end (one thread, 1000 events for `service`)
// and sets `pid` to its pid; its segment stays for a drain and `cleanup`.
void run_loadgen_to_end(Cleanup& cleanup, const std::string& service, pid_t& pid) {
  Subprocess loadgen(loadgen_path(), loadgen_args(service, 1, 1000, {}));
  cleanup.own(loadgen.pid());
  ASSERT_GT(loadgen.pid(), 0);
  ASSERT_EQ(loadgen.wait(), 0) << loadgen.err();
  pid = loadgen.pid();
}

// Whoever can write into the store may plant, before a root drain starts, a
// link at the "-open" name a drain killed while writing this producer would
// have left: the drain (its recovery, then its sink) would take it over, cut
// its "partial last line" and append to the file it points at. It must be
// reported and left alone, and every event stored in a file of the drain's own.
TEST_F(EndToEndTest, DrainNeverAdoptsAPlantedLink) {
  Cleanup cleanup("link");
  ASSERT_FALSE(cleanup.dir().empty());
  const std::string service = unique_service("link");
  pid_t producer = -1;
  ASSERT_NO_FATAL_FAILURE(run_loadgen_to_end(cleanup, service, producer));

  const std::string store = cleanup.dir() + "/store";
  const std::string victim = cleanup.dir() + "/victim";
  const std::string victim_text = "precious\n{\"torn";
  std::ofstream(victim) << victim_text;
  const std::string date = utc_today();
  const std::string day = store + "/" + service + "/" + date;
  std::filesystem::create_directories(day);
  const std::string link =
      day + "/" + service + "-" + std::to_string(producer) + "-info-20200101T000000.000000000Z-open.jsonl";
  std::filesystem::create_symlink(victim, link);

  Subprocess drain(ringtail_path(), {"drain", "--once", "--out", store, "--pid", std::to_string(producer)});
  ASSERT_EQ(drain.wait(), 0) << drain.err();
  if (utc_today() != date) GTEST_SKIP() << "the date changed while the drain ran";

  EXPECT_EQ(read_raw(victim), victim_text);
  EXPECT_TRUE(std::filesystem::is_symlink(link));
  EXPECT_TRUE(has(drain.err(), link + " is a symbolic link")) << drain.err();
  const Output output = read_output(store);
  EXPECT_TRUE(output.errors.empty()) << output.errors.front();
  for (const std::string& file : output.files) EXPECT_FALSE(std::filesystem::is_symlink(file)) << file;
  const Sequences seqs = loadgen_sequences(output.lines);
  ASSERT_EQ(seqs.size(), 1u);
  EXPECT_EQ(check_exact(seqs.begin()->second, 1000), "");
}

// A planted link in place of today's date directory: the drain never writes
// through it. Its output fails, it says why and exits 1, and nothing lands
// where the link points; the events stay in the segment for a later drain.
TEST_F(EndToEndTest, DrainNeverWritesThroughALinkedDirectory) {
  Cleanup cleanup("linkdir");
  ASSERT_FALSE(cleanup.dir().empty());
  const std::string service = unique_service("linkdir");
  pid_t producer = -1;
  ASSERT_NO_FATAL_FAILURE(run_loadgen_to_end(cleanup, service, producer));

  const std::string store = cleanup.dir() + "/store";
  const std::string elsewhere = cleanup.dir() + "/elsewhere";
  std::filesystem::create_directories(elsewhere);
  std::filesystem::create_directories(store + "/" + service);
  const std::string date = utc_today();
  const std::string link = store + "/" + service + "/" + date;
  std::filesystem::create_symlink(elsewhere, link);

  Subprocess drain(ringtail_path(), {"drain", "--once", "--out", store, "--pid", std::to_string(producer)});
  const int code = drain.wait();
  if (utc_today() != date) GTEST_SKIP() << "the date changed while the drain ran";
  EXPECT_EQ(code, 1) << drain.err();
  EXPECT_TRUE(has(drain.err(), link + " is a symbolic link")) << drain.err();
  EXPECT_TRUE(std::filesystem::is_empty(elsewhere));
  EXPECT_TRUE(std::filesystem::is_symlink(link));
  EXPECT_FALSE(Cleanup::segments_of(producer).empty()) << "events that were not stored are gone";
}

}  // namespace
}  // namespace ringtail::reader
