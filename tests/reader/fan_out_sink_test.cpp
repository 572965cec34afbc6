// FanOutSink (sinks/fan_out_sink.hpp): every sink gets every batch in order;
// a slow or failing best-effort sink is counted and reported but holds
// neither the durable sinks nor the drain back (a real producer is drained
// to its end and its segment removed while such a sink is stuck); a durable
// sink's error fails the pass and keeps the batch from the best-effort ones.
#include "ringtail/reader/sinks/fan_out_sink.hpp"

#include <unistd.h>

#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "drain_test_support.hpp"
#include "producer_child.hpp"
#include "ringtail/reader/drain/drain_engine.hpp"
#include "ringtail/ringtail.hpp"
#include "shaped_text.hpp"

namespace ringtail::reader {
namespace {

using testing::MemorySink;
using testing::parse_lines;

// A MemorySink that waits, inside write(), until released.
class StuckSink : public MemorySink {
 public:
  absl::Status write(const EventBatch& batch) override {
    {
      std::unique_lock lock(mutex_);
      ++entered_;
      entered_changed_.notify_all();
      released_changed_.wait(lock, [&] { return released_; });
    }
    return MemorySink::write(batch);
  }
  void wait_entered() {
    std::unique_lock lock(mutex_);
    entered_changed_.wait(lock, [&] { return entered_ > 0; });
  }
  void release() {
    std::lock_guard lock(mutex_);
    released_ = true;
    released_changed_.notify_all();
  }

