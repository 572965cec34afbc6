// Waiting until a child process is ready for a signal, before sending it: a
// signal that arrives while the child is still starting (before it installs
// a handler or blocks the signal for its sigwait thread) kills it instead of
// asking it to stop. Read from the "SigCgt:" and "SigBlk:" masks in
// /proc/<pid>/status (SigBlk is the main thread's mask, which the ringtail
// tool sets before it starts any other thread). And waiting until a signal
// sent has been taken (no longer pending), before asserting what it did.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <fstream>
#include <string>
#include <thread>

namespace ringtail::test {

// True once `pid` catches `signal_number` or blocks it (and so takes it with
// sigwait); false if neither happens within `timeout` (or the process is gone).
namespace detail {

// Polls `pid`'s /proc status until `holds(line)` for one of its lines; false
// if that does not happen within `timeout` (or the process is gone).
template <class Holds>
bool poll_proc_status(pid_t pid, std::chrono::milliseconds timeout, Holds holds) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    std::ifstream status("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    bool read = false;
    while (std::getline(status, line)) {
      read = true;
      if (holds(line)) return true;
    }
    if (!read || std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

inline bool mask_has(const std::string& line, const char* field, uint64_t bit) {
  return line.rfind(field, 0) == 0 && (std::stoull(line.substr(7), nullptr, 16) & bit) != 0;
}

}  // namespace detail

// True once `pid` catches `signal_number` or blocks it (and so takes it with
// sigwait); false if neither happens within `timeout` (or the process is gone).
inline bool wait_until_ready_for(pid_t pid, int signal_number,
                                 std::chrono::milliseconds timeout = std::chrono::milliseconds(60000)) {
  const uint64_t bit = uint64_t{1} << (signal_number - 1);
  return detail::poll_proc_status(pid, timeout, [&](const std::string& line) {
    return detail::mask_has(line, "SigCgt:", bit) || detail::mask_has(line, "SigBlk:", bit);
  });
}

// True once a `signal_number` sent to `pid` is no longer pending for the
// process ("ShdPnd:"): a handler or a sigwait took it. False if it is still
// pending after `timeout` (or the process is gone).
inline bool wait_until_taken(pid_t pid, int signal_number,
                             std::chrono::milliseconds timeout = std::chrono::milliseconds(60000)) {
  const uint64_t bit = uint64_t{1} << (signal_number - 1);
  return detail::poll_proc_status(pid, timeout, [&](const std::string& line) {
    return line.rfind("ShdPnd:", 0) == 0 && !detail::mask_has(line, "ShdPnd:", bit);
  });
}

}  // namespace ringtail::test
