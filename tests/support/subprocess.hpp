// Running a binary as a child process in tests, the one way every test does
// it: Subprocess execs a program with an argv and extra environment, keeps
// its stdout and stderr on pipes and reads them while waiting (for lines,
// for a text, for the exit), with deadlines rather than sleeps. Tool is a
// Subprocess of the `ringtail` binary; run() runs one to its end.
//
//   ringtail::test::Tool drain({"drain", "--follow", "--out", dir});
//   ASSERT_TRUE(drain.wait_for_err("draining")) << drain.err();
//   drain.signal(SIGINT);
//   EXPECT_EQ(drain.wait(), 0) << drain.err();
//
// A program that is not there is a test failure (never a skip): the project
// builds every tool a test runs. The destructor kills and reaps a child that
// still runs. Forked children that run test code rather than exec a binary
// are fork_child.hpp's.
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "bin_dir.hpp"

extern char** environ;

namespace ringtail::test {

struct SubprocessOptions {
  // "NAME=value" entries set in the child over the inherited environment.
  std::vector<std::string> env;
  // Leave out the inherited RINGTAIL_* variables (but RINGTAIL_TEST_*), so
  // a producer's options come from `env` alone.
  bool without_ringtail_env = false;
  // stdout to /dev/null, for a child whose output nobody reads.
  bool discard_stdout = false;
};

class Subprocess {
 public:
  Subprocess(const std::string& path, const std::vector<std::string>& args, SubprocessOptions options = {}) {
    if (::access(path.c_str(), X_OK) != 0) {
      ADD_FAILURE() << path << " is not built (or not executable): " << std::strerror(errno);
      return;
    }
    std::vector<std::string> env = child_environment(options);
    std::vector<char*> envp;
    for (std::string& e : env) envp.push_back(e.data());
    envp.push_back(nullptr);
    std::vector<char*> argv;
    argv.push_back(const_cast<char*>(path.c_str()));
    for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);

