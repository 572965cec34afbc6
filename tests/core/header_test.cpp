// The segment header a producer writes: identity, geometry, names, and its
// state through shutdown, a normal exit and a crash.
#include <gtest/gtest.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include <cstdlib>
#include <string>
#include <thread>

#include "fork_child.hpp"
#include "producer_options.hpp"
#include "ringtail/ringtail.hpp"
#include "ringtail/shm/geometry.hpp"
#include "segment_view.hpp"

// In ringtail::test: the core tests use its fork harness (ForkedChild,
// ChildChannel, ChildOutcome), SegmentView and small_options() as they are.
namespace ringtail::test {
namespace {

constexpr const char* kProgram = "ringtail_core_test";

uint64_t realtime_now_ns() {
  timespec ts{};
  ::clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000ULL + static_cast<uint64_t>(ts.tv_nsec);
}

std::string host_name() {
  char buffer[256] = {};
  ::gethostname(buffer, sizeof(buffer) - 1);
  return std::string(buffer).substr(0, shm::kNameBytes);
}

bool log_n(uint64_t n) { return RINGTAIL_INFO("counted", ringtail::kv("n", n)); }

TEST(HeaderTest, IdentityGeometryAndNames) {
  Options options = small_options();
  options.service = "svc-identity";
  options.max_callsites = 64;
  options.max_string_bytes = 300;
  const uint64_t before = realtime_now_ns();
  ForkedChild child = ForkedChild::start([&](ChildChannel& ch) {
    CHILD_EXPECT(ch, init(options).ok());
    ch.value("segment", segment_name());
    return 0;
  });
  const ChildOutcome out = child.finish();
  const uint64_t after = realtime_now_ns();
  EXPECT_CHILD_OK(out);
  ASSERT_NE(child.start_ticks(), 0U);
  EXPECT_EQ(out.value_or("segment"), child.expected_segment());
  ASSERT_EQ(segments_of(child.pid()), std::vector<std::string>{child.expected_segment()});
  std::optional<SegmentView> seg = SegmentView::open(child.expected_segment());
  ASSERT_TRUE(seg);
  const shm::SegmentHeader& h = seg->header();

  EXPECT_EQ(h.magic, shm::kMagic);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(&h.magic), 8), "RINGTAIL");
  EXPECT_EQ(h.abi_version, shm::kNormalAbiVersion);  // version 3 is for flight-mode segments only
  EXPECT_EQ(h.endian_tag, shm::kEndianTag);
  EXPECT_EQ(h.header_bytes, shm::kHeaderBytes);
  EXPECT_EQ(h.pid, static_cast<uint32_t>(child.pid()));
  EXPECT_EQ(h.uid, ::getuid());
  EXPECT_EQ(h.process_start_ticks, child.start_ticks());
  EXPECT_GE(h.created_realtime_ns, before);
  EXPECT_LE(h.created_realtime_ns, after);
  if ((h.flags & shm::kFlagRealtimeTimestamps) != 0) {
    EXPECT_EQ(h.tsc_hz, 0U);
  } else {
    EXPECT_GT(h.tsc_hz, 100'000'000U) << "an implausible TSC frequency";
    EXPECT_GE(h.anchor_realtime_ns, before);
    EXPECT_LE(h.anchor_realtime_ns, after);
  }
  EXPECT_EQ(h.flags & ~shm::kFlagRealtimeTimestamps, 0U) << "unknown flags";

  absl::StatusOr<shm::SegmentGeometry> g = shm::make_geometry(64 << 10, 8, 64);
  ASSERT_TRUE(g.ok());
  EXPECT_EQ(h.segment_bytes, g->segment_bytes);
  EXPECT_EQ(seg->size(), g->segment_bytes);
  EXPECT_EQ(h.callsite_table_offset, g->callsite_table_offset);
  EXPECT_EQ(h.callsite_capacity, 64U);
  EXPECT_EQ(h.callsite_entry_bytes, shm::kCallSiteEntryBytes);
  EXPECT_EQ(h.directory_offset, g->directory_offset);
  EXPECT_EQ(h.ring_slot_count, 8U);
  EXPECT_EQ(h.ring_slot_bytes, shm::kRingSlotBytes);
  EXPECT_EQ(h.rings_offset, g->rings_offset);
  EXPECT_EQ(h.ring_capacity, 65536U);
  EXPECT_EQ(h.max_string_bytes, 300U);
  EXPECT_EQ(h.max_record_bytes, 32768U);

  EXPECT_EQ(seg->header_text(h.service), "svc-identity");
  EXPECT_EQ(seg->header_text(h.program), kProgram);
  EXPECT_EQ(seg->header_text(h.hostname), host_name());

  EXPECT_EQ(seg->state(), shm::SegmentState::kRunning) << "_exit() runs no atexit handler: still running";
  EXPECT_EQ(h.control_min_level.load(), static_cast<uint32_t>(Level::kInfo));
  EXPECT_EQ(h.callsite_count.load(), 0U);
  EXPECT_EQ(h.threads_started.load(), 0U);
  EXPECT_EQ(h.lost_no_ring.load(), 0U);
  EXPECT_EQ(h.lost_callsite_table_full.load(), 0U);
  EXPECT_EQ(h.reader_lease.load(), 0U);
  for (uint32_t i = 0; i < h.ring_slot_count; ++i) {
    const shm::RingSlot& s = seg->slot(i);
    EXPECT_EQ(s.state.load(), static_cast<uint32_t>(shm::SlotState::kFree)) << i;
    EXPECT_EQ(s.data_offset, g->ring_data_offset(i)) << i;
    EXPECT_EQ(s.capacity, 65536U) << i;
    EXPECT_EQ(s.write_pos.load(), 0U) << i;
  }
}

