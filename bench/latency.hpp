// ringtail_bench --latency: the cost of single, spaced emits, one by one.
#pragma once

#include <cstdint>

namespace ringtail_bench {

struct LatencyConfig {
  uint64_t samples = 1'000'000;
  uint64_t warmup = 10'000;
  uint64_t spacing_ns = 200;  // busy wait between two measured calls
  bool json = false;
};

// Prints one line per subject (or one JSON document). Returns 0.
int run_latency(const LatencyConfig& config);

}  // namespace ringtail_bench