    int out[2] = {-1, -1};
    int err[2] = {-1, -1};
    // Closed by a successful execve (O_CLOEXEC): the constructor returns only
    // once the child runs the program, so no one sees (or signals) the forked
    // copy of the test, whose signal masks and handlers are the test's own.
    int execed[2] = {-1, -1};
    if (::pipe2(out, O_CLOEXEC) != 0 || ::pipe2(err, O_CLOEXEC) != 0 || ::pipe2(execed, O_CLOEXEC) != 0) {
      ADD_FAILURE() << "pipe2: " << std::strerror(errno);
      for (int fd : {out[0], out[1], err[0], err[1], execed[0], execed[1]}) {
        if (fd >= 0) ::close(fd);
      }
      return;
    }
    const int null_fd = options.discard_stdout ? ::open("/dev/null", O_WRONLY | O_CLOEXEC) : -1;
    std::fflush(nullptr);
    pid_ = ::fork();
    if (pid_ == 0) {
      ::dup2(null_fd >= 0 ? null_fd : out[1], 1);
      ::dup2(err[1], 2);
      ::execve(path.c_str(), argv.data(), envp.data());
      const int error = errno;
      (void)!::write(execed[1], &error, sizeof(error));
      ::_exit(127);
    }
    if (null_fd >= 0) ::close(null_fd);
    ::close(out[1]);
    ::close(err[1]);
    ::close(execed[1]);
    out_fd_ = out[0];
    err_fd_ = err[0];
    if (pid_ < 0) {
      ADD_FAILURE() << "fork: " << std::strerror(errno);
      ::close(execed[0]);
      close_pipes();
      return;
    }
    int exec_error = 0;
    ssize_t n = 0;
    while ((n = ::read(execed[0], &exec_error, sizeof(exec_error))) < 0 && errno == EINTR) {
    }
    ::close(execed[0]);
    if (n > 0) ADD_FAILURE() << "execve " << path << ": " << std::strerror(exec_error);
  }
  ~Subprocess() {
    if (pid_ > 0 && !reaped_) {
      ::kill(pid_, SIGKILL);
      int status = 0;
      while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
      }
    }
    close_pipes();
  }
  Subprocess(const Subprocess&) = delete;
  Subprocess& operator=(const Subprocess&) = delete;

  // The child's pid; -1 if it could not be started (a test failure already).
  pid_t pid() const { return pid_; }
  // What it wrote so far (all of it after wait()).
  const std::string& out() const { return out_; }
  const std::string& err() const { return err_; }
  // Bytes on the stdout pipe that nobody has read yet.
  int unread_stdout() const {
    int bytes = -1;
    return out_fd_ >= 0 && ::ioctl(out_fd_, FIONREAD, &bytes) == 0 ? bytes : -1;
  }
  // Whether the process has not exited yet (without reaping it).
  bool running() const {
    if (pid_ <= 0 || reaped_) return false;
    siginfo_t info{};
    return ::waitid(P_PID, static_cast<id_t>(pid_), &info, WEXITED | WNOHANG | WNOWAIT) == 0 && info.si_pid == 0;
  }
  // Sends `signal_number` unless the child is gone (reaped); true if sent.
  bool signal(int signal_number) const { return pid_ > 0 && !reaped_ && ::kill(pid_, signal_number) == 0; }

  // Reads until stdout holds `lines` lines (false if it closes it first, or
  // at the timeout).
  bool read_lines(size_t lines, int timeout_ms = 20000) {
    return read_until([&] { return static_cast<size_t>(std::count(out_.begin(), out_.end(), '\n')) >= lines; },
                      timeout_ms);
  }
  // Reads until stdout holds `needle`.
  bool wait_for_out(std::string_view needle, int timeout_ms = 20000) {
    return read_until([&] { return out_.find(needle) != std::string::npos; }, timeout_ms);
  }
  // Reads until stderr holds `needle`.
  bool wait_for_err(std::string_view needle, int timeout_ms = 20000) {
    return read_until([&] { return err_.find(needle) != std::string::npos; }, timeout_ms);
  }

  // Waits for the exit, reading its output (SIGKILL after the timeout, which
  // timed_out() then tells); the exit code, or 128 + the signal's number.
  int wait(int timeout_ms = 120000) {
    if (pid_ <= 0) return -1;
    if (reaped_) return code_;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    while (out_fd_ >= 0 || err_fd_ >= 0) {
      const int64_t left = ms_left(deadline);
      if (left <= 0) {
        ::kill(pid_, SIGKILL);
        timed_out_ = true;
        break;
      }
      pump(static_cast<int>(left));
    }
    int status = 0;
    struct rusage usage {};
    while (::wait4(pid_, &status, 0, &usage) < 0 && errno == EINTR) {
    }
    max_rss_kib_ = usage.ru_maxrss;
    reaped_ = true;
    code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return code_;
  }
  bool timed_out() const { return timed_out_; }
  // After wait(): the process's peak resident memory.
  long max_rss_kib() const { return max_rss_kib_; }

 private:
  static std::vector<std::string> child_environment(const SubprocessOptions& options) {
    auto name_of = [](std::string_view entry) { return entry.substr(0, entry.find('=')); };
    std::vector<std::string> env;
    for (char** e = environ; *e != nullptr; ++e) {
      const std::string_view entry = *e;
      const std::string_view name = name_of(entry);
      if (options.without_ringtail_env && name.starts_with("RINGTAIL_") && !name.starts_with("RINGTAIL_TEST")) {
        continue;
      }
      const bool overridden = std::any_of(options.env.begin(), options.env.end(),
                                          [&](const std::string& set) { return name_of(set) == name; });
      if (!overridden) env.emplace_back(entry);
    }
    env.insert(env.end(), options.env.begin(), options.env.end());
    return env;
  }

  static int64_t ms_left(std::chrono::steady_clock::time_point deadline) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count();
  }

  template <class Done>
  bool read_until(Done done, int timeout_ms) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    while (!done()) {
      const int64_t left = ms_left(deadline);
      if (left <= 0 || !pump(static_cast<int>(std::min<int64_t>(left, 100)))) return done();
    }
    return true;
  }

  // One poll round over the open pipes; false when both are closed.
  bool pump(int timeout_ms) {
    if (out_fd_ < 0 && err_fd_ < 0) return false;
    pollfd fds[2] = {{out_fd_, POLLIN, 0}, {err_fd_, POLLIN, 0}};
    if (::poll(fds, 2, timeout_ms) <= 0) return true;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      char chunk[4096];
      const ssize_t n = ::read(fds[i].fd, chunk, sizeof(chunk));
      int& fd = i == 0 ? out_fd_ : err_fd_;
      if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
      if (n <= 0) {
        ::close(fd);
        fd = -1;
      } else {
        (i == 0 ? out_ : err_).append(chunk, static_cast<size_t>(n));
      }
    }
    return true;
  }

  void close_pipes() {
    for (int* fd : {&out_fd_, &err_fd_}) {
      if (*fd >= 0) ::close(*fd);
      *fd = -1;
    }
  }

  pid_t pid_ = -1;
  int out_fd_ = -1;
  int err_fd_ = -1;
  bool reaped_ = false;
  bool timed_out_ = false;
  int code_ = -1;
  long max_rss_kib_ = 0;
  std::string out_;
  std::string err_;
};

// A running `ringtail` (or another of the project's tools under tools/).
class Tool : public Subprocess {
 public:
  explicit Tool(const std::vector<std::string>& args, const std::string& path = tool_path("ringtail"),
                SubprocessOptions options = {})
      : Subprocess(path, args, std::move(options)) {}
};

// Whether tools/<tool> is built, for a fixture's SetUp():
//   ASSERT_TRUE(ringtail::test::tool_built("ringtail"));
// A missing tool fails the test: the build makes every tool a test runs.
inline ::testing::AssertionResult tool_built(std::string_view tool) {
  const std::string path = tool_path(tool);
  if (::access(path.c_str(), X_OK) == 0) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << path << " is not built (or not executable)";
}

// What run() saw: the exit code (128 + signal number if killed), stdout, stderr.
struct Result {
  int code = -1;
  std::string out;
  std::string err;
};

// Runs `ringtail args...` to its end.
inline Result run(const std::vector<std::string>& args, int timeout_ms = 120000) {
  Tool tool(args);
  Result r;
  r.code = tool.wait(timeout_ms);
  r.out = tool.out();
  r.err = tool.err();
  return r;
}

}  // namespace ringtail::test
