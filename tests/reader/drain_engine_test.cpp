// The drain engine against real producers: forked ProducerChild processes
// and ringtail-loadgen. Every test restricts discovery to its own producer's
// pid, so segments of other tests (or other users of /dev/shm) are never
// touched.
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <barrier>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "drain_test_support.hpp"
#include "eventually.hpp"
#include "fork_child.hpp"
#include "producer_child.hpp"
#include "ringtail/reader/drain/drain_engine.hpp"
#include "ringtail/reader/ingest/callsite_table.hpp"
#include "ringtail/reader/ingest/consumer_lease.hpp"
#include "ringtail/reader/ingest/ring_cursor.hpp"
#include "ringtail/reader/ingest/segment_view.hpp"
#include "ringtail/reader/sinks/store_sink.hpp"
#include "ringtail/ringtail.hpp"
#include "stored_files.hpp"

namespace ringtail::reader {
namespace {

using namespace std::chrono_literals;
using ringtail::kv;
using ringtail::test::eventually;
using ringtail::test::ProducerChild;
using testing::expect_each_once_in_thread_order;
using testing::Line;
using testing::Loadgen;
using testing::MemorySink;
using testing::parse_lines;
using testing::with_message;

// Collects the engine's report lines (run() may call it from another thread).
class Reports {
 public:
  std::function<void(std::string_view)> fn() {
    return [this](std::string_view line) {
      std::lock_guard lock(mutex_);
      lines_.emplace_back(line);
    };
  }
  std::vector<std::string> lines() const {
    std::lock_guard lock(mutex_);
    return lines_;
  }
  size_t count(std::string_view needle) const {
    size_t n = 0;
    for (const std::string& line : lines()) n += line.find(needle) != std::string::npos;
    return n;
  }

