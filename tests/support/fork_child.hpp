// Test helpers: run code in a fork()ed child, talk to it over pipes, find
// and clean up the segments it leaves in /dev/shm. Header-only.
//
//   ringtail::test::ForkedChild child = ringtail::test::ForkedChild::start([](ringtail::test::ChildChannel& ch) {
//     CHILD_EXPECT(ch, 1 + 1 == 2);
//     ch.value("answer", 42);
//     return 0;  // the child _exit()s with this code
//   });
//   ringtail::test::ChildOutcome out = child.finish();
//   EXPECT_CHILD_OK(out);
//   EXPECT_EQ(out.value("answer"), "42");
//
// The child reports over a pipe in lines: "key=value" for values and
// "FAIL file:line: ..." for failed CHILD_EXPECTs. The parent can also send
// lines to the child (ForkedChild::send, ChildChannel::receive) for
// handshakes. A ForkedChild that goes out of scope kills and reaps its child
// if it still runs, then removes every /dev/shm/ringtail.<pid>.* segment of
// the child (and of any pid passed to clean_up_segments_of), so a failing
// test leaves nothing behind.
#pragma once

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace ringtail::test {

// ---------------------------------------------------------------------------
// Pipes.

inline bool write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

// Reads '\n'-terminated lines from a file descriptor, with a timeout.
class LineReader {
 public:
  explicit LineReader(int fd = -1) : fd_(fd) {}

  // The next line without its '\n'; nullopt at end of file or when none
  // arrives within timeout_ms (< 0: no limit). A last line without '\n' is
  // returned at EOF.
  std::optional<std::string> next(int timeout_ms) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    for (;;) {
      const size_t newline = buffer_.find('\n');
      if (newline != std::string::npos) {
        std::string line = buffer_.substr(0, newline);
        buffer_.erase(0, newline + 1);
        return line;
      }
      if (eof_ || fd_ < 0) {
        if (buffer_.empty()) return std::nullopt;
        return std::exchange(buffer_, std::string());
      }
      const auto left =
          timeout_ms < 0
              ? -1
              : std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now())
                    .count();
      if (timeout_ms >= 0 && left <= 0) return std::nullopt;
      pollfd pfd{fd_, POLLIN, 0};
      const int ready = ::poll(&pfd, 1, static_cast<int>(left));
      if (ready < 0 && errno != EINTR) return std::nullopt;
      if (ready <= 0) continue;
      char chunk[4096];
      const ssize_t n = ::read(fd_, chunk, sizeof(chunk));
      if (n < 0) {
        if (errno == EINTR || errno == EAGAIN) continue;
        eof_ = true;
      } else if (n == 0) {
        eof_ = true;
      } else {
        buffer_.append(chunk, static_cast<size_t>(n));
      }
    }
  }

  bool eof() const { return eof_ && buffer_.empty(); }

 private:
  int fd_;
  std::string buffer_;
  bool eof_ = false;
};

template <class T>
std::string printable(const T& value) {
  if constexpr (requires(std::ostream & os, const T& v) { os << v; }) {
    std::ostringstream out;
    out << value;
    return out.str();
  } else if constexpr (std::is_enum_v<T>) {
    return std::to_string(static_cast<long long>(value));
  } else {
    return "<unprintable>";
  }
}

// ---------------------------------------------------------------------------
// Child side.

inline constexpr int kChildTimeoutExit = 98;    // the parent's line never came
inline constexpr int kChildExceptionExit = 97;  // the body threw

class ChildChannel {
 public:
  ChildChannel(int to_parent, int from_parent) : to_parent_(to_parent), from_parent_(from_parent) {}

  // One line to the parent; false if the parent is gone. Lines up to
  // PIPE_BUF bytes are written atomically, so a grandchild may share the
  // channel.
  bool send(std::string_view line) {
    std::string buffer(line);
    buffer.push_back('\n');
    return write_all(to_parent_, buffer);
  }

  template <class T>
  void value(std::string_view key, const T& v) {
    send(std::string(key) + "=" + printable(v));
  }

