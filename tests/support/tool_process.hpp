// Running the project's command-line tools as processes in tests: Tool
// starts one with its stdout and stderr on pipes and reads them while
// waiting (for lines, for a text on stderr, for the exit), with deadlines
// rather than sleeps; run() runs one to its end.
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "bin_dir.hpp"

namespace ringtail::test {

// A running `ringtail` (or another of the project's tools) with its stdout
// and stderr on pipes. The destructor kills it if it still runs.
class Tool {
 public:
  explicit Tool(const std::vector<std::string>& args, const std::string& path = tool_path("ringtail")) {
    int out[2];
    int err[2];
    if (::pipe2(out, O_CLOEXEC) != 0 || ::pipe2(err, O_CLOEXEC) != 0) return;
    std::fflush(nullptr);
    pid_ = ::fork();
    if (pid_ == 0) {
      ::dup2(out[1], 1);
      ::dup2(err[1], 2);
      std::vector<char*> argv;
      argv.push_back(const_cast<char*>(path.c_str()));
      for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
      argv.push_back(nullptr);
      ::execv(path.c_str(), argv.data());
      ::_exit(127);
    }
    ::close(out[1]);
    ::close(err[1]);
    out_fd_ = out[0];
    err_fd_ = err[0];
  }
  ~Tool() {
    if (pid_ > 0 && !reaped_) {
      ::kill(pid_, SIGKILL);
      int status = 0;
      ::waitpid(pid_, &status, 0);
    }
    if (out_fd_ >= 0) ::close(out_fd_);
    if (err_fd_ >= 0) ::close(err_fd_);
  }

  pid_t pid() const { return pid_; }
  const std::string& out() const { return out_; }
  // Bytes on the stdout pipe that nobody has read yet.
  int unread_stdout() const {
    int bytes = -1;
    return out_fd_ >= 0 && ::ioctl(out_fd_, FIONREAD, &bytes) == 0 ? bytes : -1;
  }
  // Whether the process has not exited yet (without reaping it).
  bool running() const {
    siginfo_t info{};
    return ::waitid(P_PID, static_cast<id_t>(pid_), &info, WEXITED | WNOHANG | WNOWAIT) == 0 && info.si_pid == 0;
  }
  const std::string& err() const { return err_; }

  // Reads until stdout holds `lines` lines (or the tool closes it, or the timeout).
  bool read_lines(size_t lines, int timeout_ms = 20000) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    while (static_cast<size_t>(std::count(out_.begin(), out_.end(), '\n')) < lines) {
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0 || !pump(static_cast<int>(left.count()))) return false;
    }
    return true;
  }

  // Reads until stderr holds `needle` (or the tool closes it, or the timeout).
  bool wait_for_err(const std::string& needle, int timeout_ms = 20000) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    while (err_.find(needle) == std::string::npos) {
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0 || !pump(static_cast<int>(std::min<int64_t>(left.count(), 100)))) return false;
    }
    return true;
  }

  // Waits for the exit (SIGKILL after the timeout); the exit code, or 128 + signal.
  int wait(int timeout_ms = 60000) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    while (out_fd_ >= 0 || err_fd_ >= 0) {
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) {
        ::kill(pid_, SIGKILL);
        break;
      }
      pump(static_cast<int>(left.count()));
    }
    int status = 0;
    struct rusage usage {};
    ::wait4(pid_, &status, 0, &usage);
    max_rss_kib_ = usage.ru_maxrss;
    reaped_ = true;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }
  // After wait(): the process's peak resident memory.
  long max_rss_kib() const { return max_rss_kib_; }

 private:
  // One poll round over the open pipes; false when both are closed.
  bool pump(int timeout_ms) {
    pollfd fds[2] = {{out_fd_, POLLIN, 0}, {err_fd_, POLLIN, 0}};
    if (out_fd_ < 0 && err_fd_ < 0) return false;
    if (::poll(fds, 2, timeout_ms) <= 0) return true;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      char chunk[4096];
      const ssize_t n = ::read(fds[i].fd, chunk, sizeof(chunk));
      int& fd = i == 0 ? out_fd_ : err_fd_;
      if (n <= 0) {
        ::close(fd);
        fd = -1;
      } else {
        (i == 0 ? out_ : err_).append(chunk, static_cast<size_t>(n));
      }
    }
    return true;
  }

  pid_t pid_ = -1;
  long max_rss_kib_ = 0;
  int out_fd_ = -1;
  int err_fd_ = -1;
  bool reaped_ = false;
  std::string out_;
  std::string err_;
};

// What run() saw: the exit code (128 + signal number if killed), stdout, stderr.
struct Result {
  int code = -1;
  std::string out;
  std::string err;
};

// Runs `ringtail args...` to its end.
inline Result run(const std::vector<std::string>& args) {
  Tool tool(args);
  Result r;
  r.code = tool.wait();
  r.out = tool.out();
  r.err = tool.err();
  return r;
}

}  // namespace ringtail::test
