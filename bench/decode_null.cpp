// ringtail_decode_bench: the reader's decode + redaction + JSON formatting +
// merge alone, on one thread, into a sink that keeps nothing (counts only).
//
//   RINGTAIL_RING_BYTES=512M ringtail-loadgen --threads 2 --events 2000000 --service bl   # prints its pid
//   ringtail_decode_bench --pid PID [--repeat 5] [--no-redaction]
//
// Each repetition drains the (finished) producer's segment in peek mode, so
// the segment stays for the next one: the DrainEngine on the calling thread
// (no writer thread, one decoding thread), the CLI's default redaction. It
// reports events per second of that thread's CPU time (CLOCK_THREAD_CPUTIME_ID)
// and of wall time, median over the repetitions. bench/README.md has results.
#include <time.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "ringtail/reader/drain/drain_engine.hpp"
#include "ringtail/reader/output/redaction.hpp"
#include "ringtail/reader/sinks/event_sink.hpp"

namespace {

using ringtail::reader::EventBatch;

class NullSink final : public ringtail::reader::EventSink {
 public:
  absl::Status write(const EventBatch& batch) override {
    lines += batch.size();
    bytes += batch.text.size();
    return absl::OkStatus();
  }
  absl::Status flush() override { return absl::OkStatus(); }
  uint64_t lines = 0;
  uint64_t bytes = 0;
};

double seconds(clockid_t clock) {
  timespec ts{};
  ::clock_gettime(clock, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

[[noreturn]] void usage() {
  std::fprintf(stderr, "usage: ringtail_decode_bench --pid PID [--repeat N] [--no-redaction]\n");
  std::exit(2);
}

}  // namespace

int main(int argc, char** argv) {
  pid_t pid = 0;
  int repeat = 5;
  bool redaction = true;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--pid" && i + 1 < argc) {
      pid = static_cast<pid_t>(std::atoi(argv[++i]));
    } else if (arg == "--repeat" && i + 1 < argc) {
      repeat = std::max(1, std::atoi(argv[++i]));
    } else if (arg == "--no-redaction") {
      redaction = false;
    } else {
      usage();
    }
  }
  if (pid <= 0) usage();
  ringtail::reader::DrainOptions options;
  options.mode = ringtail::reader::DrainOptions::Mode::kPeek;
  options.discovery.pids = {pid};
  options.writer_thread = false;
  options.decode_threads = 1;
  if (redaction) {
    // As `ringtail drain` has it by default: the default rules, no keyed hash.
    options.redactor = std::make_shared<const ringtail::reader::Redactor>(
        std::vector<ringtail::reader::RedactionRule>{}, true, ringtail::reader::Redactor::KeyedHash{});
  }
  std::vector<double> cpu_rates;
  std::vector<double> wall_rates;
  uint64_t lines = 0;
  uint64_t bytes = 0;
  for (int r = 0; r < repeat; ++r) {
    NullSink sink;
    ringtail::reader::DrainEngine engine(options, sink, [](std::string_view line) {
      std::fprintf(stderr, "ringtail: %.*s\n", static_cast<int>(line.size()), line.data());
    });
    const double cpu0 = seconds(CLOCK_THREAD_CPUTIME_ID);
    const double wall0 = seconds(CLOCK_MONOTONIC);
    const absl::Status status = engine.drain_once();
    const double cpu = seconds(CLOCK_THREAD_CPUTIME_ID) - cpu0;
    const double wall = seconds(CLOCK_MONOTONIC) - wall0;
    if (!status.ok() || sink.lines == 0) {
      std::fprintf(stderr, "drain of pid %d: %s, %llu lines\n", static_cast<int>(pid), status.ToString().c_str(),
                   static_cast<unsigned long long>(sink.lines));
      return 1;
    }
    cpu_rates.push_back(static_cast<double>(sink.lines) / cpu);
    wall_rates.push_back(static_cast<double>(sink.lines) / wall);
    lines = sink.lines;
    bytes = sink.bytes;
  }
  std::printf("%llu lines (%llu bytes) per repetition, %d repetitions, redaction %s\n",
              static_cast<unsigned long long>(lines), static_cast<unsigned long long>(bytes), repeat,
              redaction ? "default" : "off");
  std::printf("median: %.2f M lines per CPU-second of the decoding thread, %.2f M lines/s wall\n",
              median(cpu_rates) / 1e6, median(wall_rates) / 1e6);
  return 0;
}
