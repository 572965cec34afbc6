// Flight-recorder rings (RingMode::kFlight) against real producers: a
// producer that logs far more than its ring holds and then dies (SIGKILL,
// SIGSEGV) leaves its last events intact; a reader the writer laps, before or
// during a copy, jumps to the oldest intact chunk and counts what was
// overwritten; a peek of a live producer never yields a torn record and
// consumes nothing.
#include <signal.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "ingest_test_support.hpp"
#include "producer_child.hpp"
#include "ringtail/reader/drain/segment_resume.hpp"
#include "ringtail/ringtail.hpp"
#include "ringtail/shm/segment_file.hpp"

namespace ringtail::reader {
namespace {

using ringtail::kv;
using ringtail::test::ProducerChild;
using testing::CollectingSink;
using testing::Item;

constexpr uint64_t kRingBytes = 16384;  // four chunks of 4 KiB
constexpr uint64_t kChunkBytes = 4096;

Options flight_options() {
  Options options = ringtail::test::small_producer_options("rt-flight");
  options.ring_bytes = kRingBytes;
  options.mode = RingMode::kFlight;
  options.max_string_bytes = 512;
  return options;
}

bool log_event(uint64_t i) { return RINGTAIL_INFO("flight", kv("i", i), kv("payload", testing::varied_payload(i))); }

// What a run of batches over ring 0 gave.
struct Read {
  std::vector<Item> items;
  absl::Status status;
  BatchStats totals;
};

void add(BatchStats& total, const BatchStats& s) {
  total.events += s.events;
  total.gaps += s.gaps;
  total.dropped += s.dropped;
  total.chunk_starts += s.chunk_starts;
  total.laps += s.laps;
  total.overwritten += s.overwritten;
}

// Reads ring 0 with `cursor` until it is caught up (bounded), committing.
// The items end up in the result (taken out of `sink_in` if given).
Read read_ring(RingCursor& cursor, CallSiteTable& table, CollectingSink* sink_in = nullptr) {
  Read out;
  CollectingSink local;
  CollectingSink& sink = sink_in != nullptr ? *sink_in : local;
  for (int n = 0; n < 10000; ++n) {
    BatchStats stats;
    out.status = cursor.read_batch(table, sink, &stats);
    add(out.totals, stats);
    cursor.commit();
    if (!out.status.ok() || stats.caught_up) break;
  }
  out.items = std::move(sink.items);
  return out;
}

// Every event is intact (its fields are those of event seq), and events and
// gaps together account for every seq from `first` on, once and in order;
// every gap is an overwritten one. Returns the seq after the last item.
uint64_t expect_intact_and_accounted(const std::vector<Item>& items, uint64_t first = 0) {
  uint64_t expected = first;
  for (const Item& item : items) {
    if (const auto* gap = std::get_if<DropGap>(&item)) {
      EXPECT_EQ(gap->cause, DropGap::Cause::kOverwritten);
      EXPECT_EQ(gap->first_seq, expected);
      EXPECT_GE(gap->last_seq, gap->first_seq);
      expected = gap->last_seq + 1;
    } else if (const auto* e = std::get_if<DecodedEvent>(&item)) {
      EXPECT_EQ(e->seq, expected);
      if (e->fields.size() != 2) {
        ADD_FAILURE() << "event " << e->seq << " has " << e->fields.size() << " fields";
      } else {
        EXPECT_EQ(std::get<uint64_t>(e->fields[0].value), e->seq);
        EXPECT_EQ(std::get<StringValue>(e->fields[1].value).bytes, testing::varied_payload(e->seq))
            << "event " << e->seq;
      }
      expected = e->seq + 1;
    }
  }
  return expected;
}

// A producer that logs `events` into its flight ring and then dies by `kill`
// (the parent's SIGKILL) or by its own SIGSEGV: a drain of its segment
// yields exactly its last events, the earlier ones counted as overwritten.
void expect_last_events_after_crash(int signal_number) {
  constexpr uint64_t kEvents = 3000;  // ~550 KB through a 16 KiB ring
  ProducerChild child = ProducerChild::start(flight_options(), [signal_number](ProducerChild::Link& link) {
    for (uint64_t i = 0; i < kEvents; ++i) {
      if (!log_event(i)) return 3;  // a flight ring never refuses an event
    }
    if (signal_number == SIGSEGV) {
      struct sigaction action = {};
      action.sa_handler = SIG_DFL;
      ::sigaction(SIGSEGV, &action, nullptr);
      ::raise(SIGSEGV);
      return 4;
    }
    link.signal();
    link.wait();
    return 0;
  });
  ASSERT_TRUE(child.ok()) << child.error();
  if (signal_number == SIGKILL) {
    ASSERT_TRUE(child.wait_signal());
    ASSERT_EQ(::kill(child.pid(), SIGKILL), 0);
  }
  ASSERT_EQ(child.join(), 128 + signal_number);

  absl::StatusOr<SegmentView> view = SegmentView::open(child.segment_name(), SegmentView::Access::kReadWrite);
  ASSERT_TRUE(view.ok()) << view.status();
  EXPECT_EQ(view->identity().abi_version, shm::kAbiVersion);
  EXPECT_EQ(view->identity().ring_mode, shm::RingMode::kFlight);
  EXPECT_EQ(view->geometry().ring_chunk_count, kRingBytes / kChunkBytes);
  EXPECT_EQ(view->identity().max_record_bytes, kChunkBytes - sizeof(shm::ThreadStartRecord));
  CallSiteTable table(*view);
  absl::StatusOr<RingCursor> cursor = RingCursor::create(*view, 0);
  ASSERT_TRUE(cursor.ok()) << cursor.status();
  cursor->end_at_current_write_pos();  // its writer is dead
  const Read read = read_ring(*cursor, table);
  ASSERT_TRUE(read.status.ok()) << read.status;

  const std::vector<const DecodedEvent*> events = testing::events_of(read.items);
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events.back()->seq, kEvents - 1);
  EXPECT_EQ(expect_intact_and_accounted(read.items), kEvents);
  // Everything before the window is one overwritten gap, counted.
  const std::vector<DropGap> gaps = testing::gaps_of(read.items);
  ASSERT_EQ(gaps.size(), 1u);
  EXPECT_EQ(gaps[0].first_seq, 0u);
  EXPECT_EQ(gaps[0].count, events.front()->seq);
  EXPECT_EQ(read.totals.overwritten, events.front()->seq);
  EXPECT_EQ(read.totals.laps, 1u);
  // The window is all but the chunk being written: at least 3 of 4 chunks,
  // of records of at most 344 bytes plus padding and chunk starts.
  EXPECT_GE(events.size(), (kRingBytes - kChunkBytes) / (344 + 344 / 4));
  EXPECT_GE(read.totals.chunk_starts, 3u);
  absl::StatusOr<RingSlotSnapshot> slot = view->slot_snapshot(0);
  ASSERT_TRUE(slot.ok());
  EXPECT_EQ(slot->committed_untrusted, kEvents);
  EXPECT_EQ(slot->dropped_full_untrusted, 0u);
}

TEST(FlightRing, SigkilledProducerLeavesItsLastEventsIntact) { expect_last_events_after_crash(SIGKILL); }

TEST(FlightRing, SigsegvProducerLeavesItsLastEventsIntact) { expect_last_events_after_crash(SIGSEGV); }

// Killed in the middle of writing: the last published event is the newest in
// the ring, and the one being written (if any) is not decoded.
TEST(FlightRing, SigkilledWhileWritingLeavesNoTornRecord) {
  ProducerChild child = ProducerChild::start(flight_options(), [](ProducerChild::Link& link) {
    for (uint64_t i = 0; i < (uint64_t{1} << 40); ++i) {
      if (!log_event(i)) return 3;
      if (i == 2000) link.signal();
    }
    return 0;
  });
  ASSERT_TRUE(child.ok()) << child.error();
  ASSERT_TRUE(child.wait_signal());
  ASSERT_EQ(::kill(child.pid(), SIGKILL), 0);
  ASSERT_EQ(child.join(), 128 + SIGKILL);

  absl::StatusOr<SegmentView> view = SegmentView::open(child.segment_name(), SegmentView::Access::kReadWrite);
  ASSERT_TRUE(view.ok()) << view.status();
  CallSiteTable table(*view);
  absl::StatusOr<RingCursor> cursor = RingCursor::create(*view, 0);
  ASSERT_TRUE(cursor.ok());
  cursor->end_at_current_write_pos();
  const Read read = read_ring(*cursor, table);
  ASSERT_TRUE(read.status.ok()) << read.status;
  const std::vector<const DecodedEvent*> events = testing::events_of(read.items);
  ASSERT_FALSE(events.empty());
  const uint64_t end = expect_intact_and_accounted(read.items);
  EXPECT_GT(end, 2000u);
  // committed is stored just before write_pos: the event in flight at the
  // kill may be counted without being published.
  absl::StatusOr<RingSlotSnapshot> slot = view->slot_snapshot(0);
  ASSERT_TRUE(slot.ok());
  EXPECT_GE(slot->committed_untrusted, end);
  EXPECT_LE(slot->committed_untrusted, end + 1);
}

// Lets the producer go on (its next round, then it waits again) at the first
// event it is handed: mid-batch.
class LappingSink : public CollectingSink {
 public:
  explicit LappingSink(ProducerChild& producer) : producer_(producer) {}
  void on_event(const DecodedEvent& event) override {
    CollectingSink::on_event(event);
    if (!lapped_) {
      lapped_ = true;
      ok_ = producer_.resume() && producer_.wait_signal();
    }
  }
  bool ok() const { return lapped_ && ok_; }