 private:
  mutable std::mutex mutex_;
  std::vector<std::string> lines_;
};

DrainOptions options_for(pid_t pid, DrainOptions::Mode mode = DrainOptions::Mode::kConsume) {
  DrainOptions options;
  options.mode = mode;
  options.discovery.pids = {pid};
  options.idle_sleep = 1ms;
  options.rescan_interval = 20ms;
  return options;
}

Options producer_options(uint64_t ring_bytes = uint64_t{1} << 20) {
  Options options;
  options.service = "drain-test";
  options.ring_bytes = ring_bytes;
  options.max_threads = 4;
  options.max_callsites = 16;
  return options;
}

StoreSinkOptions store_in(const std::filesystem::path& dir) {
  StoreSinkOptions options;
  options.directory = dir.string();
  return options;
}

bool segment_exists(const std::string& name) { return std::filesystem::exists("/dev/shm/" + name); }

RingSlotSnapshot slot_of(const std::string& segment, uint32_t slot) {
  absl::StatusOr<SegmentView> view = SegmentView::open(segment, SegmentView::Access::kReadOnly);
  EXPECT_TRUE(view.ok()) << view.status();
  if (!view.ok()) return {};
  absl::StatusOr<RingSlotSnapshot> snapshot = view->slot_snapshot(slot);
  EXPECT_TRUE(snapshot.ok()) << snapshot.status();
  return snapshot.ok() ? *snapshot : RingSlotSnapshot{};
}

uint64_t lease_word(const std::string& segment) {
  absl::StatusOr<SegmentView> view = SegmentView::open(segment, SegmentView::Access::kReadOnly);
  EXPECT_TRUE(view.ok()) << view.status();
  return view.ok() ? view->reader_lease_word()->load() : ~uint64_t{0};
}

// `threads` threads (the child's main thread is thread 0) each log
// "loadgen" events i = 0..events-1 with their thread_index.
int log_from_threads(int threads, uint64_t events) {
  // Every thread logs its first event before any goes on, so that each holds
  // its own ring (a thread that finished early would retire its ring and a
  // later one would take it over: one ring, two threads).
  std::barrier all_have_rings(threads);
  auto body = [&](int t) {
    for (uint64_t i = 0; i < events; ++i) {
      if (!RINGTAIL_INFO("loadgen", kv("thread_index", t), kv("i", i))) {
        if (i == 0) all_have_rings.arrive_and_drop();  // never leave the others waiting
        return false;
      }
      if (i == 0) all_have_rings.arrive_and_wait();
    }
    return true;
  };
  std::vector<std::thread> workers;
  std::atomic<bool> ok{true};
  for (int t = 1; t < threads; ++t) {
    workers.emplace_back([&, t] {
      if (!body(t)) ok = false;
    });
  }
  if (!body(0)) ok = false;
  for (std::thread& w : workers) w.join();
  return ok ? 0 : 3;
}

// A producer whose `threads` threads log `events` events each (as
// log_from_threads) and which then exits.
ProducerChild start_logging(int threads, uint64_t events) {
  return ProducerChild::start(producer_options(),
                              [threads, events](ProducerChild::Link&) { return log_from_threads(threads, events); });
}

// A producer whose `threads` threads log `events` events each, which then
// signals and waits for the test's resume() before it exits: 0 when it got
// that far, 3 if it could not log, 4 if the link broke.
ProducerChild start_logging_then_holding(int threads, uint64_t events) {
  return ProducerChild::start(producer_options(), [threads, events](ProducerChild::Link& link) {
    if (log_from_threads(threads, events) != 0) return 3;
    return link.signal() && link.wait() ? 0 : 4;
  });
}

// Runs `engine` until `gen` has exited and the engine has drained and removed
// its segment; returns the loadgen's exit status.
int run_until_removed(DrainEngine& engine, Loadgen& gen) {
  std::atomic<bool> stop{false};
  std::thread runner([&] { engine.run(stop); });
  const int status = gen.wait();
  // run() notices the exit at a rescan, drains the rest and removes the segment.
  EXPECT_TRUE(eventually([&] { return engine.stats().segments_removed == 1; }));
  stop = true;
  runner.join();
  return status;
}

TEST(DrainEngine, FinishedProducerEveryEventOnceInThreadOrderThenRemoved) {
  ProducerChild child = start_logging(3, 2000);
  ASSERT_TRUE(child.ok()) << child.error();
  ASSERT_EQ(child.join(), 0);
  ASSERT_TRUE(segment_exists(child.segment_name()));

  MemorySink sink;
  Reports reports;
  DrainEngine engine(options_for(child.pid()), sink, reports.fn());
  ASSERT_TRUE(engine.drain_once().ok());

  const std::vector<Line> lines = parse_lines(sink.text);
  EXPECT_EQ(lines.size(), 6000u);
  expect_each_once_in_thread_order(lines, 3, 2000);
  for (const Line& line : lines) {
    EXPECT_EQ(line.pid, static_cast<uint64_t>(child.pid()));
    EXPECT_EQ(line.level, "INFO");
  }
  EXPECT_FALSE(segment_exists(child.segment_name()));
  const DrainStats stats = engine.stats();
  EXPECT_EQ(stats.events, 6000u);
  EXPECT_EQ(stats.lines, 6000u);
  EXPECT_EQ(stats.bytes, sink.text.size());
  EXPECT_EQ(stats.segments_seen, 1u);
  EXPECT_EQ(stats.segments_removed, 1u);
  EXPECT_EQ(stats.gaps, 0u);
  EXPECT_EQ(sink.finished, std::vector<uint32_t>{static_cast<uint32_t>(child.pid())});
  EXPECT_TRUE(reports.lines().empty()) << reports.lines().front();

  // A second drain finds nothing.
  ASSERT_TRUE(engine.drain_once().ok());
  EXPECT_EQ(engine.stats().lines, 6000u);
}

TEST(DrainEngine, FollowsALiveProducerEveryEventOnce) {
  // A small ring and --retry-when-full: the producer can only finish if the
  // reader keeps draining (and commits) while it writes.
  Loadgen gen({"--threads", "4", "--events", "20000", "--retry-when-full"},
              {"RINGTAIL_RING_BYTES=65536", "RINGTAIL_SERVICE=drain-follow", "RINGTAIL_MAX_THREADS=8"});
  ASSERT_GT(gen.pid(), 0);
  MemorySink sink;
  Reports reports;
  DrainEngine engine(options_for(gen.pid()), sink, reports.fn());
  ASSERT_EQ(run_until_removed(engine, gen), 0) << "ringtail-loadgen exit";

  const std::vector<Line> lines = parse_lines(sink.text);
  expect_each_once_in_thread_order(lines, 4, 20000);
  EXPECT_TRUE(with_message(lines, "ringtail.dropped").empty());
  EXPECT_FALSE(gen.segment_exists());
  EXPECT_TRUE(engine.last_error().ok());
}

// run()'s idle sleep is at most a sixteenth of the time the fastest-filling
// ring would take to fill (at the rate its last pass read, by the events'
// times). With an idle_sleep of 300 ms, a producer that fills its 64 KiB ring
// (about 700 events) in about 75 ms loses at most what it writes before the
// drain has read it once (and what a slow machine cannot keep up with);
// sleeping the whole 300 ms between looks would drop three events in four.
TEST(DrainEngine, AFastFillingRingShortensTheIdleSleep) {
  constexpr int kEvents = 30000;
  Loadgen gen({"--threads", "1", "--events", std::to_string(kEvents), "--rate", "10000", "--burst", "10"},
              {"RINGTAIL_RING_BYTES=65536", "RINGTAIL_SERVICE=drain-fill", "RINGTAIL_MAX_THREADS=4"});
  ASSERT_GT(gen.pid(), 0);
  MemorySink sink;
  DrainOptions options = options_for(gen.pid());
  options.idle_sleep = 300ms;
  DrainEngine engine(options, sink, nullptr);
  ASSERT_EQ(run_until_removed(engine, gen), 0) << "ringtail-loadgen exit";
  const DrainStats stats = engine.stats();
  EXPECT_EQ(stats.events + stats.dropped, static_cast<uint64_t>(kEvents));
  EXPECT_LT(stats.dropped, static_cast<uint64_t>(kEvents) * 4 / 10);
  EXPECT_GT(stats.passes, 100u);  // about 10 in 3 s at one look per 300 ms
}

TEST(DrainEngine, WithoutTheWriterThreadTheSame) {
  ProducerChild child = start_logging(2, 1000);
  ASSERT_TRUE(child.ok()) << child.error();
  ASSERT_EQ(child.join(), 0);
  DrainOptions options = options_for(child.pid());
  options.writer_thread = false;
  {
    MemorySink failing;
    failing.fail_flush = true;
    DrainEngine engine(options, failing, nullptr);
    EXPECT_FALSE(engine.drain_once().ok());
    EXPECT_EQ(failing.discards, 1);
    EXPECT_EQ(slot_of(child.segment_name(), 0).read_pos_untrusted, 0u);
  }
  MemorySink sink;
  DrainEngine engine(options, sink, nullptr);
  ASSERT_TRUE(engine.drain_once().ok());
  expect_each_once_in_thread_order(parse_lines(sink.text), 2, 1000);
  EXPECT_FALSE(segment_exists(child.segment_name()));
  EXPECT_EQ(sink.finished.size(), 1u);
}

// A sink that takes its time: the engine waits for it (bounded queue) and
// nothing is lost or repeated.
class SlowSink : public MemorySink {
 public:
  absl::Status write(const EventBatch& batch) override {
    std::this_thread::sleep_for(delay);
    return MemorySink::write(batch);
  }
  std::chrono::microseconds delay = 200us;
};

TEST(DrainEngine, SlowSinkHoldsTheEngineBack) {
  Loadgen gen({"--threads", "2", "--events", "20000", "--retry-when-full"},
              {"RINGTAIL_RING_BYTES=65536", "RINGTAIL_SERVICE=drain-slow", "RINGTAIL_MAX_THREADS=4"});
  ASSERT_GT(gen.pid(), 0);
  DrainOptions options = options_for(gen.pid());
  options.max_output_bytes_in_flight = 1;  // one chunk at a time
  SlowSink sink;
  DrainEngine engine(options, sink, nullptr);
  ASSERT_EQ(run_until_removed(engine, gen), 0) << "ringtail-loadgen exit";
  expect_each_once_in_thread_order(parse_lines(sink.text), 2, 20000);
}

TEST(DrainEngine, CrashedProducerCommittedEventsAndACrashNote) {
  ProducerChild child = ProducerChild::start(producer_options(), [](ProducerChild::Link&) {
    if (log_from_threads(2, 300) != 0) return 3;
    ::kill(::getpid(), SIGKILL);
    return 4;
  });
  ASSERT_TRUE(child.ok()) << child.error();
  ASSERT_EQ(child.join(), 128 + SIGKILL);

  MemorySink sink;
  Reports reports;
  DrainEngine engine(options_for(child.pid()), sink, reports.fn());
  ASSERT_TRUE(engine.drain_once().ok());
  const std::vector<Line> lines = parse_lines(sink.text);
  expect_each_once_in_thread_order(lines, 2, 300);
  const std::vector<Line> crashed = with_message(lines, "ringtail.crashed");
  ASSERT_EQ(crashed.size(), 1u);
  EXPECT_EQ(crashed[0].level, "ERROR");
  EXPECT_EQ(lines.back().message, "ringtail.crashed");  // after every event
  EXPECT_EQ(engine.stats().producers_crashed, 1u);
  EXPECT_EQ(reports.count("crashed"), 1u);
  EXPECT_FALSE(segment_exists(child.segment_name()));
}

// pthread_exit() in main() leaves the main thread a zombie while the other
// threads go on: the producer lives, and its segment is neither noted as
// crashed nor removed until the process really ends.
TEST(DrainEngine, AProducerWhoseMainThreadExitedIsAlive) {
  ProducerChild child = ProducerChild::start(producer_options(), [](ProducerChild::Link& link) {
    std::thread worker([&link] {
      for (int i = 0; i < 50; ++i) RINGTAIL_INFO("before", kv("i", i));
      link.signal();
      link.wait();
      for (int i = 0; i < 50; ++i) RINGTAIL_INFO("after", kv("i", i));
      ringtail::shutdown();
      link.signal();
      link.wait();
      std::fflush(nullptr);
      ::_exit(0);
    });
    worker.detach();
    // The main thread ends alone, as pthread_exit() would end it (that would
    // unwind through the test framework, which catches the unwinding).
    ::syscall(SYS_exit, 0);
    return 1;  // not reached
  });
  ASSERT_TRUE(child.ok()) << child.error();
  ASSERT_TRUE(child.wait_signal());
  // The main thread is a zombie now; wait until /proc says so.
  ASSERT_TRUE(eventually([&] {
    std::ifstream stat("/proc/" + std::to_string(child.pid()) + "/stat");
    std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
    const size_t close = text.rfind(')');
    return close != std::string::npos && close + 2 < text.size() && text[close + 2] == 'Z';
  })) << "the child's main thread did not exit";

  MemorySink sink;
  Reports reports;
  DrainEngine engine(options_for(child.pid()), sink, reports.fn());
  ASSERT_TRUE(engine.drain_once().ok());
  EXPECT_EQ(with_message(parse_lines(sink.text), "before").size(), 50u);
  EXPECT_TRUE(with_message(parse_lines(sink.text), "ringtail.crashed").empty()) << sink.text;
  EXPECT_EQ(engine.stats().producers_crashed, 0u);
  EXPECT_TRUE(segment_exists(child.segment_name())) << "a live producer's segment was removed";

  ASSERT_TRUE(child.resume());
  ASSERT_TRUE(child.wait_signal());
  ASSERT_TRUE(engine.drain_once().ok());
  EXPECT_EQ(with_message(parse_lines(sink.text), "after").size(), 50u);
  EXPECT_TRUE(with_message(parse_lines(sink.text), "ringtail.crashed").empty());
  EXPECT_TRUE(segment_exists(child.segment_name()));

  ASSERT_TRUE(child.resume());
  ASSERT_EQ(child.join(), 0);
  ASSERT_TRUE(engine.drain_once().ok());
  EXPECT_TRUE(with_message(parse_lines(sink.text), "ringtail.crashed").empty()) << "a clean exit is no crash";
  EXPECT_FALSE(segment_exists(child.segment_name()));
}

// Appends copies of the first event record of ring 0 of a (dead producer's)
// segment at its write_pos, as any process of the same uid could, each time
// the engine hands it lines: the engine is mid-pass then (no writer thread).
class AppendingSink : public MemorySink {
 public:
  explicit AppendingSink(const std::string& segment) {
    fd_ = ::open(("/dev/shm/" + segment).c_str(), O_RDWR | O_CLOEXEC);
    struct stat st {};
    if (fd_ < 0 || ::fstat(fd_, &st) != 0) return;
    size_ = static_cast<size_t>(st.st_size);
    void* map = ::mmap(nullptr, size_, PROT_READ | PROT_WRITE, MAP_SHARED, fd_, 0);
    if (map != MAP_FAILED) base_ = static_cast<std::byte*>(map);
  }
  ~AppendingSink() override {
    if (base_ != nullptr) ::munmap(base_, size_);
    if (fd_ >= 0) ::close(fd_);
  }
  bool ok() const { return base_ != nullptr; }

