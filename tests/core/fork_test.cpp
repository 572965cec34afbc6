// fork(): a child of a logging process writes into a segment of its own,
// named with its own pid, with the parent's call sites still valid; the
// parent's segment never sees the child's events.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <string>

#include "fork_child.hpp"
#include "producer_options.hpp"
#include "ringtail/ringtail.hpp"
#include "ringtail/shm/process_identity.hpp"
#include "segment_view.hpp"

// In ringtail::test: the core tests use its fork harness (ForkedChild,
// ChildChannel, ChildOutcome), SegmentView and small_options() as they are.
namespace ringtail::test {
namespace {

bool site_a(int who, int k) { return RINGTAIL_INFO("site a", ringtail::kv("who", who), ringtail::kv("k", k)); }
bool site_b(int who) { return RINGTAIL_WARN("site b", ringtail::kv("who", who)); }
bool site_c(int who) { return RINGTAIL_DEBUG("site c, first used in the fork child", ringtail::kv("who", who)); }

// Exit status of a reaped process, -1 if it did not exit normally.
int wait_exit_code(pid_t pid) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return -1;
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TEST(ForkTest, ChildLogsIntoItsOwnSegmentWithTheParentsCallSites) {
  ForkedChild child = ForkedChild::start([](ChildChannel& ch) {
    CHILD_EXPECT(ch, init(small_options()).ok());
    const std::string own = segment_name();
    CHILD_EXPECT(ch, site_a(1, 0));
    CHILD_EXPECT(ch, site_a(1, 1));
    CHILD_EXPECT(ch, site_b(1));
    set_min_level(Level::kDebug);  // inherited by the fork child

    std::fflush(nullptr);
    const pid_t grandchild = ::fork();
    if (grandchild == 0) {
      ChildChannel& gch = ch;  // the same pipe: lines are written whole
      CHILD_EXPECT_EQ(gch, min_level(), Level::kDebug);
      CHILD_EXPECT(gch, site_a(2, 0));  // id cached from the parent's table
      CHILD_EXPECT(gch, site_c(2));     // a new site: described in the child's table only
      CHILD_EXPECT(gch, site_b(2));
      const std::string mine = segment_name();
      CHILD_EXPECT(gch, mine != own);
      gch.value("grandchild_segment", mine);
      CHILD_EXPECT_EQ(gch, loss_counters().before_init, 0U);
      shutdown();
      ::_exit(gch.failures() == 0 ? 0 : 1);
    }
    if (!CHILD_EXPECT(ch, grandchild > 0)) return 1;
    ch.value("grandchild_pid", grandchild);
    CHILD_EXPECT_EQ(ch, wait_exit_code(grandchild), 0);
    // The parent carries on in its own segment.
    CHILD_EXPECT(ch, site_a(1, 2));
    CHILD_EXPECT(ch, site_b(1));
    CHILD_EXPECT_EQ(ch, segment_name(), own);
    return 0;
  });
  const std::optional<std::string> grandchild_pid = child.await("grandchild_pid");
  ASSERT_TRUE(grandchild_pid);
  const pid_t grandchild = static_cast<pid_t>(std::stol(*grandchild_pid));
  child.clean_up_segments_of(grandchild);
  const ChildOutcome out = child.finish();
  EXPECT_CHILD_OK(out);

  // The parent's segment: its three call sites' worth of events, none from the child.
  std::optional<SegmentView> parent = SegmentView::open(child.expected_segment());
  ASSERT_TRUE(parent);
  EXPECT_EQ(parent->callsite_count(), 2U) << "the child's new call site reached the parent's table";
  EXPECT_EQ(parent->header().threads_started.load(), 1U);
  int parent_events = 0;
  for (const Record& r : parent->all_records()) {
    if (!r.is_event()) continue;
    ++parent_events;
    EXPECT_EQ(parent->fields(r).at(0).as_i64(), 1) << "an event of the fork child is in the parent's segment";
  }
  EXPECT_EQ(parent_events, 5);

  // The child's segment, named with its pid.
  const std::vector<std::string> names = segments_of(grandchild);
  ASSERT_EQ(names.size(), 1U) << "the fork child has no segment of its own";
  EXPECT_EQ(out.value("grandchild_segment"), names[0]);
  std::optional<SegmentView> forked = SegmentView::open(names[0]);
  ASSERT_TRUE(forked);
  const shm::SegmentHeader& h = forked->header();
  EXPECT_EQ(h.pid, static_cast<uint32_t>(grandchild));
  EXPECT_EQ(names[0], shm::segment_name(grandchild, h.process_start_ticks));
  EXPECT_NE(h.process_start_ticks, 0U);
  EXPECT_EQ(forked->state(), shm::SegmentState::kFinished);
  EXPECT_EQ(h.control_min_level.load(), static_cast<uint32_t>(Level::kDebug));
  EXPECT_EQ(h.ring_capacity, parent->header().ring_capacity);
  EXPECT_EQ(forked->header_text(h.service), "core-test");

  // The parent's entries were copied, so the ids cached in call sites hold.
  ASSERT_EQ(forked->callsite_count(), 3U);
  for (uint32_t id = 0; id < 2; ++id) {
    EXPECT_EQ(std::memcmp(&forked->entry(id), &parent->entry(id), sizeof(shm::CallSiteEntry)), 0) << id;
  }
  EXPECT_EQ(forked->site_text(0).message, "site a");
  EXPECT_EQ(forked->site_text(1).message, "site b");
  EXPECT_EQ(forked->site_text(2).message, "site c, first used in the fork child");
  EXPECT_EQ(forked->entry(2).level, static_cast<uint8_t>(Level::kDebug));

  std::vector<uint32_t> ids;
  for (const Record& r : forked->all_records()) {
    if (!r.is_event()) continue;
    ids.push_back(r.callsite_id);
    EXPECT_EQ(forked->fields(r).at(0).as_i64(), 2) << "an event of the parent is in the child's segment";
  }
  EXPECT_EQ(ids, (std::vector<uint32_t>{0, 2, 1}));
}

TEST(ForkTest, ChildThatExitsWithoutLoggingLeavesNoSegmentAndDoesNotFinishTheParents) {
  ForkedChild child = ForkedChild::start([](ChildChannel& ch) {
    CHILD_EXPECT(ch, init(small_options()).ok());
    CHILD_EXPECT(ch, site_a(1, 0));
    std::fflush(nullptr);
    const pid_t grandchild = ::fork();
    if (grandchild == 0) std::exit(0);  // runs the inherited atexit shutdown
    if (!CHILD_EXPECT(ch, grandchild > 0)) return 1;
    ch.value("grandchild_pid", grandchild);
    CHILD_EXPECT_EQ(ch, wait_exit_code(grandchild), 0);
    CHILD_EXPECT(ch, segments_of(grandchild).empty());
    // Still running, still logging.
    CHILD_EXPECT(ch, site_a(1, 1));
    return 0;
  });
  const std::optional<std::string> grandchild_pid = child.await("grandchild_pid");
  ASSERT_TRUE(grandchild_pid);
  child.clean_up_segments_of(static_cast<pid_t>(std::stol(*grandchild_pid)));
  std::optional<SegmentView> seg = SegmentView::open_after_exit(child);
  ASSERT_TRUE(seg);
  EXPECT_EQ(seg->state(), shm::SegmentState::kRunning) << "the fork child's exit finished its parent's segment";
  EXPECT_EQ(seg->slot(0).committed.load(), 2U);
}

}  // namespace
}  // namespace ringtail::test
