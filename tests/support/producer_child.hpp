// ProducerChild: runs ringtail's producer in a forked child, for reader tests.
//
// The producer allows one init() per process, so a test that needs real
// producer data forks: the child calls ringtail::init(options), tells the
// parent its segment's name, runs the test's body (which logs, and may talk
// to the parent through a Link for handshakes), calls ringtail::shutdown()
// and _exit()s with the body's return value. _exit skips the parent's atexit
// handlers and static destructors, which the child inherited and must not run.
//
//   ringtail::testing::ProducerChild child = ringtail::testing::ProducerChild::start(options, [](auto& link) {
//     RINGTAIL_INFO("hello", ringtail::kv("n", 1));
//     return 0;
//   });
//   ASSERT_TRUE(child.ok()) << child.error();
//   ASSERT_EQ(child.join(), 0);
//   ... open child.segment_name() with the reader ...
//
// The destructor kills a child that still runs, reaps it and removes its
// segment (also any other /dev/shm/ringtail.<child pid>.* it left), so a
// failing test leaves nothing behind. Call fork only from a single-threaded
// parent (a gtest test body is). Header-only; link ringtail::core.
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <functional>
#include <string>
#include <thread>
#include <utility>

#include "ringtail/ringtail.hpp"
#include "ringtail/shm/segment_file.hpp"

namespace ringtail::testing {

namespace detail {

inline bool write_all(int fd, const void* data, size_t size) {
  const char* p = static_cast<const char*>(data);
  while (size > 0) {
    const ssize_t n = ::write(fd, p, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    p += n;
    size -= static_cast<size_t>(n);
  }
  return true;
}

// Reads exactly `size` bytes; false on EOF, error or timeout (timeout_ms < 0: none).
inline bool read_all(int fd, void* data, size_t size, int timeout_ms) {
  char* p = static_cast<char*>(data);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (size > 0) {
    if (timeout_ms >= 0) {
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return false;
      pollfd pfd{fd, POLLIN, 0};
      const int r = ::poll(&pfd, 1, static_cast<int>(left.count()));
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) return false;
    }
    const ssize_t n = ::read(fd, p, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    p += n;
    size -= static_cast<size_t>(n);
  }
  return true;
}

}  // namespace detail

class ProducerChild {
 public:
  // The child's end of the two pipes.
  class Link {
   public:
    Link(int to_parent, int from_parent) : to_parent_(to_parent), from_parent_(from_parent) {}
    // Sends bytes to the parent (ProducerChild::receive).
    bool send(const void* data, size_t size) { return detail::write_all(to_parent_, data, size); }
    // Tells the parent a step is done (ProducerChild::wait_signal).
    bool signal() {
      const char byte = 's';
      return send(&byte, 1);
    }
    // Blocks until the parent calls resume(); false if the parent is gone.
    bool wait() {
      char byte = 0;
      return detail::read_all(from_parent_, &byte, 1, -1);
    }

   private:
    int to_parent_;
    int from_parent_;
  };
  using Body = std::function<int(Link&)>;

  // Exit codes of a child that failed before or outside its body.
  static constexpr int kInitFailed = 120;

  ProducerChild(ProducerChild&& other) noexcept { *this = std::move(other); }
  ProducerChild& operator=(ProducerChild&& other) noexcept {
    std::swap(pid_, other.pid_);
    std::swap(up_, other.up_);
    std::swap(down_, other.down_);
    std::swap(segment_name_, other.segment_name_);
    std::swap(error_, other.error_);
    std::swap(exit_code_, other.exit_code_);
    return *this;
  }
  ~ProducerChild() {
    close_fd(down_);  // a child blocked in Link::wait() sees EOF
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      int status = 0;
      while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
      }
    }
    close_fd(up_);
    remove_segments();
  }

