#include "stop_signals.hpp"

#include <pthread.h>
#include <signal.h>

#include <cstdlib>
#include <mutex>
#include <thread>

namespace ringtail::cli {
namespace {

std::atomic<bool> g_stop{false};

sigset_t stop_set() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  return set;
}

[[noreturn]] void die_by(int signal_number) {
  // Only this thread unblocks it, so the default action happens here, now.
  ::signal(signal_number, SIG_DFL);
  sigset_t one;
  sigemptyset(&one);
  sigaddset(&one, signal_number);
  ::pthread_sigmask(SIG_UNBLOCK, &one, nullptr);
  ::raise(signal_number);
  std::_Exit(128 + signal_number);  // not reached: the default action of both is to terminate
}

void wait_for_signals(sigset_t set) {
  ::pthread_setname_np(::pthread_self(), "rt-signals");
  for (;;) {
    int signal_number = 0;
    if (::sigwait(&set, &signal_number) != 0) continue;
    if (g_stop.exchange(true, std::memory_order_acq_rel)) die_by(signal_number);
  }
}

}  // namespace

const std::atomic<bool>& watch_stop_signals() {
  static std::once_flag once;
  std::call_once(once, [] {
    const sigset_t set = stop_set();
    ::pthread_sigmask(SIG_BLOCK, &set, nullptr);
    // Detached: it blocks in sigwait for as long as the process lives.
    std::thread(wait_for_signals, set).detach();
  });
  return g_stop;
}

}  // namespace ringtail::cli