  void fail(std::string_view what, const char* file, int line) {
    ++failures_;
    const char* base = std::strrchr(file, '/');
    std::ostringstream out;
    out << "FAIL " << (base != nullptr ? base + 1 : file) << ":" << line << ": " << what;
    std::string text = out.str();
    for (char& c : text) {
      if (c == '\n') c = ' ';
    }
    send(text);
  }

  // Blocks for the parent's next line; the child exits (kChildTimeoutExit)
  // if none comes within timeout_ms or the parent closed its end.
  std::string receive(int timeout_ms = 20000) {
    std::optional<std::string> line = reader_.next(timeout_ms);
    if (!line) {
      send("FAIL no line from the parent");
      ::_exit(kChildTimeoutExit);
    }
    return *line;
  }

  // The parent's next line; nullopt if none comes within timeout_ms (< 0:
  // no limit) or the parent closed its end.
  std::optional<std::string> try_receive(int timeout_ms) { return reader_.next(timeout_ms); }

  int failures() const { return failures_.load(); }
  int to_parent_fd() const { return to_parent_; }

 private:
  int to_parent_;
  int from_parent_;
  LineReader reader_{from_parent_};
  std::atomic<int> failures_{0};  // CHILD_EXPECT may fail on several threads at once
};

template <class A, class B>
bool child_expect_eq(ChildChannel& channel, const A& a, const B& b, const char* a_text, const char* b_text,
                     const char* file, int line) {
  if (a == b) return true;
  channel.fail(std::string(a_text) + " == " + b_text + " (" + printable(a) + " vs " + printable(b) + ")", file, line);
  return false;
}

// Child-side checks: a failure is reported to the parent, the child carries on.
#define CHILD_EXPECT(channel, cond) ((cond) ? true : ((channel).fail("expected " #cond, __FILE__, __LINE__), false))
#define CHILD_EXPECT_EQ(channel, a, b) \
  ::ringtail::test::child_expect_eq((channel), (a), (b), #a, #b, __FILE__, __LINE__)

// ---------------------------------------------------------------------------
// /proc and /dev/shm.

// Field `index` (from 1, as proc(5) counts) of /proc/<pid>/stat, parsed
// here independently of ringtail::shm.
inline std::optional<uint64_t> proc_stat_field(pid_t pid, int index) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const size_t close = stat.rfind(')');
  if (close == std::string::npos) return std::nullopt;
  std::istringstream fields(stat.substr(close + 1));
  std::string field;
  for (int at = 3; fields >> field; ++at) {
    if (at == index) return std::stoull(field);
  }
  return std::nullopt;
}

// The process's start time (field 22), in clock ticks since boot.
inline std::optional<uint64_t> proc_start_ticks(pid_t pid) { return proc_stat_field(pid, 22); }

// The CPU time the process used so far (utime + stime), in clock ticks.
inline uint64_t proc_cpu_ticks(pid_t pid) {
  return proc_stat_field(pid, 14).value_or(0) + proc_stat_field(pid, 15).value_or(0);
}

// Names (not paths) of the entries of /dev/shm that start with `prefix`.
inline std::vector<std::string> shm_entries(std::string_view prefix) {
  std::vector<std::string> names;
  DIR* dir = ::opendir("/dev/shm");
  if (dir == nullptr) return names;
  while (const dirent* entry = ::readdir(dir)) {
    const std::string_view name = entry->d_name;
    if (name.substr(0, prefix.size()) == prefix) names.emplace_back(name);
  }
  ::closedir(dir);
  return names;
}

inline std::string segment_prefix(pid_t pid) { return "ringtail." + std::to_string(pid) + "."; }

// Segments "ringtail.<pid>.<start>" of one process.
inline std::vector<std::string> segments_of(pid_t pid) { return shm_entries(segment_prefix(pid)); }

inline int remove_segments_of(pid_t pid) {
  int removed = 0;
  for (const std::string& name : segments_of(pid)) {
    if (::shm_unlink(name.c_str()) == 0) ++removed;
  }
  return removed;
}

