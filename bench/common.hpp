// Shared pieces of ringtail_bench: the logged call, the 64-byte event used by
// the comparison queues, the TSC helpers and the consumers' backoff.
#pragma once

#include <pthread.h>
#include <sched.h>
#include <sys/prctl.h>
#include <time.h>
#include <x86intrin.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstring>
#include <string_view>
#include <thread>
#include <utility>

#include "ringtail/ringtail.hpp"

namespace ringtail_bench {

inline constexpr std::string_view kTool = "write_file";

// The call every ringtail benchmark makes. always_inline so that each caller
// gets the whole fast path in its own loop (what objdump is pointed at).
[[gnu::always_inline]] inline bool emit_tool_call(int step_id, double duration_ms) {
  return RINGTAIL_INFO("tool call", ringtail::kv("step_id", step_id), ringtail::kv("duration_ms", duration_ms),
                       ringtail::kv("tool", "write_file"));
}

// The same call at a level the default minimum (INFO) filters out.
[[gnu::always_inline]] inline bool emit_tool_call_disabled(int step_id, double duration_ms) {
  return RINGTAIL_DEBUG("tool call", ringtail::kv("step_id", step_id), ringtail::kv("duration_ms", duration_ms),
                        ringtail::kv("tool", "write_file"));
}

// What the comparison rings carry: the same three values and a TSC stamp,
// 64 bytes, like ringtail's record for this call (24-byte header + 8 + 8 +
// 8-byte string header + 10 bytes padded to 16).
struct alignas(64) Event64 {
  uint64_t tsc;
  int64_t step_id;
  double duration_ms;
  uint32_t tool_bytes;
  char tool[36];
};
static_assert(sizeof(Event64) == 64);

[[gnu::always_inline]] inline void fill_event(Event64& e, int step_id, double duration_ms, std::string_view tool) {
  e.tsc = __rdtsc();
  e.step_id = step_id;
  e.duration_ms = duration_ms;
  const size_t n = std::min(tool.size(), sizeof(e.tool));
  e.tool_bytes = static_cast<uint32_t>(n);
  std::memcpy(e.tool, tool.data(), n);
}

// Consumers sleep this long when every queue they watch was empty. The timer
// slack is lowered so that the sleep is ~20 us, not the default 50 us slack.
inline constexpr long kBackoffNs = 20'000;

// The CPU consumer threads pin themselves to (--latency --pin), or -1.
inline std::atomic<int> g_consumer_cpu{-1};

inline void pin_this_thread(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  ::pthread_setaffinity_np(::pthread_self(), sizeof(set), &set);
}

inline void prepare_consumer_thread() {
  ::prctl(PR_SET_TIMERSLACK, 1000UL, 0, 0, 0);
  if (const int cpu = g_consumer_cpu.load(std::memory_order_relaxed); cpu >= 0) pin_this_thread(cpu);
}

inline void backoff_sleep() {
  const timespec pause{0, kBackoffNs};
  ::clock_nanosleep(CLOCK_MONOTONIC, 0, &pause, nullptr);
}

// Runs `drain` (returns how many items it consumed) until stopped, sleeping
// kBackoffNs whenever a pass found nothing; one last drain after the stop.
template <class Drain>
class BackoffConsumer {
 public:
  explicit BackoffConsumer(Drain drain) : drain_(std::move(drain)) {
    thread_ = std::thread([this] {
      prepare_consumer_thread();
      while (!stop_.load(std::memory_order_acquire)) {
        if (drain_() == 0) backoff_sleep();
      }
      drain_();
    });
  }
  ~BackoffConsumer() {
    stop_.store(true, std::memory_order_release);
    thread_.join();
  }
  BackoffConsumer(const BackoffConsumer&) = delete;
  BackoffConsumer& operator=(const BackoffConsumer&) = delete;

 private:
  Drain drain_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

// TSC ticks per nanosecond, measured against CLOCK_MONOTONIC_RAW over ~100 ms.
double measure_tsc_ghz();

}  // namespace ringtail_bench
