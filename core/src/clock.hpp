// Which clock the producer stamps events with, and its calibration.
#pragma once

#include <cstdint>

namespace ringtail::detail {

struct ClockCalibration {
  bool realtime = false;  // no trustworthy TSC: timestamps are CLOCK_REALTIME ns
  uint64_t tsc_hz = 0;
  uint64_t anchor_tsc = 0;
  uint64_t anchor_realtime_ns = 0;
};

// Uses the TSC when it is invariant (CPUID) or the kernel's own clocksource
// is the TSC; RINGTAIL_CLOCK=realtime|tsc overrides. The frequency comes from
// CPUID leaf 0x15 when complete, else from a ~10 ms measurement against
// CLOCK_MONOTONIC_RAW. Cold path: called by init().
ClockCalibration calibrate_clock();

}  // namespace ringtail::detail
