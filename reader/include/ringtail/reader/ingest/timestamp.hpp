// Raw event timestamps to wall-clock time, from a segment's clock calibration.
//
// A producer stamps events with the TSC (ticks) and writes one calibration
// point into its segment header: at TSC `anchor_tsc` the realtime clock read
// `anchor_realtime_ns`, and the TSC runs at `tsc_hz`. With
// kFlagRealtimeTimestamps the stamps already are CLOCK_REALTIME nanoseconds.
//
//   realtime_ns = anchor_realtime_ns + (raw - anchor_tsc) * 1e9 / tsc_hz
//
// Computed in 128-bit arithmetic (no overflow for any 64-bit inputs) and
// saturated to [0, UINT64_MAX]; a raw stamp before the anchor (another core's
// TSC a little behind, or hostile input) gives an earlier time, not a wrap.
//
// Threading: plain values and a pure function; use from any thread.
#pragma once

#include <cstdint>
#include <optional>

namespace ringtail::reader {

struct ClockCalibration {
  bool realtime = false;  // kFlagRealtimeTimestamps: raw stamps are CLOCK_REALTIME ns
  uint64_t tsc_hz = 0;
  uint64_t anchor_tsc = 0;
  uint64_t anchor_realtime_ns = 0;
};

// Realtime nanoseconds since the Unix epoch for a raw stamp; nullopt when the
// calibration cannot convert (TSC stamps with tsc_hz == 0). SegmentView
// rejects such a segment at open, so its calibration always converts.
std::optional<uint64_t> to_realtime_ns(const ClockCalibration& clock, uint64_t raw_timestamp);

}  // namespace ringtail::reader