  // Forks; the child inits the producer with `options` and runs `body`.
  // Returns once the child reported its segment name (or failed to).
  static ProducerChild start(const Options& options, Body body, int timeout_ms = 20000) {
    ProducerChild child;
    int up[2];
    int down[2];
    if (::pipe2(up, O_CLOEXEC) != 0 || ::pipe2(down, O_CLOEXEC) != 0) {
      child.error_ = std::string("pipe: ") + std::strerror(errno);
      return child;
    }
    std::fflush(nullptr);
    const pid_t pid = ::fork();
    if (pid < 0) {
      child.error_ = std::string("fork: ") + std::strerror(errno);
      ::close(up[0]);
      ::close(up[1]);
      ::close(down[0]);
      ::close(down[1]);
      return child;
    }
    if (pid == 0) {
      ::close(up[0]);
      ::close(down[1]);
      run_child(options, body, up[1], down[0]);  // never returns
    }
    ::close(up[1]);
    ::close(down[0]);
    child.pid_ = pid;
    child.up_ = up[0];
    child.down_ = down[1];
    uint32_t length = 0;
    if (!detail::read_all(child.up_, &length, sizeof(length), timeout_ms) || length > 4096) {
      child.error_ = "the child did not report its segment (init failed? see stderr)";
      return child;
    }
    child.segment_name_.resize(length);
    if (!detail::read_all(child.up_, child.segment_name_.data(), length, timeout_ms)) {
      child.error_ = "the child's segment name was cut short";
      child.segment_name_.clear();
    }
    return child;
  }

  bool ok() const { return pid_ != 0 && error_.empty() && !segment_name_.empty(); }
  const std::string& error() const { return error_; }
  pid_t pid() const { return pid_ < 0 ? -pid_ : pid_; }
  const std::string& segment_name() const { return segment_name_; }

  // Waits for the child's Link::signal(); false on EOF (child exited) or timeout.
  bool wait_signal(int timeout_ms = 20000) {
    char byte = 0;
    return detail::read_all(up_, &byte, 1, timeout_ms) && byte == 's';
  }
  // Reads bytes the child sent with Link::send().
  bool receive(void* data, size_t size, int timeout_ms = 20000) {
    return detail::read_all(up_, data, size, timeout_ms);
  }
  // Wakes the child's Link::wait().
  bool resume() {
    const char byte = 'r';
    return detail::write_all(down_, &byte, 1);
  }

  // True once the child has exited (reaped); then exit_code() is valid.
  bool exited() {
    if (pid_ <= 0) return true;
    int status = 0;
    const pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      record_exit(status);
      return true;
    }
    return false;
  }
  // Waits for the child to exit (killing it after timeout_ms); its exit code,
  // 128 + signal if it was killed by one, or -1 if there is no child.
  int join(int timeout_ms = 20000) {
    if (pid_ <= 0) return exit_code_;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    while (!exited()) {
      if (std::chrono::steady_clock::now() > deadline) {
        std::fprintf(stderr, "ProducerChild: pid %d did not exit in %d ms, killing it\n", static_cast<int>(pid_),
                     timeout_ms);
        ::kill(pid_, SIGKILL);
        int status = 0;
        while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
        }
        record_exit(status);
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return exit_code_;
  }
  int exit_code() const { return exit_code_; }

 private:
  ProducerChild() = default;

  [[noreturn]] static void run_child(const Options& options, const Body& body, int to_parent, int from_parent) {
    const absl::Status status = ringtail::init(options);
    if (!status.ok()) {
      std::fprintf(stderr, "ProducerChild: ringtail::init failed: %s\n", status.ToString().c_str());
      std::fflush(stderr);
      ::_exit(kInitFailed);
    }
    const std::string name = ringtail::segment_name();
    const uint32_t length = static_cast<uint32_t>(name.size());
    if (!detail::write_all(to_parent, &length, sizeof(length)) || !detail::write_all(to_parent, name.data(), length)) {
      ::_exit(kInitFailed + 1);
    }
    Link link(to_parent, from_parent);
    const int code = body(link);
    ringtail::shutdown();
    std::fflush(nullptr);
    ::_exit(code);
  }

  void record_exit(int status) {
    exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : WIFSIGNALED(status) ? 128 + WTERMSIG(status) : -1;
    pid_ = -pid_;  // reaped; keep the pid for segment clean-up
  }

  static void close_fd(int& fd) {
    if (fd >= 0) ::close(fd);
    fd = -1;
  }

  void remove_segments() {
    if (!segment_name_.empty()) shm::SegmentFile::remove(segment_name_);
    const pid_t pid = pid_ < 0 ? -pid_ : pid_;
    if (pid == 0) return;
    const std::string prefix = "ringtail." + std::to_string(pid) + ".";
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator("/dev/shm", ec)) {
      const std::string file = entry.path().filename().string();
      if (file.rfind(prefix, 0) == 0) shm::SegmentFile::remove(file);
    }
  }

  pid_t pid_ = 0;  // > 0: running or not yet reaped; < 0: reaped (negated)
  int up_ = -1;    // child -> parent
  int down_ = -1;  // parent -> child
  std::string segment_name_;
  std::string error_;
  int exit_code_ = -1;
};

}  // namespace ringtail::testing
