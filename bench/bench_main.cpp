// ringtail_bench: Google Benchmark suite, --latency mode, --callgrind-emits mode.
//
//   ringtail_bench [benchmark flags]            the benchmarks (bench/README.md)
//   ringtail_bench --latency [--json] [--pin] [--latency-samples=N] [--latency-spacing-ns=N]
//   ringtail_bench --latency=bursts [--json] [--bursts=N] [--burst-size=N] [--ringtail-binary=PATH]
//   ringtail_bench --callgrind-emits=N [--callgrind-subject=ringtail|flight|context|span|disabled|raw|empty]
//   any mode: [--ring-bytes=N] (default 1 MiB; 4 MiB in callgrind mode)
//
// The process calls ringtail::init once (service "bench"), runs a background
// drain of its own segment for the whole run (not in callgrind mode; in
// bursts mode the consumer is a `ringtail drain --follow` process), then
// shuts ringtail down and removes the segment.
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <benchmark/benchmark.h>

#include "common.hpp"
#include "latency.hpp"
#include "ringtail/ringtail.hpp"
#include "ringtail/shm/segment_file.hpp"
#include "shm_drain.hpp"
#include "subjects.hpp"

namespace {

struct Flags {
  bool latency = false;
  ringtail_bench::LatencyConfig latency_config;
  bool bursts = false;  // --latency=bursts
  ringtail_bench::BurstConfig burst_config;
  bool callgrind = false;
  uint64_t callgrind_emits = 0;
  std::string callgrind_subject = "ringtail";
  uint64_t ring_bytes = 0;  // 0: the mode's default
  bool pin = false;         // --latency only: producer on CPU 0, consumers on the last CPU
};

// A bad command line: reported by main(), exit status 2.
[[noreturn]] void usage_error(const std::string& message) { throw std::invalid_argument(message); }

uint64_t parse_u64(std::string_view flag, const std::string& text) {
  char* end = nullptr;
  const unsigned long long value = std::strtoull(text.c_str(), &end, 10);
  if (text.empty() || end == nullptr || *end != '\0')
    usage_error(std::string(flag) + " needs a number, not '" + text + "'");
  return value;
}

// Takes this program's own flags out of argv; leaves the rest for Google Benchmark.
Flags parse_flags(int& argc, char** argv) {
  Flags flags;
  std::vector<char*> rest{argv[0]};
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    // "--name=value" or "--name value".
    auto value_of = [&](std::string_view name, std::string* value) {
      if (arg == name) {
        if (i + 1 >= argc) usage_error(std::string(name) + " needs a value");
        *value = argv[++i];
        return true;
      }
      if (arg.size() > name.size() && arg.substr(0, name.size()) == name && arg[name.size()] == '=') {
        *value = std::string(arg.substr(name.size() + 1));
        return true;
      }
      return false;
    };
    std::string value;
    if (arg == "--latency" || arg == "--latency=spaced") {
      flags.latency = true;
    } else if (arg == "--latency=bursts") {
      flags.bursts = true;
    } else if (arg == "--pin") {
      flags.pin = true;
    } else if (arg == "--json") {
      flags.latency_config.json = true;
      flags.burst_config.json = true;
    } else if (value_of("--bursts", &value)) {
      flags.burst_config.bursts = parse_u64("--bursts", value);
    } else if (value_of("--burst-size", &value)) {
      flags.burst_config.burst_size = static_cast<uint32_t>(parse_u64("--burst-size", value));
    } else if (value_of("--ringtail-binary", &value)) {
      flags.burst_config.ringtail_binary = value;
    } else if (value_of("--latency-samples", &value)) {
      flags.latency_config.samples = parse_u64("--latency-samples", value);
    } else if (value_of("--latency-spacing-ns", &value)) {
      flags.latency_config.spacing_ns = parse_u64("--latency-spacing-ns", value);
    } else if (value_of("--callgrind-emits", &value)) {
      flags.callgrind = true;
      flags.callgrind_emits = parse_u64("--callgrind-emits", value);
    } else if (value_of("--callgrind-subject", &value)) {
      flags.callgrind_subject = value;
    } else if (value_of("--ring-bytes", &value)) {
      flags.ring_bytes = parse_u64("--ring-bytes", value);
    } else {
      rest.push_back(argv[i]);
    }
  }
  for (size_t i = 0; i < rest.size(); ++i) argv[i] = rest[i];
  argc = static_cast<int>(rest.size());
  argv[argc] = nullptr;
  return flags;
}

