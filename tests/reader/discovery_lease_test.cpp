// Segment discovery (listing /dev/shm, or a test directory), producer states
// and the one-consumer reader lease, against real producers in forked children.
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "eventually.hpp"
#include "fork_child.hpp"
#include "needs_root.hpp"
#include "producer_child.hpp"
#include "ringtail/reader/ingest/consumer_lease.hpp"
#include "ringtail/reader/ingest/segment_directory.hpp"
#include "ringtail/reader/ingest/segment_view.hpp"
#include "ringtail/shm/layout.hpp"
#include "ringtail/shm/process_identity.hpp"

namespace ringtail::reader {
namespace {

using ringtail::test::ProducerChild;

Options small_options() { return ringtail::test::small_producer_options("rt-discovery"); }

// A producer child that waits for the parent's resume() before it exits.
ProducerChild waiting_producer() {
  return ProducerChild::start_held(small_options(), [] { RINGTAIL_INFO("hello"); });
}

std::vector<std::string> names_of(const Discovery& d) {
  std::vector<std::string> names;
  for (const DiscoveredSegment& s : d.segments) names.push_back(s.name);
  return names;
}

bool contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

// A temporary directory, removed with its contents.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "ringtail-discovery-XXXXXX").string();
    if (::mkdtemp(pattern.data()) != nullptr) path_ = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }
  std::string file(const std::string& name, uint64_t bytes = 0) const {
    const std::string p = path_ + "/" + name;
    const int fd = ::open(p.c_str(), O_CREAT | O_WRONLY | O_TRUNC, 0600);
    if (fd >= 0) {
      if (bytes > 0 && ::ftruncate(fd, static_cast<off_t>(bytes)) != 0) std::abort();
      ::close(fd);
    }
    return p;
  }

 private:
  std::string path_;
};

using ringtail::test::dead_pid;

// --- Discovery ---------------------------------------------------------------

TEST(Discovery, FindsRealSegmentsAndFiltersByPid) {
  ProducerChild a = waiting_producer();
  ProducerChild b = waiting_producer();
  ASSERT_TRUE(a.ok()) << a.error();
  ASSERT_TRUE(b.ok()) << b.error();
  ASSERT_TRUE(a.wait_signal());
  ASSERT_TRUE(b.wait_signal());

  const Discovery all = discover_segments({});
  ASSERT_TRUE(all.status.ok()) << all.status;
  const std::vector<std::string> names = names_of(all);
  EXPECT_TRUE(contains(names, a.segment_name()));
  EXPECT_TRUE(contains(names, b.segment_name()));
  EXPECT_TRUE(std::is_sorted(all.segments.begin(), all.segments.end(), [](const auto& x, const auto& y) {
    return x.id.pid < y.id.pid || (x.id.pid == y.id.pid && x.id.start_ticks < y.id.start_ticks);
  }));

  DiscoveryOptions only_a;
  only_a.pids = {a.pid()};
  const Discovery one = discover_segments(only_a);
  ASSERT_TRUE(one.status.ok()) << one.status;
  ASSERT_EQ(one.segments.size(), 1u);
  const DiscoveredSegment& s = one.segments[0];
  EXPECT_EQ(s.name, a.segment_name());
  EXPECT_EQ(s.id.pid, a.pid());
  EXPECT_EQ(s.id.start_ticks, shm::process_start_ticks(a.pid()));
  EXPECT_EQ(s.file_uid, ::geteuid());
  EXPECT_GT(s.file_bytes, 0u);
  EXPECT_GT(s.allocated_bytes, 0u);            // header, table and directory are reserved
  EXPECT_LT(s.allocated_bytes, s.file_bytes);  // but not the unused ring
  EXPECT_TRUE(one.skipped.empty());

  DiscoveryOptions nobody;
  nobody.pids = {dead_pid()};
  EXPECT_TRUE(discover_segments(nobody).segments.empty());
  a.resume();
  b.resume();
  EXPECT_EQ(a.join(), 0);
  EXPECT_EQ(b.join(), 0);
}