 private:
  std::mutex mutex_;
  std::condition_variable entered_changed_;
  std::condition_variable released_changed_;
  int entered_ = 0;
  bool released_ = false;
};

struct Reports {
  std::mutex mutex;
  std::vector<std::string> lines;
  std::function<void(std::string_view)> fn() {
    return [this](std::string_view line) {
      std::lock_guard lock(mutex);
      lines.emplace_back(line);
    };
  }
  size_t count(std::string_view part) {
    std::lock_guard lock(mutex);
    size_t n = 0;
    for (const std::string& line : lines) n += line.find(part) != std::string::npos ? 1 : 0;
    return n;
  }
};

SegmentIdentity segment(uint32_t pid) {
  SegmentIdentity id;
  id.pid = pid;
  id.service = "fan";
  return id;
}

std::string line(int n) {
  return R"({"timestamp":"2026-11-30T10:00:00.000000000Z","level":"INFO","message":"m","service":"fan","pid":1,)"
         R"("tid":1,"seq":)" +
         std::to_string(n) + "}\n";
}

TEST(FanOutSink, EverySinkGetsEveryBatchInOrder) {
  MemorySink store, second, console;
  FanOutSink fan;
  fan.add(store, "store", Delivery::kDurable);
  fan.add(second, "second", Delivery::kDurable);
  fan.add(console, "console", Delivery::kBestEffort);
  const SegmentIdentity id = segment(1);
  std::string all;
  for (int n = 0; n < 5; ++n) {
    const std::string text = line(2 * n) + line(2 * n + 1);
    all += text;
    ASSERT_TRUE(fan.write(testing::batch_of(id, text)).ok());
    ASSERT_TRUE(fan.flush().ok());
  }
  fan.segment_finished(id);
  fan.wait_best_effort_idle();
  EXPECT_EQ(store.text, all);
  EXPECT_EQ(second.text, all);
  EXPECT_EQ(console.text, all);
  EXPECT_EQ(console.finished, std::vector<uint32_t>{1});
  EXPECT_EQ(store.finished, std::vector<uint32_t>{1});
  const std::vector<SinkStats> stats = fan.stats();
  ASSERT_EQ(stats.size(), 3u);
  for (const SinkStats& sink : stats) {
    EXPECT_EQ(sink.batches, 5u) << sink.name;
    EXPECT_EQ(sink.lines, 10u) << sink.name;
    EXPECT_EQ(sink.dropped_lines, 0u) << sink.name;
  }
  EXPECT_EQ(stats[2].name, "console");
  EXPECT_EQ(stats[2].delivery, Delivery::kBestEffort);
}

TEST(FanOutSink, AStuckBestEffortSinkDropsAndCountsButHoldsNothingBack) {
  MemorySink store;
  StuckSink stuck;
  Reports reports;
  const SegmentIdentity id = segment(1);
  const std::string one = line(0);
  {
    FanOutSink fan(reports.fn());
    fan.add(store, "store", Delivery::kDurable);
    fan.add(stuck, "stuck", Delivery::kBestEffort, /*max_queued_bytes=*/2 * one.size());
    ASSERT_TRUE(fan.write(testing::batch_of(id, one)).ok());
    stuck.wait_entered();  // the first batch is being written: the queue is empty again
    for (int n = 1; n < 10; ++n) ASSERT_TRUE(fan.write(testing::batch_of(id, line(n))).ok());
    ASSERT_TRUE(fan.flush().ok());  // returns at once: the engine never waits for a best-effort sink
    EXPECT_EQ(store.flushes, 1);
    EXPECT_EQ(parse_lines(store.text).size(), 10u);
    // Its bound counts the batch being written: one more fit, the other
    // eight were dropped, and counted.
    const std::vector<SinkStats> stats = fan.stats();
    EXPECT_EQ(stats[1].dropped_lines, 8u);
    EXPECT_EQ(reports.count("sink stuck is behind"), 1u) << "reported once, not per batch";
    stuck.release();
    fan.wait_best_effort_idle();
    EXPECT_EQ(fan.stats()[1].lines, 2u);
    EXPECT_EQ(reports.count("sink stuck caught up"), 1u);
  }
  EXPECT_EQ(stuck.text, line(0) + line(1)) << "what it got, in order";
}

TEST(FanOutSink, BestEffortErrorsAreCountedNotReturned) {
  MemorySink store, failing;
  failing.fail_write = true;
  Reports reports;
  FanOutSink fan(reports.fn());
  fan.add(store, "store", Delivery::kDurable);
  fan.add(failing, "failing", Delivery::kBestEffort);
  const SegmentIdentity id = segment(1);
  for (int n = 0; n < 3; ++n) ASSERT_TRUE(fan.write(testing::batch_of(id, line(n))).ok());
  ASSERT_TRUE(fan.flush().ok());
  fan.wait_best_effort_idle();
  EXPECT_EQ(fan.stats()[1].errors, 3u);
  EXPECT_EQ(reports.count("sink failing: write failed"), 1u);
  failing.fail_write = false;  // it recovers: the next batches get through
  ASSERT_TRUE(fan.write(testing::batch_of(id, line(3))).ok());
  ASSERT_TRUE(fan.flush().ok());
  fan.wait_best_effort_idle();
  EXPECT_EQ(failing.text, line(3));
  EXPECT_EQ(store.text, line(0) + line(1) + line(2) + line(3));
}

TEST(FanOutSink, ADurableErrorFailsThePassAndStopsTheBatch) {
  MemorySink store, console;
  FanOutSink fan;
  fan.add(store, "store", Delivery::kDurable);
  fan.add(console, "console", Delivery::kBestEffort);
  const SegmentIdentity id = segment(1);
  store.fail_write = true;
  EXPECT_FALSE(fan.write(testing::batch_of(id, line(0))).ok());
  store.fail_write = false;
  store.fail_flush = true;
  ASSERT_TRUE(fan.write(testing::batch_of(id, line(1))).ok());
  EXPECT_FALSE(fan.flush().ok());
  fan.discard();
  EXPECT_EQ(store.discards, 1);
  store.fail_flush = false;
  ASSERT_TRUE(fan.write(testing::batch_of(id, line(2))).ok());
  ASSERT_TRUE(fan.flush().ok());
  fan.wait_best_effort_idle();
  EXPECT_EQ(store.text, line(2));
  // The batch the store refused never reached the console; the one whose
  // flush failed did (what a best-effort sink got cannot be taken back).
  EXPECT_EQ(console.text, line(1) + line(2));
  EXPECT_EQ(fan.stats()[0].errors, 2u);
}

TEST(FanOutSink, TheDrainCommitsWhileABestEffortSinkIsStuck) {
  Options producer;
  producer.service = "fan-out";
  producer.max_threads = 4;
  ringtail::test::ProducerChild child = ringtail::test::ProducerChild::start(producer, [](auto&) {
    for (int i = 0; i < 2000; ++i) RINGTAIL_INFO("event", kv("i", i));
    return 0;
  });
  ASSERT_TRUE(child.ok()) << child.error();
  ASSERT_EQ(child.join(), 0);
  MemorySink store;
  StuckSink stuck;
  {
    FanOutSink fan;
    fan.add(store, "store", Delivery::kDurable);
    fan.add(stuck, "stuck", Delivery::kBestEffort, /*max_queued_bytes=*/1);
    DrainOptions options;
    options.discovery.pids = {child.pid()};
    DrainEngine engine(options, fan, nullptr);
    ASSERT_TRUE(engine.drain_once().ok());
    // Committed and removed although the stuck sink has not written a line.
    EXPECT_FALSE(std::filesystem::exists("/dev/shm/" + child.segment_name()));
    EXPECT_EQ(engine.stats().events, 2000u);
    EXPECT_EQ(parse_lines(store.text).size(), 2000u);
    EXPECT_TRUE(stuck.text.empty());
    stuck.release();
  }
  EXPECT_FALSE(stuck.text.empty()) << "it got the batch it was writing";
}

}  // namespace
}  // namespace ringtail::reader
