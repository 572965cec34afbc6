// --latency (spaced single calls) and --latency=bursts (Quill's method, below).
//
// Spaced: times single calls: __rdtscp; lfence; call; __rdtscp; lfence. The first
// lfence keeps the call from starting before the first stamp; rdtscp waits for
// the call's instructions to complete before the second stamp (its stores may
// still sit in the store buffer, as they would for the caller). Calls are
// spaced by a busy wait so that each starts with the pipeline drained, as a
// sporadic log call would. The consumers run meanwhile (ShmDrain for ringtail,
// a BackoffConsumer for the raw ring). The empty region measures the
// rdtscp + lfence pair itself, to be compared with or subtracted from the rest.
#include "latency.hpp"

#include <sched.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#include <x86intrin.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cinttypes>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <benchmark/benchmark.h>

#include "common.hpp"
#include "raw_ring.hpp"
#include "ringtail/shm/errno_text.hpp"
#include "ringtail/shm/layout.hpp"
#include "ringtail/shm/segment_file.hpp"

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

struct Percentiles {
  double p50 = 0, p99 = 0, p999 = 0, max = 0;
};

Percentiles percentiles(std::vector<double> values) {
  Percentiles p;
  if (values.empty()) return p;
  std::sort(values.begin(), values.end());
  auto at = [&](double q) {
    return values[std::min(values.size() - 1, static_cast<size_t>(q * static_cast<double>(values.size())))];
  };
  p.p50 = at(0.50);
  p.p99 = at(0.99);
  p.p999 = at(0.999);
  p.max = values.back();
  return p;
}

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

// ---------------------------------------------------------------------------
// --latency=bursts: Quill's hot-path method (benchmarks/hot_path_latency).
// Each sample is a burst of `burst_size` calls between two rdtscp, divided by
// the burst size; a busy wait of 2.0-2.2 ms (uniform, fixed seed) separates
// bursts so that every burst starts cold, as a sporadic logging thread does.
// The producer runs on CPU 0; the consumer is a real `ringtail drain
// --follow` process on CPU 1, started once this thread has its ring and
// waited for until it holds the segment's reader lease.

