// Times single calls: __rdtscp; lfence; call; __rdtscp; lfence. The first
// lfence keeps the call from starting before the first stamp; rdtscp waits for
// the call's instructions to complete before the second stamp (its stores may
// still sit in the store buffer, as they would for the caller). Calls are
// spaced by a busy wait so that each starts with the pipeline drained, as a
// sporadic log call would. The consumers run meanwhile (ShmDrain for ringtail,
// a BackoffConsumer for the raw ring). The empty region measures the
// rdtscp + lfence pair itself, to be compared with or subtracted from the rest.
#include "latency.hpp"

#include <x86intrin.h>

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include "common.hpp"
#include "raw_ring.hpp"

namespace ringtail_bench {
namespace {

struct Result {
  std::string subject;
  uint64_t samples = 0;
  double p50_ns = 0, p99_ns = 0, p999_ns = 0, max_ns = 0, mean_ns = 0;
  double mean_p99_ns = 0;  // mean of the fastest 99%: resolves below the TSC's step
  uint64_t dropped = 0;
};

inline void compiler_barrier() { asm volatile("" ::: "memory"); }

template <class Op>
Result measure(const char* subject, const LatencyConfig& config, uint64_t spacing_ticks, double ticks_per_ns, Op op) {
  std::vector<uint64_t> ticks(config.samples, 0);  // allocated and touched before the loop
  unsigned aux = 0;
  for (uint64_t i = 0; i < config.warmup + config.samples; ++i) {
    const uint64_t until = __rdtsc() + spacing_ticks;
    while (__rdtsc() < until) {
    }
    compiler_barrier();
    const uint64_t t0 = __rdtscp(&aux);
    _mm_lfence();
    compiler_barrier();
    op(i);
    compiler_barrier();
    const uint64_t t1 = __rdtscp(&aux);
    _mm_lfence();
    compiler_barrier();
    if (i >= config.warmup) ticks[i - config.warmup] = t1 - t0;
  }
  Result r;
  r.subject = subject;
  r.samples = config.samples;
  if (ticks.empty()) return r;
  long double total = 0;
  for (uint64_t t : ticks) total += t;
  std::sort(ticks.begin(), ticks.end());
  auto at = [&](double q) {
    const size_t index = std::min(ticks.size() - 1, static_cast<size_t>(q * static_cast<double>(ticks.size())));
    return static_cast<double>(ticks[index]) / ticks_per_ns;
  };
  r.p50_ns = at(0.50);
  r.p99_ns = at(0.99);
  r.p999_ns = at(0.999);
  r.max_ns = static_cast<double>(ticks.back()) / ticks_per_ns;
  r.mean_ns = static_cast<double>(total / static_cast<long double>(ticks.size())) / ticks_per_ns;
  const size_t kept = std::max<size_t>(1, ticks.size() * 99 / 100);
  long double kept_total = 0;
  for (size_t i = 0; i < kept; ++i) kept_total += ticks[i];
  r.mean_p99_ns = static_cast<double>(kept_total / static_cast<long double>(kept)) / ticks_per_ns;
  return r;
}

}  // namespace

int run_latency(const LatencyConfig& config) {
  const double ticks_per_ns = measure_tsc_ghz();
  const uint64_t spacing_ticks = static_cast<uint64_t>(static_cast<double>(config.spacing_ns) * ticks_per_ns);
  std::vector<Result> results;

  results.push_back(measure("rdtscp_empty", config, spacing_ticks, ticks_per_ns, [](uint64_t) {}));

  {
    const ringtail::shm::RingWriter& writer = ringtail::detail::t_thread_state.writer;
    benchmark::DoNotOptimize(emit_tool_call(-1, 0.0));  // claim the ring, describe the site
    const uint64_t dropped_before = writer.dropped;
    Result r = measure("ringtail_emit_3fields", config, spacing_ticks, ticks_per_ns, [](uint64_t i) {
      bool committed = emit_tool_call(static_cast<int>(i), static_cast<double>(i) * 0.5);
      benchmark::DoNotOptimize(committed);
    });
    r.dropped = writer.dropped - dropped_before;
    results.push_back(r);
  }

  results.push_back(measure("ringtail_emit_disabled", config, spacing_ticks, ticks_per_ns, [](uint64_t i) {
    bool passed = emit_tool_call_disabled(static_cast<int>(i), static_cast<double>(i) * 0.5);
    benchmark::DoNotOptimize(passed);
  }));

  {
    static RawRing ring;
    BackoffConsumer consumer([] { return ring.drain(); });
    Result r = measure("raw_ring_64B", config, spacing_ticks, ticks_per_ns, [](uint64_t i) {
      bool stored = ring.push(static_cast<int>(i), static_cast<double>(i) * 0.5, kTool);
      benchmark::DoNotOptimize(stored);
    });
    r.dropped = ring.dropped();
    results.push_back(r);
  }

  if (config.json) {
    std::printf("{\n  \"tsc_ghz\": %.6f,\n  \"samples\": %" PRIu64 ",\n  \"spacing_ns\": %" PRIu64
                ",\n  \"subjects\": [\n",
                ticks_per_ns, config.samples, config.spacing_ns);
    for (size_t i = 0; i < results.size(); ++i) {
      const Result& r = results[i];
      std::printf("    {\"subject\": \"%s\", \"samples\": %" PRIu64
                  ", \"p50_ns\": %.2f, \"p99_ns\": %.2f, \"p99.9_ns\": %.2f, \"max_ns\": %.2f, \"mean_ns\": %.2f, "
                  "\"mean_p99_ns\": %.2f, \"dropped\": %" PRIu64 "}%s\n",
                  r.subject.c_str(), r.samples, r.p50_ns, r.p99_ns, r.p999_ns, r.max_ns, r.mean_ns, r.mean_p99_ns,
                  r.dropped, i + 1 < results.size() ? "," : "");
    }
    std::printf("  ]\n}\n");
  } else {
    std::printf("# tsc_ghz=%.6f samples=%" PRIu64 " spacing_ns=%" PRIu64
                " (region: rdtscp;lfence ... rdtscp;lfence, empty region included)\n",
                ticks_per_ns, config.samples, config.spacing_ns);
    for (const Result& r : results) {
      std::printf(
          "%-24s p50_ns=%-8.2f p99_ns=%-8.2f p99.9_ns=%-8.2f max_ns=%-10.1f mean_ns=%-8.2f "
          "mean_p99_ns=%-8.2f dropped=%" PRIu64 "\n",
          r.subject.c_str(), r.p50_ns, r.p99_ns, r.p999_ns, r.max_ns, r.mean_ns, r.mean_p99_ns, r.dropped);
    }
  }
  std::fflush(stdout);
  return 0;
}

}  // namespace ringtail_bench