TEST(HeaderTest, DefaultServiceIsTheProgramName) {
  Options options = small_options();
  options.service.clear();
  ForkedChild child = ForkedChild::start([&](ChildChannel& ch) {
    CHILD_EXPECT(ch, init(options).ok());
    return 0;
  });
  std::optional<SegmentView> seg = SegmentView::open_after_exit(child);
  ASSERT_TRUE(seg);
  EXPECT_EQ(seg->header_text(seg->header().service), kProgram);
  EXPECT_EQ(seg->header_text(seg->header().program), kProgram);
}

TEST(HeaderTest, LongServiceNameIsCutToTheField) {
  Options options = small_options();
  options.service = std::string(100, 's');
  ForkedChild child = ForkedChild::start([&](ChildChannel& ch) {
    CHILD_EXPECT(ch, init(options).ok());
    return 0;
  });
  std::optional<SegmentView> seg = SegmentView::open_after_exit(child);
  ASSERT_TRUE(seg);
  EXPECT_EQ(seg->header_text(seg->header().service), std::string(shm::kNameBytes, 's'));
  EXPECT_EQ(seg->header_text(seg->header().program), kProgram) << "the service overflowed into the program name";
}

TEST(HeaderTest, FinishedAfterShutdown) {
  ForkedChild child = ForkedChild::start([](ChildChannel& ch) {
    CHILD_EXPECT(ch, init(small_options()).ok());
    CHILD_EXPECT(ch, log_n(1));
    ch.value("segment", segment_name());
    ch.receive();
    shutdown();
    CHILD_EXPECT(ch, !log_n(2));
    ch.value("shut", 1);
    ch.receive();
    return 0;
  });
  ASSERT_EQ(child.await("segment"), child.expected_segment());
  std::optional<SegmentView> seg = SegmentView::open(child.expected_segment());
  ASSERT_TRUE(seg);
  EXPECT_EQ(seg->state(), shm::SegmentState::kRunning);
  child.send("shut down");
  ASSERT_TRUE(child.await("shut"));
  // Finished while the process still runs.
  EXPECT_EQ(seg->state(), shm::SegmentState::kFinished);
  child.send("exit");
  EXPECT_CHILD_OK(child.finish());
  EXPECT_EQ(seg->slot(0).committed.load(), 1U);
}

TEST(HeaderTest, FinishedAfterExitWithoutShutdown) {
  ForkedChild child = ForkedChild::start([](ChildChannel& ch) -> int {
    CHILD_EXPECT(ch, init(small_options()).ok());
    CHILD_EXPECT(ch, log_n(1));
    std::exit(ch.failures());  // atexit handlers run
  });
  std::optional<SegmentView> seg = SegmentView::open_after_exit(child);
  ASSERT_TRUE(seg);
  EXPECT_EQ(seg->state(), shm::SegmentState::kFinished);
  EXPECT_EQ(seg->slot(0).committed.load(), 1U);
  // exit() runs the main thread's thread_local destructors: its ring is retired.
  EXPECT_EQ(seg->slot(0).state.load(), static_cast<uint32_t>(shm::SlotState::kRetired));
}

TEST(HeaderTest, KilledProducerStaysRunningAndKeepsItsCommittedEvents) {
  constexpr uint64_t kMainEvents = 100;
  constexpr uint64_t kThreadEvents = 50;
  ForkedChild child = ForkedChild::start([&](ChildChannel& ch) {
    CHILD_EXPECT(ch, init(small_options()).ok());
    for (uint64_t n = 0; n < kMainEvents; ++n) CHILD_EXPECT(ch, log_n(n));
    std::thread worker([&] {
      for (uint64_t n = 0; n < kThreadEvents; ++n) CHILD_EXPECT(ch, log_n(1000 + n));
    });
    worker.join();
    ch.value("logged", 1);
    ::kill(::getpid(), SIGKILL);
    return 0;
  });
  const ChildOutcome out = child.finish();
  EXPECT_TRUE(out.failures.empty()) << out.describe();
  EXPECT_EQ(out.value("logged"), "1");
  ASSERT_TRUE(out.signaled()) << out.describe();
  EXPECT_EQ(out.signal(), SIGKILL);

  std::optional<SegmentView> seg = SegmentView::open(child.expected_segment());
  ASSERT_TRUE(seg);
  EXPECT_EQ(seg->state(), shm::SegmentState::kRunning) << "a crashed producer cannot mark its segment finished";
  EXPECT_EQ(seg->header().threads_started.load(), 2U);
  uint64_t events = 0;
  uint64_t committed = 0;
  for (uint32_t i = 0; i < seg->slot_count(); ++i) {
    committed += seg->slot(i).committed.load();
    uint64_t expected_seq = 0;
    for (const Record& r : seg->records(i)) {
      if (!r.is_event()) continue;
      EXPECT_EQ(r.seq, expected_seq++);
      const uint64_t n = static_cast<uint64_t>(seg->fields(r).at(0).as_i64());
      EXPECT_TRUE(n < kMainEvents || (n >= 1000 && n < 1000 + kThreadEvents)) << n;
      ++events;
    }
  }
  EXPECT_EQ(events, kMainEvents + kThreadEvents);
  EXPECT_EQ(committed, kMainEvents + kThreadEvents);
}

}  // namespace
}  // namespace ringtail::test
