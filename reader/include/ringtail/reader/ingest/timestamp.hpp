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
// Threading: ClockCalibration and to_realtime_ns() are plain values and a pure
// function; a RealtimeConverter belongs to one thread.
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

// CLOCK_REALTIME now, ns since the Unix epoch (the reader's own clock).
int64_t realtime_now_ns();

// to_realtime_ns() for a stream of stamps, as fast as this runs per event:
// exactly the same result (0 where it gives nullopt: converts() tells that
// apart once per calibration), without a division for stamps in the same second
// (after the anchor) as the previous one. It remembers the whole seconds of
// the last stamp (one division when they change) and scales the remainder
// with a 64-bit fixed-point reciprocal of tsc_hz, corrected by one exact
// multiply-compare.
class RealtimeConverter {
 public:
  explicit RealtimeConverter(const ClockCalibration& clock);

  // False for TSC stamps without a rate: every conversion gives 0.
  bool converts() const { return clock_.realtime || clock_.tsc_hz != 0; }

  uint64_t operator()(uint64_t raw_timestamp) {
    const uint64_t delta = raw_timestamp - clock_.anchor_tsc;
    if (has_second_ && raw_timestamp >= clock_.anchor_tsc && delta - second_start_ < clock_.tsc_hz) {
      const uint64_t r = delta - second_start_;  // ticks into the second; r * 1e9 < 2^64 (fast_)
      const uint64_t scaled = r * kNsPerSecond;
      uint64_t ns = static_cast<uint64_t>((static_cast<unsigned __int128>(r) * reciprocal_) >> 64);
      // ns is floor(scaled / hz) or one less (the reciprocal is rounded down).
      if ((ns + 1) * clock_.tsc_hz <= scaled) ++ns;
      if (second_ns_ <= UINT64_MAX - ns) return second_ns_ + ns;
    }
    return slow(raw_timestamp);
  }

 private:
  static constexpr uint64_t kNsPerSecond = 1'000'000'000;
  uint64_t slow(uint64_t raw_timestamp);

  ClockCalibration clock_;
  bool fast_ = false;          // TSC stamps with 1e9 < tsc_hz < 2^34
  uint64_t reciprocal_ = 0;    // floor(2^64 * 1e9 / tsc_hz)
  bool has_second_ = false;    // fast_, and slow() cached a second
  uint64_t second_start_ = 0;  // ticks after the anchor where the cached second starts
  uint64_t second_ns_ = 0;     // realtime ns at second_start_
};

}  // namespace ringtail::reader