TEST(Discovery, ReportsMalformedNamesAndIgnoresOtherFiles) {
  TempDir dir;
  ASSERT_FALSE(dir.path().empty());
  dir.file("ringtail.42.1000", 8192);
  dir.file("ringtail.7.5");
  dir.file("ringtail.abc");
  dir.file("ringtail.12");
  dir.file("ringtail.12.34.56");
  dir.file("ringtail.+12.34");
  dir.file("ringtail.012.34");
  dir.file("ringtail.0.34");
  dir.file("other.txt");
  dir.file("ringtailX.1.2");
  ASSERT_EQ(::mkdir((dir.path() + "/ringtail.43.1").c_str(), 0700), 0);

  DiscoveryOptions options;
  options.directory = dir.path();
  const Discovery d = discover_segments(options);
  ASSERT_TRUE(d.status.ok()) << d.status;
  EXPECT_EQ(names_of(d), (std::vector<std::string>{"ringtail.7.5", "ringtail.42.1000"}));  // by pid
  EXPECT_EQ(d.segments[1].file_bytes, 8192u);
  const std::string bad = ": not a segment name (expected ringtail.<pid>.<start_ticks>)";
  EXPECT_EQ(d.skipped, (std::vector<std::string>{
                           "ringtail.+12.34" + bad,
                           "ringtail.0.34" + bad,
                           "ringtail.012.34" + bad,
                           "ringtail.12.34.56" + bad,  // lines sort as text: '.' < ':'
                           "ringtail.12" + bad,
                           "ringtail.43.1: not a regular file",
                           "ringtail.abc" + bad,
                       }));

  // With pids named, names that belong to no pid are not reported; a
  // non-regular file is, if its pid was named.
  options.pids = {7};
  const Discovery seven = discover_segments(options);
  EXPECT_EQ(names_of(seven), std::vector<std::string>{"ringtail.7.5"});
  EXPECT_TRUE(seven.skipped.empty());
  options.pids = {43};
  const Discovery forty_three = discover_segments(options);
  EXPECT_TRUE(forty_three.segments.empty());
  EXPECT_EQ(forty_three.skipped, std::vector<std::string>{"ringtail.43.1: not a regular file"});
}

TEST(Discovery, SkipsOtherUsersSegmentsUnlessAsked) {
  RINGTAIL_SKIP_OR_FAIL_WITHOUT_ROOT("chowns test files");
  TempDir dir;
  ASSERT_FALSE(dir.path().empty());
  ASSERT_EQ(::chown(dir.file("ringtail.50.1").c_str(), 12345, 12345), 0);
  ASSERT_EQ(::chown(dir.file("ringtail.51.1").c_str(), 1000, 1000), 0);

  DiscoveryOptions options;
  options.directory = dir.path();
  options.as_uid = 1000;  // an ordinary user
  Discovery d = discover_segments(options);
  EXPECT_EQ(names_of(d), std::vector<std::string>{"ringtail.51.1"});
  EXPECT_EQ(d.skipped, std::vector<std::string>{"ringtail.50.1: owned by another user (uid 12345)"});

  options.all_users = true;
  d = discover_segments(options);
  EXPECT_EQ(names_of(d), (std::vector<std::string>{"ringtail.50.1", "ringtail.51.1"}));
  ASSERT_EQ(d.segments.size(), 2u);
  EXPECT_EQ(d.segments[0].file_uid, 12345u);
  EXPECT_TRUE(d.skipped.empty());

  options.all_users = false;
  options.pids = {50};  // named explicitly
  d = discover_segments(options);
  EXPECT_EQ(names_of(d), std::vector<std::string>{"ringtail.50.1"});
  EXPECT_TRUE(d.skipped.empty());

  options.pids.clear();
  options.as_uid = 0;  // root sees everything
  d = discover_segments(options);
  EXPECT_EQ(names_of(d), (std::vector<std::string>{"ringtail.50.1", "ringtail.51.1"}));
}

