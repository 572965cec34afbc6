// Waiting until a child process is ready for a signal, before sending it: a
// signal that arrives while the child is still starting (before it installs
// a handler or blocks the signal for its sigwait thread) kills it instead of
// asking it to stop. Read from the "SigCgt:" and "SigBlk:" masks in
// /proc/<pid>/status (SigBlk is the main thread's mask, which the ringtail
// tool sets before it starts any other thread).
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
inline bool wait_until_ready_for(pid_t pid, int signal_number,
                                 std::chrono::milliseconds timeout = std::chrono::milliseconds(60000)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  const uint64_t bit = uint64_t{1} << (signal_number - 1);
  for (;;) {
    std::ifstream status("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    while (std::getline(status, line)) {
      const bool mask = line.rfind("SigCgt:", 0) == 0 || line.rfind("SigBlk:", 0) == 0;
      if (mask && (std::stoull(line.substr(7), nullptr, 16) & bit) != 0) return true;
    }
    if (!status.eof() || std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

}  // namespace ringtail::test