 private:
  ProducerChild& producer_;
  bool lapped_ = false;
  bool ok_ = false;
};

// A ring and a bit (120 events), then 400 more when let go, then exits: the
// window of the first round starts mid-ring and wraps, so that a batch over
// it copies twice.
ProducerChild start_lapping_producer() {
  return ProducerChild::start(flight_options(), [](ProducerChild::Link& link) {
    uint64_t i = 0;
    for (; i < 120; ++i) log_event(i);
    link.signal();
    if (!link.wait()) return 4;
    for (; i < 520; ++i) log_event(i);
    link.signal();
    if (!link.wait()) return 4;
    return 0;
  });
}

// The torn-read rule, deterministically: the writer laps the cursor between
// its first copy and its second within one batch (the sink makes the child
// write four more rings' worth on the first event). The second copy holds
// overwritten bytes that the batch's write_pos still called valid: only the
// write_pos reloaded after the copy tells, and the cursor must discard the
// copy, jump to the oldest intact chunk and count the overwritten events.
TEST(FlightRing, WriterLappingTheCursorDuringABatchIsDetectedAfterTheCopy) {
  ProducerChild child = start_lapping_producer();
  ASSERT_TRUE(child.ok()) << child.error();
  ASSERT_TRUE(child.wait_signal());
  absl::StatusOr<SegmentView> view = SegmentView::open(child.segment_name(), SegmentView::Access::kReadOnly);
  ASSERT_TRUE(view.ok()) << view.status();
  const uint64_t first_write_pos = (*view->slot(0))->write_pos.load();
  // Lapped once, and the window [oldest intact chunk, write_pos) wraps.
  ASSERT_GT(first_write_pos, kRingBytes);
  ASSERT_LT(first_write_pos, 2 * kRingBytes - kChunkBytes);
  CallSiteTable table(*view);
  absl::StatusOr<RingCursor> cursor =
      RingCursor::create(*view, 0, RingCursorOptions{.mode = RingCursorOptions::Mode::kPeek});
  ASSERT_TRUE(cursor.ok());

  LappingSink sink(child);
  BatchStats first;
  ASSERT_TRUE(cursor->read_batch(table, sink, &first).ok()) << cursor->poison_status();
  ASSERT_TRUE(sink.ok());
  // One jump before the first copy (a fresh cursor at 0 behind a lapped
  // ring), one after the second copy.
  EXPECT_EQ(first.laps, 2u);
  EXPECT_GT(cursor->position(), first_write_pos);  // past the batch's write_pos: the bytes it saw there are gone
  const Read rest = read_ring(*cursor, table, &sink);
  ASSERT_TRUE(rest.status.ok()) << rest.status;
  EXPECT_EQ(expect_intact_and_accounted(rest.items), 520u);
  const std::vector<DropGap> gaps = testing::gaps_of(rest.items);
  ASSERT_EQ(gaps.size(), 2u);  // before the first window, and across the lap
  EXPECT_EQ(gaps[0].first_seq, 0u);
  EXPECT_EQ((*view->slot(0))->read_pos.load(), 0u);  // a peek consumes nothing
  ASSERT_TRUE(child.resume());
  ASSERT_EQ(child.join(), 0);
}

// A consuming cursor that falls behind (drain --follow on a flight-mode
// process) is lapped between batches: it skips to the oldest intact chunk
// and reports the events it missed as overwritten, then follows again.
TEST(FlightRing, ConsumerLappedBetweenBatchesSkipsToTheOldestIntactChunk) {
  ProducerChild child = ProducerChild::start(flight_options(), [](ProducerChild::Link& link) {
    uint64_t i = 0;
    for (int round = 0; round < 3; ++round) {
      const uint64_t end = i + (round == 1 ? 1000 : 20);  // round 1 laps the reader many times
      for (; i < end; ++i) log_event(i);
      link.signal();
      if (!link.wait()) return 4;
    }
    return 0;
  });
  ASSERT_TRUE(child.ok()) << child.error();
  absl::StatusOr<SegmentView> view = SegmentView::open(child.segment_name(), SegmentView::Access::kReadWrite);
  ASSERT_TRUE(view.ok()) << view.status();
  CallSiteTable table(*view);
  absl::StatusOr<RingCursor> cursor = RingCursor::create(*view, 0);
  ASSERT_TRUE(cursor.ok());
  std::vector<Item> items;
  std::vector<BatchStats> rounds;
  for (int round = 0; round < 3; ++round) {
    ASSERT_TRUE(child.wait_signal()) << "round " << round;
    const Read read = read_ring(*cursor, table);
    ASSERT_TRUE(read.status.ok()) << read.status;
    items.insert(items.end(), read.items.begin(), read.items.end());
    rounds.push_back(read.totals);
    EXPECT_EQ((*view->slot(0))->read_pos.load(), cursor->position());
    ASSERT_TRUE(child.resume());
  }
  ASSERT_EQ(child.join(), 0);
  EXPECT_EQ(expect_intact_and_accounted(items), 1040u);
  EXPECT_EQ(rounds[0].events, 20u);
  EXPECT_EQ(rounds[0].overwritten, 0u);
  EXPECT_EQ(rounds[1].laps, 1u);
  EXPECT_GT(rounds[1].overwritten, 900u);
  EXPECT_EQ(rounds[1].events + rounds[1].overwritten, 1000u);
  EXPECT_EQ(rounds[2].events, 20u);
  EXPECT_EQ(rounds[2].overwritten, 0u);
}

// A resume point taken right after a jump, before the next seq is read: the
// writer laps a consuming cursor during a batch (as above), and the batch
// ends at the jump target. A cursor resumed there still counts the events
// the jump skipped, as overwritten, from the seq expected before it.
TEST(FlightRing, AResumePointAtAJumpKeepsTheOverwrittenCount) {
  ProducerChild child = start_lapping_producer();
  ASSERT_TRUE(child.ok()) << child.error();
  ASSERT_TRUE(child.wait_signal());
  absl::StatusOr<SegmentView> view = SegmentView::open(child.segment_name(), SegmentView::Access::kReadWrite);
  ASSERT_TRUE(view.ok()) << view.status();
  CallSiteTable table(*view);
  // Room for the first copy's records, not for the jump after the second.
  const RingCursorOptions options{.mode = RingCursorOptions::Mode::kConsume, .max_batch_bytes = 3 * kChunkBytes};
  absl::StatusOr<RingCursor> first = RingCursor::create(*view, 0, options);
  ASSERT_TRUE(first.ok());
  LappingSink sink(child);
  BatchStats batch;
  ASSERT_TRUE(first->read_batch(table, sink, &batch).ok()) << first->poison_status();
  ASSERT_TRUE(sink.ok());
  ASSERT_EQ(batch.laps, 2u);  // before the first copy, and after the second
  const uint64_t expected = expect_intact_and_accounted(sink.items);
  ASSERT_GT(expected, 0u);
  const std::optional<RingResume> at_jump = first->resume_at(first->position(), std::nullopt);
  ASSERT_TRUE(at_jump.has_value());
  EXPECT_TRUE(at_jump->lap_pending);
  EXPECT_TRUE(at_jump->has_expected_seq);
  EXPECT_EQ(at_jump->expected_seq, expected);
  // Stored and read back as a restarted drain would.
  SegmentResume stored;
  stored.rings.push_back(SegmentResume::Ring{0, *at_jump, 0});
  absl::StatusOr<SegmentResume> loaded = decode_segment_resume(encode(stored));
  ASSERT_TRUE(loaded.ok()) << loaded.status();

  absl::StatusOr<RingCursor> restarted = RingCursor::create(*view, 0);
  ASSERT_TRUE(restarted.ok());
  ASSERT_TRUE(restarted->resume_from(loaded->rings[0].resume));
  const Read after = read_ring(*restarted, table);
  ASSERT_TRUE(after.status.ok()) << after.status;
  EXPECT_EQ(expect_intact_and_accounted(after.items, expected), 520u);
  const std::vector<DropGap> gaps = testing::gaps_of(after.items);
  ASSERT_EQ(gaps.size(), 1u);
  EXPECT_EQ(gaps[0].first_seq, expected);
  EXPECT_EQ(after.totals.overwritten, gaps[0].count);
  ASSERT_TRUE(child.resume());
  ASSERT_EQ(child.join(), 0);
}

// Peeks of a producer that keeps writing (it laps a 16 KiB ring every few
// microseconds, also while a peek copies): every event decoded is intact,
// events and overwritten gaps account for every seq, and read_pos stays 0.
TEST(FlightRing, PeeksOfALiveProducerAreNeverTornAndConsumeNothing) {
  Options options = flight_options();
  options.ring_bytes = 8192;  // two chunks: the writer laps a copy as often as it can
  ProducerChild child = ProducerChild::start(options, [](ProducerChild::Link& link) {
    for (uint64_t i = 0; i < (uint64_t{1} << 40); ++i) {
      log_event(i);
      if (i == 1000) link.signal();
    }
    return 0;
  });
  ASSERT_TRUE(child.ok()) << child.error();
  ASSERT_TRUE(child.wait_signal());
  absl::StatusOr<SegmentView> view = SegmentView::open(child.segment_name(), SegmentView::Access::kReadOnly);
  ASSERT_TRUE(view.ok()) << view.status();
  CallSiteTable table(*view);
  uint64_t events = 0;
  for (int peek = 0; peek < 200; ++peek) {
    absl::StatusOr<RingCursor> cursor =
        RingCursor::create(*view, 0, RingCursorOptions{.mode = RingCursorOptions::Mode::kPeek});
    ASSERT_TRUE(cursor.ok());
    CollectingSink sink;
    BatchStats stats;
    ASSERT_TRUE(cursor->read_batch(table, sink, &stats).ok()) << cursor->poison_status();
    expect_intact_and_accounted(sink.items);
    events += stats.events;
    if (::testing::Test::HasFailure()) break;
  }
  EXPECT_GT(events, 0u);
  EXPECT_EQ((*view->slot(0))->read_pos.load(), 0u);
  ASSERT_EQ(::kill(child.pid(), SIGKILL), 0);
  EXPECT_EQ(child.join(), 128 + SIGKILL);
}

// A thread's context reaches every chunk: a reader that starts at the oldest
// chunk of a crashed producer's ring (it never saw the context bound) has it
// from that chunk's first event on (the frames go before the event that
// opened the chunk); a reader following the ring keeps it throughout (the
// re-sends replace it, writing no lines).
TEST(FlightRing, ContextIsSentAgainInEveryChunk) {
  ProducerChild child = ProducerChild::start(flight_options(), [](ProducerChild::Link& link) {
    const ScopedContext context{kv("session", "s-1")};
    for (uint64_t i = 0; i < 3000; ++i) log_event(i);
    link.signal();
    link.wait();
    return 0;
  });
  ASSERT_TRUE(child.ok()) << child.error();
  ASSERT_TRUE(child.wait_signal());
  ASSERT_EQ(::kill(child.pid(), SIGKILL), 0);
  ASSERT_EQ(child.join(), 128 + SIGKILL);

  absl::StatusOr<SegmentView> view = SegmentView::open(child.segment_name(), SegmentView::Access::kReadOnly);
  ASSERT_TRUE(view.ok()) << view.status();
  CallSiteTable table(*view);
  absl::StatusOr<RingCursor> cursor =
      RingCursor::create(*view, 0, RingCursorOptions{.mode = RingCursorOptions::Mode::kPeek});
  ASSERT_TRUE(cursor.ok());
  // The frames each event had when it was delivered.
  class ContextSink : public CollectingSink {
   public:
    void on_event(const DecodedEvent& event) override {
      CollectingSink::on_event(event);
      const bool session =
          event.context != nullptr && event.context->frames.size() == 1 && event.context->frames[0].fields.size() == 1;
      with_context.push_back(session);
    }
    std::vector<bool> with_context;
  } sink;
  const Read read = read_ring(*cursor, table, &sink);
  ASSERT_TRUE(read.status.ok()) << read.status;
  EXPECT_EQ(expect_intact_and_accounted(read.items), 3000u);
  ASSERT_GT(sink.with_context.size(), 10u);
  for (size_t k = 0; k < sink.with_context.size(); ++k) EXPECT_TRUE(sink.with_context[k]) << "event " << k;
  EXPECT_GE(read.totals.chunk_starts, 3u);
}

// Normal mode is unchanged: version 2, no chunks, half the ring per record.
TEST(FlightRing, NormalSegmentsStayVersionTwo) {
  Options options = flight_options();
  options.mode = RingMode::kNormal;
  ProducerChild child = ProducerChild::start(options, [](ProducerChild::Link&) { return log_event(0) ? 0 : 3; });
  ASSERT_TRUE(child.ok()) << child.error();
  ASSERT_EQ(child.join(), 0);
  absl::StatusOr<SegmentView> view = SegmentView::open(child.segment_name(), SegmentView::Access::kReadOnly);
  ASSERT_TRUE(view.ok()) << view.status();
  EXPECT_EQ(view->identity().abi_version, shm::kNormalAbiVersion);
  EXPECT_EQ(view->identity().ring_mode, shm::RingMode::kNormal);
  EXPECT_EQ(view->geometry().ring_chunk_count, 0u);
  EXPECT_EQ(view->identity().max_record_bytes, kRingBytes / 2);
}

TEST(FlightRing, InitRefusesFlightRingsBelowTwoChunks) {
  ProducerChild child = ProducerChild::start(
      [] {
        Options options = flight_options();
        options.ring_bytes = 4096;
        return options;
      }(),
      [](ProducerChild::Link&) { return 0; });
  EXPECT_FALSE(child.ok());
  EXPECT_EQ(child.join(), ProducerChild::kInitFailed);
}

// Malicious_*: a flight-mode segment, corrupted in place where flight mode
// reads it: a clear error or a poisoned ring, never a crash or a hang.
class FlightHostile : public ::testing::Test {
 protected:
  static constexpr uint64_t kEvents = 300;  // ~57 KB: the ring is lapped three times

