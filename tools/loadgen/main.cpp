// ringtail-loadgen: drives the producer with a known load, for tests and benchmarks.
//
//   ringtail-loadgen --threads T --events N [--rate EPS [--burst K]] [--string-bytes B]
//                    [--retry-when-full] [--abort-after K] [--service NAME]
//                    [--context] [--audit-every K]
//
// Each of T threads ("loadgen-<t>") logs N events from one call site:
//
//   RINGTAIL_INFO("loadgen", kv("thread_index", t), kv("i", i), kv("payload", "abc...xyzab..."))
//
// with i = 0..N-1 (uint64) and a payload of B bytes cycling through a-z, so a
// reader can check every event. --rate paces the threads on a fixed
// schedule; with --burst K a thread waits only for every K-th event's time
// and logs K back to back, so that waits are long enough to sleep rather
// than spin (a reader on the same cores then gets them). With --context each
// thread logs inside ScopedContext{kv("worker", t)}, bound before its first
// event; with
// --audit-every K every event whose i is a multiple of K is an audit event
// instead, RINGTAIL_AUDIT(kInfo, "loadgen.audit", the same fields) (never
// filtered or sampled; --retry-when-full does not apply to it: it waits for
// room itself, then counts as audit_lost). Options other than the service name come from
// the RINGTAIL_* environment variables; a payload longer than
// RINGTAIL_MAX_STRING_BYTES is cut by ringtail, and an event larger than half
// of RINGTAIL_RING_BYTES is dropped as too big.
//
// At the end it prints one JSON line on stdout:
//   {"committed":..,"dropped":..,"seconds":..,"events_per_second":..,"segment":"ringtail.<pid>.<start>",
//    "pid":..,"retries":..}
// dropped counts events that were not committed; retries counts the extra
// attempts --retry-when-full made. Those use RINGTAIL_TRY_LOG, which reports a
// full ring without counting a drop or spending a seq number, so a reader sees
// no gap for them. With --retry-when-full an event waits for a reader to make
// room (forever, if none runs); the run fails, and the event is counted as
// dropped, only if it can never be committed (level filtered, too big, no ring).
//
// Exit status: 0 done; 1 runtime error (init failed, an event can never be
// committed); 2 usage error; SIGKILL with --abort-after.
#include <pthread.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <latch>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "CLI/CLI.hpp"
#include "ringtail/ringtail.hpp"

