#include "subjects.hpp"

#include <time.h>

#include <benchmark/benchmark.h>

#include "common.hpp"
#include "ringtail/span.hpp"

extern "C" {

[[gnu::noinline]] uint64_t rtb_loop_ringtail(uint64_t n) {
  uint64_t committed = 0;
  double duration_ms = 0.0;
  for (uint64_t i = 0; i < n; ++i) {
    committed += ringtail_bench::emit_tool_call(static_cast<int>(i), duration_ms) ? 1 : 0;
    duration_ms += 0.5;
  }
  return committed;
}

[[gnu::noinline]] uint64_t rtb_loop_disabled(uint64_t n) {
  uint64_t passed = 0;
  double duration_ms = 0.0;
  for (uint64_t i = 0; i < n; ++i) {
    passed += ringtail_bench::emit_tool_call_disabled(static_cast<int>(i), duration_ms) ? 1 : 0;
    duration_ms += 0.5;
  }
  return passed;
}

[[gnu::noinline]] uint64_t rtb_loop_raw(ringtail_bench::RawRing* ring, uint64_t n) {
  uint64_t stored = 0;
  double duration_ms = 0.0;
  for (uint64_t i = 0; i < n; ++i) {
    stored += ring->push(static_cast<int>(i), duration_ms, ringtail_bench::kTool) ? 1 : 0;
    duration_ms += 0.5;
  }
  return stored;
}

[[gnu::noinline]] uint64_t rtb_loop_span(uint64_t n) {
  uint64_t ids = 0;
  for (uint64_t i = 0; i < n; ++i) {
    ringtail::Span span("tool_call");
    ids += span.span_id() != 0 ? 1 : 0;
  }
  return ids;
}

[[gnu::noinline]] uint64_t rtb_loop_empty(uint64_t n) {
  uint64_t sum = 0;
  double duration_ms = 0.0;
  for (uint64_t i = 0; i < n; ++i) {
    benchmark::DoNotOptimize(duration_ms);
    sum += i & 1;
    duration_ms += 0.5;
  }
  return sum;
}

}  // extern "C"

namespace ringtail_bench {

namespace {
uint64_t monotonic_raw_ns() {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC_RAW, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000ULL + static_cast<uint64_t>(ts.tv_nsec);
}

// A TSC reading paired with a clock reading: the tightest of a few brackets.
void paired(uint64_t* tsc, uint64_t* ns) {
  uint64_t best = UINT64_MAX;
  for (int i = 0; i < 32; ++i) {
    const uint64_t before = __rdtsc();
    const uint64_t clock = monotonic_raw_ns();
    const uint64_t after = __rdtsc();
    if (after - before < best) {
      best = after - before;
      *tsc = before + (after - before) / 2;
      *ns = clock;
    }
  }
}
}  // namespace

double measure_tsc_ghz() {
  uint64_t tsc0 = 0, ns0 = 0, tsc1 = 0, ns1 = 0;
  paired(&tsc0, &ns0);
  const timespec pause{0, 100'000'000};
  ::nanosleep(&pause, nullptr);
  paired(&tsc1, &ns1);
  return static_cast<double>(tsc1 - tsc0) / static_cast<double>(ns1 - ns0);
}

}  // namespace ringtail_bench