  void SetUp() override {
    child_.emplace(ProducerChild::start(flight_options(), [](ProducerChild::Link&) {
      for (uint64_t i = 0; i < kEvents; ++i) log_event(i);
      return 0;
    }));
    ASSERT_TRUE(child_->ok()) << child_->error();
    ASSERT_EQ(child_->join(), 0);
    absl::StatusOr<shm::SegmentFile> file =
        shm::SegmentFile::open(child_->segment_name(), shm::SegmentFile::Access::kReadWrite);
    ASSERT_TRUE(file.ok()) << file.status();
    file_ = std::move(*file);
    ASSERT_EQ(header().ring_mode, static_cast<uint32_t>(shm::RingMode::kFlight));
    ASSERT_EQ(header().ring_chunk_count, kRingBytes / kChunkBytes);
    ASSERT_GT(slot().write_pos.load(), 3 * kRingBytes);
  }
  void TearDown() override { child_.reset(); }

  shm::SegmentHeader& header() { return *reinterpret_cast<shm::SegmentHeader*>(file_.data()); }
  shm::RingSlot& slot() { return *reinterpret_cast<shm::RingSlot*>(file_.data() + header().directory_offset); }
  std::byte* at(uint64_t pos) { return file_.data() + header().rings_offset + (pos & (kRingBytes - 1)); }
  uint32_t size_at(uint64_t pos) {
    uint32_t size = 0;
    std::memcpy(&size, at(pos), sizeof(size));
    return size;
  }
  uint32_t id_at(uint64_t pos) {
    uint32_t id = 0;
    std::memcpy(&id, at(pos) + 4, sizeof(id));
    return id;
  }
  // The start of the oldest chunk the reader reads (the window's start).
  uint64_t oldest_chunk() {
    const uint64_t w = slot().write_pos.load();
    return (w & ~(kChunkBytes - 1)) + kChunkBytes - kRingBytes;
  }