namespace {

using Clock = std::chrono::steady_clock;

constexpr const char* kProgram = "ringtail-loadgen";
constexpr uint32_t kMaxThreads = ringtail::shm::kMaxRingSlots;  // the most rings a segment can hold
constexpr uint64_t kMaxPayloadBytes = uint64_t{16} << 20;

struct Config {
  uint32_t threads = 0;
  uint64_t events = 0;
  double rate = 0;     // events/s over all threads; 0: unpaced
  uint64_t burst = 1;  // with a rate: a thread waits for every K-th event's time, then logs K back to back
  uint64_t string_bytes = 16;
  bool retry_when_full = false;
  uint64_t abort_after = 0;  // 0: never
  std::string service;
  bool context = false;
  uint64_t audit_every = 0;  // 0: no audit events
};

// What one thread did.
struct ThreadResult {
  uint64_t committed = 0;
  uint64_t dropped = 0;
  uint64_t retries = 0;
};

// The first fatal error a worker meets; the other workers then stop.
std::atomic<bool> g_failed{false};
std::string g_failure;  // written by the thread that set g_failed, read after the join

void fail(std::string message) {
  if (!g_failed.exchange(true)) g_failure = std::move(message);
}

[[noreturn]] void exit_with_error(int status, std::string_view message) {
  std::fprintf(stderr, "%s: %.*s\n", kProgram, static_cast<int>(message.size()), message.data());
  // NOLINTNEXTLINE(concurrency-mt-unsafe): only the main thread exits, before or after the workers run.
  std::exit(status);
}

// One call site per mode, with the same message and fields, so that the
// reader sees one schema either way.
bool log_event(int thread_index, uint64_t i, std::string_view payload) {
  return RINGTAIL_INFO("loadgen", ringtail::kv("thread_index", thread_index), ringtail::kv("i", i),
                       ringtail::kv("payload", payload));
}
bool log_audit_event(int thread_index, uint64_t i, std::string_view payload) {
  return RINGTAIL_AUDIT(ringtail::Level::kInfo, "loadgen.audit", ringtail::kv("thread_index", thread_index),
                        ringtail::kv("i", i), ringtail::kv("payload", payload));
}
ringtail::EmitResult try_log_event(int thread_index, uint64_t i, std::string_view payload) {
  return RINGTAIL_TRY_LOG(ringtail::Level::kInfo, "loadgen", ringtail::kv("thread_index", thread_index),
                          ringtail::kv("i", i), ringtail::kv("payload", payload));
}

void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

// Logs event i until it is committed. A full ring is reported without being
// counted, so waiting for room loses nothing; any other outcome is one that
// waiting does not cure, and fails the run.
bool commit_with_retry(int thread_index, uint64_t i, std::string_view payload, ThreadResult& result) {
  for (uint32_t attempt = 0;; ++attempt) {
    switch (try_log_event(thread_index, i, payload)) {
      case ringtail::EmitResult::kCommitted:
        return true;
      case ringtail::EmitResult::kRingFull:
        break;
      case ringtail::EmitResult::kFiltered:
        fail("--retry-when-full: the live level filters INFO events out, none can be committed");
        return false;
      case ringtail::EmitResult::kTooBig:
        fail("--retry-when-full: an event is larger than half of RINGTAIL_RING_BYTES, none fits");
        return false;
      case ringtail::EmitResult::kLost:
        fail("--retry-when-full: a thread has no ring (RINGTAIL_MAX_THREADS too low, or /dev/shm full)");
        return false;
      case ringtail::EmitResult::kSampledOut:
        fail("--retry-when-full: a sampling rule (RINGTAIL_SAMPLE) leaves events out, not all can be committed");
        return false;
    }
    if (g_failed.load(std::memory_order_relaxed)) {
      ringtail::count_dropped();  // giving up: the reader must still see the loss
      return false;
    }
    ++result.retries;
    if (attempt < 4) {
      for (int spin = 0; spin < 64; ++spin) cpu_relax();
    } else if (attempt < 16) {
      std::this_thread::yield();
    } else {
      std::this_thread::sleep_for(std::chrono::microseconds(50));
    }
  }
}

// Waits until `due`: sleeps when it is far enough ahead, else spins. Events
// are due on a fixed schedule, so a late wake-up shortens the next wait
// instead of shifting every later event: the rate does not drift.
void wait_until(Clock::time_point due) {
  Clock::time_point now = Clock::now();
  if (due - now >= std::chrono::microseconds(50)) {
    std::this_thread::sleep_until(due);
    return;
  }
  while (now < due) {
    std::this_thread::yield();
    now = Clock::now();
  }
}

void run_thread(const Config& config, uint32_t thread_index, std::string_view payload, std::latch& go,
                const Clock::time_point& start, ThreadResult& result) {
  char name[16];
  std::snprintf(name, sizeof(name), "loadgen-%u", thread_index);
  ::pthread_setname_np(::pthread_self(), name);
  go.wait();  // start is set before the latch opens

  // Event i of thread t is due at (i * T + t) / EPS: the threads interleave evenly.
  const double seconds_per_event = config.rate > 0 ? 1.0 / config.rate : 0.0;
  const int index = static_cast<int>(thread_index);
  std::optional<ringtail::ScopedContext> context;
  if (config.context) context.emplace(ringtail::kv("worker", index));
  for (uint64_t i = 0; i < config.events; ++i) {
    if (g_failed.load(std::memory_order_relaxed)) return;
    if (config.rate > 0 && i % config.burst == 0) {
      const double offset = (static_cast<double>(i) * config.threads + thread_index) * seconds_per_event;
      wait_until(start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(offset)));
    }
    const bool audit = config.audit_every != 0 && i % config.audit_every == 0;
    const bool committed = audit                    ? log_audit_event(index, i, payload)
                           : config.retry_when_full ? commit_with_retry(index, i, payload, result)
                                                    : log_event(index, i, payload);
    if (!committed) {
      ++result.dropped;
      continue;
    }
    ++result.committed;
    if (thread_index == 0 && result.committed == config.abort_after) std::raise(SIGKILL);
  }
}

// A count between lo and hi. Plain decimal digits only: CLI11 would read "-1"
// into an unsigned option as 2^64-1, and "010" as octal.
CLI::Validator count_between(uint64_t lo, uint64_t hi) {
  return CLI::Validator(
      [lo, hi](std::string& text) -> std::string {
        const bool digits = !text.empty() && text.size() <= 20 &&
                            std::all_of(text.begin(), text.end(), [](unsigned char c) { return std::isdigit(c); });
        errno = 0;
        const unsigned long long value = digits ? std::strtoull(text.c_str(), nullptr, 10) : 0;
        if (!digits || errno == ERANGE || value < lo || value > hi) {
          return "'" + text + "' is not an integer from " + std::to_string(lo) + " to " + std::to_string(hi);
        }
        text = std::to_string(value);
        return "";
      },
      "");
}