// A pid that belonged to a child this forked and reaped: no process has it
// (unless the kernel reused it within microseconds, which the pid
// allocator's round robin makes practically impossible).
inline pid_t dead_pid() {
  std::fflush(nullptr);
  const pid_t pid = ::fork();
  if (pid == 0) ::_exit(0);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return pid;
}

// ---------------------------------------------------------------------------
// Parent side.

struct ChildOutcome {
  pid_t pid = 0;
  int status = 0;  // as waitpid reports it
  bool timed_out = false;
  std::vector<std::string> lines;     // every line the child sent
  std::vector<std::string> failures;  // the "FAIL ..." lines

  bool exited() const { return WIFEXITED(status); }
  int exit_code() const { return WIFEXITED(status) ? WEXITSTATUS(status) : -1; }
  bool signaled() const { return WIFSIGNALED(status); }
  int signal() const { return WIFSIGNALED(status) ? WTERMSIG(status) : 0; }
  // Exited with code 0, and every CHILD_EXPECT held.
  bool ok() const { return !timed_out && exit_code() == 0 && failures.empty(); }

  // The last value sent under `key`.
  std::optional<std::string> value(std::string_view key) const {
    std::optional<std::string> found;
    for (const std::string& line : lines) {
      if (line.size() > key.size() && line.compare(0, key.size(), key) == 0 && line[key.size()] == '=') {
        found = line.substr(key.size() + 1);
      }
    }
    return found;
  }
  std::string value_or(std::string_view key, std::string fallback = "<missing>") const {
    return value(key).value_or(std::move(fallback));
  }

  std::string describe() const {
    std::ostringstream out;
    out << "child " << pid;
    if (timed_out) out << " timed out and was killed;";
    if (WIFEXITED(status)) out << " exited with " << WEXITSTATUS(status);
    if (WIFSIGNALED(status)) out << " died of signal " << WTERMSIG(status);
    for (const std::string& f : failures) out << "\n  " << f;
    return out.str();
  }
};

#define EXPECT_CHILD_OK(outcome) EXPECT_TRUE((outcome).ok()) << (outcome).describe()
#define ASSERT_CHILD_OK(outcome) ASSERT_TRUE((outcome).ok()) << (outcome).describe()

class ForkedChild {
 public:
  // Forks; the child runs body(ChildChannel&) -> int and _exit()s with its
  // result (without running atexit handlers: a body that wants them calls
  // std::exit itself). The parent's stdio is flushed first so buffered
  // output is not written twice.
  template <class Body>
  static ForkedChild start(Body&& body) {
    int up[2] = {-1, -1};
    int down[2] = {-1, -1};
    if (::pipe2(up, O_CLOEXEC) != 0 || ::pipe2(down, O_CLOEXEC) != 0) {
      std::perror("pipe2");
      std::abort();
    }
    std::fflush(nullptr);
    const pid_t pid = ::fork();
    if (pid < 0) {
      std::perror("fork");
      std::abort();
    }
    if (pid == 0) {
      ::close(up[0]);
      ::close(down[1]);
      int code = kChildExceptionExit;
      try {
        ChildChannel channel(up[1], down[0]);
        code = body(channel);
      } catch (...) {
      }
      std::fflush(nullptr);
      ::_exit(code);
    }
    ::close(up[1]);
    ::close(down[0]);
    ForkedChild child;
    child.pid_ = pid;
    child.start_ticks_ = proc_start_ticks(pid).value_or(0);
    child.from_child_ = up[0];
    child.to_child_ = down[1];
    child.reader_ = LineReader(up[0]);
    child.outcome_.pid = pid;
    child.clean_up_.push_back(pid);
    return child;
  }

