// The benchmarks. Every one logs the same event — step_id (int), duration_ms
// (double), tool ("write_file") — varying the numbers by iteration, while a
// consumer drains it the same way: read the producer's position once, consume
// everything up to it, publish the consumer's position once, and sleep ~20 us
// when there was nothing to consume. ringtail's consumer is the process-wide
// ShmDrain (bench_main.cpp); each comparison queue has its own consumer
// thread, started before and stopped after its benchmark's timed loop.
//
// Counters: drop_rate = events dropped because the queue was full /
// iterations (averaged over threads), dropped = their sum; a consumer falling
// behind shows up there rather than as a stall.
#include <array>
#include <cstdint>
#include <memory>

#include <benchmark/benchmark.h>
#include <concurrentqueue/concurrentqueue.h>
#include <spdlog/async.h>
#include <spdlog/async_logger.h>
#include <spdlog/sinks/null_sink.h>
#include <spdlog/spdlog.h>

#include "common.hpp"
#include "raw_ring.hpp"
#include "ringtail/ringtail.hpp"

namespace ringtail_bench {
namespace {

void report_drops(benchmark::State& state, uint64_t dropped) {
  const double iterations = static_cast<double>(state.iterations());
  state.SetItemsProcessed(state.iterations());
  state.counters["drop_rate"] = benchmark::Counter(iterations > 0 ? static_cast<double>(dropped) / iterations : 0.0,
                                                   benchmark::Counter::kAvgThreads);
  state.counters["dropped"] = benchmark::Counter(static_cast<double>(dropped));
}

// ringtail, 3 fields, INFO (enabled). With ->Threads(2) each thread writes its own ring.
void BM_Emit_3Fields(benchmark::State& state) {
  const ringtail::shm::RingWriter& writer = ringtail::detail::t_thread_state.writer;
  // The thread's first event claims its ring (and the site's first use
  // describes it): cold path, done before the timed loop.
  benchmark::DoNotOptimize(emit_tool_call(-1, 0.0));
  const uint64_t dropped_before = writer.dropped;
  int step_id = 0;
  double duration_ms = 0.0;
  for (auto _ : state) {
    bool committed = emit_tool_call(step_id, duration_ms);
    benchmark::DoNotOptimize(committed);
    ++step_id;
    duration_ms += 0.5;
  }
  report_drops(state, writer.dropped - dropped_before);
}
BENCHMARK(BM_Emit_3Fields);
BENCHMARK(BM_Emit_3Fields)->Threads(2);

// The same call at DEBUG while the minimum level is INFO: the level test alone.
void BM_Emit_Disabled(benchmark::State& state) {
  int step_id = 0;
  double duration_ms = 0.0;
  for (auto _ : state) {
    bool passed = emit_tool_call_disabled(step_id, duration_ms);
    benchmark::DoNotOptimize(passed);
    ++step_id;
    duration_ms += 0.5;
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Emit_Disabled);

// The baseline: a bare SPSC ring of 64-byte slots (raw_ring.hpp), 1 MiB.
void BM_RawRing_64B(benchmark::State& state) {
  static RawRing ring;  // allocated and faulted in once
  BackoffConsumer consumer([] { return ring.drain(); });
  const uint64_t dropped_before = ring.dropped();
  int step_id = 0;
  double duration_ms = 0.0;
  for (auto _ : state) {
    bool stored = ring.push(step_id, duration_ms, kTool);
    benchmark::DoNotOptimize(stored);
    ++step_id;
    duration_ms += 0.5;
  }
  report_drops(state, ring.dropped() - dropped_before);
}
BENCHMARK(BM_RawRing_64B);

// Supplementary, drop-free variants of the two above (not in the spec's list).
// Back to back, the producer outruns any consumer that touches every record,
// so the benchmarks above mix committed and dropped events in proportions
// set by how much CPU the consumer got; their ratio is then unstable. Here
// each benchmark iteration is a burst of kBurst events into a ring the
// consumer has emptied first (waited for with the timer paused), so every
// event takes the commit path. per_event (CPU time / events) is the figure to read.
constexpr int kBurst = 8192;  // 512 KiB of either 1 MiB ring

void wait_until(benchmark::State& state, const auto& drained) {
  state.PauseTiming();
  while (!drained()) backoff_sleep();
  state.ResumeTiming();
}

void report_burst(benchmark::State& state, uint64_t dropped, int burst = kBurst) {
  state.SetItemsProcessed(state.iterations() * burst);
  // CPU seconds per event (JSON: seconds; the console prints it with its unit, e.g. 12.3ns).
  state.counters["per_event"] =
      benchmark::Counter(burst, benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
  state.counters["dropped"] = benchmark::Counter(static_cast<double>(dropped));
}

// Bursts of `burst` calls of `call` into this thread's ring, each once the
// drain has emptied it (waited for with the timer paused).
template <class Call>
void ringtail_bursts(benchmark::State& state, int burst, Call call) {
  const ringtail::shm::RingWriter& writer = ringtail::detail::t_thread_state.writer;
  benchmark::DoNotOptimize(emit_tool_call(-1, 0.0));  // the ring is claimed before the timed loop
  const uint64_t dropped_before = writer.dropped;
  for (auto _ : state) {
    wait_until(state, [&] { return writer.slot->read_pos.load(std::memory_order_acquire) == writer.write_pos; });
    for (int i = 0; i < burst; ++i) call();
  }
  report_burst(state, writer.dropped - dropped_before, burst);
}

void emit_bursts(benchmark::State& state) {
  int step_id = 0;
  double duration_ms = 0.0;
  ringtail_bursts(state, kBurst, [&] {
    bool committed = emit_tool_call(step_id, duration_ms);
    benchmark::DoNotOptimize(committed);
    ++step_id;
    duration_ms += 0.5;
  });
}

void BM_Emit_3Fields_NoDrop(benchmark::State& state) { emit_bursts(state); }
BENCHMARK(BM_Emit_3Fields_NoDrop);

// The same event inside a two-field ScopedContext and a Span: the frames are
// records of their own, so the event should cost what it costs outside them.
void BM_Emit_3Fields_InContextSpan_NoDrop(benchmark::State& state) {
  benchmark::DoNotOptimize(emit_tool_call(-1, 0.0));  // claim the ring first: the frames then go straight in
  const ringtail::ScopedContext context{ringtail::kv("session_id", "s-1"), ringtail::kv("user_id", "u-1")};
  const ringtail::Span span("bench_span");
  emit_bursts(state);
}
BENCHMARK(BM_Emit_3Fields_InContextSpan_NoDrop);

// Frame records are larger than the event (a span's push and pop take 152
// bytes, a two-field context's 120): bursts of this many fit the 1 MiB ring.
constexpr int kFrameBurst = 2048;

// A span begun and ended (two frame records, two random ids): per_event is per span.
void BM_Span_BeginEnd_NoDrop(benchmark::State& state) {
  ringtail_bursts(state, kFrameBurst, [] {
    ringtail::Span span("tool_call");
    benchmark::DoNotOptimize(span.span_id());
  });
}
BENCHMARK(BM_Span_BeginEnd_NoDrop);

// A two-field ScopedContext bound and unbound: per_event is per scope.
void BM_ScopedContext_BindUnbind_NoDrop(benchmark::State& state) {
  int n = 0;
  ringtail_bursts(state, kFrameBurst, [&] {
    const ringtail::ScopedContext context{ringtail::kv("session_id", kTool), ringtail::kv("turn", ++n)};
    benchmark::DoNotOptimize(context.bound());
  });
}
BENCHMARK(BM_ScopedContext_BindUnbind_NoDrop);

void BM_RawRing_64B_NoDrop(benchmark::State& state) {
  static RawRing ring;
  BackoffConsumer consumer([] { return ring.drain(); });
  const uint64_t dropped_before = ring.dropped();
  int step_id = 0;
  double duration_ms = 0.0;
  for (auto _ : state) {
    wait_until(state, [] { return ring.drained(); });
    for (int i = 0; i < kBurst; ++i) {
      bool stored = ring.push(step_id, duration_ms, kTool);
      benchmark::DoNotOptimize(stored);
      ++step_id;
      duration_ms += 0.5;
    }
  }
  report_burst(state, ring.dropped() - dropped_before);
}
BENCHMARK(BM_RawRing_64B_NoDrop);

// spdlog's async logger: formats on the caller, queues into its MPMC blocking
// queue (8192 slots, overrun_oldest), one worker thread, null sink.
void BM_Spdlog_Async_3Fields(benchmark::State& state) {
  auto pool = std::make_shared<spdlog::details::thread_pool>(8192, 1);
  auto logger = std::make_shared<spdlog::async_logger>("bench", std::make_shared<spdlog::sinks::null_sink_mt>(), pool,
                                                       spdlog::async_overflow_policy::overrun_oldest);
  logger->set_level(spdlog::level::info);
  const size_t overrun_before = pool->overrun_counter();
  int step_id = 0;
  double duration_ms = 0.0;
  for (auto _ : state) {
    logger->info("tool call step_id={} duration_ms={} tool={}", step_id, duration_ms, kTool);
    ++step_id;
    duration_ms += 0.5;
  }
  report_drops(state, pool->overrun_counter() - overrun_before);
  logger.reset();
  pool.reset();  // drains the queue and joins the worker
}
BENCHMARK(BM_Spdlog_Async_3Fields);

// moodycamel::ConcurrentQueue of 64-byte events, explicit producer token,
// bounded: pre-sized to 16384 events (1 MiB) and filled with try_enqueue,
// which never allocates, so a full queue drops (counted) instead of growing.
struct BoundedQueueTraits : moodycamel::ConcurrentQueueDefaultTraits {
  // The explicit producer's block index must cover every pre-allocated block,
  // or try_enqueue fails at 32 blocks x 32 events.
  static const size_t EXPLICIT_INITIAL_INDEX_SIZE = 512;
};
using BoundedQueue = moodycamel::ConcurrentQueue<Event64, BoundedQueueTraits>;
constexpr size_t kQueueEvents = 16384;
static_assert(kQueueEvents / BoundedQueueTraits::BLOCK_SIZE <= BoundedQueueTraits::EXPLICIT_INITIAL_INDEX_SIZE);

void BM_ConcurrentQueue_64B(benchmark::State& state) {
  static BoundedQueue queue(kQueueEvents);
  static moodycamel::ProducerToken producer(queue);  // only the benchmark's (main) thread enqueues
  BackoffConsumer consumer([token = moodycamel::ConsumerToken(queue), batch = std::array<Event64, 256>{},
                            checksum = uint64_t{0}]() mutable -> uint64_t {
    const size_t n = queue.try_dequeue_bulk(token, batch.begin(), batch.size());
    for (size_t i = 0; i < n; ++i) checksum += batch[i].tsc + batch[i].tool_bytes;
    benchmark::DoNotOptimize(checksum);
    return n;
  });
  uint64_t dropped = 0;
  int step_id = 0;
  double duration_ms = 0.0;
  for (auto _ : state) {
    Event64 event;
    fill_event(event, step_id, duration_ms, kTool);
    bool stored = queue.try_enqueue(producer, event);
    benchmark::DoNotOptimize(stored);
    if (!stored) [[unlikely]]
      ++dropped;
    ++step_id;
    duration_ms += 0.5;
  }
  report_drops(state, dropped);
}
BENCHMARK(BM_ConcurrentQueue_64B);

}  // namespace
}  // namespace ringtail_bench