  absl::Status write(const EventBatch& batch) override {
    append(100);
    return MemorySink::write(batch);
  }
  int appended = 0;

 private:
  void append(int copies) {
    const auto& h = *reinterpret_cast<const shm::SegmentHeader*>(base_);
    auto& slot = *reinterpret_cast<shm::RingSlot*>(base_ + h.directory_offset);
    std::byte* ring = base_ + h.rings_offset;
    shm::RecordHeader first{};
    std::memcpy(&first, ring + sizeof(shm::ThreadStartRecord), sizeof(first));  // the first event
    uint64_t pos = slot.write_pos.load(std::memory_order_relaxed);
    uint64_t seq = slot.committed.load() + slot.dropped_full.load() + slot.dropped_too_big.load();
    int made = 0;
    for (; made < copies && pos + first.size <= h.ring_capacity; ++made) {
      std::memmove(ring + pos, ring + sizeof(shm::ThreadStartRecord), first.size);
      std::memcpy(ring + pos + offsetof(shm::RecordHeader, seq), &seq, sizeof(seq));
      pos += first.size;
      ++seq;
    }
    appended += made;
    slot.committed.store(slot.committed.load() + static_cast<uint64_t>(made), std::memory_order_relaxed);
    slot.write_pos.store(pos, std::memory_order_release);
  }