  absl::Status open_status() {
    return SegmentView::open(child_->segment_name(), SegmentView::Access::kReadOnly).status();
  }

  // Reads ring 0 to its end; the ring's poison status (OK if none).
  absl::Status read() {
    absl::StatusOr<SegmentView> view = SegmentView::open(child_->segment_name(), SegmentView::Access::kReadOnly);
    EXPECT_TRUE(view.ok()) << view.status();
    if (!view.ok()) return view.status();
    CallSiteTable table(*view);
    absl::StatusOr<RingCursor> cursor =
        RingCursor::create(*view, 0, RingCursorOptions{.mode = RingCursorOptions::Mode::kPeek});
    EXPECT_TRUE(cursor.ok());
    return read_ring(*cursor, table).status;
  }

  std::optional<ProducerChild> child_;
  shm::SegmentFile file_;
};

TEST_F(FlightHostile, HonestSegmentReads) { EXPECT_TRUE(read().ok()) << read(); }

TEST_F(FlightHostile, Malicious_RingModeWords) {
  using ::testing::HasSubstr;
  header().ring_mode = 7;
  EXPECT_THAT(std::string(open_status().message()), HasSubstr("unknown ring mode 7"));
  header().ring_mode = 0;  // normal, with chunks
  EXPECT_THAT(std::string(open_status().message()), HasSubstr("ring mode 0 with 4 chunks"));
  header().ring_mode = 1;
  for (const uint32_t chunks : {0U, 1U, 3U, 5U, 8U, 64U, 128U, 0xFFFFFFFFU}) {
    header().ring_chunk_count = chunks;
    const absl::Status s = open_status();
    EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss) << chunks << ": " << s;
  }
  // A valid count that disagrees with max_record_bytes.
  header().ring_chunk_count = 2;
  EXPECT_THAT(std::string(open_status().message()), HasSubstr("max_record_bytes"));
  header().ring_chunk_count = 4;
  EXPECT_TRUE(open_status().ok());
  // Older versions never had the words: read as a normal segment, whose
  // lapped ring then breaks the normal protocol and is poisoned.
  header().abi_version = shm::kNormalAbiVersion;
  EXPECT_EQ(open_status().code(), absl::StatusCode::kDataLoss);  // max_record_bytes is a flight ring's
  header().max_record_bytes = kRingBytes / 2;
  ASSERT_TRUE(open_status().ok());
  EXPECT_THAT(std::string(read().message()), HasSubstr("more than the capacity"));
}

