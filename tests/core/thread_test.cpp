// Thread rings: claimed on a thread's first event (and prefaulted), retired
// at its exit and reused by later threads, with a ThreadStartRecord naming
// each new owner; and what a thread gets when every slot is taken.
#include <dirent.h>
#include <gtest/gtest.h>
#include <pthread.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <latch>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "fork_child.hpp"
#include "producer_options.hpp"
#include "ringtail/ringtail.hpp"
#include "segment_view.hpp"

// In ringtail::test: the core tests use its fork harness (ForkedChild,
// ChildChannel, ChildOutcome), SegmentView and small_options() as they are.
namespace ringtail::test {
namespace {

int open_fd_count() {
  int count = 0;
  if (DIR* dir = ::opendir("/proc/self/fd")) {
    while (::readdir(dir) != nullptr) ++count;
    ::closedir(dir);
  }
  return count;
}

long thread_minor_faults() {
  rusage usage{};
  ::getrusage(RUSAGE_THREAD, &usage);
  return usage.ru_minflt;
}

bool log_worker(uint32_t tid, int index, int k) {
  return RINGTAIL_INFO("worker", ringtail::kv("tid", tid), ringtail::kv("i", index), ringtail::kv("k", k));
}

TEST(ThreadTest, ThousandShortLivedThreadsReuseEightSlots) {
  constexpr int kThreads = 1000;
  constexpr int kWave = 7;  // with the main thread's ring, 8 rings in use at once
  constexpr int kEventsPerThread = 3;
  ForkedChild child = ForkedChild::start([](ChildChannel& ch) {
    Options options = small_options();
    options.max_threads = 8;
    // A thread may take the ring its wave's sibling just retired, so one ring
    // can see every thread: 1000 x (48-byte start record + 3 x 48-byte events).
    options.ring_bytes = 256 << 10;
    CHILD_EXPECT(ch, init(options).ok());
    ch.value("main_tid", gettid_now());
    CHILD_EXPECT(ch, log_worker(gettid_now(), -1, 0));  // the main thread holds a ring throughout
    const int fds_before = open_fd_count();
    const size_t segments_before = segments_of(::getpid()).size();

    std::atomic<int> failed{0};
    for (int first = 0; first < kThreads; first += kWave) {
      std::vector<std::thread> wave;
      for (int i = first; i < first + kWave && i < kThreads; ++i) {
        wave.emplace_back([i, &failed] {
          const std::string name = "w" + std::to_string(i);
          ::pthread_setname_np(::pthread_self(), name.c_str());
          const uint32_t tid = gettid_now();
          for (int k = 0; k < kEventsPerThread; ++k) {
            if (!log_worker(tid, i, k)) ++failed;
          }
        });
      }
      for (std::thread& t : wave) t.join();
    }
    CHILD_EXPECT_EQ(ch, failed.load(), 0);
    const LossCounters lost = loss_counters();
    CHILD_EXPECT_EQ(ch, lost.no_ring, 0U);
    CHILD_EXPECT_EQ(ch, open_fd_count(), fds_before);
    CHILD_EXPECT_EQ(ch, segments_of(::getpid()).size(), segments_before);
    CHILD_EXPECT_EQ(ch, segments_before, 1U);
    return 0;
  });
  const ChildOutcome out = child.finish();
  EXPECT_CHILD_OK(out);
  const uint32_t main_tid = static_cast<uint32_t>(std::stoul(out.value_or("main_tid", "0")));
  EXPECT_EQ(segments_of(child.pid()), std::vector<std::string>{child.expected_segment()});
  std::optional<SegmentView> seg = SegmentView::open(child.expected_segment());
  ASSERT_TRUE(seg);
  const shm::SegmentHeader& h = seg->header();
  EXPECT_EQ(h.threads_started.load(), uint64_t{kThreads} + 1);
  EXPECT_EQ(h.lost_no_ring.load(), 0U);

  uint64_t generations = 0, committed = 0, dropped = 0;
  int used_slots = 0;
  for (uint32_t i = 0; i < seg->slot_count(); ++i) {
    const shm::RingSlot& s = seg->slot(i);
    if (s.state.load() != static_cast<uint32_t>(shm::SlotState::kFree)) ++used_slots;
    generations += s.generation.load();
    committed += s.committed.load();
    dropped += s.dropped_full.load() + s.dropped_too_big.load();
  }
  EXPECT_LE(used_slots, 8);
  EXPECT_EQ(generations, uint64_t{kThreads} + 1) << "one claim per thread";
  EXPECT_EQ(committed, uint64_t{kThreads} * kEventsPerThread + 1);
  EXPECT_EQ(dropped, 0U);

  // Walk every ring: each start record names the owner of the events after
  // it, a ring's owners come in wave order, and every thread shows up once
  // with all of its events.
  std::set<uint32_t> owners;
  std::map<int, int> events_by_index;
  int start_records = 0;
  for (uint32_t slot = 0; slot < seg->slot_count(); ++slot) {
    uint32_t owner = 0;
    int owner_index = -1;
    int previous_wave = -1;
    uint64_t next_seq = 0;
    for (const Record& r : seg->records(slot)) {
      if (r.is_thread_start()) {
        ++start_records;
        EXPECT_TRUE(owners.insert(r.os_tid).second) << "tid " << r.os_tid << " started twice";
        EXPECT_EQ(r.seq, next_seq) << "a start record carries the seq of its owner's first event";
        owner = r.os_tid;
        owner_index = -1;
        if (r.os_tid == main_tid) {
          EXPECT_EQ(r.thread_name, "ringtail_core_t");  // the process's name, cut to 15
        } else {
          ASSERT_EQ(r.thread_name.rfind('w', 0), 0U) << r.thread_name;
          owner_index = std::stoi(r.thread_name.substr(1));
          // Waves run one after the other, so a ring's owners come in wave order.
          EXPECT_GE(owner_index / kWave, previous_wave) << "ring " << slot << " owners out of order";
          previous_wave = owner_index / kWave;
        }
        continue;
      }
      ASSERT_TRUE(r.is_event());
      ASSERT_NE(owner, 0U) << "ring " << slot << " has an event before any start record";
      EXPECT_EQ(r.seq, next_seq++);
      const std::vector<FieldValue> v = seg->fields(r);
      ASSERT_EQ(v.size(), 3U);
      EXPECT_EQ(v[0].word, owner) << "event attributed to the wrong thread";
      const int index = static_cast<int>(v[1].as_i64());
      EXPECT_EQ(index, owner_index) << "thread name and events disagree";
      ++events_by_index[index];
    }
  }
  EXPECT_EQ(start_records, kThreads + 1);
  EXPECT_EQ(owners.size(), size_t{kThreads} + 1);
  EXPECT_TRUE(owners.count(main_tid));
  ASSERT_EQ(events_by_index.size(), size_t{kThreads} + 1);
  EXPECT_EQ(events_by_index[-1], 1);
  for (int i = 0; i < kThreads; ++i) EXPECT_EQ(events_by_index[i], kEventsPerThread) << "thread " << i;
}

TEST(ThreadTest, RetiredRingsAreReusedBeforeFreeOnes) {
  constexpr int kWaves = 20;
  constexpr int kWave = 7;
  ForkedChild child = ForkedChild::start([](ChildChannel& ch) {
    Options options = small_options();
    options.max_threads = 16;  // room to spare: reuse is a choice here, not a necessity
    CHILD_EXPECT(ch, init(options).ok());
    CHILD_EXPECT(ch, log_worker(gettid_now(), -1, 0));
    std::atomic<int> failed{0};
    for (int w = 0; w < kWaves; ++w) {
      std::vector<std::thread> wave;
      for (int i = 0; i < kWave; ++i) {
        wave.emplace_back([&failed, index = w * kWave + i] {
          if (!log_worker(gettid_now(), index, 0)) ++failed;
        });
      }
      for (std::thread& t : wave) t.join();
    }
    CHILD_EXPECT_EQ(ch, failed.load(), 0);
    return 0;
  });
  std::optional<SegmentView> seg = SegmentView::open_after_exit(child);
  ASSERT_TRUE(seg);
  EXPECT_EQ(seg->header().threads_started.load(), uint64_t{kWaves} * kWave + 1);
  int used_slots = 0;
  for (uint32_t i = 0; i < seg->slot_count(); ++i) {
    if (seg->slot(i).state.load() != static_cast<uint32_t>(shm::SlotState::kFree)) ++used_slots;
  }
  // Never more rings than threads alive at once: 7 workers and the main thread.
  EXPECT_LE(used_slots, kWave + 1);
  EXPECT_GE(used_slots, 2);
}

// The ring is prefaulted when the thread claims it: filling it afterwards
// takes no page fault, where a ring left to fault on first touch takes one per
// page (256 for 1 MiB), each a stall of microseconds in the middle of an event.
TEST(ThreadTest, AClaimedRingIsPrefaultedSoFillingItTakesNoPageFault) {
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  GTEST_SKIP() << "a sanitizer's shadow memory takes first-touch faults of its own";
#endif
  static constexpr uint64_t kRingBytes = 1 << 20;
  static constexpr uint64_t kRecordBytes = 48;  // log_worker(): 24-byte header, three 8-byte fields
  static constexpr uint64_t kEvents = (kRingBytes - 1024) / kRecordBytes;
  ForkedChild child = ForkedChild::start([](ChildChannel& ch) {
    Options options = small_options();
    options.ring_bytes = kRingBytes;
    CHILD_EXPECT(ch, init(options).ok());
    CHILD_EXPECT(ch, log_worker(gettid_now(), -1, 0));  // claims the ring and describes the site
    const uint32_t tid = gettid_now();
    const long before = thread_minor_faults();
    uint64_t committed = 0;
    for (uint64_t i = 0; i < kEvents; ++i) committed += log_worker(tid, static_cast<int>(i), 1) ? 1 : 0;
    const long faults = thread_minor_faults() - before;
    CHILD_EXPECT_EQ(ch, committed, kEvents);  // no reader: the ring holds them all
    ch.value("faults", faults);
    return 0;
  });
  const ChildOutcome out = child.finish();
  EXPECT_CHILD_OK(out);
  ASSERT_TRUE(out.value("faults"));
  EXPECT_LE(std::stol(*out.value("faults")), 4) << "writing " << kEvents << " events into a fresh 1 MiB ring";
}

// A thread that dropped an event while a context was bound exits owing a
// re-send of its frames; its ring must still go back to the directory.
TEST(ThreadTest, ThreadsThatExitAfterADropWithAContextBoundReturnTheirRings) {
  constexpr int kThreads = 40;
  constexpr int kEventsPerThread = 2000;  // far more than a 4 KiB ring holds with no reader
  ForkedChild child = ForkedChild::start([](ChildChannel& ch) {
    Options options = small_options();
    options.max_threads = 8;
    options.ring_bytes = 4 << 10;
    CHILD_EXPECT(ch, init(options).ok());
    // Plays a reader that keeps up between threads: once a thread is gone,
    // everything written so far counts as read, so its ring could be reused.
    std::optional<SegmentView> self = SegmentView::open(segment_name());
    if (!CHILD_EXPECT(ch, self.has_value())) return 1;
    uint64_t committed = 0;
    for (int i = 0; i < kThreads; ++i) {
      std::thread worker([i, &committed] {
        ScopedContext context{kv("worker", i)};
        for (int k = 0; k < kEventsPerThread; ++k) {
          if (log_worker(gettid_now(), i, k)) ++committed;
        }
      });
      worker.join();
      for (uint32_t slot = 0; slot < self->slot_count(); ++slot) {
        shm::RingSlot& s = self->slot(slot);
        s.read_pos.store(s.write_pos.load(std::memory_order_acquire), std::memory_order_release);
      }
    }
    const LossCounters lost = loss_counters();
    ch.value("no_ring", lost.no_ring);
    ch.value("committed", committed);
    return 0;
  });
  const ChildOutcome out = child.finish();
  EXPECT_CHILD_OK(out);
  EXPECT_EQ(out.value_or("no_ring", "?"), "0") << "a thread found no ring: an earlier one kept its slot";
  std::optional<SegmentView> seg = SegmentView::open(child.expected_segment());
  ASSERT_TRUE(seg);
  EXPECT_EQ(seg->header().threads_started.load(), uint64_t{kThreads});
  EXPECT_EQ(seg->header().lost_no_ring.load(), 0U);
  uint64_t committed = 0, dropped = 0;
  for (uint32_t i = 0; i < seg->slot_count(); ++i) {
    const shm::RingSlot& s = seg->slot(i);
    EXPECT_NE(s.state.load(), static_cast<uint32_t>(shm::SlotState::kActive)) << "slot " << i << " never retired";
    committed += s.committed.load();
    dropped += s.dropped_full.load() + s.dropped_too_big.load();
  }
  EXPECT_EQ(committed, std::stoull(out.value_or("committed", "0")));
  EXPECT_GT(dropped, 0U) << "the rings never filled: the test did not exercise a drop with a context bound";
  // Every event of every thread is committed or dropped in a ring, none lost
  // for want of one; each thread's context pop found its ring full too.
  EXPECT_EQ(committed + dropped, uint64_t{kThreads} * (kEventsPerThread + 1));
}

TEST(ThreadTest, WithoutAFreeSlotAThreadsEventsAreLostAndCounted) {
  ForkedChild child = ForkedChild::start([](ChildChannel& ch) {
    Options options = small_options();
    options.max_threads = 2;
    CHILD_EXPECT(ch, init(options).ok());
    std::latch ab_ready(2), c_refused(1), a_may_exit(1), c_may_retry(1), b_may_exit(1);
    std::thread a([&] {
      CHILD_EXPECT(ch, log_worker(gettid_now(), 1, 0));
      ab_ready.count_down();
      a_may_exit.wait();
    });
    std::thread b([&] {
      CHILD_EXPECT(ch, log_worker(gettid_now(), 2, 0));
      ab_ready.count_down();
      b_may_exit.wait();
      CHILD_EXPECT(ch, log_worker(gettid_now(), 2, 1));
    });
    uint64_t c_lost = 0;
    int attempts_after_free = 0;
    std::thread c([&] {
      ab_ready.wait();
      for (int k = 0; k < 5; ++k) {
        if (!CHILD_EXPECT(ch, !log_worker(gettid_now(), 3, k))) return;
        ++c_lost;
      }
      CHILD_EXPECT_EQ(ch, loss_counters().no_ring, 5U);
      c_refused.count_down();
      c_may_retry.wait();
      // A slot is free again; the thread gets it on a later retry.
      while (attempts_after_free < 10000 && !log_worker(gettid_now(), 3, 100)) {
        ++attempts_after_free;
        ++c_lost;
      }
      CHILD_EXPECT(ch, log_worker(gettid_now(), 3, 101));
    });
    c_refused.wait();
    a_may_exit.count_down();
    a.join();
    c_may_retry.count_down();
    c.join();
    b_may_exit.count_down();
    b.join();
    ch.value("c_lost", c_lost);
    ch.value("attempts_after_free", attempts_after_free);
    CHILD_EXPECT_EQ(ch, loss_counters().no_ring, c_lost);
    return 0;
  });
  const ChildOutcome out = child.finish();
  EXPECT_CHILD_OK(out);
  const uint64_t c_lost = std::stoull(out.value_or("c_lost", "0"));
  EXPECT_LT(std::stoi(out.value_or("attempts_after_free", "0")), 10000) << "the thread never got the freed ring";
  std::optional<SegmentView> seg = SegmentView::open(child.expected_segment());
  ASSERT_TRUE(seg);
  EXPECT_EQ(seg->header().lost_no_ring.load(), c_lost);
  EXPECT_EQ(seg->header().threads_started.load(), 3U);
  // Committed: A's one, B's two, C's two after it got A's ring.
  std::map<int64_t, int> by_thread;
  for (const Record& r : seg->all_records()) {
    if (r.is_event()) ++by_thread[seg->fields(r).at(1).as_i64()];
  }
  EXPECT_EQ(by_thread, (std::map<int64_t, int>{{1, 1}, {2, 2}, {3, 2}}));
}

}  // namespace
}  // namespace ringtail::test
