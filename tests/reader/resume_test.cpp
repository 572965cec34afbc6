// Resuming a ring where a reader's output ended (RingCursor::resume_at /
// resume_from) against a real producer's segment, and the resume point's
// encoding (segment_resume.hpp) as untrusted input.
#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include <gtest/gtest.h>

#include "ingest_test_support.hpp"
#include "producer_child.hpp"
#include "ringtail/reader/drain/segment_resume.hpp"
#include "ringtail/ringtail.hpp"

namespace ringtail::reader {
namespace {

using ringtail::kv;
using ringtail::test::ProducerChild;

// Keeps each event's i, context and the cursor's position after it.
class PositionSink : public RecordSink {
 public:
  explicit PositionSink(const RingCursor* cursor) : cursor_(cursor) {}
  void on_event(const DecodedEvent& event) override {
    Seen seen;
    seen.i = std::get<uint64_t>(event.fields.at(0).value);
    seen.seq = event.seq;
    seen.end = cursor_->position();
    for (const ContextFrame& frame : event.context->frames) {
      for (const ContextField& field : frame.fields) seen.context.push_back(field.name);
    }
    events.push_back(std::move(seen));
  }
  void on_gap(const DropGap&) override { ++gaps; }
  void on_thread_start(const ThreadStart&) override {}

  struct Seen {
    uint64_t i = 0;
    uint64_t seq = 0;
    uint64_t end = 0;
    std::vector<std::string> context;
  };
  std::vector<Seen> events;
  int gaps = 0;