TEST_F(FlightHostile, Malicious_WritePosFarAheadOrBehind) {
  const uint64_t honest = slot().write_pos.load();
  for (const uint64_t w : {~uint64_t{0} - 7, uint64_t{1} << 62, (uint64_t{1} << 62) + 8, honest + kChunkBytes,
                           honest + 5 * kRingBytes, uint64_t{8}, uint64_t{0}}) {
    slot().write_pos.store(w);
    (void)read();  // bounded and no crash: what it reads is garbage or a poison, counted either way
  }
  slot().write_pos.store(honest + 4);  // not a record boundary: poisoned, not decoded
  EXPECT_EQ(read().code(), absl::StatusCode::kDataLoss);
  slot().write_pos.store(honest);
  EXPECT_TRUE(read().ok());
}

TEST_F(FlightHostile, Malicious_RecordsAtChunkBoundaries) {
  using ::testing::HasSubstr;
  const uint64_t chunk = oldest_chunk();
  ASSERT_EQ(id_at(chunk), shm::kChunkStartId);
  ASSERT_EQ(size_at(chunk), sizeof(shm::ThreadStartRecord));
  // A chunk start of another size.
  uint32_t size = 56;
  std::memcpy(at(chunk), &size, sizeof(size));
  EXPECT_THAT(std::string(read().message()), HasSubstr("chunk start record of 56 bytes"));
  size = sizeof(shm::ThreadStartRecord);
  std::memcpy(at(chunk), &size, sizeof(size));
  ASSERT_TRUE(read().ok());

  // A chunk start whose seq runs ahead of the events after it.
  uint64_t seq = 0;
  std::memcpy(&seq, at(chunk) + offsetof(shm::RecordHeader, seq), sizeof(seq));
  const uint64_t huge = seq + 1000000;
  std::memcpy(at(chunk) + offsetof(shm::RecordHeader, seq), &huge, sizeof(huge));
  EXPECT_THAT(std::string(read().message()), HasSubstr("is below the expected"));
  std::memcpy(at(chunk) + offsetof(shm::RecordHeader, seq), &seq, sizeof(seq));
  ASSERT_TRUE(read().ok());

  // The chunk's padding must end exactly at the chunk's end.
  uint64_t pos = chunk;
  while (id_at(pos) != shm::kPaddingId && pos < chunk + kChunkBytes) pos += size_at(pos);
  ASSERT_EQ(id_at(pos), shm::kPaddingId) << "no padding in the oldest chunk";
  const uint32_t padding = size_at(pos);
  size = padding + 8;  // into the next chunk
  std::memcpy(at(pos), &size, sizeof(size));
  EXPECT_THAT(std::string(read().message()), HasSubstr("past the end of the chunk"));
  if (padding > 8) {
    size = padding - 8;  // short of the chunk's end
    std::memcpy(at(pos), &size, sizeof(size));
    EXPECT_THAT(std::string(read().message()), HasSubstr("does not reach the end of the chunk"));
  }
  std::memcpy(at(pos), &padding, sizeof(padding));
  ASSERT_TRUE(read().ok());

  // A record crossing into the next chunk.
  const uint64_t first_event = chunk + sizeof(shm::ThreadStartRecord);
  const uint32_t event_size = size_at(first_event);
  size = static_cast<uint32_t>(kChunkBytes);
  std::memcpy(at(first_event), &size, sizeof(size));
  EXPECT_THAT(std::string(read().message()), HasSubstr("past the end of the chunk"));
  std::memcpy(at(first_event), &event_size, sizeof(event_size));
  ASSERT_TRUE(read().ok());
}

}  // namespace
}  // namespace ringtail::reader
