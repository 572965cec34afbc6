#include "ringtail/reader/ingest/timestamp.hpp"

#include <time.h>

namespace ringtail::reader {

std::optional<uint64_t> to_realtime_ns(const ClockCalibration& clock, uint64_t raw_timestamp) {
  if (clock.realtime) return raw_timestamp;
  if (clock.tsc_hz == 0) return std::nullopt;
  if (raw_timestamp >= clock.anchor_tsc) {
    // The common case, in 64-bit divisions (a 128-bit one costs several times
    // more, and this runs per event): with delta = q * hz + r (r < hz),
    // delta * 1e9 / hz = q * 1e9 + r * 1e9 / hz exactly, and r * 1e9 < 2^64
    // whenever hz < 2^34 (17 GHz: every real TSC). Otherwise: 128 bits below.
    const uint64_t delta = raw_timestamp - clock.anchor_tsc;
    const uint64_t q = delta / clock.tsc_hz;
    const uint64_t r = delta % clock.tsc_hz;
    constexpr uint64_t kNsPerS = 1'000'000'000;
    if (clock.tsc_hz < (uint64_t{1} << 34) && q < UINT64_MAX / kNsPerS) {
      const uint64_t whole = q * kNsPerS;
      const uint64_t part = r * kNsPerS / clock.tsc_hz;
      uint64_t ns = 0;
      if (__builtin_add_overflow(clock.anchor_realtime_ns, whole, &ns) || __builtin_add_overflow(ns, part, &ns)) {
        return UINT64_MAX;
      }
      return ns;
    }
  }
  // |delta| < 2^64 and 1e9 < 2^30, so the product fits in 94 bits plus sign.
  const __int128 delta = static_cast<__int128>(raw_timestamp) - static_cast<__int128>(clock.anchor_tsc);
  const __int128 ns = static_cast<__int128>(clock.anchor_realtime_ns) + delta * 1'000'000'000 / clock.tsc_hz;
  if (ns < 0) return uint64_t{0};
  if (ns > static_cast<__int128>(UINT64_MAX)) return UINT64_MAX;
  return static_cast<uint64_t>(ns);
}

RealtimeConverter::RealtimeConverter(const ClockCalibration& clock) : clock_(clock) {
  // Below 1 GHz the reciprocal would not fit 64 bits; at 2^34 Hz and above
  // r * 1e9 might not. No such TSC exists; such a clock takes slow().
  fast_ = !clock.realtime && clock.tsc_hz > kNsPerSecond && clock.tsc_hz < (uint64_t{1} << 34);
  if (fast_) {
    reciprocal_ = static_cast<uint64_t>((static_cast<unsigned __int128>(kNsPerSecond) << 64) / clock.tsc_hz);
  }
}

uint64_t RealtimeConverter::slow(uint64_t raw_timestamp) {
  const std::optional<uint64_t> ns = to_realtime_ns(clock_, raw_timestamp);
  if (fast_ && ns.has_value() && raw_timestamp >= clock_.anchor_tsc) {
    const uint64_t delta = raw_timestamp - clock_.anchor_tsc;
    const uint64_t q = delta / clock_.tsc_hz;
    // Cache the second only where its start converts without saturating.
    if (q < UINT64_MAX / kNsPerSecond && clock_.anchor_realtime_ns <= UINT64_MAX - q * kNsPerSecond) {
      second_start_ = q * clock_.tsc_hz;
      second_ns_ = clock_.anchor_realtime_ns + q * kNsPerSecond;
      has_second_ = true;
    }
  }
  return ns.value_or(0);
}

int64_t realtime_now_ns() {
  timespec ts{};
  ::clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

}  // namespace ringtail::reader