  ForkedChild() = default;
  ForkedChild(ForkedChild&& other) noexcept { *this = std::move(other); }
  ForkedChild& operator=(ForkedChild&& other) noexcept {
    std::swap(pid_, other.pid_);
    std::swap(start_ticks_, other.start_ticks_);
    std::swap(from_child_, other.from_child_);
    std::swap(to_child_, other.to_child_);
    std::swap(reaped_, other.reaped_);
    std::swap(reader_, other.reader_);
    std::swap(outcome_, other.outcome_);
    std::swap(clean_up_, other.clean_up_);
    return *this;
  }
  ~ForkedChild() {
    if (pid_ > 0 && !reaped_) {
      ::kill(pid_, SIGKILL);
      int status = 0;
      while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
      }
    }
    for (pid_t pid : clean_up_) remove_segments_of(pid);
    if (from_child_ >= 0) ::close(from_child_);
    if (to_child_ >= 0) ::close(to_child_);
  }

  pid_t pid() const { return pid_; }
  // The child's start time as /proc told the parent right after fork().
  uint64_t start_ticks() const { return start_ticks_; }
  // The segment name the child's producer is expected to use.
  std::string expected_segment() const { return segment_prefix(pid_) + std::to_string(start_ticks_); }

  // Removes the segments of `pid` too when this goes out of scope.
  void clean_up_segments_of(pid_t pid) { clean_up_.push_back(pid); }

  // Reads the child's lines until "key=..." arrives and returns its value;
  // nullopt if the child exits or goes quiet for timeout_ms first.
  std::optional<std::string> await(std::string_view key, int timeout_ms = 20000) {
    for (;;) {
      std::optional<std::string> line = reader_.next(timeout_ms);
      if (!line) return std::nullopt;
      record(*line);
      if (line->size() > key.size() && line->compare(0, key.size(), key) == 0 && (*line)[key.size()] == '=') {
        return line->substr(key.size() + 1);
      }
    }
  }

  // One line to the child (ChildChannel::receive); false if it is gone.
  bool send(std::string_view line) {
    std::string buffer(line);
    buffer.push_back('\n');
    return to_child_ >= 0 && write_all(to_child_, buffer);
  }

  // The child's next line (recorded in the outcome too); nullopt if the
  // child exits or goes quiet for timeout_ms first.
  std::optional<std::string> next_line(int timeout_ms = 20000) {
    std::optional<std::string> line = reader_.next(timeout_ms);
    if (line) record(*line);
    return line;
  }

  // Whether the child has exited (without reaping it: finish() does).
  bool exited() const {
    if (pid_ <= 0 || reaped_) return true;
    siginfo_t info{};
    return ::waitid(P_PID, static_cast<id_t>(pid_), &info, WEXITED | WNOHANG | WNOWAIT) == 0 && info.si_pid != 0;
  }

  // Closes the way to the child, reads everything it still sends and reaps
  // it, killing it if it has not exited within timeout_ms.
  ChildOutcome finish(int timeout_ms = 60000) {
    if (to_child_ >= 0) {
      ::close(to_child_);
      to_child_ = -1;
    }
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    while (!reader_.eof()) {
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count();
      if (left <= 0) {
        outcome_.timed_out = true;
        ::kill(pid_, SIGKILL);
        break;
      }
      if (std::optional<std::string> line = reader_.next(static_cast<int>(left))) record(*line);
    }
    for (;;) {
      int status = 0;
      const pid_t done = ::waitpid(pid_, &status, outcome_.timed_out ? 0 : WNOHANG);
      if (done == pid_) {
        outcome_.status = status;
        break;
      }
      if (done < 0 && errno != EINTR) break;
      if (done == 0) {
        // The pipe is closed but the child still runs (it closed its end or
        // handed it to nobody): give it until the deadline.
        if (std::chrono::steady_clock::now() > deadline) {
          outcome_.timed_out = true;
          ::kill(pid_, SIGKILL);
        } else {
          ::usleep(1000);
        }
      }
    }
    reaped_ = true;
    return outcome_;
  }

 private:
  void record(const std::string& line) {
    outcome_.lines.push_back(line);
    if (line.rfind("FAIL", 0) == 0) outcome_.failures.push_back(line);
  }

  pid_t pid_ = -1;
  uint64_t start_ticks_ = 0;
  int from_child_ = -1;
  int to_child_ = -1;
  bool reaped_ = false;
  LineReader reader_;
  ChildOutcome outcome_;
  std::vector<pid_t> clean_up_;
};

}  // namespace ringtail::test