TEST(Discovery, ADirectoryThatCannotBeListedIsAnError) {
  DiscoveryOptions options;
  options.directory = "/nonexistent/ringtail-test";
  const Discovery d = discover_segments(options);
  EXPECT_EQ(d.status.code(), absl::StatusCode::kNotFound) << d.status;
  EXPECT_NE(d.status.message().find("/nonexistent/ringtail-test"), std::string::npos);
}

// --- Producer state ------------------------------------------------------------

TEST(ProducerState, AliveExitedCrashed) {
  EXPECT_EQ(producer_state_name(ProducerState::kAlive), "alive");
  EXPECT_EQ(producer_state_name(ProducerState::kExited), "exited");
  EXPECT_EQ(producer_state_name(ProducerState::kCrashed), "crashed");

  ProducerChild clean = waiting_producer();
  ProducerChild killed = waiting_producer();
  ASSERT_TRUE(clean.ok()) << clean.error();
  ASSERT_TRUE(killed.ok()) << killed.error();
  ASSERT_TRUE(clean.wait_signal());
  ASSERT_TRUE(killed.wait_signal());
  absl::StatusOr<SegmentView> clean_view = SegmentView::open(clean.segment_name(), SegmentView::Access::kReadOnly);
  absl::StatusOr<SegmentView> killed_view = SegmentView::open(killed.segment_name(), SegmentView::Access::kReadOnly);
  ASSERT_TRUE(clean_view.ok()) << clean_view.status();
  ASSERT_TRUE(killed_view.ok()) << killed_view.status();
  EXPECT_EQ(producer_state(*clean_view), ProducerState::kAlive);
  EXPECT_EQ(producer_state(*killed_view), ProducerState::kAlive);

  ASSERT_EQ(::kill(killed.pid(), SIGKILL), 0);
  // A zombie already counts as gone; reaped, all the more.
  EXPECT_TRUE(ringtail::test::eventually([&] { return producer_state(*killed_view) != ProducerState::kAlive; }));
  EXPECT_EQ(producer_state(*killed_view), ProducerState::kCrashed);
  EXPECT_EQ(killed.join(), 128 + SIGKILL);
  EXPECT_EQ(producer_state(*killed_view), ProducerState::kCrashed);

  clean.resume();
  EXPECT_EQ(clean.join(), 0);  // shutdown() marked the segment finished
  EXPECT_EQ(producer_state(*clean_view), ProducerState::kExited);
}

// --- Consumer lease ------------------------------------------------------------

class ConsumerLeaseTest : public ::testing::Test {
 protected:
  void SetUp() override {
    producer_ = std::make_unique<ProducerChild>(waiting_producer());
    ASSERT_TRUE(producer_->ok()) << producer_->error();
    ASSERT_TRUE(producer_->wait_signal());
    absl::StatusOr<SegmentView> view = SegmentView::open(producer_->segment_name(), SegmentView::Access::kReadWrite);
    ASSERT_TRUE(view.ok()) << view.status();
    view_.emplace(std::move(*view));
  }
  void TearDown() override {
    view_.reset();
    producer_.reset();
  }

  uint64_t word() const { return view_->reader_lease_word()->load(); }
  static uint64_t my_lease() {
    return shm::make_reader_lease(static_cast<uint32_t>(::getpid()), *shm::process_start_ticks(::getpid()));
  }

  std::unique_ptr<ProducerChild> producer_;
  std::optional<SegmentView> view_;
};

