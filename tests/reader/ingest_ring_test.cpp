// Ring mechanics against a real producer: wrap-around with padding, draining
// while the producer writes, and drops (full ring, record too big) reported
// as exact DropGaps.
#include <fcntl.h>
#include <sched.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "ingest_test_support.hpp"
#include "producer_child.hpp"
#include "ringtail/ringtail.hpp"

namespace ringtail::reader {
namespace {

using ringtail::kv;
using ringtail::test::ProducerChild;
using testing::CollectingSink;

Options tiny_ring_options(uint32_t max_string_bytes = 512) {
  Options options = ringtail::test::small_producer_options("rt-ring");
  options.max_string_bytes = max_string_bytes;
  return options;
}

uint32_t record_bytes(uint64_t i) {
  return 24 + 8 + 8 + ((static_cast<uint32_t>(testing::varied_payload(i).size()) + 7) & ~7U);
}

void expect_payload_event(const DecodedEvent& e, uint64_t i) {
  ASSERT_EQ(e.fields.size(), 2u);
  EXPECT_EQ(std::get<uint64_t>(e.fields[0].value), i);
  EXPECT_EQ(std::get<StringValue>(e.fields[1].value).bytes, testing::varied_payload(i)) << "event " << i;
}

struct Reader {
  explicit Reader(const std::string& name) : view(SegmentView::open(name, SegmentView::Access::kReadWrite)) {}
  absl::StatusOr<SegmentView> view;
};

// The child writes in rounds that fit the ring; the parent drains between
// rounds. Positions run many times around the 4 KiB ring.
TEST(IngestRing, WrapAroundInRoundsWithPadding) {
  constexpr int kRounds = 60;
  ProducerChild child = ProducerChild::start(tiny_ring_options(), [](ProducerChild::Link& link) {
    uint64_t i = 0;
    for (int round = 0; round < kRounds; ++round) {
      uint32_t bytes = 0;
      while (bytes + record_bytes(i) <= 1800) {
        bytes += record_bytes(i);
        if (!RINGTAIL_INFO("wrap", kv("i", i), kv("payload", testing::varied_payload(i)))) return 3;
        ++i;
      }
      if (!link.signal() || !link.wait()) return 4;
    }
    return 0;
  });
  ASSERT_TRUE(child.ok()) << child.error();
  Reader reader(child.segment_name());
  ASSERT_TRUE(reader.view.ok()) << reader.view.status();
  CallSiteTable table(*reader.view);
  absl::StatusOr<RingCursor> cursor = RingCursor::create(*reader.view, 0);
  ASSERT_TRUE(cursor.ok());

  uint64_t next_i = 0;
  uint64_t padding = 0;
  for (int round = 0; round < kRounds; ++round) {
    ASSERT_TRUE(child.wait_signal()) << "round " << round;
    CollectingSink sink;
    BatchStats stats;
    ASSERT_TRUE(cursor->read_batch(table, sink, &stats).ok()) << cursor->poison_status();
    EXPECT_TRUE(stats.caught_up);
    padding += stats.padding;
    cursor->commit();
    EXPECT_TRUE(testing::gaps_of(sink.items).empty());
    for (const DecodedEvent* e : testing::events_of(sink.items)) {
      EXPECT_EQ(e->seq, next_i);
      expect_payload_event(*e, next_i);
      ++next_i;
    }
    ASSERT_TRUE(child.resume());
  }
  ASSERT_EQ(child.join(), 0);
  EXPECT_GT(padding, 5u);
  EXPECT_GT(cursor->position(), 20u * 4096u);
  absl::StatusOr<RingSlotSnapshot> slot = reader.view->slot_snapshot(0);
  ASSERT_TRUE(slot.ok());
  EXPECT_EQ(slot->committed_untrusted, next_i);
  EXPECT_EQ(slot->dropped_full_untrusted, 0u);
  EXPECT_EQ(slot->read_pos_untrusted, slot->write_pos_untrusted);
}

// The parent drains while the child writes as fast as it can, retrying every
// event the full ring drops: every value arrives once and in order, and the
// gaps account exactly for the drops.
TEST(IngestRing, DrainWhileProducerWrites) {
  constexpr uint64_t kEvents = 20000;
  ProducerChild child = ProducerChild::start(tiny_ring_options(), [](ProducerChild::Link&) {
    for (uint64_t i = 0; i < kEvents; ++i) {
      while (!RINGTAIL_INFO("live", kv("i", i), kv("payload", testing::varied_payload(i)))) sched_yield();
    }
    return 0;
  });
  ASSERT_TRUE(child.ok()) << child.error();
  Reader reader(child.segment_name());
  ASSERT_TRUE(reader.view.ok()) << reader.view.status();
  CallSiteTable table(*reader.view);
  absl::StatusOr<RingCursor> cursor = RingCursor::create(*reader.view, 0);
  ASSERT_TRUE(cursor.ok());

  uint64_t next_i = 0;
  uint64_t next_seq = 0;
  uint64_t dropped = 0;
  bool exited = false;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
  for (;;) {
    // Exited before the last read: the last read saw everything.
    const bool final_pass = exited;
    CollectingSink sink;
    BatchStats stats;
    ASSERT_TRUE(cursor->read_batch(table, sink, &stats).ok()) << cursor->poison_status();
    cursor->commit();
    for (const auto& item : sink.items) {
      if (const auto* gap = std::get_if<DropGap>(&item)) {
        EXPECT_EQ(gap->first_seq, next_seq);
        EXPECT_EQ(gap->count, gap->last_seq - gap->first_seq + 1);
        dropped += gap->count;
        next_seq = gap->last_seq + 1;
      } else if (const auto* e = std::get_if<DecodedEvent>(&item)) {
        ASSERT_EQ(e->seq, next_seq);
        ++next_seq;
        expect_payload_event(*e, next_i);
        ++next_i;
      }
    }
    if (final_pass && stats.caught_up) break;
    if (!exited) exited = child.exited();
    if (stats.events == 0) std::this_thread::yield();
    ASSERT_LT(std::chrono::steady_clock::now(), deadline);
  }
  EXPECT_EQ(child.exit_code(), 0);
  EXPECT_EQ(next_i, kEvents);
  absl::StatusOr<RingSlotSnapshot> slot = reader.view->slot_snapshot(0);
  ASSERT_TRUE(slot.ok());
  EXPECT_EQ(slot->committed_untrusted, kEvents);
  // A retried event's final drops come before its commit, so no drop trails.
  EXPECT_EQ(slot->dropped_full_untrusted, dropped);
  EXPECT_EQ(next_seq, kEvents + dropped);
}

// A child that logs `count` events with `log(i)`, then signals and waits for
// the parent; and the parent's view, table and consuming cursor of its ring.
struct WaitingRing {
  template <class Log>
  WaitingRing(const Options& options, uint64_t count, Log log)
      : child(ProducerChild::start(options,
                                   [count, log](ProducerChild::Link& link) {
                                     for (uint64_t i = 0; i < count; ++i) {
                                       if (!log(i)) return 3;
                                     }
                                     return link.signal() && link.wait() ? 0 : 4;
                                   })),
        reader(child.ok() && child.wait_signal() ? child.segment_name() : std::string()) {
    if (reader.view.ok()) {
      table.emplace(*reader.view);
      cursor = RingCursor::create(*reader.view, 0);
    }
  }
  bool ok() const { return reader.view.ok() && cursor.ok(); }

