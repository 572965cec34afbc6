// Waiting until a child process catches a signal, before sending it: a
// signal that arrives while the child is still starting (before it installs
// its handler) kills it instead of asking it to stop. Read from the
// "SigCgt:" mask in /proc/<pid>/status.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <fstream>
#include <string>
#include <thread>

namespace ringtail::test {

// True once `pid` has a handler for `signal_number`; false if it does not
// within `timeout` (or is gone).
inline bool wait_until_catches(pid_t pid, int signal_number,
                               std::chrono::milliseconds timeout = std::chrono::milliseconds(60000)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  const uint64_t bit = uint64_t{1} << (signal_number - 1);
  for (;;) {
    std::ifstream status("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    while (std::getline(status, line)) {
      if (line.rfind("SigCgt:", 0) == 0 && (std::stoull(line.substr(7), nullptr, 16) & bit) != 0) return true;
    }
    if (!status.eof() || std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

}  // namespace ringtail::test
