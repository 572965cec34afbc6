#include "clock.hpp"

#include <time.h>

#include <cstdlib>
#include <fstream>
#include <string>
#include <string_view>

#include "ringtail/detail/producer_state.hpp"

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#include <x86intrin.h>
#endif

namespace ringtail::detail {
namespace {

uint64_t clock_ns(clockid_t clock) {
  timespec ts{};
  ::clock_gettime(clock, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000ULL + static_cast<uint64_t>(ts.tv_nsec);
}

#if defined(__x86_64__) || defined(__i386__)
bool tsc_trusted() {
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  if (__get_cpuid(0x80000007, &eax, &ebx, &ecx, &edx) && (edx & (1U << 8)) != 0) return true;
  // Hypervisors often hide the invariant bit; the kernel only picks the TSC
  // as its clocksource after checking it is stable and synchronised.
  std::ifstream in("/sys/devices/system/clocksource/clocksource0/current_clocksource");
  std::string source;
  return static_cast<bool>(in >> source) && source == "tsc";
}

uint64_t tsc_hz_from_cpuid() {
  unsigned denominator = 0, numerator = 0, crystal_hz = 0, edx = 0;
  if (__get_cpuid_max(0, nullptr) < 0x15) return 0;
  __cpuid(0x15, denominator, numerator, crystal_hz, edx);
  if (denominator == 0 || numerator == 0 || crystal_hz == 0) return 0;
  return uint64_t{crystal_hz} * numerator / denominator;
}

// Pairs a TSC reading with a clock reading taken as close to it as the
// machine allows: the tightest of a few brackets wins.
void paired_reading(clockid_t clock, uint64_t* tsc, uint64_t* ns) {
  uint64_t best = UINT64_MAX;
  for (int i = 0; i < 16; ++i) {
    const uint64_t before = __rdtsc();
    const uint64_t clock_value = clock_ns(clock);
    const uint64_t after = __rdtsc();
    if (after - before < best) {
      best = after - before;
      *tsc = before + (after - before) / 2;
      *ns = clock_value;
    }
  }
}

uint64_t measure_tsc_hz() {
  uint64_t tsc0 = 0, ns0 = 0, tsc1 = 0, ns1 = 0;
  paired_reading(CLOCK_MONOTONIC_RAW, &tsc0, &ns0);
  const timespec pause{0, 10'000'000};
  ::nanosleep(&pause, nullptr);
  paired_reading(CLOCK_MONOTONIC_RAW, &tsc1, &ns1);
  if (ns1 <= ns0 || tsc1 <= tsc0) return 0;
  return static_cast<uint64_t>(static_cast<long double>(tsc1 - tsc0) * 1e9L / static_cast<long double>(ns1 - ns0));
}
#endif

}  // namespace

uint64_t realtime_ns() noexcept { return clock_ns(CLOCK_REALTIME); }

ClockCalibration calibrate_clock() {
  ClockCalibration c;
  c.realtime = true;
  const char* choice = std::getenv("RINGTAIL_CLOCK");
  const std::string_view wanted = choice != nullptr ? choice : "";
#if defined(__x86_64__) || defined(__i386__)
  if (wanted != "realtime" && (wanted == "tsc" || tsc_trusted())) {
    c.tsc_hz = tsc_hz_from_cpuid();
    if (c.tsc_hz == 0) c.tsc_hz = measure_tsc_hz();
    if (c.tsc_hz != 0) {
      c.realtime = false;
      paired_reading(CLOCK_REALTIME, &c.anchor_tsc, &c.anchor_realtime_ns);
      return c;
    }
  }
#endif
  c.tsc_hz = 0;
  c.anchor_realtime_ns = realtime_ns();
  c.anchor_tsc = c.anchor_realtime_ns;
  return c;
}

}  // namespace ringtail::detail