  int fd_ = -1;
  size_t size_ = 0;
  std::byte* base_ = nullptr;
};

// Draining a dead producer reads its rings to where they ended when it was
// found dead: another process of its uid that keeps moving write_pos cannot
// keep the pass going (or slip lines in as the dead producer's).
TEST(DrainEngine, ADeadProducersPassEndsWhereItsRingsEndedWhenFoundDead) {
  ProducerChild child = ProducerChild::start(producer_options(4 << 20), [](ProducerChild::Link&) {
    RINGTAIL_INFO("first");
    for (int i = 0; i < 20000; ++i) RINGTAIL_INFO("bulk", kv("i", i));
    ::kill(::getpid(), SIGKILL);
    return 4;
  });
  ASSERT_TRUE(child.ok()) << child.error();
  ASSERT_EQ(child.join(), 128 + SIGKILL);

  AppendingSink sink(child.segment_name());
  ASSERT_TRUE(sink.ok());
  DrainOptions options = options_for(child.pid());
  options.writer_thread = false;  // the sink runs mid-pass, between batches
  DrainEngine engine(options, sink, nullptr);
  ASSERT_TRUE(engine.drain_once().ok());
  const std::vector<Line> lines = parse_lines(sink.text);
  EXPECT_GT(sink.appended, 0) << "the sink never ran during the pass";
  EXPECT_EQ(with_message(lines, "first").size(), 1u) << "records appended after the producer died were read";
  EXPECT_EQ(with_message(lines, "bulk").size(), 20000u);
  ASSERT_FALSE(lines.empty());
  EXPECT_EQ(lines.back().message, "ringtail.crashed");
  EXPECT_FALSE(segment_exists(child.segment_name()));
}

TEST(DrainEngine, PeekModeMovesNoReadPosAndTakesNoLease) {
  ProducerChild child = start_logging_then_holding(1, 100);
  ASSERT_TRUE(child.ok()) << child.error();
  ASSERT_TRUE(child.wait_signal());

  MemorySink peek_sink;
  DrainEngine peek(options_for(child.pid(), DrainOptions::Mode::kPeek), peek_sink, nullptr);
  ASSERT_TRUE(peek.drain_once().ok());
  expect_each_once_in_thread_order(parse_lines(peek_sink.text), 1, 100);
  EXPECT_EQ(slot_of(child.segment_name(), 0).read_pos_untrusted, 0u);
  EXPECT_EQ(lease_word(child.segment_name()), 0u);
  // The peek engine holds no lease: a consuming one gets the segment, and all of it.
  {
    MemorySink sink;
    DrainEngine consumer(options_for(child.pid()), sink, nullptr);
    ASSERT_TRUE(consumer.drain_once().ok());
    expect_each_once_in_thread_order(parse_lines(sink.text), 1, 100);
    EXPECT_GT(slot_of(child.segment_name(), 0).read_pos_untrusted, 0u);
  }
  ASSERT_TRUE(child.resume());
  ASSERT_EQ(child.join(), 0);
  // The producer is gone: peek reads to the end but never removes.
  ASSERT_TRUE(peek.drain_once().ok());
  EXPECT_TRUE(segment_exists(child.segment_name()));
  EXPECT_EQ(peek.stats().segments_removed, 0u);
  EXPECT_EQ(parse_lines(peek_sink.text).size(), 100u);
}

TEST(DrainEngine, MinLevelKeepsOnlyEventsAtOrAbove) {
  ProducerChild child = ProducerChild::start(producer_options(), [](ProducerChild::Link&) {
    for (int i = 0; i < 10; ++i) {
      RINGTAIL_INFO("info", kv("i", i));
      RINGTAIL_WARN("warn", kv("i", i));
      RINGTAIL_ERROR("error", kv("i", i));
    }
    return 0;
  });
  ASSERT_TRUE(child.ok()) << child.error();
  ASSERT_EQ(child.join(), 0);
  DrainOptions options = options_for(child.pid(), DrainOptions::Mode::kPeek);
  options.min_level = shm::Level::kWarn;
  MemorySink sink;
  DrainEngine engine(options, sink, nullptr);
  ASSERT_TRUE(engine.drain_once().ok());
  const std::vector<Line> lines = parse_lines(sink.text);
  EXPECT_EQ(lines.size(), 20u);
  EXPECT_TRUE(with_message(lines, "info").empty());
  EXPECT_EQ(with_message(lines, "warn").size(), 10u);
  EXPECT_EQ(with_message(lines, "error").size(), 10u);
}

TEST(DrainEngine, FullRingGivesOneDroppedLineWithTheExactCount) {
  // A 4 KiB ring and no reader: most of 300 events are dropped.
  ProducerChild child = ProducerChild::start(producer_options(4096), [](ProducerChild::Link& link) {
    uint64_t dropped = 0;
    for (uint64_t i = 0; i < 300; ++i) dropped += RINGTAIL_INFO("loadgen", kv("thread_index", 0), kv("i", i)) ? 0 : 1;
    if (!link.send(&dropped, sizeof(dropped)) || !link.signal() || !link.wait()) return 4;
    return RINGTAIL_INFO("after", kv("n", 1)) ? 0 : 5;
  });
  ASSERT_TRUE(child.ok()) << child.error();
  uint64_t dropped = 0;
  ASSERT_TRUE(child.receive(&dropped, sizeof(dropped)));
  ASSERT_TRUE(child.wait_signal());
  ASSERT_GT(dropped, 100u);

  MemorySink sink;
  DrainEngine engine(options_for(child.pid()), sink, nullptr);
  ASSERT_TRUE(engine.drain_once().ok());
  const std::vector<Line> first = parse_lines(sink.text);
  EXPECT_EQ(first.size(), 300 - dropped);
  EXPECT_TRUE(with_message(first, "ringtail.dropped").empty());  // not known yet: no event after the drops

  ASSERT_TRUE(child.resume());
  ASSERT_EQ(child.join(), 0);
  const size_t before = sink.text.size();
  ASSERT_TRUE(engine.drain_once().ok());
  const std::vector<Line> second = parse_lines(std::string_view(sink.text).substr(before));
  ASSERT_EQ(second.size(), 2u);
  EXPECT_EQ(second[0].message, "ringtail.dropped");
  EXPECT_EQ(second[0].level, "WARN");
  EXPECT_EQ(second[0].get("dropped"), static_cast<int64_t>(dropped));
  EXPECT_EQ(second[0].get("first_seq"), static_cast<int64_t>(300 - dropped));
  EXPECT_EQ(second[0].get("last_seq"), 299);
  EXPECT_EQ(second[1].message, "after");
  EXPECT_EQ(second[0].timestamp, second[1].timestamp);  // stamped with the event that revealed it
  EXPECT_EQ(engine.stats().dropped, dropped);
  EXPECT_EQ(engine.stats().gaps, 1u);
}

TEST(DrainEngine, TrailingDropsOfAnExitedProducer) {
  ProducerChild child = ProducerChild::start(producer_options(4096), [](ProducerChild::Link& link) {
    uint64_t dropped = 0;
    for (uint64_t i = 0; i < 200; ++i) dropped += RINGTAIL_INFO("loadgen", kv("thread_index", 0), kv("i", i)) ? 0 : 1;
    return link.send(&dropped, sizeof(dropped)) ? 0 : 4;
  });
  ASSERT_TRUE(child.ok()) << child.error();
  uint64_t dropped = 0;
  ASSERT_TRUE(child.receive(&dropped, sizeof(dropped)));
  ASSERT_EQ(child.join(), 0);
  MemorySink sink;
  DrainEngine engine(options_for(child.pid()), sink, nullptr);
  ASSERT_TRUE(engine.drain_once().ok());
  const std::vector<Line> lines = parse_lines(sink.text);
  ASSERT_EQ(lines.size(), 200 - dropped + 1);
  EXPECT_EQ(lines.back().message, "ringtail.dropped");
  EXPECT_EQ(lines.back().get("dropped"), static_cast<int64_t>(dropped));
  EXPECT_TRUE(with_message(lines, "ringtail.crashed").empty());  // a clean exit adds nothing
}

TEST(DrainEngine, CorruptRingIsNotedAndTheOthersCarryOn) {
  ProducerChild child = start_logging(2, 100);
  ASSERT_TRUE(child.ok()) << child.error();
  ASSERT_EQ(child.join(), 0);
  {
    // Ring 1's first event record (after its 48-byte thread start record)
    // gets a size that is not a multiple of 8.
    absl::StatusOr<SegmentView> view = SegmentView::open(child.segment_name(), SegmentView::Access::kReadWrite);
    ASSERT_TRUE(view.ok()) << view.status();
    std::byte* ring = const_cast<std::byte*>(*view->ring_data(1));
    const uint32_t bad_size = 12;
    std::memcpy(ring + sizeof(shm::ThreadStartRecord), &bad_size, sizeof(bad_size));
  }
  MemorySink sink;
  Reports reports;
  DrainEngine engine(options_for(child.pid()), sink, reports.fn());
  ASSERT_TRUE(engine.drain_once().ok());
  ASSERT_TRUE(engine.drain_once().ok());
  const std::vector<Line> lines = parse_lines(sink.text);
  std::map<int64_t, int> per_thread;
  for (const Line& line : with_message(lines, "loadgen")) ++per_thread[line.get("thread_index")];
  ASSERT_EQ(per_thread.size(), 1u);  // the intact ring's thread, all of it
  EXPECT_EQ(per_thread.begin()->second, 100);
  const std::vector<Line> corrupt = with_message(lines, "ringtail.ring_corrupt");
  ASSERT_EQ(corrupt.size(), 1u);
  EXPECT_EQ(corrupt[0].level, "ERROR");
  EXPECT_EQ(corrupt[0].get("slot"), 1);
  EXPECT_NE(corrupt[0].raw.find("not a positive multiple of 8"), std::string::npos) << corrupt[0].raw;
  EXPECT_EQ(reports.count("poisoned"), 1u);
  EXPECT_EQ(engine.stats().rings_poisoned, 1u);
  EXPECT_FALSE(segment_exists(child.segment_name()));  // the producer is gone: drained as far as it goes
}

TEST(DrainEngine, InvalidSegmentIsReportedOnceAndSkipped) {
  ProducerChild child = start_logging(1, 10);
  ASSERT_TRUE(child.ok()) << child.error();
  ASSERT_EQ(child.join(), 0);
  // Same pid, other start time: discovered along with the real one.
  const std::string bogus = "ringtail." + std::to_string(child.pid()) + ".1";
  {
    std::ofstream out("/dev/shm/" + bogus);
    out << std::string(8192, '\xAB');
  }
  MemorySink sink;
  Reports reports;
  DrainEngine engine(options_for(child.pid()), sink, reports.fn());
  ASSERT_TRUE(engine.drain_once().ok());
  ASSERT_TRUE(engine.drain_once().ok());
  expect_each_once_in_thread_order(parse_lines(sink.text), 1, 10);
  EXPECT_EQ(reports.count(bogus), 1u);
  EXPECT_EQ(reports.lines().size(), 1u);
  EXPECT_EQ(engine.stats().segments_invalid, 1u);
  EXPECT_TRUE(segment_exists(bogus));  // not the engine's to remove
  EXPECT_FALSE(segment_exists(child.segment_name()));
  std::filesystem::remove("/dev/shm/" + bogus);
}

TEST(DrainEngine, LostEventsAreNoted) {
  Options options = producer_options();
  options.max_threads = 1;
  ProducerChild child = ProducerChild::start(options, [](ProducerChild::Link&) {
    RINGTAIL_INFO("first", kv("n", 1));  // takes the only ring
    std::thread other([] {
      for (int i = 0; i < 5; ++i) RINGTAIL_INFO("lost", kv("n", i));
    });
    other.join();
    return 0;
  });
  ASSERT_TRUE(child.ok()) << child.error();
  ASSERT_EQ(child.join(), 0);
  MemorySink sink;
  DrainEngine engine(options_for(child.pid()), sink, nullptr);
  ASSERT_TRUE(engine.drain_once().ok());
  const std::vector<Line> lines = parse_lines(sink.text);
  ASSERT_EQ(with_message(lines, "first").size(), 1u);
  const std::vector<Line> lost = with_message(lines, "ringtail.lost");
  ASSERT_EQ(lost.size(), 1u);
  EXPECT_EQ(lost[0].level, "WARN");
  EXPECT_EQ(lost[0].get("lost_no_ring"), 5);
  EXPECT_EQ(lost[0].get("lost_callsite_table_full"), 0);
}

// Two threads log "tick" strictly in turn (k = 0, 1, 2, ... total - 1): one
// ring holds the even k, the other the odd. Read ring by ring, only the
// merge restores k order.
ProducerChild start_taking_turns(int total, uint64_t ring_bytes = uint64_t{1} << 20) {
  return ProducerChild::start(producer_options(ring_bytes), [total](ProducerChild::Link&) {
    std::atomic<int> turn{0};
    auto play = [&](int parity) {
      for (;;) {
        int k = turn.load();
        while (k < total && k % 2 != parity) k = turn.load();
        if (k >= total) return;
        // Well apart in time: the cores' clocks may disagree by a little
        // (a VM's TSCs by ~100 ns), which the merge cannot know about.
        const auto until = std::chrono::steady_clock::now() + 20us;
        while (std::chrono::steady_clock::now() < until) {
        }
        RINGTAIL_INFO("tick", kv("k", k));
        turn.store(k + 1);
      }
    };
    std::thread other(play, 1);
    play(0);
    other.join();
    return 0;
  });
}

// The lines of start_taking_turns(), in k order, from both threads.
void expect_in_turn_order(const std::vector<Line>& lines, size_t total) {
  ASSERT_EQ(lines.size(), total);
  std::set<uint64_t> tids;
  for (size_t k = 0; k < lines.size(); ++k) {
    ASSERT_EQ(lines[k].get("k"), static_cast<int64_t>(k)) << lines[k].raw;
    tids.insert(lines[k].tid);
  }
  EXPECT_EQ(tids.size(), 2u);
}

TEST(DrainEngine, ReorderMergesThreadsByTimestamp) {
  ProducerChild child = start_taking_turns(400);
  ASSERT_TRUE(child.ok()) << child.error();
  ASSERT_EQ(child.join(), 0);
  MemorySink sink;
  DrainOptions options = options_for(child.pid());
  // A window no scheduling delay on a loaded machine reaches: the age rule
  // (a line held for W is written) must not fire between reading the two rings.
  options.reorder_window = 60s;
  DrainEngine engine(options, sink, nullptr);
  ASSERT_TRUE(engine.drain_once().ok());
  expect_in_turn_order(parse_lines(sink.text), 400);
  EXPECT_EQ(engine.stats().late_events, 0u);
  EXPECT_EQ(engine.stats().passes, 1u);
}

// A dead producer's backlog of more than pass_bytes goes out in several
// passes, each flushed (and committed) before the next: merged across the
// ends of the passes as in one pass.
TEST(DrainEngine, ABacklogOverPassBytesGoesOutInSeveralPassesStillMerged) {
  // Rings of several batches (256 KiB) each: a pass reads at least one.
  constexpr int kTotal = 40000;
  ProducerChild child = start_taking_turns(kTotal, 4 << 20);
  ASSERT_TRUE(child.ok()) << child.error();
  ASSERT_EQ(child.join(), 0);
  MemorySink sink;
  DrainOptions options = options_for(child.pid());
  options.reorder_window = 60s;
  options.pass_bytes = 64 << 10;
  DrainEngine engine(options, sink, nullptr);
  ASSERT_TRUE(engine.drain_once().ok());
  expect_in_turn_order(parse_lines(sink.text), kTotal);
  const DrainStats stats = engine.stats();
  EXPECT_EQ(stats.late_events, 0u);
  EXPECT_EQ(stats.events, static_cast<uint64_t>(kTotal));
  EXPECT_GE(stats.passes, 3u);
  EXPECT_GE(sink.flushes, static_cast<int>(stats.passes));  // each pass was flushed
  EXPECT_EQ(sink.finished, std::vector<uint32_t>{static_cast<uint32_t>(child.pid())});
  EXPECT_FALSE(segment_exists(child.segment_name()));
}

// drain_once()'s passes are one pass to the reorder window's age rule: a
// backlog whose passes each take longer than the window (a slow sink) still
// comes out in timestamp order. Here one thread logs ten times as densely as
// the other over the same time, so a batch of the sparse ring reaches far
// past what a batch of the dense one does: lines of the sparse ring wait for
// several passes until the dense ring catches up with them, and lines that
// left early because they had waited longer than the window would come out
// before older lines of the dense ring.
TEST(DrainEngine, ABacklogsPassesKeepTimestampOrderWhateverTheirLength) {
  ProducerChild child = ProducerChild::start(producer_options(16 << 20), [](ProducerChild::Link&) {
    // Paced by spinning on the clock, as start_taking_turns() does.
    auto pause = [] {
      const auto until = std::chrono::steady_clock::now() + 20us;
      while (std::chrono::steady_clock::now() < until) {
      }
    };
    std::atomic<bool> done{false};
    std::thread sparse([&] {
      for (uint64_t i = 0; !done.load(); ++i) {
        RINGTAIL_INFO("sparse", kv("i", i));
        pause();
      }
    });
    // A fixed count (about 3.8 MB of records, 15 batches), so that a slower
    // build (sanitizers) makes as many passes.
    for (uint64_t i = 0; i < 60000;) {
      for (int k = 0; k < 10; ++k, ++i) RINGTAIL_INFO("dense", kv("i", i));
      pause();
    }
    done = true;
    sparse.join();
    return 0;
  });
  ASSERT_TRUE(child.ok()) << child.error();
  ASSERT_EQ(child.join(), 0);
  SlowSink sink;
  sink.delay = 3ms;
  DrainOptions options = options_for(child.pid());
  options.reorder_window = 1ms;
  options.writer_thread = false;  // the sink's time is the pass's
  options.pass_bytes = 64 << 10;
  DrainEngine engine(options, sink, nullptr);
  ASSERT_TRUE(engine.drain_once().ok());
  const std::vector<Line> lines = parse_lines(sink.text);
  ASSERT_GE(engine.stats().passes, 5u);
  EXPECT_EQ(engine.stats().late_events, 0u);
  size_t out_of_order = 0;
  for (size_t k = 1; k < lines.size(); ++k) out_of_order += lines[k].timestamp < lines[k - 1].timestamp ? 1 : 0;
  EXPECT_EQ(out_of_order, 0u);
  EXPECT_GT(with_message(lines, "sparse").size(), 100u);
  EXPECT_GT(with_message(lines, "dense").size(), 2 * with_message(lines, "sparse").size());  // denser, also when slowed
}

// A crashed producer's backlog over several passes: its trailing drops and
// its crash note come once, after every event, in the pass that ends it.
TEST(DrainEngine, ACrashedProducersNoteComesAfterItsLastPass) {
  ProducerChild child = ProducerChild::start(producer_options(4 << 20), [](ProducerChild::Link&) {
    if (log_from_threads(2, 15000) != 0) return 3;
    ::kill(::getpid(), SIGKILL);
    return 4;
  });
  ASSERT_TRUE(child.ok()) << child.error();
  ASSERT_EQ(child.join(), 128 + SIGKILL);
  MemorySink sink;
  DrainOptions options = options_for(child.pid());
  options.pass_bytes = 64 << 10;
  DrainEngine engine(options, sink, nullptr);
  ASSERT_TRUE(engine.drain_once().ok());
  const std::vector<Line> lines = parse_lines(sink.text);
  expect_each_once_in_thread_order(lines, 2, 15000);
  ASSERT_EQ(with_message(lines, "ringtail.crashed").size(), 1u);
  EXPECT_EQ(lines.back().message, "ringtail.crashed");
  EXPECT_TRUE(with_message(lines, "ringtail.dropped").empty());
  EXPECT_GE(engine.stats().passes, 3u);
  EXPECT_EQ(engine.stats().producers_crashed, 1u);
  EXPECT_FALSE(segment_exists(child.segment_name()));
}

// drain_once() of a live producer is one pass bounded by its rings, however
// small pass_bytes is: it cannot chase a producer that keeps writing.
TEST(DrainEngine, ALiveProducersDrainOnceIsOnePassWhateverPassBytes) {
  ProducerChild child = start_logging_then_holding(2, 1000);
  ASSERT_TRUE(child.ok()) << child.error();
  ASSERT_TRUE(child.wait_signal());
  MemorySink sink;
  DrainOptions options = options_for(child.pid());
  options.pass_bytes = 1;
  DrainEngine engine(options, sink, nullptr);
  ASSERT_TRUE(engine.drain_once().ok());
  expect_each_once_in_thread_order(parse_lines(sink.text), 2, 1000);
  EXPECT_EQ(engine.stats().passes, 1u);
  ASSERT_TRUE(child.resume());
  ASSERT_EQ(child.join(), 0);
}

// Several producers' segments in one pass go to the DecodePool: every event
// of every producer once, in thread order, each segment finished and removed;
// and a failing sink still commits nothing.
TEST(DrainEngine, SegmentsDecodedInParallelEveryEventOnce) {
  constexpr int kProducers = 4;
  std::vector<ProducerChild> children;
  std::vector<pid_t> pids;
  for (int p = 0; p < kProducers; ++p) {
    children.push_back(
        ProducerChild::start(producer_options(), [](ProducerChild::Link&) { return log_from_threads(2, 3000); }));
    ASSERT_TRUE(children.back().ok()) << children.back().error();
    pids.push_back(children.back().pid());
  }
  for (ProducerChild& child : children) ASSERT_EQ(child.join(), 0);

  DrainOptions options = options_for(pids[0]);
  options.discovery.pids = pids;
  options.decode_threads = 3;
  {
    MemorySink failing;
    failing.fail_flush = true;
    DrainEngine engine(options, failing, nullptr);
    EXPECT_FALSE(engine.drain_once().ok());
    for (const ProducerChild& child : children) {
      EXPECT_EQ(slot_of(child.segment_name(), 0).read_pos_untrusted, 0u);
      EXPECT_EQ(slot_of(child.segment_name(), 1).read_pos_untrusted, 0u);
      EXPECT_TRUE(segment_exists(child.segment_name()));
    }
  }
  MemorySink sink;
  Reports reports;
  DrainEngine engine(options, sink, reports.fn());
  ASSERT_TRUE(engine.drain_once().ok());
  const std::vector<Line> lines = parse_lines(sink.text);
  EXPECT_EQ(lines.size(), size_t{kProducers} * 6000);
  for (pid_t pid : pids) {
    std::vector<Line> mine;
    for (const Line& line : lines) {
      if (line.pid == static_cast<uint64_t>(pid)) mine.push_back(line);
    }
    expect_each_once_in_thread_order(mine, 2, 3000);
  }
  for (const ProducerChild& child : children) EXPECT_FALSE(segment_exists(child.segment_name()));
  std::vector<uint32_t> finished = sink.finished;
  std::sort(finished.begin(), finished.end());
  std::vector<uint32_t> expected(pids.begin(), pids.end());
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(finished, expected);
  const DrainStats stats = engine.stats();
  EXPECT_EQ(stats.events, size_t{kProducers} * 6000);
  EXPECT_EQ(stats.bytes, sink.text.size());
  EXPECT_EQ(stats.segments_removed, static_cast<uint64_t>(kProducers));
  EXPECT_TRUE(reports.lines().empty()) << reports.lines().front();
}

TEST(DrainEngine, FailedFlushCommitsNothingAndTheNextEngineRereads) {
  ProducerChild child = start_logging(2, 500);
  ASSERT_TRUE(child.ok()) << child.error();
  ASSERT_EQ(child.join(), 0);
  {
    MemorySink failing;
    failing.fail_flush = true;
    DrainEngine engine(options_for(child.pid()), failing, nullptr);
    EXPECT_FALSE(engine.drain_once().ok());
    EXPECT_EQ(failing.discards, 1);
    EXPECT_TRUE(failing.text.empty());
    EXPECT_EQ(engine.stats().sink_errors, 1u);
    EXPECT_FALSE(engine.last_error().ok());
    EXPECT_EQ(slot_of(child.segment_name(), 0).read_pos_untrusted, 0u);
    EXPECT_EQ(slot_of(child.segment_name(), 1).read_pos_untrusted, 0u);
    EXPECT_TRUE(segment_exists(child.segment_name()));
    // Kept while this engine lives (no other reader takes the segment while
    // its output fails), given back when it goes.
    EXPECT_NE(lease_word(child.segment_name()), 0u);
    // A failing write() is handled the same way.
    failing.fail_flush = false;
    failing.fail_write = true;
    EXPECT_FALSE(engine.drain_once().ok());
    EXPECT_EQ(slot_of(child.segment_name(), 0).read_pos_untrusted, 0u);
  }
  MemorySink sink;
  DrainEngine engine(options_for(child.pid()), sink, nullptr);
  ASSERT_TRUE(engine.drain_once().ok());
  expect_each_once_in_thread_order(parse_lines(sink.text), 2, 500);
  EXPECT_FALSE(segment_exists(child.segment_name()));
}

// Fails its first `failures` flushes.
class FlakySink : public MemorySink {
 public:
  explicit FlakySink(int failures) : failures_(failures) {}
  absl::Status flush() override {
    if (failures_ > 0) {
      --failures_;
      ++flushes;
      return absl::ResourceExhaustedError("test: disk full for now");
    }
    return MemorySink::flush();
  }

