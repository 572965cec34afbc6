// Segment names and process identity: "ringtail.<pid>.<start_ticks>".
#include "ringtail/shm/process_identity.hpp"

#include <gtest/gtest.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <fstream>
#include <iterator>
#include <limits>
#include <string>

#include "fork_child.hpp"

namespace ringtail::shm {
namespace {

TEST(ProcessIdentityTest, SegmentNameFormat) {
  EXPECT_EQ(segment_name(1234, 56789), "ringtail.1234.56789");
  EXPECT_EQ(segment_name(1, 0), "ringtail.1.0");
}

TEST(ProcessIdentityTest, SegmentNameRoundTrips) {
  const std::pair<pid_t, uint64_t> ids[] = {{1, 0},
                                            {1234, 56789},
                                            {std::numeric_limits<pid_t>::max(), std::numeric_limits<uint64_t>::max()},
                                            {::getpid(), 42}};
  for (const auto& [pid, ticks] : ids) {
    const std::string name = segment_name(pid, ticks);
    const std::optional<SegmentId> id = parse_segment_name(name);
    ASSERT_TRUE(id.has_value()) << name;
    EXPECT_EQ(id->pid, pid) << name;
    EXPECT_EQ(id->start_ticks, ticks) << name;
  }
}

TEST(ProcessIdentityTest, TaggedNamesNameTheSameProcess) {
  EXPECT_EQ(segment_name(1234, 56789, 0x00ab0000ffffffffULL), "ringtail.1234.56789.00ab0000ffffffff");
  const std::optional<SegmentId> id = parse_segment_name("ringtail.1234.56789.00ab0000ffffffff");
  ASSERT_TRUE(id.has_value());
  EXPECT_EQ(id->pid, 1234);
  EXPECT_EQ(id->start_ticks, 56789U);
  for (const char* bad : {"ringtail.1.2.3", "ringtail.1.2.00AB0000FFFFFFFF", "ringtail.1.2.00ab0000ffffffff0",
                          "ringtail.1.2.0ab0000ffffffff", "ringtail.1.2.00ab0000fffffffg",
                          "ringtail.1.2.00ab0000ffffffff.1", "ringtail.1.2.+0ab0000ffffffff"}) {
    EXPECT_FALSE(parse_segment_name(bad).has_value()) << "accepted '" << bad << "'";
  }
}

TEST(ProcessIdentityTest, UidsOfALiveProcessAndNoneForAnother) {
  const std::optional<uint64_t> ticks = process_start_ticks(::getpid());
  ASSERT_TRUE(ticks.has_value());
  const std::optional<ProcessUids> uids = process_uids({::getpid(), *ticks});
  ASSERT_TRUE(uids.has_value());
  EXPECT_EQ(uids->real, ::getuid());
  EXPECT_EQ(uids->effective, ::geteuid());
  EXPECT_EQ(uids->filesystem, ::geteuid());
  EXPECT_FALSE(process_uids({::getpid(), *ticks + 1}).has_value()) << "another start time is another process";
  EXPECT_FALSE(process_uids({std::numeric_limits<pid_t>::max(), 1}).has_value());
}

TEST(ProcessIdentityTest, ParseRejectsOtherNames) {
  const char* rejects[] = {
      "",
      "foo",
      "ringtail",
      "ringtail.",
      "ringtail..",
      "ringtail.1",
      "ringtail.1.",
      "ringtail..2",
      "ringtail.+1.2",
      "ringtail.1.+2",
      "ringtail.-1.2",
      "ringtail.0.2",
      "ringtail.01.2",
      "ringtail.1.02",
      "ringtail. 1.2",
      "ringtail.1.2 ",
      "ringtail.1.2.3",
      "ringtail.1.2.",
      "ringtail.1.x",
      "ringtail.0x10.2",
      "ringtail.2147483648.1",            // pid beyond pid_t
      "ringtail.1.18446744073709551616",  // ticks beyond u64
      "Ringtail.1.2",
      "xringtail.1.2",
      "/ringtail.1.2",
      "ringtail.1.2\n",
  };
  for (const char* name : rejects) {
    EXPECT_FALSE(parse_segment_name(name).has_value()) << "accepted '" << name << "'";
  }
}

TEST(ProcessIdentityTest, StartTicksOfThisProcessMatchProc) {
  const std::optional<uint64_t> ticks = process_start_ticks(::getpid());
  ASSERT_TRUE(ticks.has_value());
  EXPECT_EQ(ticks, test::proc_start_ticks(::getpid()));
  EXPECT_GT(*ticks, 0U);
  EXPECT_TRUE(process_alive({::getpid(), *ticks}));
  EXPECT_FALSE(process_alive({::getpid(), *ticks + 1})) << "another start time is another process";
}

TEST(ProcessIdentityTest, ChildIsAliveThenZombieAndReapedIsGone) {
  test::ForkedChild forked = test::ForkedChild::start([](test::ChildChannel& ch) {
    ch.receive();  // until the parent says so
    return 0;
  });
  const pid_t child = forked.pid();
  const std::optional<uint64_t> ticks = process_start_ticks(child);
  ASSERT_TRUE(ticks.has_value());
  EXPECT_EQ(ticks, test::proc_start_ticks(child));
  EXPECT_TRUE(process_alive({child, *ticks}));

  ASSERT_TRUE(forked.send("exit"));
  siginfo_t info{};
  ASSERT_EQ(::waitid(P_PID, child, &info, WEXITED | WNOWAIT), 0);  // a zombie now, not reaped
  EXPECT_FALSE(process_alive({child, *ticks})) << "a zombie writes nothing more";

  EXPECT_CHILD_OK(forked.finish());  // reaped
  EXPECT_FALSE(process_alive({child, *ticks}));
  EXPECT_FALSE(process_start_ticks(child).has_value());
}

// pthread_exit() in main(): the main thread is a zombie, the process is not.
TEST(ProcessIdentityTest, AliveWhileAnyThreadRunsAfterTheMainThreadExited) {
  int gate[2];
  int ready[2];
  ASSERT_EQ(::pipe(gate), 0);
  ASSERT_EQ(::pipe(ready), 0);
  std::fflush(nullptr);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::close(gate[1]);
    ::close(ready[0]);
    static int gate_fd = gate[0];
    static int ready_fd = ready[1];
    pthread_t worker;
    ::pthread_create(
        &worker, nullptr,
        [](void*) -> void* {
          char c = 'r';
          (void)::write(ready_fd, &c, 1);
          while (::read(gate_fd, &c, 1) < 0) {
          }
          ::_exit(0);
        },
        nullptr);
    // The main thread ends alone, as pthread_exit() would end it (that would
    // unwind through the test framework, which catches the unwinding).
    ::syscall(SYS_exit, 0);
  }
  ::close(gate[0]);
  ::close(ready[1]);
  char c = 0;
  ASSERT_EQ(::read(ready[0], &c, 1), 1);
  const std::optional<uint64_t> ticks = process_start_ticks(child);
  ASSERT_TRUE(ticks.has_value());
  // Wait for the main thread to become a zombie.
  const std::string stat_path = "/proc/" + std::to_string(child) + "/stat";
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::chrono::steady_clock::now() < deadline) {
    std::ifstream in(stat_path);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const size_t close = text.rfind(')');
    if (close != std::string::npos && close + 2 < text.size() && text[close + 2] == 'Z') break;
    ::sched_yield();
  }
  EXPECT_TRUE(process_alive({child, *ticks})) << "a process whose main thread exited still runs its other threads";

  ::close(gate[1]);  // lets the worker end the process
  siginfo_t info{};
  ASSERT_EQ(::waitid(P_PID, child, &info, WEXITED | WNOWAIT), 0);
  EXPECT_FALSE(process_alive({child, *ticks})) << "every thread has exited";
  ASSERT_EQ(::waitpid(child, nullptr, 0), child);
  ::close(ready[0]);
}

TEST(ProcessIdentityTest, NoSuchProcess) {
  EXPECT_FALSE(process_start_ticks(std::numeric_limits<pid_t>::max()).has_value());
  EXPECT_FALSE(process_alive({std::numeric_limits<pid_t>::max(), 1}));
}

}  // namespace
}  // namespace ringtail::shm
