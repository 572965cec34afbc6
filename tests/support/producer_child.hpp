// ProducerChild: runs ringtail's producer in a forked child, for reader tests.
//
// The producer allows one init() per process, so a test that needs real
// producer data forks: the child calls ringtail::init(options), tells the
// parent its segment's name, runs the test's body (which logs, and may talk
// to the parent through a Link for handshakes), calls ringtail::shutdown()
// and _exit()s with the body's return value. _exit skips the parent's atexit
// handlers and static destructors, which the child inherited and must not run.
//
//   ringtail::test::ProducerChild child = ringtail::test::ProducerChild::start(options, [](auto& link) {
//     RINGTAIL_INFO("hello", ringtail::kv("n", 1));
//     return 0;
//   });
//   ASSERT_TRUE(child.ok()) << child.error();
//   ASSERT_EQ(child.join(), 0);
//   ... open child.segment_name() with the reader ...
//
// A ProducerChild is a ForkedChild (fork_child.hpp) whose child inits the
// producer first; the Link speaks the ForkedChild's line protocol
// ("signal=", "data=" in hex, and "resume" the other way). The destructor
// kills a child that still runs, reaps it and removes every
// /dev/shm/ringtail.<child pid>.* it left, so a failing test leaves nothing
// behind. Call fork only from a single-threaded parent (a gtest test body
// is). Header-only; link ringtail::core.
#pragma once

#include <sys/types.h>
#include <sys/wait.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <deque>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "fork_child.hpp"
#include "ringtail/ringtail.hpp"

namespace ringtail::test {

// Options for a small test producer of `service`: 4 KiB rings, two threads
// and 16 call sites, so that many test children fit in /dev/shm at once.
inline Options small_producer_options(std::string service) {
  Options options;
  options.service = std::move(service);
  options.ring_bytes = 4096;
  options.max_threads = 2;
  options.max_callsites = 16;
  return options;
}

class ProducerChild {
 public:
  // The child's end of the channel.
  class Link {
   public:
    explicit Link(ChildChannel& channel) : channel_(channel) {}
    // Sends bytes to the parent (ProducerChild::receive).
    bool send(const void* data, size_t size) {
      static constexpr char kHex[] = "0123456789abcdef";
      std::string line = "data=";
      for (size_t i = 0; i < size; ++i) {
        const auto byte = static_cast<const unsigned char*>(data)[i];
        line.push_back(kHex[byte >> 4]);
        line.push_back(kHex[byte & 0xf]);
      }
      return channel_.send(line);
    }
    // Tells the parent a step is done (ProducerChild::wait_signal).
    bool signal() { return channel_.send("signal="); }
    // Blocks until the parent calls resume(); false if the parent is gone.
    bool wait() { return channel_.try_receive(-1) == std::optional<std::string>("resume"); }

   private:
    ChildChannel& channel_;
  };
  using Body = std::function<int(Link&)>;

  // Exit codes of a child that failed before or outside its body.
  static constexpr int kInitFailed = 120;

  // Forks; the child inits the producer with `options` and runs `body`.
  // Returns once the child reported its segment name (or failed to).
  static ProducerChild start(const Options& options, Body body, int timeout_ms = 20000) {
    ProducerChild child;
    child.child_ = ForkedChild::start([&options, &body](ChildChannel& channel) {
      const absl::Status status = ringtail::init(options);
      if (!status.ok()) {
        std::fprintf(stderr, "ProducerChild: ringtail::init failed: %s\n", status.ToString().c_str());
        return kInitFailed;
      }
      if (!channel.send("segment=" + ringtail::segment_name())) return kInitFailed + 1;
      Link link(channel);
      const int code = body(link);
      ringtail::shutdown();
      return code;
    });
    std::optional<std::string> name = child.next_of("segment", timeout_ms);
    if (!name || name->empty()) {
      child.error_ = "the child did not report its segment (init failed? see stderr)";
    } else {
      child.segment_name_ = std::move(*name);
    }
    return child;
  }