Config parse_args(int argc, char** argv) {
  Config config;
  CLI::App app{"Logs a known load of INFO events into this process's ringtail segment and prints one JSON line.",
               kProgram};
  app.add_option("--threads", config.threads, "Producer threads, 1 to 4096")
      ->required()
      ->transform(count_between(1, kMaxThreads));
  app.add_option("--events", config.events, "Events per thread")->required()->transform(count_between(0, UINT64_MAX));
  app.add_option("--rate", config.rate, "Total events per second over all threads (default: unpaced)");
  app.add_option("--burst", config.burst,
                 "With --rate: wait for every K-th event's time, then log K events back to back (the same rate; "
                 "waits of 50 us or more sleep instead of spinning, so fast rates leave the CPU to the reader)")
      ->capture_default_str()
      ->transform(count_between(1, UINT64_MAX));
  app.add_option("--string-bytes", config.string_bytes, "Bytes of the payload string, at most 16 MiB")
      ->capture_default_str()
      ->transform(count_between(0, kMaxPayloadBytes));
  app.add_flag("--retry-when-full", config.retry_when_full,
               "Retry an event until the ring has room for it (a reader drains it), instead of dropping it");
  app.add_option("--abort-after", config.abort_after,
                 "SIGKILL the process once thread 0 has committed this many events")
      ->transform(count_between(1, UINT64_MAX));
  app.add_flag("--context", config.context, "Each thread logs inside a ScopedContext with its worker index");
  app.add_option("--audit-every", config.audit_every, "Every event whose i is a multiple of this is an audit event")
      ->transform(count_between(1, UINT64_MAX));
  app.add_option("--service", config.service,
                 "Service name in the reader's output (default: $RINGTAIL_SERVICE, "
                 "else loadgen)");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // NOLINTNEXTLINE(concurrency-mt-unsafe): argument parsing, before any other thread starts.
    if (e.get_exit_code() == 0) std::exit(app.exit(e));  // --help
    std::string message = e.what();
    std::replace(message.begin(), message.end(), '\n', ' ');
    exit_with_error(2, message + " (see --help)");
  }
  if (app.count("--rate") != 0 && !(std::isfinite(config.rate) && config.rate > 0))
    exit_with_error(2, "--rate: must be a positive number of events per second (see --help)");
  if (app.count("--burst") != 0 && app.count("--rate") == 0) exit_with_error(2, "--burst: needs --rate (see --help)");
  if (config.abort_after > config.events) exit_with_error(2, "--abort-after: must not exceed --events (see --help)");
  return config;
}

int run(int argc, char** argv) {
  const Config config = parse_args(argc, argv);

  absl::StatusOr<ringtail::Options> options = ringtail::options_from_env();
  if (!options.ok()) exit_with_error(1, options.status().ToString());
  if (!config.service.empty()) options->service = config.service;
  if (options->service.empty()) options->service = "loadgen";
  if (absl::Status s = ringtail::init(*options); !s.ok()) exit_with_error(1, "init: " + s.ToString());

  if (config.retry_when_full && config.events != 0 && !ringtail::enabled(ringtail::Level::kInfo)) {
    exit_with_error(1, "--retry-when-full: RINGTAIL_LEVEL filters INFO events out, none can be committed");
  }

  std::string payload(config.string_bytes, '\0');
  for (size_t k = 0; k < payload.size(); ++k) payload[k] = static_cast<char>('a' + k % 26);

  std::vector<ThreadResult> results(config.threads);
  std::vector<std::thread> threads;
  threads.reserve(config.threads);
  std::latch go(1);
  Clock::time_point start;
  for (uint32_t t = 0; t < config.threads; ++t) {
    threads.emplace_back(run_thread, std::cref(config), t, std::string_view{payload}, std::ref(go), std::cref(start),
                         std::ref(results[t]));
  }
  start = Clock::now();
  go.count_down();
  for (std::thread& thread : threads) thread.join();
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  ringtail::shutdown();

  if (g_failed.load()) exit_with_error(1, g_failure);

  ThreadResult total;
  for (const ThreadResult& r : results) {
    total.committed += r.committed;
    total.dropped += r.dropped;
    total.retries += r.retries;
  }
  const double eps = seconds > 0 ? static_cast<double>(total.committed) / seconds : 0.0;
  std::printf(
      "{\"committed\":%llu,\"dropped\":%llu,\"seconds\":%.6f,\"events_per_second\":%.1f,\"segment\":\"%s\","
      "\"pid\":%d,\"retries\":%llu}\n",
      static_cast<unsigned long long>(total.committed), static_cast<unsigned long long>(total.dropped), seconds, eps,
      ringtail::segment_name().c_str(), static_cast<int>(::getpid()), static_cast<unsigned long long>(total.retries));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  // An exception that escapes (std::bad_alloc, a bug) is reported, not left to std::terminate.
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s: internal error: %s\n", kProgram, e.what());
  } catch (...) {
    std::fprintf(stderr, "%s: internal error: an unknown exception\n", kProgram);
  }
  return 1;
}