TEST_F(ConsumerLeaseTest, OneConsumerPerSegmentInOneProcess) {
  EXPECT_EQ(word(), 0u);
  EXPECT_EQ(lease_holder(*view_), std::nullopt);
  {
    absl::StatusOr<ConsumerLease> first = ConsumerLease::acquire(*view_);
    ASSERT_TRUE(first.ok()) << first.status();
    EXPECT_TRUE(first->held());
    EXPECT_EQ(first->took_over_from(), std::nullopt);
    EXPECT_EQ(word(), my_lease());
    EXPECT_EQ(first->value(), my_lease());
    EXPECT_EQ(lease_holder(*view_), ::getpid());

    absl::StatusOr<ConsumerLease> second = ConsumerLease::acquire(*view_);
    ASSERT_EQ(second.status().code(), absl::StatusCode::kUnavailable) << second.status();
    EXPECT_NE(second.status().message().find("is being drained by pid " + std::to_string(::getpid())),
              std::string::npos)
        << second.status();
    EXPECT_EQ(word(), my_lease());  // the failed attempt changed nothing

    // Moving keeps one holder; the moved-from object releases nothing.
    ConsumerLease moved = std::move(*first);
    EXPECT_FALSE(first->held());
    EXPECT_TRUE(moved.held());
    EXPECT_EQ(word(), my_lease());
  }
  EXPECT_EQ(word(), 0u);  // released
  EXPECT_EQ(lease_holder(*view_), std::nullopt);

  absl::StatusOr<ConsumerLease> again = ConsumerLease::acquire(*view_);
  ASSERT_TRUE(again.ok()) << again.status();
  again->release();
  EXPECT_FALSE(again->held());
  EXPECT_EQ(word(), 0u);
}