  ProducerChild child;
  Reader reader;
  std::optional<CallSiteTable> table;
  absl::StatusOr<RingCursor> cursor = absl::UnknownError("no view");
};

// Pages of [begin, begin + bytes) that this process's page tables map now
// (/proc/self/pagemap bit 63, which needs no privilege), or -1 if unreadable.
int64_t present_pages(const std::byte* begin, uint64_t bytes) {
  const int fd = ::open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  const auto page = static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
  int64_t present = 0;
  for (uint64_t at = 0; at < bytes; at += page) {
    uint64_t entry = 0;
    const auto index = (reinterpret_cast<uintptr_t>(begin) + at) / page;
    if (::pread(fd, &entry, sizeof(entry), static_cast<off_t>(index * sizeof(entry))) != sizeof(entry)) {
      present = -1;
      break;
    }
    present += static_cast<int64_t>(entry >> 63);
  }
  ::close(fd);
  return present;
}

// The cursor copies ring bytes with pread(), never through the mapping: a
// drained ring leaves no page of its data in the reader's page tables, so
// the reader's resident memory does not grow with ring size or backlog.
TEST(IngestRing, ReadingLeavesRingPagesUnmapped) {
  constexpr uint64_t kEvents = 6000;  // ~190 KiB of records: dozens of pages
  Options options = ringtail::test::small_producer_options("rt-ring-pages");
  options.ring_bytes = uint64_t{1} << 20;
  WaitingRing ring(options, kEvents, [](uint64_t i) {
    return RINGTAIL_INFO("paged", kv("i", i), kv("payload", std::string_view("ring page")));
  });
  ASSERT_TRUE(ring.ok()) << ring.child.error() << ring.reader.view.status();
  RingCursor* cursor = &*ring.cursor;
  Reader& reader = ring.reader;
  ProducerChild& child = ring.child;
  uint64_t events = 0;
  for (int batch = 0; batch < 1000; ++batch) {
    CollectingSink sink;
    BatchStats stats;
    ASSERT_TRUE(cursor->read_batch(*ring.table, sink, &stats).ok()) << cursor->poison_status();
    cursor->commit();
    for (const DecodedEvent* e : testing::events_of(sink.items)) {
      EXPECT_EQ(std::get<uint64_t>(e->fields[0].value), events);
      ++events;
    }
    if (stats.caught_up) break;
  }
  ASSERT_EQ(events, kEvents);

  absl::StatusOr<const std::byte*> data = reader.view->ring_data(0);
  ASSERT_TRUE(data.ok());
  // The kernel's fault-around maps up to 64 KiB of cached pages around any
  // fault, so reading the ring directory just before the ring may map its
  // first pages: the check starts past them.
  constexpr uint64_t kPast = uint64_t{128} << 10;
  ASSERT_GT(cursor->position(), kPast + 32 * 4096);
  const std::byte* checked = *data + kPast;
  EXPECT_EQ(present_pages(checked, cursor->position() - kPast), 0) << "ring pages the reader mapped";
  // The check sees a page the reader does touch.
  const volatile std::byte* touched = checked + 8192;
  (void)*touched;
  EXPECT_GE(present_pages(checked, cursor->position() - kPast), 1);
  ASSERT_TRUE(child.resume());
  EXPECT_EQ(child.join(), 0);
}

// A file cut short inside the ring's data (its owner's ftruncate) is found
// by the copy: the view turns cut(), as a fault in the mapping makes it, and
// the ring stops with a DataLossError instead of decoding anything.
TEST(IngestRing, RingDataCutShortMarksTheViewCut) {
  Options options = ringtail::test::small_producer_options("rt-ring-cut");
  options.ring_bytes = uint64_t{64} << 10;
  WaitingRing ring(options, 1000, [](uint64_t i) { return RINGTAIL_INFO("cut", kv("i", i)); });
  ASSERT_TRUE(ring.ok()) << ring.child.error() << ring.reader.view.status();
  Reader& reader = ring.reader;
  ProducerChild& child = ring.child;
  const uint64_t keep = reader.view->geometry().ring_data_offset(0);  // the ring's data goes
  const int fd = ::open(("/dev/shm/" + child.segment_name()).c_str(), O_RDWR | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::ftruncate(fd, static_cast<off_t>(keep)), 0);
  ::close(fd);

  CollectingSink sink;
  const absl::Status status = ring.cursor->read_batch(*ring.table, sink, nullptr);
  EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss) << status;
  EXPECT_NE(status.message().find("cut short"), std::string_view::npos) << status;
  EXPECT_TRUE(testing::events_of(sink.items).empty());
  EXPECT_TRUE(reader.view->cut());
  ASSERT_TRUE(child.resume());
  EXPECT_EQ(child.join(), 0);
}

// A ring filled without a reader drops the rest; once drained, the next event
// comes after a DropGap of exactly the dropped events, matching the slot.
constexpr uint64_t kBurst = 200;

TEST(IngestRing, FullRingDropsAppearAsExactGap) {
  ProducerChild child = ProducerChild::start(tiny_ring_options(), [](ProducerChild::Link& link) {
    for (uint64_t i = 0; i < kBurst; ++i) RINGTAIL_INFO("burst", kv("i", i), kv("j", i * 2));  // 40-byte records
    if (!link.signal() || !link.wait()) return 4;
    return RINGTAIL_INFO("burst", kv("i", kBurst), kv("j", kBurst * 2)) ? 0 : 3;
  });
  ASSERT_TRUE(child.ok()) << child.error();
  ASSERT_TRUE(child.wait_signal());
  Reader reader(child.segment_name());
  ASSERT_TRUE(reader.view.ok()) << reader.view.status();
  CallSiteTable table(*reader.view);
  absl::StatusOr<RingCursor> cursor = RingCursor::create(*reader.view, 0);
  ASSERT_TRUE(cursor.ok());

  CollectingSink first;
  ASSERT_TRUE(cursor->read_batch(table, first).ok());
  cursor->commit();
  const uint64_t committed = testing::events_of(first.items).size();
  EXPECT_EQ(committed, (4096 - 48) / 40);
  EXPECT_TRUE(testing::gaps_of(first.items).empty());
  absl::StatusOr<RingSlotSnapshot> slot = reader.view->slot_snapshot(0);
  ASSERT_TRUE(slot.ok());
  EXPECT_EQ(slot->committed_untrusted, committed);
  EXPECT_EQ(slot->dropped_full_untrusted, kBurst - committed);

  ASSERT_TRUE(child.resume());
  ASSERT_EQ(child.join(), 0);
  CollectingSink second;
  ASSERT_TRUE(cursor->read_batch(table, second).ok());
  ASSERT_EQ(second.items.size(), 2u);
  const auto* gap = std::get_if<DropGap>(&second.items[0]);
  ASSERT_NE(gap, nullptr);
  EXPECT_EQ(gap->first_seq, committed);
  EXPECT_EQ(gap->last_seq, kBurst - 1);
  EXPECT_EQ(gap->count, kBurst - committed);
  EXPECT_EQ(gap->tid, std::get<DecodedEvent>(second.items[1]).tid);
  const auto* event = std::get_if<DecodedEvent>(&second.items[1]);
  ASSERT_NE(event, nullptr);
  EXPECT_EQ(event->seq, kBurst);
  EXPECT_EQ(std::get<uint64_t>(event->fields[0].value), kBurst);
}

// Drops after the last record (the producer finished with a full ring, or a
// record too big for any ring) show up through report_trailing_drops().
TEST(IngestRing, TrailingAndTooBigDrops) {
  ProducerChild child = ProducerChild::start(tiny_ring_options(/*max_string_bytes=*/4096), [](ProducerChild::Link&) {
    RINGTAIL_INFO("small", kv("i", 0));                                // seq 0
    RINGTAIL_INFO("big", kv("s", std::string(3000, 'b')));             // seq 1: too big for a 4 KiB ring, dropped
    RINGTAIL_INFO("small", kv("i", 2));                                // seq 2
    for (int i = 3; i < 200; ++i) RINGTAIL_INFO("small", kv("i", i));  // fills the ring, then drops
    return 0;
  });
  ASSERT_TRUE(child.ok()) << child.error();
  ASSERT_EQ(child.join(), 0);
  Reader reader(child.segment_name());
  ASSERT_TRUE(reader.view.ok()) << reader.view.status();
  ASSERT_EQ(*reader.view->state(), shm::SegmentState::kFinished);
  CallSiteTable table(*reader.view);
  absl::StatusOr<RingCursor> cursor = RingCursor::create(*reader.view, 0);
  ASSERT_TRUE(cursor.ok());
  CollectingSink sink;
  ASSERT_TRUE(cursor->read_batch(table, sink).ok());
  const std::vector<DropGap> gaps = testing::gaps_of(sink.items);
  ASSERT_EQ(gaps.size(), 1u);
  EXPECT_EQ(gaps[0].first_seq, 1u);
  EXPECT_EQ(gaps[0].count, 1u);
  const uint64_t events = testing::events_of(sink.items).size();
  absl::StatusOr<RingSlotSnapshot> slot = reader.view->slot_snapshot(0);
  ASSERT_TRUE(slot.ok());
  EXPECT_EQ(slot->dropped_too_big_untrusted, 1u);
  EXPECT_EQ(slot->committed_untrusted, events);
  ASSERT_GT(slot->dropped_full_untrusted, 0u);

  CollectingSink trailing;
  ASSERT_TRUE(cursor->report_trailing_drops(trailing).ok());
  const std::vector<DropGap> tail = testing::gaps_of(trailing.items);
  ASSERT_EQ(tail.size(), 1u);
  EXPECT_EQ(tail[0].first_seq, events + 1);
  EXPECT_EQ(tail[0].last_seq, 199u);
  EXPECT_EQ(tail[0].count, slot->dropped_full_untrusted);
  // Reported once.
  CollectingSink again;
  ASSERT_TRUE(cursor->report_trailing_drops(again).ok());
  EXPECT_TRUE(again.items.empty());
}

// A ring reused by a second thread: the new owner's ThreadStartRecord
// re-attributes what follows, and seqs continue across owners.
TEST(IngestRing, ReusedRingChangesOwner) {
  ProducerChild child = ProducerChild::start(tiny_ring_options(), [](ProducerChild::Link&) {
    for (int t = 0; t < 3; ++t) {
      std::thread([t] {
        const std::string name = "rt-owner" + std::to_string(t);
        pthread_setname_np(pthread_self(), name.c_str());
        for (int i = 0; i < 5; ++i) RINGTAIL_INFO("owned", kv("t", t), kv("i", i));
      }).join();
    }
    return 0;
  });
  ASSERT_TRUE(child.ok()) << child.error();
  ASSERT_EQ(child.join(), 0);
  Reader reader(child.segment_name());
  ASSERT_TRUE(reader.view.ok()) << reader.view.status();
  absl::StatusOr<testing::Drainer> drainer = testing::Drainer::create(*reader.view);
  ASSERT_TRUE(drainer.ok());
  ASSERT_TRUE(drainer->drain());
  const std::vector<testing::Item>& items = drainer->rings()[0].items;
  EXPECT_TRUE(drainer->rings()[1].items.empty());  // retired slots are reused first
  ASSERT_EQ(items.size(), 18u);
  uint64_t seq = 0;
  uint32_t last_tid = 0;
  for (int t = 0; t < 3; ++t) {
    const auto& start = std::get<ThreadStart>(items[t * 6]);
    EXPECT_EQ(start.thread_name, "rt-owner" + std::to_string(t));
    EXPECT_EQ(start.seq, seq);
    EXPECT_NE(start.tid, last_tid);
    last_tid = start.tid;
    for (int i = 0; i < 5; ++i) {
      const auto& e = std::get<DecodedEvent>(items[t * 6 + 1 + i]);
      EXPECT_EQ(e.tid, start.tid);
      EXPECT_EQ(e.thread_name, start.thread_name);
      EXPECT_EQ(e.seq, seq++);
      EXPECT_EQ(std::get<int64_t>(e.fields[0].value), t);
      EXPECT_EQ(std::get<int64_t>(e.fields[1].value), i);
    }
  }
}

// A peeking cursor that a consumer overtakes resynchronises at the
// consumer's read_pos instead of reading bytes the producer may reuse.
TEST(IngestRing, PeekResyncsWhenConsumerPasses) {
  ProducerChild child = ProducerChild::start(tiny_ring_options(), [](ProducerChild::Link&) {
    for (uint64_t i = 0; i < 40; ++i) RINGTAIL_INFO("peeked", kv("i", i));
    return 0;
  });
  ASSERT_TRUE(child.ok()) << child.error();
  ASSERT_EQ(child.join(), 0);
  Reader reader(child.segment_name());
  ASSERT_TRUE(reader.view.ok()) << reader.view.status();
  CallSiteTable table(*reader.view);
  RingCursorOptions peek;
  peek.mode = RingCursorOptions::Mode::kPeek;
  peek.max_batch_bytes = 256;
  absl::StatusOr<RingCursor> peeker = RingCursor::create(*reader.view, 0, peek);
  ASSERT_TRUE(peeker.ok());
  CollectingSink peeked;
  ASSERT_TRUE(peeker->read_batch(table, peeked).ok());
  const size_t first_batch = testing::events_of(peeked.items).size();
  ASSERT_GT(first_batch, 0u);
  ASSERT_LT(first_batch, 40u);

  absl::StatusOr<RingCursor> consumer = RingCursor::create(*reader.view, 0);
  ASSERT_TRUE(consumer.ok());
  CollectingSink consumed;
  ASSERT_TRUE(consumer->read_batch(table, consumed).ok());
  consumer->commit();
  EXPECT_EQ(testing::events_of(consumed.items).size(), 40u);

  CollectingSink rest;
  BatchStats stats;
  ASSERT_TRUE(peeker->read_batch(table, rest, &stats).ok()) << peeker->poison_status();
  EXPECT_EQ(stats.peek_resyncs, 1u);
  EXPECT_EQ(peeker->position(), consumer->position());
  ASSERT_TRUE(peeker->read_batch(table, rest, &stats).ok());
  EXPECT_TRUE(stats.caught_up);
  EXPECT_TRUE(rest.items.empty());
  peeker->commit();  // a no-op for a peeking cursor
  EXPECT_EQ(reader.view->slot_snapshot(0)->read_pos_untrusted, consumer->position());
}

// The table picks up call sites a live producer adds, reading only new
// entries; entries already handed out stay where they are.
TEST(IngestRing, CallSiteTableRefreshesIncrementally) {
  ProducerChild child = ProducerChild::start(tiny_ring_options(), [](ProducerChild::Link& link) {
    RINGTAIL_INFO("first site", kv("a", 1));
    if (!link.signal() || !link.wait()) return 4;
    RINGTAIL_WARN("second site", kv("b", 2.5), kv("c", "three"));
    return 0;
  });
  ASSERT_TRUE(child.ok()) << child.error();
  ASSERT_TRUE(child.wait_signal());
  Reader reader(child.segment_name());
  ASSERT_TRUE(reader.view.ok()) << reader.view.status();
  CallSiteTable table(*reader.view);
  ASSERT_TRUE(table.refresh().ok());
  ASSERT_EQ(table.size(), 1u);
  const CallSiteInfo* first = table.find(0);
  ASSERT_NE(first, nullptr);
  EXPECT_EQ(first->message, "first site");
  EXPECT_EQ(table.find(1), nullptr);

  ASSERT_TRUE(child.resume());
  ASSERT_EQ(child.join(), 0);
  absl::StatusOr<RingCursor> cursor = RingCursor::create(*reader.view, 0);
  ASSERT_TRUE(cursor.ok());
  CollectingSink sink;
  ASSERT_TRUE(cursor->read_batch(table, sink).ok()) << cursor->poison_status();  // refreshes on the unknown id
  EXPECT_EQ(table.size(), 2u);
  EXPECT_EQ(table.find(0), first);
  const std::vector<const DecodedEvent*> events = testing::events_of(sink.items);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0]->callsite, first);
  EXPECT_EQ(events[1]->callsite->message, "second site");
  EXPECT_EQ(events[1]->callsite->level, Level::kWarn);
  ASSERT_EQ(events[1]->fields.size(), 2u);
  EXPECT_EQ(events[1]->fields[0].name, "b");
  EXPECT_EQ(std::get<double>(events[1]->fields[0].value), 2.5);
  EXPECT_EQ(std::get<StringValue>(events[1]->fields[1].value).bytes, "three");
}

}  // namespace
}  // namespace ringtail::reader