namespace {

// What happened to the producer thread besides its own work: page faults,
// and preemptions (another task ran on its CPU; its caches and TLB may be
// cold for the next burst).
struct ThreadUsage {
  long minor_faults = 0;
  long involuntary_switches = 0;
};

ThreadUsage thread_usage() {
  rusage usage{};
  ::getrusage(RUSAGE_THREAD, &usage);
  return {usage.ru_minflt, usage.ru_nivcsw};
}

// <directory of this binary>/../tools/ringtail: the build tree's CLI.
std::string default_ringtail_binary() {
  std::error_code error;
  const std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", error);
  if (error) return "ringtail";
  return (self.parent_path().parent_path() / "tools" / "ringtail").string();
}

// `ringtail drain --follow --out <dir> --pid <pid>`, pinned to `cpu` before
// exec; its stdout goes to our stderr, so that our stdout stays one report.
// Returns the child's pid, or -1 with errno set.
pid_t spawn_drain(const std::string& binary, const std::string& out_dir, pid_t producer, int cpu) {
  const std::string pid_text = std::to_string(producer);
  std::vector<const char*> argv = {binary.c_str(),  "drain", "--follow",       "--out",
                                   out_dir.c_str(), "--pid", pid_text.c_str(), nullptr};
  const pid_t child = ::fork();
  if (child != 0) return child;
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  ::sched_setaffinity(0, sizeof(set), &set);
  ::dup2(STDERR_FILENO, STDOUT_FILENO);
  ::execv(binary.c_str(), const_cast<char* const*>(argv.data()));
  std::fprintf(stderr, "ringtail_bench: cannot run %s: %s\n", binary.c_str(), ringtail::shm::errno_text(errno).c_str());
  ::_exit(127);
}

// Polls `done` every millisecond until it holds or `timeout` passes.
template <class Done>
bool wait_until(Done done, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

// SIGTERM (the drain drains what is left and exits), then SIGKILL after 30 s.
int stop_drain(pid_t child) {
  ::kill(child, SIGTERM);
  int status = 0;
  const bool exited = wait_until([&] { return ::waitpid(child, &status, WNOHANG) == child; }, std::chrono::seconds(30));
  if (!exited) {
    ::kill(child, SIGKILL);
    ::waitpid(child, &status, 0);
    return -1;
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

}  // namespace

int run_latency_bursts(const BurstConfig& config, const std::string& segment) {
  if (config.burst_size == 0 || config.bursts == 0) {
    std::fprintf(stderr, "ringtail_bench: --bursts and --burst-size must be at least 1\n");
    return 2;
  }
  const double ticks_per_ns = measure_tsc_ghz();
  absl::StatusOr<ringtail::shm::SegmentFile> view =
      ringtail::shm::SegmentFile::open(segment, ringtail::shm::SegmentFile::Access::kReadOnly);
  if (!view.ok()) {
    std::fprintf(stderr, "ringtail_bench: %s\n", view.status().ToString().c_str());
    return 1;
  }
  const auto& header = *reinterpret_cast<const ringtail::shm::SegmentHeader*>(view->data());

  // The thread's ring is claimed and the site described before anything is timed.
  benchmark::DoNotOptimize(emit_tool_call(-1, 0.0));

  char dir_template[] = "/tmp/ringtail-bench-XXXXXX";
  if (::mkdtemp(dir_template) == nullptr) {
    std::fprintf(stderr, "ringtail_bench: mkdtemp: %s\n", ringtail::shm::errno_text(errno).c_str());
    return 1;
  }
  const std::string out_dir = dir_template;
  const std::string binary = config.ringtail_binary.empty() ? default_ringtail_binary() : config.ringtail_binary;
  const pid_t drain = spawn_drain(binary, out_dir, ::getpid(), config.consumer_cpu);
  if (drain < 0) {
    std::fprintf(stderr, "ringtail_bench: fork: %s\n", ringtail::shm::errno_text(errno).c_str());
    std::filesystem::remove_all(out_dir);
    return 1;
  }
  int rc = 0;
  int drain_status = -1;
  bool drain_exited = false;
  const bool leased = wait_until(
      [&] {
        drain_exited = ::waitpid(drain, &drain_status, WNOHANG) == drain;
        return drain_exited || header.reader_lease.load(std::memory_order_relaxed) != 0;
      },
      std::chrono::seconds(20));
  if (!leased || drain_exited) {
    std::fprintf(stderr, "ringtail_bench: %s drain --follow %s\n", binary.c_str(),
                 drain_exited ? "exited early" : "did not take the segment within 20 s");
    rc = 1;
  }

  std::vector<double> ns(config.bursts, 0.0);  // allocated and touched before the loop
  const ringtail::shm::RingWriter& writer = ringtail::detail::t_thread_state.writer;
  const uint64_t dropped_before = writer.dropped;
  const uint64_t committed_before = writer.committed;
  const ThreadUsage usage_before = thread_usage();
  std::mt19937_64 random(12);
  std::uniform_int_distribution<uint64_t> wait_ns(config.min_wait_ns, config.max_wait_ns);
  const double burst = static_cast<double>(config.burst_size);
  unsigned aux = 0;
  for (uint64_t b = 0; rc == 0 && b < config.bursts; ++b) {
    const double d = static_cast<double>(b) * 1.1;
    compiler_barrier();
    const uint64_t t0 = __rdtscp(&aux);
    compiler_barrier();
    for (uint32_t i = 0; i < config.burst_size; ++i) {
      bool committed = emit_tool_call(static_cast<int>(i), d);
      benchmark::DoNotOptimize(committed);
    }
    compiler_barrier();
    const uint64_t t1 = __rdtscp(&aux);
    compiler_barrier();
    ns[b] = static_cast<double>(t1 - t0) / burst / ticks_per_ns;
    const uint64_t until = __rdtsc() + static_cast<uint64_t>(static_cast<double>(wait_ns(random)) * ticks_per_ns);
    while (__rdtsc() < until) {
    }
  }
  const ThreadUsage usage_after = thread_usage();
  const long faults = usage_after.minor_faults - usage_before.minor_faults;
  const long preempted = usage_after.involuntary_switches - usage_before.involuntary_switches;
  const uint64_t committed = writer.committed - committed_before;
  const uint64_t dropped = writer.dropped - dropped_before;

  if (!drain_exited) drain_status = stop_drain(drain);
  std::filesystem::remove_all(out_dir);
  if (rc != 0) return rc;

  const Percentiles all = percentiles(ns);
  double total = 0;
  for (double v : ns) total += v;
  const double mean = total / static_cast<double>(ns.size());
  // The bursts of the ring's first lap (64-byte records), when each of its
  // pages is written for the first time since the ring was claimed.
  const uint64_t ring_bytes = writer.mask + 1;
  const uint64_t first_lap = std::clamp<uint64_t>(ring_bytes / (uint64_t{64} * config.burst_size), 1, ns.size());
  const Percentiles lap = percentiles(std::vector<double>(ns.begin(), ns.begin() + static_cast<ptrdiff_t>(first_lap)));
  if (config.json) {
    std::printf("{\n  \"mode\": \"bursts\", \"tsc_ghz\": %.6f, \"bursts\": %" PRIu64
                ", \"burst_size\": %u,\n"
                "  \"wait_ns\": [%" PRIu64 ", %" PRIu64 "], \"ring_bytes\": %" PRIu64
                ",\n"
                "  \"p50_ns\": %.2f, \"p99_ns\": %.2f, \"p99.9_ns\": %.2f, \"max_ns\": %.2f, \"mean_ns\": %.2f,\n"
                "  \"first_lap_bursts\": %" PRIu64
                ", \"first_lap_p99_ns\": %.2f, \"first_lap_max_ns\": %.2f,\n"
                "  \"minor_faults\": %ld, \"involuntary_switches\": %ld, \"committed\": %" PRIu64
                ", \"dropped\": %" PRIu64 ", \"drain_exit\": %d\n}\n",
                ticks_per_ns, config.bursts, config.burst_size, config.min_wait_ns, config.max_wait_ns, ring_bytes,
                all.p50, all.p99, all.p999, all.max, mean, first_lap, lap.p99, lap.max, faults, preempted, committed,
                dropped, drain_status);
  } else {
    std::printf("# tsc_ghz=%.6f bursts=%" PRIu64 " burst_size=%u wait_ns=%" PRIu64 "..%" PRIu64 " ring_bytes=%" PRIu64
                " (ns per call: one rdtscp pair around each burst / burst_size)\n",
                ticks_per_ns, config.bursts, config.burst_size, config.min_wait_ns, config.max_wait_ns, ring_bytes);
    std::printf("ringtail_emit_3fields p50_ns=%-8.2f p99_ns=%-8.2f p99.9_ns=%-8.2f max_ns=%-10.1f mean_ns=%-8.2f\n",
                all.p50, all.p99, all.p999, all.max, mean);
    std::printf("first_lap (%" PRIu64 " bursts)  p99_ns=%-8.2f max_ns=%-10.1f\n", first_lap, lap.p99, lap.max);
    std::printf("minor_faults=%ld involuntary_switches=%ld committed=%" PRIu64 " dropped=%" PRIu64 " drain_exit=%d\n",
                faults, preempted, committed, dropped, drain_status);
  }
  std::fflush(stdout);
  return dropped == 0 && drain_status == 0 ? 0 : 1;
}

}  // namespace ringtail_bench