 private:
  int failures_;
};

TEST(DrainEngine, RunStopsOnAnOutputErrorOrRetriesAfterTheBackoff) {
  ProducerChild child = start_logging(2, 500);
  ASSERT_TRUE(child.ok()) << child.error();
  ASSERT_EQ(child.join(), 0);
  {
    // No back-off: run() returns by itself, the error in last_error().
    FlakySink sink(1);
    Reports reports;
    DrainEngine engine(options_for(child.pid()), sink, reports.fn());
    std::atomic<bool> stop{false};
    engine.run(stop);
    EXPECT_FALSE(engine.last_error().ok());
    EXPECT_EQ(reports.count("output failed"), 1u);
    EXPECT_TRUE(sink.text.empty());
    EXPECT_TRUE(segment_exists(child.segment_name()));
  }
  // With a back-off: it carries on from the committed positions once the sink works again.
  FlakySink sink(3);
  DrainOptions options = options_for(child.pid());
  options.sink_error_backoff = 10ms;
  DrainEngine engine(options, sink, nullptr);
  std::atomic<bool> stop{false};
  std::thread runner([&] { engine.run(stop); });
  EXPECT_TRUE(eventually([&] { return engine.stats().segments_removed == 1; }));
  stop = true;
  runner.join();
  EXPECT_EQ(engine.stats().sink_errors, 3u);
  EXPECT_TRUE(engine.last_error().ok());
  expect_each_once_in_thread_order(parse_lines(sink.text), 2, 500);
}

// Every flush fails with ENOSPC while `full` is set, as on a full disk.
class DiskFullSink : public MemorySink {
 public:
  absl::Status flush() override {
    if (full.load()) {
      ++flushes;
      return absl::ErrnoToStatus(ENOSPC, "test: cannot write the store");
    }
    return MemorySink::flush();
  }
  std::atomic<bool> full{true};
};

ReaderStall stall_of(const std::string& segment) {
  absl::StatusOr<SegmentView> view = SegmentView::open(segment, SegmentView::Access::kReadOnly);
  EXPECT_TRUE(view.ok()) << view.status();
  return view.ok() ? reader_stall(*view) : ReaderStall{};
}

// A daemon outlives a full disk: run() keeps the segment leased and marked
// stalled, tries again less and less often (calling on_sink_error each
// time), says so at once and then rate-limited, and once the output works
// carries on by itself, says so and clears the mark; every event once.
TEST(DrainEngine, RunBacksOffWhileTheOutputFailsAndResumesByItself) {
  ProducerChild child = ProducerChild::start(producer_options(), [](ProducerChild::Link& link) {
    if (log_from_threads(2, 500) != 0) return 3;
    link.signal();
    link.wait();
    return 0;
  });
  ASSERT_TRUE(child.ok()) << child.error();
  ASSERT_TRUE(child.wait_signal());
  DiskFullSink sink;
  Reports reports;
  DrainOptions options = options_for(child.pid());
  options.sink_error_backoff = 2ms;
  options.sink_error_backoff_max = 16ms;
  options.sink_error_report_interval = 100ms;
  std::atomic<int> on_error_calls{0};
  options.on_sink_error = [&](const absl::Status& error) {
    EXPECT_EQ(error.code(), absl::StatusCode::kResourceExhausted);
    ++on_error_calls;
  };
  DrainEngine engine(options, sink, reports.fn());
  std::atomic<bool> stop{false};
  const auto started = std::chrono::steady_clock::now();
  std::thread runner([&] { engine.run(stop); });

  // A slow machine (or TSan) may take longer than the report interval per
  // retry, so the retries are waited for rather than assumed; the rate limit
  // is then checked against the time that really passed.
  EXPECT_TRUE(eventually([&] {
    return reports.count("output still failing for") >= 1 && engine.stats().sink_errors >= 3;
  })) << reports.lines().size();
  const size_t still_failing = reports.count("output still failing for");
  const auto elapsed = std::chrono::steady_clock::now() - started;
  EXPECT_EQ(reports.count("output failed, nothing after the last flush was committed"), 1u);
  EXPECT_LE(still_failing, static_cast<size_t>(1 + elapsed / options.sink_error_report_interval)) << "not rate-limited";
  EXPECT_EQ(engine.stats().output_stalls, 1u);
  EXPECT_EQ(slot_of(child.segment_name(), 0).read_pos_untrusted, 0u);
  const uint64_t lease = lease_word(child.segment_name());
  EXPECT_EQ(lease >> 32, static_cast<uint64_t>(::getpid()));
  const ReaderStall stall = stall_of(child.segment_name());
  EXPECT_NE(stall.since_realtime_ns_untrusted, 0u);
  EXPECT_EQ(stall.errno_untrusted, static_cast<uint32_t>(ENOSPC));

  sink.full = false;
  EXPECT_TRUE(eventually([&] { return reports.count("output resumed after") == 1; }));
  EXPECT_EQ(lease_word(child.segment_name()), lease) << "the same lease all along";
  EXPECT_EQ(stall_of(child.segment_name()).since_realtime_ns_untrusted, 0u);
  EXPECT_EQ(stall_of(child.segment_name()).errno_untrusted, 0u);
  ASSERT_TRUE(child.resume());
  ASSERT_EQ(child.join(), 0);
  EXPECT_TRUE(eventually([&] { return engine.stats().segments_removed == 1; }));
  stop = true;
  runner.join();
  EXPECT_TRUE(engine.last_error().ok());
  EXPECT_EQ(static_cast<uint64_t>(on_error_calls.load()), engine.stats().sink_errors);
  EXPECT_EQ(engine.stats().output_stalls, 1u);
  expect_each_once_in_thread_order(parse_lines(sink.text), 2, 500);
}

TEST(DrainEngine, SecondConsumingEngineGetsTheLeaseErrorAndNothingTwice) {
  ProducerChild child = ProducerChild::start(producer_options(), [](ProducerChild::Link& link) {
    for (uint64_t i = 0; i < 150; ++i) {
      if (!RINGTAIL_INFO("loadgen", kv("thread_index", 0), kv("i", i))) return 3;
      if (i == 99 && !(link.signal() && link.wait())) return 4;
    }
    return link.signal() && link.wait() ? 0 : 5;
  });
  ASSERT_TRUE(child.ok()) << child.error();
  ASSERT_TRUE(child.wait_signal());
  MemorySink sink1;
  MemorySink sink2;
  Reports reports2;
  DrainEngine first(options_for(child.pid()), sink1, nullptr);
  DrainEngine second(options_for(child.pid()), sink2, reports2.fn());
  ASSERT_TRUE(first.drain_once().ok());
  ASSERT_TRUE(second.drain_once().ok());
  EXPECT_EQ(parse_lines(sink1.text).size(), 100u);
  EXPECT_TRUE(sink2.text.empty());
  EXPECT_EQ(second.stats().segments_busy, 1u);
  EXPECT_EQ(reports2.count("being drained by pid"), 1u) << (reports2.lines().empty() ? "" : reports2.lines()[0]);

  ASSERT_TRUE(child.resume());
  ASSERT_TRUE(child.wait_signal());
  ASSERT_TRUE(second.drain_once().ok());  // retried, still busy: reported only once
  ASSERT_TRUE(first.drain_once().ok());
  EXPECT_TRUE(sink2.text.empty());
  EXPECT_EQ(reports2.lines().size(), 1u);
  ASSERT_TRUE(child.resume());
  ASSERT_EQ(child.join(), 0);
  ASSERT_TRUE(first.drain_once().ok());
  expect_each_once_in_thread_order(parse_lines(sink1.text), 1, 150);
  EXPECT_FALSE(segment_exists(child.segment_name()));
}

TEST(DrainEngine, ReorderBufferIsBoundedWhileFollowing) {
  ProducerChild child = start_logging_then_holding(1, 1000);
  ASSERT_TRUE(child.ok()) << child.error();
  ASSERT_TRUE(child.wait_signal());
  DrainOptions options = options_for(child.pid());
  options.reorder_window = 60s;     // nothing would be due for a minute...
  options.reorder_max_lines = 100;  // ...but at most 100 lines may wait
  MemorySink sink;
  DrainEngine engine(options, sink, nullptr);
  std::atomic<bool> stop{false};
  std::thread runner([&] { engine.run(stop); });
  EXPECT_TRUE(eventually([&] { return engine.stats().events >= 900; }));
  const DrainStats held = engine.stats();
  EXPECT_LE(held.events, 900u);
  EXPECT_GE(held.reorder_forced, 899u);
  ASSERT_TRUE(child.resume());
  ASSERT_EQ(child.join(), 0);
  stop = true;
  runner.join();
  expect_each_once_in_thread_order(parse_lines(sink.text), 1, 1000);
}

TEST(DrainEngine, HeldLinesAreWrittenAfterTheWindowWhenTheProducerGoesQuiet) {
  ProducerChild child = start_logging_then_holding(2, 50);
  ASSERT_TRUE(child.ok()) << child.error();
  ASSERT_TRUE(child.wait_signal());
  DrainOptions options = options_for(child.pid());
  options.reorder_window = 1s;
  MemorySink sink;
  DrainEngine engine(options, sink, nullptr);
  std::atomic<bool> stop{false};
  const auto start = std::chrono::steady_clock::now();
  std::thread runner([&] { engine.run(stop); });
  // Two passes done: the first read every line there is (the producer logged
  // them all before the engine started), and still within the window.
  ASSERT_TRUE(eventually([&] { return engine.stats().passes >= 2; })) << "the engine never finished a pass";
  EXPECT_EQ(engine.stats().events, 0u);                                // held: within the window
  EXPECT_EQ(slot_of(child.segment_name(), 0).read_pos_untrusted, 0u);  // and not committed
  // Nothing new arrives, yet they go out once the window has passed.
  EXPECT_TRUE(eventually([&] { return engine.stats().events == 100; }, 5s));
  EXPECT_LT(std::chrono::steady_clock::now() - start, 3s);
  // Written lines were committed: read_pos moved while the producer still runs.
  EXPECT_TRUE(eventually([&] { return slot_of(child.segment_name(), 0).read_pos_untrusted > 0; }, 2s));
  stop = true;
  runner.join();
  ASSERT_TRUE(child.resume());
  ASSERT_EQ(child.join(), 0);
  expect_each_once_in_thread_order(parse_lines(sink.text), 2, 50);
}

std::vector<std::string> read_jsonl_files(const std::filesystem::path& dir) {
  return ringtail::test::read_stored_texts(dir.string());
}

TEST(DrainEngine, ReaderKilledAndRestartedLosesAndRepeatsNothing) {
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("ringtail-drain-kill-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  // Paced so that the first reader is killed while the producer is mid-way.
  Loadgen gen({"--threads", "2", "--events", "15000", "--retry-when-full", "--rate", "40000"},
              {"RINGTAIL_RING_BYTES=65536", "RINGTAIL_SERVICE=drain-kill", "RINGTAIL_MAX_THREADS=4"});
  ASSERT_GT(gen.pid(), 0);
  const pid_t producer = gen.pid();
  {
    ringtail::test::ForkedChild reader = ringtail::test::ForkedChild::start([&](ringtail::test::ChildChannel&) {
      StoreSink sink(store_in(dir));
      DrainEngine engine(options_for(producer), sink, nullptr);
      std::atomic<bool> stop{false};
      engine.run(stop);  // until killed
      return 0;
    });
    // Killed once it has stored its first lines (and the producer is mid-way).
    EXPECT_TRUE(eventually(
        [&] {
          const std::vector<std::string> texts = read_jsonl_files(dir);
          return !texts.empty() && texts[0].find('\n') != std::string::npos;
        },
        20s));
    ::kill(reader.pid(), SIGKILL);
    const ringtail::test::ChildOutcome outcome = reader.finish();
    EXPECT_TRUE(outcome.signaled());
  }
  {
    // The first reader got part of the way. Killed mid-write, it may have
    // left a torn last line: the next StoreSink cuts it when it takes the file over.
    const std::vector<std::string> texts = read_jsonl_files(dir);
    ASSERT_EQ(texts.size(), 1u);
    const size_t lines = parse_lines(texts[0].substr(0, texts[0].rfind('\n') + 1)).size();
    EXPECT_GT(lines, 0u);
    EXPECT_LT(lines, 30000u);
  }
  StoreSink sink(store_in(dir));
  Reports reports;
  DrainEngine engine(options_for(producer), sink, reports.fn());
  ASSERT_EQ(run_until_removed(engine, gen), 0) << "ringtail-loadgen exit";
  EXPECT_EQ(reports.count("took over the lease"), 1u);

  const std::vector<std::string> texts = read_jsonl_files(dir);
  ASSERT_EQ(texts.size(), 1u);  // one producer, one file (unless the test ran across midnight UTC)
  const std::vector<Line> lines = parse_lines(texts[0]);
  std::map<int64_t, std::map<int64_t, int>> seen;
  size_t repeats = 0;
  for (const Line& line : lines) {
    if (++seen[line.get("thread_index")][line.get("i")] > 1) ++repeats;
  }
  for (int64_t t = 0; t < 2; ++t) {
    ASSERT_EQ(seen[t].size(), 15000u) << "thread " << t << " lost events";
  }
  // Exactly once: what the killed reader wrote after its last checkpoint was cut.
  EXPECT_EQ(repeats, 0u);
  std::filesystem::remove_all(dir);
}

TEST(RingCursorCommitTo, PublishesOnlyRecordBoundariesItReached) {
  ProducerChild child = start_logging(1, 10);
  ASSERT_TRUE(child.ok()) << child.error();
  ASSERT_EQ(child.join(), 0);
  absl::StatusOr<SegmentView> view = SegmentView::open(child.segment_name(), SegmentView::Access::kReadWrite);
  ASSERT_TRUE(view.ok()) << view.status();
  CallSiteTable table(*view);
  absl::StatusOr<RingCursor> cursor = RingCursor::create(*view, 0);
  ASSERT_TRUE(cursor.ok());
  struct Ends : RecordSink {
    RingCursor* cursor = nullptr;
    std::vector<uint64_t> ends;
    void on_event(const DecodedEvent&) override { ends.push_back(cursor->position()); }
    void on_gap(const DropGap&) override {}
  } sink;
  sink.cursor = &*cursor;
  ASSERT_TRUE(cursor->read_batch(table, sink).ok());
  ASSERT_EQ(sink.ends.size(), 10u);
  const shm::RingSlot* slot = *view->slot(0);
  cursor->commit_to(sink.ends[2]);
  EXPECT_EQ(slot->read_pos.load(), sink.ends[2]);
  EXPECT_EQ(cursor->committed_position(), sink.ends[2]);
  cursor->commit_to(sink.ends[1]);      // backwards: ignored
  cursor->commit_to(sink.ends[9] + 8);  // past the position: ignored
  cursor->commit_to(sink.ends[5] + 4);  // not a multiple of 8: ignored
  EXPECT_EQ(slot->read_pos.load(), sink.ends[2]);
  cursor->commit_to(sink.ends[9]);
  EXPECT_EQ(slot->read_pos.load(), sink.ends[9]);

  absl::StatusOr<RingCursor> peek = RingCursor::create(*view, 0, RingCursorOptions{RingCursorOptions::Mode::kPeek});
  ASSERT_TRUE(peek.ok());
  peek->commit_to(sink.ends[9]);  // peek: never writes
  EXPECT_EQ(slot->read_pos.load(), sink.ends[9]);
}

}  // namespace
}  // namespace ringtail::reader
