// reader::collect_segment(): the gc policy on real segments of live, exited,
// crashed and corrupted producers; what is removed, what is kept and why.
#include <signal.h>
#include <unistd.h>

#include <cstdint>
#include <optional>
#include <string>

#include <gtest/gtest.h>

#include "producer_child.hpp"
#include "ringtail/reader/ingest/consumer_lease.hpp"
#include "ringtail/reader/ingest/segment_directory.hpp"
#include "ringtail/reader/ingest/segment_gc.hpp"
#include "ringtail/reader/ingest/segment_summary.hpp"
#include "ringtail/reader/ingest/segment_view.hpp"
#include "ringtail/ringtail.hpp"
#include "ringtail/shm/layout.hpp"
#include "ringtail/shm/segment_file.hpp"

namespace ringtail::reader {
namespace {

using ringtail::test::ProducerChild;
using Outcome = GcDecision::Outcome;

constexpr GcOptions kDryRun{.dry_run = true, .remove_invalid = false};

Options small_options() { return ringtail::test::small_producer_options("rt-gc"); }

// A producer that logs, tells the parent, and waits for resume() to exit.
ProducerChild waiting_producer() {
  return ProducerChild::start_held(small_options(), [] { RINGTAIL_INFO("hello", kv("n", 1)); });
}

// Lets a waiting_producer() log, then exit cleanly; its segment stays.
void let_exit(ProducerChild& child) {
  ASSERT_TRUE(child.ok()) << child.error();
  ASSERT_TRUE(child.wait_signal());
  ASSERT_TRUE(child.resume());
  ASSERT_EQ(child.join(), 0);
}

// What discover_segments() says of the child's segment.
std::optional<DiscoveredSegment> discovered(const ProducerChild& child) {
  DiscoveryOptions options;
  options.pids = {child.pid()};
  const Discovery d = discover_segments(options);
  for (const DiscoveredSegment& s : d.segments) {
    if (s.name == child.segment_name()) return s;
  }
  return std::nullopt;
}

bool exists(const std::string& name) {
  return SegmentView::open(name, SegmentView::Access::kReadOnly).status().code() != absl::StatusCode::kNotFound;
}

// Moves every ring's read position to its write position: nothing pending.
void drain_all(const std::string& name) {
  absl::StatusOr<SegmentView> view = SegmentView::open(name, SegmentView::Access::kReadWrite);
  ASSERT_TRUE(view.ok()) << view.status();
  for (uint32_t i = 0; i < view->slot_count(); ++i) {
    ASSERT_TRUE(view->store_read_pos(i, view->slot_snapshot(i)->write_pos_untrusted).ok());
  }
}

TEST(SegmentGc, ALiveProducersSegmentIsNotOursToJudge) {
  ProducerChild child = waiting_producer();
  ASSERT_TRUE(child.ok()) << child.error();
  ASSERT_TRUE(child.wait_signal());
  const std::optional<DiscoveredSegment> found = discovered(child);
  ASSERT_TRUE(found.has_value());
  EXPECT_FALSE(collect_segment(*found, {}).has_value());
  EXPECT_FALSE(collect_segment(*found, kDryRun).has_value());
  EXPECT_TRUE(exists(child.segment_name()));
  ASSERT_TRUE(child.resume());
  EXPECT_EQ(child.join(), 0);
}

TEST(SegmentGc, PendingEventsKeepAnExitedSegmentUntilDrained) {
  ProducerChild child = waiting_producer();
  ASSERT_NO_FATAL_FAILURE(let_exit(child));
  const std::optional<DiscoveredSegment> found = discovered(child);
  ASSERT_TRUE(found.has_value());

  std::optional<GcDecision> d = collect_segment(*found, {});
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->outcome, Outcome::kKeptPending);
  EXPECT_EQ(d->state, "exited");
  {
    absl::StatusOr<SegmentView> view = SegmentView::open(found->name, SegmentView::Access::kReadOnly);
    ASSERT_TRUE(view.ok()) << view.status();
    EXPECT_EQ(d->pending_bytes, summarize(*view).pending_bytes);
    EXPECT_GT(d->pending_bytes, 0u);
    EXPECT_FALSE(lease_holder(*view).has_value()) << "the lease taken to decide was given back";
  }
  EXPECT_TRUE(exists(found->name));

  drain_all(found->name);
  d = collect_segment(*found, kDryRun);
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->outcome, Outcome::kRemoved);
  EXPECT_EQ(d->state, "exited");
  EXPECT_EQ(d->pending_bytes, 0u);
  EXPECT_TRUE(exists(found->name)) << "a dry run removes nothing";

