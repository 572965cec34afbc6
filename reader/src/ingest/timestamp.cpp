#include "ringtail/reader/ingest/timestamp.hpp"

namespace ringtail::reader {

std::optional<uint64_t> to_realtime_ns(const ClockCalibration& clock, uint64_t raw_timestamp) {
  if (clock.realtime) return raw_timestamp;
  if (clock.tsc_hz == 0) return std::nullopt;
  // |delta| < 2^64 and 1e9 < 2^30, so the product fits in 94 bits plus sign.
  const __int128 delta = static_cast<__int128>(raw_timestamp) - static_cast<__int128>(clock.anchor_tsc);
  const __int128 ns = static_cast<__int128>(clock.anchor_realtime_ns) + delta * 1'000'000'000 / clock.tsc_hz;
  if (ns < 0) return uint64_t{0};
  if (ns > static_cast<__int128>(UINT64_MAX)) return UINT64_MAX;
  return static_cast<uint64_t>(ns);
}

}  // namespace ringtail::reader