TEST_F(ConsumerLeaseTest, AReadOnlyViewCannotTakeTheLease) {
  absl::StatusOr<SegmentView> ro = SegmentView::open(producer_->segment_name(), SegmentView::Access::kReadOnly);
  ASSERT_TRUE(ro.ok()) << ro.status();
  EXPECT_EQ(ConsumerLease::acquire(*ro).status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(word(), 0u);
  absl::StatusOr<ConsumerLease> lease = ConsumerLease::acquire(*view_);
  ASSERT_TRUE(lease.ok()) << lease.status();
  EXPECT_EQ(lease_holder(*ro), ::getpid());  // but it sees the holder
}

TEST_F(ConsumerLeaseTest, StaleLeasesAreTakenOver) {
  const pid_t gone = dead_pid();
  const uint64_t init_ticks = shm::process_start_ticks(1).value_or(0);
  const uint64_t stale_words[] = {
      shm::make_reader_lease(static_cast<uint32_t>(gone), 12345),  // a reaped process
      shm::make_reader_lease(1, init_ticks + 1),                   // a live pid, but another process (reused pid)
      0xFFFFFFFF00000000ULL,                                       // no valid pid at all
  };
  for (const uint64_t stale : stale_words) {
    SCOPED_TRACE(stale);
    view_->reader_lease_word()->store(stale);
    EXPECT_EQ(lease_holder(*view_), std::nullopt);
    {
      absl::StatusOr<ConsumerLease> lease = ConsumerLease::acquire(*view_);
      ASSERT_TRUE(lease.ok()) << lease.status();
      EXPECT_EQ(lease->took_over_from(), static_cast<pid_t>(static_cast<uint32_t>(stale >> 32)));
      EXPECT_EQ(word(), my_lease());
    }
    EXPECT_EQ(word(), 0u);
  }
}

TEST_F(ConsumerLeaseTest, ReleaseLeavesALeaseSomeoneElseTookOver) {
  absl::StatusOr<ConsumerLease> lease = ConsumerLease::acquire(*view_);
  ASSERT_TRUE(lease.ok()) << lease.status();
  const uint64_t other = shm::make_reader_lease(1, shm::process_start_ticks(1).value_or(0));
  view_->reader_lease_word()->store(other);  // another reader judged us dead
  lease->release();
  EXPECT_EQ(word(), other);
  EXPECT_EQ(lease_holder(*view_), 1);  // init runs
  const absl::StatusOr<ConsumerLease> blocked = ConsumerLease::acquire(*view_);
  EXPECT_EQ(blocked.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(blocked.status().message().find("is being drained by pid 1"), std::string::npos) << blocked.status();
  view_->reader_lease_word()->store(0);
}

// The holder's stall words (mark_stalled) are its own: cleared when it gives
// the lease back, by the next holder when it takes over, and left alone by a
// holder whose lease someone else took.
TEST_F(ConsumerLeaseTest, StallWordsBelongToTheHolder) {
  auto stall = [&] { return reader_stall(*view_); };
  {
    absl::StatusOr<ConsumerLease> lease = ConsumerLease::acquire(*view_);
    ASSERT_TRUE(lease.ok()) << lease.status();
    lease->mark_stalled(12345, ENOSPC);
    EXPECT_EQ(stall().since_realtime_ns_untrusted, 12345u);
    EXPECT_EQ(stall().errno_untrusted, static_cast<uint32_t>(ENOSPC));
    lease->clear_stalled();
    EXPECT_EQ(stall().since_realtime_ns_untrusted, 0u);
    lease->mark_stalled(23456, 0);
  }
  EXPECT_EQ(stall().since_realtime_ns_untrusted, 0u) << "released with the lease";

  // What a reader that died while stalled left behind.
  view_->reader_stalled_since_word()->store(777);
  view_->reader_stall_errno_word()->store(ENOSPC);
  view_->reader_lease_word()->store(shm::make_reader_lease(static_cast<uint32_t>(dead_pid()), 1));
  absl::StatusOr<ConsumerLease> lease = ConsumerLease::acquire(*view_);
  ASSERT_TRUE(lease.ok()) << lease.status();
  EXPECT_EQ(stall().since_realtime_ns_untrusted, 0u);
  EXPECT_EQ(stall().errno_untrusted, 0u);

  lease->mark_stalled(34567, ENOSPC);
  const uint64_t other = shm::make_reader_lease(1, shm::process_start_ticks(1).value_or(0));
  view_->reader_lease_word()->store(other);  // another reader judged us dead: its words now
  lease->release();
  EXPECT_EQ(stall().since_realtime_ns_untrusted, 34567u);
  view_->reader_lease_word()->store(0);
}

TEST_F(ConsumerLeaseTest, LeaseAcrossProcesses) {
  const std::string name = producer_->segment_name();
  ringtail::test::ForkedChild reader = ringtail::test::ForkedChild::start([&name](ringtail::test::ChildChannel& ch) {
    absl::StatusOr<SegmentView> view = SegmentView::open(name, SegmentView::Access::kReadWrite);
    if (!CHILD_EXPECT(ch, view.ok())) return 1;
    absl::StatusOr<ConsumerLease> lease = ConsumerLease::acquire(*view);
    if (!CHILD_EXPECT(ch, lease.ok())) return 1;
    ch.value("leased", 1);
    ch.receive(60000);  // hold it until killed
    return 0;
  });
  ASSERT_EQ(reader.await("leased"), "1");

  EXPECT_EQ(lease_holder(*view_), reader.pid());
  absl::StatusOr<ConsumerLease> blocked = ConsumerLease::acquire(*view_);
  ASSERT_EQ(blocked.status().code(), absl::StatusCode::kUnavailable) << blocked.status();
  EXPECT_NE(blocked.status().message().find("is being drained by pid " + std::to_string(reader.pid())),
            std::string::npos)
      << blocked.status();

  ASSERT_EQ(::kill(reader.pid(), SIGKILL), 0);
  const ringtail::test::ChildOutcome outcome = reader.finish();
  EXPECT_EQ(outcome.signal(), SIGKILL);
  EXPECT_EQ(lease_holder(*view_), std::nullopt);  // stale: its holder is gone

  absl::StatusOr<ConsumerLease> taken = ConsumerLease::acquire(*view_);
  ASSERT_TRUE(taken.ok()) << taken.status();
  EXPECT_EQ(taken->took_over_from(), outcome.pid);
  EXPECT_EQ(lease_holder(*view_), ::getpid());
}

}  // namespace
}  // namespace ringtail::reader