 private:
  const RingCursor* cursor_;
};

Options resume_options() {
  Options options;
  options.service = "rt-resume";
  options.ring_bytes = 64 << 10;
  options.max_threads = 2;
  options.max_callsites = 16;
  return options;
}

// i 0-9 with {tenant}, 10-19 with {tenant, step}, 20-29 with {tenant} again.
ProducerChild nested_context_producer() {
  return ProducerChild::start(resume_options(), [](ProducerChild::Link& link) {
    ScopedContext outer{kv("tenant", "acme")};
    for (uint64_t i = 0; i < 10; ++i) RINGTAIL_INFO("resume", kv("i", i));
    {
      ScopedContext inner{kv("step", 2)};
      for (uint64_t i = 10; i < 20; ++i) RINGTAIL_INFO("resume", kv("i", i));
    }
    for (uint64_t i = 20; i < 30; ++i) RINGTAIL_INFO("resume", kv("i", i));
    link.signal();
    link.wait();
    return 0;
  });
}

// Waits until `child` has logged, then opens its segment read-write.
absl::StatusOr<SegmentView> open_once_logged(ProducerChild& child) {
  if (!child.ok()) return absl::FailedPreconditionError("no producer: " + child.error());
  if (!child.wait_signal()) return absl::DeadlineExceededError("the producer never said it had logged");
  return SegmentView::open(child.segment_name(), SegmentView::Access::kReadWrite);
}

PositionSink read_all(RingCursor& cursor, CallSiteTable& table) {
  PositionSink sink(&cursor);
  for (int k = 0; k < 100; ++k) {
    BatchStats stats;
    EXPECT_TRUE(cursor.read_batch(table, sink, &stats).ok()) << cursor.poison_status();
    if (stats.caught_up) break;
  }
  return sink;
}

TEST(RingResume, ACursorResumedMidContextContinuesWithThoseFramesAndNoGap) {
  ProducerChild child = nested_context_producer();
  absl::StatusOr<SegmentView> view = open_once_logged(child);
  ASSERT_TRUE(view.ok()) << view.status();
  CallSiteTable table(*view);
  absl::StatusOr<RingCursor> first = RingCursor::create(*view, 0);
  ASSERT_TRUE(first.ok());
  const PositionSink before = read_all(*first, table);
  ASSERT_EQ(before.events.size(), 30u);

  // After event 14: inside the inner context. Not the cursor's current
  // position, so only with the seq it expects there.
  const PositionSink::Seen& at = before.events[14];
  EXPECT_FALSE(first->resume_at(at.end, std::nullopt).has_value());
  std::optional<RingResume> resume = first->resume_at(at.end, at.seq + 1);
  ASSERT_TRUE(resume.has_value());
  EXPECT_EQ(resume->position, at.end);
  EXPECT_EQ(resume->frames.size(), 2u);
  EXPECT_TRUE(resume->has_expected_seq);
  EXPECT_EQ(resume->expected_seq, at.seq + 1);
  EXPECT_FALSE(first->resume_at(at.end + 4, at.seq + 1).has_value()) << "not a record boundary";
  EXPECT_FALSE(first->resume_at(first->position() + 8, std::nullopt).has_value()) << "past what was read";
  // At the current position the cursor knows the seq itself.
  std::optional<RingResume> end = first->resume_at(first->position(), std::nullopt);
  ASSERT_TRUE(end.has_value());
  EXPECT_EQ(end->frames.size(), 1u);

  // Through the encoding, as a restarted drain gets it back.
  SegmentResume segment;
  segment.pid = static_cast<uint32_t>(child.pid());
  segment.rings.push_back(SegmentResume::Ring{0, *resume, 0});
  absl::StatusOr<SegmentResume> decoded = decode_segment_resume(encode(segment));
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  ASSERT_EQ(decoded->rings.size(), 1u);

  absl::StatusOr<RingCursor> second = RingCursor::create(*view, 0);
  ASSERT_TRUE(second.ok());
  ASSERT_TRUE(second->resume_from(decoded->rings[0].resume));
  const PositionSink after = read_all(*second, table);
  ASSERT_EQ(after.events.size(), 15u);
  EXPECT_EQ(after.gaps, 0);
  for (const PositionSink::Seen& seen : after.events) {
    const std::vector<std::string> want =
        seen.i < 20 ? std::vector<std::string>{"tenant", "step"} : std::vector<std::string>{"tenant"};
    EXPECT_EQ(seen.context, want) << "i=" << seen.i;
  }
  EXPECT_EQ(after.events.front().i, 15u);

  // Committed past it: the cursor no longer answers for that position.
  first->commit_to(before.events[20].end);
  EXPECT_FALSE(first->resume_at(at.end, at.seq + 1).has_value());
  ASSERT_TRUE(child.resume());
  EXPECT_EQ(child.join(), 0);
}

TEST(RingResume, AResumePointTheRingCannotHoldIsIgnored) {
  ProducerChild child = nested_context_producer();
  absl::StatusOr<SegmentView> view = open_once_logged(child);
  ASSERT_TRUE(view.ok()) << view.status();
  CallSiteTable table(*view);
  absl::StatusOr<RingCursor> probe = RingCursor::create(*view, 0);
  ASSERT_TRUE(probe.ok());
  const PositionSink all = read_all(*probe, table);
  const std::optional<RingResume> good = probe->resume_at(all.events[14].end, all.events[14].seq + 1);
  ASSERT_TRUE(good.has_value());

  std::vector<std::pair<std::string, RingResume>> bad;
  RingResume r = *good;
  r.position = probe->position() + 8;
  bad.emplace_back("past write_pos", r);
  r = *good;
  r.position += 4;
  bad.emplace_back("not a multiple of 8", r);
  r = *good;
  r.frames.push_back(std::string(16, 'x'));
  bad.emplace_back("a frame that does not decode", r);
  r = *good;
  r.frames = {good->frames[1], good->frames[0]};
  bad.emplace_back("frames out of depth order", r);
  r = *good;
  r.owner_name = std::string(17, 'n');
  bad.emplace_back("a thread name too long", r);
  r = *good;
  r.lap_pending = true;
  bad.emplace_back("a jump over overwritten records in a ring that is not a flight ring", r);
  for (const auto& [why, resume] : bad) {
    SCOPED_TRACE(why);
    absl::StatusOr<RingCursor> cursor = RingCursor::create(*view, 0);
    ASSERT_TRUE(cursor.ok());
    EXPECT_FALSE(cursor->resume_from(resume));
    // Starts at read_pos as if it had none: every event, the context unknown before its first frame.
    const PositionSink read = read_all(*cursor, table);
    ASSERT_EQ(read.events.size(), 30u);
    EXPECT_EQ(read.events.front().i, 0u);
  }
  ASSERT_TRUE(child.resume());
  EXPECT_EQ(child.join(), 0);
}

SegmentResume sample_resume() {
  SegmentResume resume;
  resume.pid = 41;
  resume.start_ticks = 9000;
  resume.lost_no_ring_noted = 3;
  resume.crash_noted = true;
  for (uint32_t slot : {0U, 2U}) {
    SegmentResume::Ring ring;
    ring.slot = slot;
    ring.resume.position = 4096 + slot * 8;
    ring.resume.has_expected_seq = true;
    ring.resume.expected_seq = 77;
    ring.resume.owner_known = true;
    ring.resume.owner_tid = 42;
    ring.resume.owner_name = "worker";
    ring.resume.frames = {std::string(24, 'a'), std::string(40, 'b')};
    ring.resume.lap_pending = slot == 2;
    ring.audit_lost_noted = 5;
    resume.rings.push_back(ring);
  }
  return resume;
}

TEST(SegmentResumeEncoding, RoundTripsAndRejectsEveryTruncation) {
  const std::string bytes = encode(sample_resume());
  absl::StatusOr<SegmentResume> decoded = decode_segment_resume(bytes);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(encode(*decoded), bytes);
  EXPECT_EQ(decoded->rings[1].resume.frames[1], std::string(40, 'b'));
  EXPECT_FALSE(decoded->rings[0].resume.lap_pending);
  EXPECT_TRUE(decoded->rings[1].resume.lap_pending);
  EXPECT_TRUE(decoded->crash_noted);
  for (size_t size = 0; size < bytes.size(); ++size) {
    EXPECT_FALSE(decode_segment_resume(bytes.substr(0, size)).ok()) << "cut to " << size;
  }
  EXPECT_FALSE(decode_segment_resume(bytes + "x").ok()) << "bytes left over";
}

TEST(SegmentResumeEncoding, RejectsWhatNoReaderWrites) {
  auto rejects = [](SegmentResume resume, const char* why) {
    EXPECT_FALSE(decode_segment_resume(encode(resume)).ok()) << why;
  };
  SegmentResume r = sample_resume();
  r.rings[1].slot = 0;
  rejects(r, "two rings for one slot");
  r = sample_resume();
  r.rings[0].resume.frames.assign(shm::kMaxFrameDepth + 1, std::string(8, 'f'));
  rejects(r, "more frames than a thread may bind");
  r = sample_resume();
  r.rings[0].resume.frames = {std::string(kMaxFrameBytesPerThread + 8, 'f')};
  rejects(r, "more frame bytes than a thread may hold");
  r = sample_resume();
  r.rings[0].resume.owner_name = std::string(shm::kThreadNameBytes + 1, 'n');
  rejects(r, "a thread name too long");
  std::string bytes = encode(sample_resume());
  bytes[0] = 'X';
  EXPECT_FALSE(decode_segment_resume(bytes).ok()) << "no magic";
}

}  // namespace
}  // namespace ringtail::reader