  d = collect_segment(*found, {});
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->outcome, Outcome::kRemoved);
  EXPECT_TRUE(d->invalid_status.ok());
  EXPECT_FALSE(exists(found->name));
  EXPECT_FALSE(collect_segment(*found, {}).has_value()) << "gone since listed: nothing to say";
}

TEST(SegmentGc, ACrashedProducerIsNamedSo) {
  ProducerChild child = waiting_producer();
  ASSERT_TRUE(child.ok()) << child.error();
  ASSERT_TRUE(child.wait_signal());
  ASSERT_EQ(::kill(child.pid(), SIGKILL), 0);
  ASSERT_EQ(child.join(), 128 + SIGKILL);
  const std::optional<DiscoveredSegment> found = discovered(child);
  ASSERT_TRUE(found.has_value());
  drain_all(found->name);
  const std::optional<GcDecision> d = collect_segment(*found, {});
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->outcome, Outcome::kRemoved);
  EXPECT_EQ(d->state, "crashed");
  EXPECT_FALSE(exists(found->name));
}

TEST(SegmentGc, ASegmentBeingDrainedIsKept) {
  ProducerChild child = waiting_producer();
  ASSERT_NO_FATAL_FAILURE(let_exit(child));
  const std::optional<DiscoveredSegment> found = discovered(child);
  ASSERT_TRUE(found.has_value());
  drain_all(found->name);
  absl::StatusOr<SegmentView> view = SegmentView::open(found->name, SegmentView::Access::kReadWrite);
  ASSERT_TRUE(view.ok()) << view.status();
  absl::StatusOr<ConsumerLease> lease = ConsumerLease::acquire(*view);  // this process drains it
  ASSERT_TRUE(lease.ok()) << lease.status();

  for (const bool dry_run : {true, false}) {
    const std::optional<GcDecision> d = collect_segment(*found, GcOptions{.dry_run = dry_run, .remove_invalid = false});
    ASSERT_TRUE(d.has_value());
    EXPECT_EQ(d->outcome, Outcome::kKeptLeased) << "dry run " << dry_run;
    EXPECT_EQ(d->lease_holder, ::getpid());
    EXPECT_EQ(d->state, "exited");
  }
  EXPECT_TRUE(exists(found->name));
  lease->release();
  const std::optional<GcDecision> d = collect_segment(*found, {});
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->outcome, Outcome::kRemoved);
}

TEST(SegmentGc, AnInvalidSegmentIsKeptUnlessAskedToRemoveIt) {
  ProducerChild child = waiting_producer();
  ASSERT_NO_FATAL_FAILURE(let_exit(child));
  const std::optional<DiscoveredSegment> found = discovered(child);
  ASSERT_TRUE(found.has_value());
  {
    absl::StatusOr<shm::SegmentFile> file = shm::SegmentFile::open(found->name, shm::SegmentFile::Access::kReadWrite);
    ASSERT_TRUE(file.ok()) << file.status();
    reinterpret_cast<shm::SegmentHeader*>(file->data())->abi_version += 100;  // another ABI
  }
  std::optional<GcDecision> d = collect_segment(*found, {});
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->outcome, Outcome::kKeptInvalid);
  EXPECT_FALSE(d->invalid_status.ok());
  EXPECT_TRUE(is_invalid_segment(d->invalid_status)) << d->invalid_status;
  EXPECT_TRUE(d->state.empty());
  EXPECT_TRUE(exists(found->name));

  d = collect_segment(*found, GcOptions{.dry_run = true, .remove_invalid = true});
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->outcome, Outcome::kRemoved);
  EXPECT_TRUE(exists(found->name));

  d = collect_segment(*found, GcOptions{.dry_run = false, .remove_invalid = true});
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->outcome, Outcome::kRemoved);
  EXPECT_FALSE(d->invalid_status.ok()) << "says why it went";
  EXPECT_FALSE(exists(found->name));
}

TEST(SegmentGc, OnlyValidationFailuresCountAsInvalid) {
  EXPECT_TRUE(is_invalid_segment(absl::DataLossError("truncated")));
  EXPECT_TRUE(is_invalid_segment(absl::InvalidArgumentError("not a segment")));
  EXPECT_TRUE(is_invalid_segment(absl::UnimplementedError("ABI 9")));
  EXPECT_TRUE(is_invalid_segment(absl::UnavailableError("initialising")));
  EXPECT_TRUE(is_invalid_segment(absl::OutOfRangeError("geometry")));
  EXPECT_FALSE(is_invalid_segment(absl::PermissionDeniedError("not yours")));
  EXPECT_FALSE(is_invalid_segment(absl::NotFoundError("gone")));
  EXPECT_FALSE(is_invalid_segment(absl::OkStatus()));
}

}  // namespace
}  // namespace ringtail::reader