// N calls of one subject, with no consumer running: the ring must hold them
// all (4 MiB holds 65535 ringtail events, the raw ring 16384), which is checked.
int run_callgrind(const Flags& flags) {
  const uint64_t n = flags.callgrind_emits;
  uint64_t done = 0;
  uint64_t expected = n;
  if (flags.callgrind_subject == "ringtail" || flags.callgrind_subject == "flight") {
    // "flight": the same loop on flight-recorder rings (run() inits them so).
    benchmark::DoNotOptimize(ringtail_bench::emit_tool_call(-1, 0.0));  // claim the ring, describe the site
    done = rtb_loop_ringtail(n);
  } else if (flags.callgrind_subject == "context") {
    // The same loop as "ringtail", inside a two-field context and a span.
    benchmark::DoNotOptimize(ringtail_bench::emit_tool_call(-1, 0.0));
    const ringtail::ScopedContext context{ringtail::kv("session_id", "s-1"), ringtail::kv("user_id", "u-1")};
    const ringtail::Span span("bench_span");
    done = rtb_loop_ringtail(n);
  } else if (flags.callgrind_subject == "span") {
    benchmark::DoNotOptimize(ringtail_bench::emit_tool_call(-1, 0.0));
    done = rtb_loop_span(n);
  } else if (flags.callgrind_subject == "disabled") {
    done = rtb_loop_disabled(n);
    expected = 0;
  } else if (flags.callgrind_subject == "raw") {
    static ringtail_bench::RawRing ring;
    done = rtb_loop_raw(&ring, n);
  } else if (flags.callgrind_subject == "empty") {
    done = rtb_loop_empty(n);
    expected = n / 2;
  } else {
    usage_error("--callgrind-subject must be ringtail, flight, context, span, disabled, raw or empty");
  }
  std::printf("callgrind subject=%s emits=%" PRIu64 " result=%" PRIu64 "\n", flags.callgrind_subject.c_str(), n, done);
  if (done != expected) {
    std::fprintf(stderr, "ringtail_bench: expected %" PRIu64 " (events dropped? use fewer emits)\n", expected);
    return 1;
  }
  return 0;
}

int run(int argc, char** argv) {
  Flags flags = parse_flags(argc, argv);
  if (flags.bursts) {
    // Quill's method pins the producer to CPU 0 and the consumer to another.
    if (flags.latency || flags.callgrind || flags.pin) usage_error("--latency=bursts goes alone (it always pins)");
    if (std::thread::hardware_concurrency() < 2) usage_error("--latency=bursts needs two CPUs");
    ringtail_bench::pin_this_thread(0);
  }
  if (flags.pin) {
    if (!flags.latency) usage_error("--pin goes with --latency");
    const int cpus = static_cast<int>(std::thread::hardware_concurrency());
    if (cpus < 2) usage_error("--pin needs two CPUs");
    ringtail_bench::pin_this_thread(0);  // before any thread starts: they inherit it
    ringtail_bench::g_consumer_cpu.store(cpus - 1);
  }

  ringtail::Options options;
  options.service = "bench";
  options.min_level = ringtail::Level::kInfo;
  options.ring_bytes = flags.ring_bytes != 0 ? flags.ring_bytes
                       : flags.callgrind     ? uint64_t{4} << 20
                                             : uint64_t{1} << 20;
  if (flags.callgrind && flags.callgrind_subject == "flight") options.mode = ringtail::RingMode::kFlight;
  if (absl::Status s = ringtail::init(options); !s.ok()) {
    std::fprintf(stderr, "ringtail_bench: ringtail::init: %s\n", s.ToString().c_str());
    return 1;
  }
  const std::string segment = ringtail::segment_name();
  int rc = 0;

  if (flags.callgrind) {
    rc = run_callgrind(flags);
  } else if (flags.bursts) {
    rc = ringtail_bench::run_latency_bursts(flags.burst_config, segment);
  } else {
    absl::StatusOr<std::unique_ptr<ringtail_bench::ShmDrain>> drain = ringtail_bench::ShmDrain::open(segment);
    if (!drain.ok()) {
      std::fprintf(stderr, "ringtail_bench: cannot open /dev/shm/%s: %s\n", segment.c_str(),
                   drain.status().ToString().c_str());
      ringtail::shutdown();
      ringtail::shm::SegmentFile::remove(segment);
      return 1;
    }
    (*drain)->start();
    if (flags.latency) {
      rc = ringtail_bench::run_latency(flags.latency_config);
    } else {
      benchmark::Initialize(&argc, argv);
      if (benchmark::ReportUnrecognizedArguments(argc, argv)) {
        rc = 1;
      } else {
        benchmark::AddCustomContext("ringtail_ring_bytes", std::to_string(options.ring_bytes));
        benchmark::RunSpecifiedBenchmarks();
        benchmark::Shutdown();
      }
    }
    (*drain)->stop();
    const ringtail_bench::ShmDrain::Stats stats = (*drain)->stats();
    std::fprintf(stderr,
                 "ringtail_bench: drain consumed %" PRIu64 " events, %" PRIu64 " bytes in %" PRIu64 " batches; %" PRIu64
                 " empty passes (slept); longest gap between passes %.3f ms\n",
                 stats.events, stats.bytes, stats.batches, stats.sleeps, static_cast<double>(stats.max_gap_ns) / 1e6);
  }

  ringtail::shutdown();
  ringtail::shm::SegmentFile::remove(segment);
  return rc;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const std::invalid_argument& e) {
    std::fprintf(stderr, "ringtail_bench: %s\n", e.what());
    return 2;
  }
}
