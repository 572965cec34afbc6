// ringtail_bench --latency: the cost of single, spaced emits, one by one;
// --latency=bursts: Quill's hot-path method, bursts timed together with a
// real `ringtail drain --follow` process consuming.
#pragma once

#include <cstdint>
#include <string>

namespace ringtail_bench {

struct LatencyConfig {
  uint64_t samples = 1'000'000;
  uint64_t warmup = 10'000;
  uint64_t spacing_ns = 200;  // busy wait between two measured calls
  bool json = false;
};

// Prints one line per subject (or one JSON document). Returns 0.
int run_latency(const LatencyConfig& config);

struct BurstConfig {
  uint64_t bursts = 20'000;
  uint32_t burst_size = 20;          // calls timed together
  uint64_t min_wait_ns = 2'000'000;  // busy wait between bursts, uniform in [min, max]
  uint64_t max_wait_ns = 2'200'000;
  int consumer_cpu = 1;         // the drain process's CPU; the caller pins itself to CPU 0
  std::string ringtail_binary;  // empty: <this binary's directory>/../tools/ringtail
  bool json = false;
};

// Runs the bursts against the calling thread's ring in `segment` (ringtail is
// initialised, the caller pinned), with `ringtail drain --follow --pid <self>`
// as the consumer. Prints the report; returns 0, or 1 when events were
// dropped, the drain failed or could not be started.
int run_latency_bursts(const BurstConfig& config, const std::string& segment);

}  // namespace ringtail_bench