  // A child that runs `log` (if given), tells the parent (wait_signal) and
  // waits for resume() before it exits 0.
  static ProducerChild start_held(const Options& options, std::function<void()> log = {}) {
    return start(options, [log = std::move(log)](Link& link) {
      if (log) log();
      link.signal();
      link.wait();
      return 0;
    });
  }

  bool ok() const { return child_.pid() > 0 && error_.empty() && !segment_name_.empty(); }
  const std::string& error() const { return error_; }
  pid_t pid() const { return child_.pid(); }
  const std::string& segment_name() const { return segment_name_; }

  // Waits for the child's Link::signal(); false on EOF (child exited) or timeout.
  bool wait_signal(int timeout_ms = 20000) { return next_of("signal", timeout_ms).has_value(); }
  // Reads bytes the child sent with Link::send(): exactly `size` of them,
  // a byte stream as a pipe would be (one send may be read in parts, two in one).
  bool receive(void* data, size_t size, int timeout_ms = 20000) {
    auto nibble = [](char c) { return c <= '9' ? c - '0' : c - 'a' + 10; };
    while (received_.size() < size) {
      const std::optional<std::string> hex = next_of("data", timeout_ms);
      if (!hex) return false;
      for (size_t i = 0; i + 1 < hex->size(); i += 2) {
        received_.push_back(static_cast<char>(nibble((*hex)[i]) << 4 | nibble((*hex)[i + 1])));
      }
    }
    received_.copy(static_cast<char*>(data), size);
    received_.erase(0, size);
    return true;
  }
  // Wakes the child's Link::wait().
  bool resume() { return child_.send("resume"); }

  // True once the child has exited (then reaped); then exit_code() is valid.
  bool exited() {
    if (exit_code_ < 0 && child_.exited()) join();
    return exit_code_ >= 0;
  }
  // Waits for the child to exit (killing it after timeout_ms); its exit code,
  // 128 + signal if it was killed by one, or -1 if there is no child.
  int join(int timeout_ms = 20000) {
    if (child_.pid() <= 0 || exit_code_ >= 0) return exit_code_;
    const ChildOutcome outcome = child_.finish(timeout_ms);
    if (outcome.timed_out) {
      std::fprintf(stderr, "ProducerChild: pid %d did not exit in %d ms, killed it\n", static_cast<int>(pid()),
                   timeout_ms);
    }
    exit_code_ = outcome.exited() ? outcome.exit_code() : outcome.signaled() ? 128 + outcome.signal() : -1;
    return exit_code_;
  }
  int exit_code() const { return exit_code_; }

 private:
  ProducerChild() = default;

  // The value of the child's next "key=" line: one read earlier under
  // another key waits in unread_, so each kind of message keeps its order.
  std::optional<std::string> next_of(std::string_view key, int timeout_ms) {
    auto value_of = [&](const std::string& line) -> std::optional<std::string> {
      if (line.size() > key.size() && line.compare(0, key.size(), key) == 0 && line[key.size()] == '=') {
        return line.substr(key.size() + 1);
      }
      return std::nullopt;
    };
    for (auto it = unread_.begin(); it != unread_.end(); ++it) {
      if (std::optional<std::string> value = value_of(*it)) {
        unread_.erase(it);
        return value;
      }
    }
    for (;;) {
      std::optional<std::string> line = child_.next_line(timeout_ms);
      if (!line) return std::nullopt;
      if (std::optional<std::string> value = value_of(*line)) return value;
      unread_.push_back(std::move(*line));
    }
  }

  ForkedChild child_;
  std::deque<std::string> unread_;
  std::string received_;  // bytes from "data=" lines not read yet
  std::string segment_name_;
  std::string error_;
  int exit_code_ = -1;
};

}  // namespace ringtail::test
