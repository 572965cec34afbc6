// Audit events (RINGTAIL_AUDIT) never drop while a reader keeps up within the
// bound: in a full ring they wait for room; past the bound they are dropped
// and counted apart (audit_lost), and the drain reports that loudly.
#include <chrono>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "drain_test_support.hpp"
#include "eventually.hpp"
#include "fork_child.hpp"
#include "producer_child.hpp"
#include "ringtail/reader/drain/drain_engine.hpp"
#include "ringtail/reader/ingest/segment_view.hpp"
#include "ringtail/ringtail.hpp"

namespace ringtail::reader {
namespace {

using namespace std::chrono_literals;
using ringtail::kv;
using ringtail::test::ProducerChild;
using testing::Line;
using testing::MemorySink;
using testing::parse_lines;

Options small_ring(std::chrono::milliseconds audit_wait) {
  Options options;
  options.service = "audit-test";
  options.ring_bytes = 4096;
  options.max_threads = 2;
  options.audit_wait = audit_wait;
  return options;
}

// Fills the ring (no reader runs yet): ordinary events until one is dropped.
int fill_ring() {
  for (int i = 0; i < 10000; ++i) {
    if (!RINGTAIL_INFO("filler", kv("i", i))) return i;
  }
  return -1;
}

RingSlotSnapshot slot0(const std::string& segment) {
  absl::StatusOr<SegmentView> view = SegmentView::open(segment, SegmentView::Access::kReadOnly);
  EXPECT_TRUE(view.ok()) << view.status();
  return view.ok() ? *view->slot_snapshot(0) : RingSlotSnapshot{};
}

DrainOptions drain_options(pid_t pid) {
  DrainOptions options;
  options.discovery.pids = {pid};
  return options;
}

TEST(Audit, WaitsForTheReaderAndLosesNothing) {
  // A generous bound: the reader below frees room long before it.
  ProducerChild child = ProducerChild::start(small_ring(60s), [](ProducerChild::Link& link) {
    const int filled = fill_ring();
    if (filled <= 0) return 3;
    link.signal();  // the ring is full: the parent drains while the audit event waits
    const bool committed = RINGTAIL_AUDIT(Level::kWarn, "policy.decision", kv("allow", false), kv("rule", "no-net"));
    return committed ? 0 : 4;
  });
  ASSERT_TRUE(child.ok()) << child.error();
  ASSERT_TRUE(child.wait_signal());
  // Waiting: the child spins for room (all it does after the signal), so its
  // CPU time grows.
  const uint64_t cpu_at_signal = ringtail::test::proc_cpu_ticks(child.pid());
  ASSERT_TRUE(ringtail::test::eventually([&] {
    return ringtail::test::proc_cpu_ticks(child.pid()) >= cpu_at_signal + 2 || child.exited();
  })) << "the audit event never waited for room";
  MemorySink sink;
  DrainEngine engine(drain_options(child.pid()), sink, nullptr);
  ASSERT_TRUE(engine.drain_once().ok());  // consumes: the waiting event finds room
  ASSERT_EQ(child.join(), 0) << "the audit event was not committed";
  ASSERT_TRUE(engine.drain_once().ok());
  const std::vector<Line> lines = parse_lines(sink.text);
  size_t decisions = 0, dropped = 0, audit_notes = 0;
  for (const Line& line : lines) {
    decisions += line.message == "policy.decision";
    dropped += line.message == "ringtail.dropped";
    audit_notes += line.message == "ringtail.audit_lost";
  }
  EXPECT_EQ(decisions, 1u);
  EXPECT_EQ(dropped, 1u);  // the filler that found the ring full, nothing else
  EXPECT_EQ(audit_notes, 0u);
  EXPECT_EQ(engine.stats().audit_lost, 0u);
}

TEST(Audit, PastTheBoundLostAndReportedLoudly) {
  ProducerChild child = ProducerChild::start(small_ring(20ms), [](ProducerChild::Link& link) {
    if (fill_ring() <= 0) return 3;
    // No reader: each waits its 20 ms, then is dropped and counted.
    int lost = 0;
    for (int i = 0; i < 3; ++i) lost += !RINGTAIL_AUDIT(Level::kWarn, "audit.decision", kv("i", i));
    link.signal();
    link.wait();
    return lost == 3 ? 0 : 4;
  });
  ASSERT_TRUE(child.ok()) << child.error();
  ASSERT_TRUE(child.wait_signal());
  const RingSlotSnapshot slot = slot0(child.segment_name());
  EXPECT_EQ(slot.audit_lost_untrusted, 3u);
  EXPECT_EQ(slot.dropped_full_untrusted, 4u);  // the filler and the three audit events: their seqs are spent

  MemorySink sink;
  std::vector<std::string> reports;
  DrainEngine engine(drain_options(child.pid()), sink, [&](std::string_view line) { reports.emplace_back(line); });
  ASSERT_TRUE(engine.drain_once().ok());
  ASSERT_TRUE(child.resume());
  ASSERT_EQ(child.join(), 0);
  ASSERT_TRUE(engine.drain_once().ok());
  EXPECT_EQ(engine.stats().audit_lost, 3u);
  const std::vector<Line> lines = parse_lines(sink.text);
  size_t notes = 0;
  for (const Line& line : lines) {
    if (line.message != "ringtail.audit_lost") continue;
    ++notes;
    EXPECT_EQ(line.level, "ERROR");
    EXPECT_EQ(line.get("audit_lost"), 3);
    EXPECT_EQ(line.get("audit_lost_total"), 3);
  }
  EXPECT_EQ(notes, 1u);  // reported once, not again on the next pass
  size_t loud = 0;
  for (const std::string& report : reports) loud += report.find("AUDIT EVENTS LOST") != std::string::npos;
  EXPECT_EQ(loud, 1u);
}

// Audit events are records that must have no holes: neither the live level
// (here `off`, as `ringtail level PID off` sets it), nor sampling rules that
// keep nothing, nor shutdown() filter them; ordinary events around them are.
TEST(Audit, NeverFilteredByLevelSamplingOrShutdown) {
  Options options = small_ring(60s);
  options.ring_bytes = 64 << 10;
  options.sample = "info=0,warn=0";
  ProducerChild child = ProducerChild::start(options, [](ProducerChild::Link&) {
    ringtail::set_min_level(Level::kOff);
    int committed = 0;
    for (int i = 0; i < 5; ++i) {
      committed += RINGTAIL_AUDIT(Level::kWarn, "audit.decision", kv("i", i));
      committed += RINGTAIL_INFO("ordinary", kv("i", i));  // filtered
    }
    ringtail::set_min_level(Level::kTrace);
    for (int i = 5; i < 10; ++i) {
      committed += RINGTAIL_AUDIT(Level::kInfo, "audit.decision", kv("i", i));
      committed += RINGTAIL_INFO("ordinary", kv("i", i));  // sampled out
    }
    ringtail::shutdown();
    committed += RINGTAIL_AUDIT(Level::kWarn, "audit.decision", kv("i", 10));
    committed += RINGTAIL_INFO("ordinary", kv("i", 10));  // filtered after shutdown
    return committed == 11 ? 0 : 3;
  });
  ASSERT_TRUE(child.ok()) << child.error();
  ASSERT_EQ(child.join(), 0) << "not every audit event was committed";
  MemorySink sink;
  DrainEngine engine(drain_options(child.pid()), sink, nullptr);
  ASSERT_TRUE(engine.drain_once().ok());
  std::vector<int64_t> decisions;
  size_t ordinary = 0;
  for (const Line& line : parse_lines(sink.text)) {
    if (line.message == "audit.decision") decisions.push_back(line.get("i"));
    ordinary += line.message == "ordinary";
  }
  EXPECT_EQ(decisions, (std::vector<int64_t>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10}));
  EXPECT_EQ(ordinary, 0u);
  EXPECT_EQ(engine.stats().audit_lost, 0u);
}

// Every audit event that is not committed is counted as audit lost, for any
// cause, and the drain says so: too big for the ring, a thread with no ring,
// a call site the full table cannot describe.
TEST(Audit, EveryCauseOfLossIsCountedAsAuditAndReported) {
  Options options = small_ring(20ms);
  options.max_threads = 1;     // the main thread's ring is the only one
  options.max_callsites = 16;  // the smallest table
  ProducerChild child = ProducerChild::start(options, [](ProducerChild::Link& link) {
    int lost = 0;
    // Too big: a 4 KiB ring takes records of at most 2 KiB.
    lost += !RINGTAIL_AUDIT(Level::kWarn, "audit.decision", kv("blob", std::string(3000, 'x')));
    // No ring: the only slot is the main thread's.
    std::thread([&lost] {
      for (int i = 0; i < 2; ++i) lost += !RINGTAIL_AUDIT(Level::kWarn, "audit.decision", kv("i", i));
    }).join();
    // A full table: 15 more sites fill it, then an audit site cannot be described.
    RINGTAIL_INFO("site 2");
    RINGTAIL_INFO("site 3");
    RINGTAIL_INFO("site 4");
    RINGTAIL_INFO("site 5");
    RINGTAIL_INFO("site 6");
    RINGTAIL_INFO("site 7");
    RINGTAIL_INFO("site 8");
    RINGTAIL_INFO("site 9");
    RINGTAIL_INFO("site 10");
    RINGTAIL_INFO("site 11");
    RINGTAIL_INFO("site 12");
    RINGTAIL_INFO("site 13");
    RINGTAIL_INFO("site 14");
    RINGTAIL_INFO("site 15");
    RINGTAIL_INFO("site 16");
    lost += !RINGTAIL_AUDIT(Level::kWarn, "audit.unregistered");
    const LossCounters counters = ringtail::loss_counters();
    link.signal();
    link.wait();
    return lost == 4 && counters.audit == 4 ? 0 : 3;
  });
  ASSERT_TRUE(child.ok()) << child.error();
  ASSERT_TRUE(child.wait_signal());
  MemorySink sink;
  std::vector<std::string> reports;
  DrainEngine engine(drain_options(child.pid()), sink, [&](std::string_view line) { reports.emplace_back(line); });
  ASSERT_TRUE(engine.drain_once().ok());
  ASSERT_TRUE(child.resume());
  ASSERT_EQ(child.join(), 0) << "the producer did not count four audit losses";
  ASSERT_TRUE(engine.drain_once().ok());
  EXPECT_EQ(engine.stats().audit_lost, 4u);
  int64_t in_rings = 0, outside = 0;
  for (const Line& line : parse_lines(sink.text)) {
    if (line.message != "ringtail.audit_lost") continue;
    EXPECT_EQ(line.level, "ERROR");
    (line.raw.find("\"cause\":") != std::string::npos ? outside : in_rings) += line.get("audit_lost");
  }
  EXPECT_EQ(in_rings, 1) << "the one too big for the ring";
  EXPECT_EQ(outside, 3) << "two without a ring, one without a call site";
  size_t loud = 0;
  for (const std::string& report : reports) loud += report.find("AUDIT EVENTS LOST") != std::string::npos;
  EXPECT_EQ(loud, 2u);
}

}  // namespace
}  // namespace ringtail::reader
