// init, shutdown, live level, fork handling.
#include "runtime.hpp"

#include <pthread.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "keyed_hash.hpp"
#include "ringtail/detail/producer_state.hpp"
#include "ringtail/field.hpp"
#include "sampling.hpp"

namespace ringtail {
namespace detail {

std::atomic<uint32_t> g_pass_all_word{static_cast<uint32_t>(Level::kTrace)};
std::atomic<uint32_t> g_filter_all_word{static_cast<uint32_t>(Level::kOff)};
constinit std::atomic<const std::atomic<uint32_t>*> g_min_level{&g_pass_all_word};

Runtime& runtime() {
  static Runtime* rt = new Runtime();  // leaked on purpose: usable during static destruction
  return *rt;
}

void count_lost_no_ring(Runtime& rt) {
  std::lock_guard lock(rt.mu);
  if (rt.segment != nullptr && rt.segment->pid() == ::getpid()) {
    rt.segment->header().lost_no_ring.fetch_add(1, std::memory_order_relaxed);
  } else {
    rt.lost_before_init.fetch_add(1, std::memory_order_relaxed);
  }
}

void count_audit_lost_outside_rings() noexcept {
  Runtime& rt = runtime();
  std::lock_guard lock(rt.mu);
  if (rt.segment != nullptr && rt.segment->pid() == ::getpid()) {
    rt.segment->header().audit_lost_outside_rings.fetch_add(1, std::memory_order_relaxed);
  } else {
    rt.audit_lost_before_init.fetch_add(1, std::memory_order_relaxed);
  }
}

absl::Status adopt_child_segment(Runtime& rt) {
  absl::StatusOr<std::unique_ptr<ProducerSegment>> child =
      ProducerSegment::create(rt.options, rt.clock, rt.segment.get());
  if (!child.ok()) return child.status();
  (*child)->header().control_min_level.store(rt.inherited_level.load(std::memory_order_relaxed),
                                             std::memory_order_relaxed);
  rt.segment = std::move(*child);  // unmaps the parent's segment from this process
  ++rt.segment_epoch;
  // release: the new segment's mapping before its control word is used.
  g_min_level.store(&rt.segment->header().control_min_level, std::memory_order_release);
  return absl::OkStatus();
}

namespace {

void before_fork() ABSL_NO_THREAD_SAFETY_ANALYSIS { runtime().mu.lock(); }
void after_fork_in_parent() ABSL_NO_THREAD_SAFETY_ANALYSIS { runtime().mu.unlock(); }

// The child has one thread, this one. It must never write into the parent's
// segment: its ring is forgotten, and the next event creates its own segment.
// Its frames (contexts, spans still in scope) stay bound: the new ring gets
// them before its first event, as any thread's frames bound before its ring.
void after_fork_in_child() ABSL_NO_THREAD_SAFETY_ANALYSIS {
  Runtime& rt = runtime();
  ThreadState fresh{};
  fresh.frame_depth = t_thread_state.frame_depth;
  fresh.in_trace = t_thread_state.in_trace;
  fresh.trace_draw = t_thread_state.trace_draw;
  t_thread_state = fresh;
  if (rt.segment != nullptr && !rt.shut_down) {
    rt.inherited_level.store(rt.segment->header().control_min_level.load(std::memory_order_relaxed),
                             std::memory_order_relaxed);
    g_min_level.store(&rt.inherited_level, std::memory_order_release);
  }
  rt.mu.unlock();
}

void shutdown_at_exit() { shutdown(); }

absl::Status validate(const Options& options) {
  if (options.min_level > Level::kOff) return absl::InvalidArgumentError("min_level is not a level");
  if (options.max_string_bytes < kMinStringCap || options.max_string_bytes > (16U << 20)) {
    return absl::InvalidArgumentError(
        absl::StrCat("max_string_bytes ", options.max_string_bytes, " is not between 16 and 16 MiB"));
  }
  if (options.mode != RingMode::kNormal && options.mode != RingMode::kFlight) {
    return absl::InvalidArgumentError("mode is not a ring mode");
  }
  if (options.mode == RingMode::kFlight && shm::flight_chunk_count(options.ring_bytes) == 0) {
    return absl::InvalidArgumentError(absl::StrCat("flight mode needs rings of at least ",
                                                   2 * shm::kMinFlightChunkBytes, " bytes, not ", options.ring_bytes));
  }
  if ((options.shm_mode & ~0777U) != 0 || (options.shm_mode & 0600U) != 0600U) {
    return absl::InvalidArgumentError(
        absl::StrFormat("shm_mode %#o must be permission bits including 0600", options.shm_mode));
  }
  return absl::OkStatus();
}

}  // namespace
}  // namespace detail

absl::Status init(const Options& options) {
  using namespace detail;
  if (absl::Status s = validate(options); !s.ok()) return s;
  Runtime& rt = runtime();
  std::lock_guard lock(rt.mu);
  if (rt.shut_down) return absl::FailedPreconditionError("ringtail was shut down in this process");
  const bool fork_child = rt.segment != nullptr && rt.segment->pid() != ::getpid();
  if (rt.segment != nullptr && !fork_child) {
    return absl::AlreadyExistsError(absl::StrCat("ringtail is already initialised: /dev/shm/", rt.segment->name()));
  }
  if (!fork_child) rt.clock = calibrate_clock();  // a child shares its parent's TSC
  if (options.error_stacks) warm_backtrace();
  // Sampling rules: checked here, written by ProducerSegment::create (sampling.hpp).
  if (absl::Status s = check_sample_rules(options.sample); !s.ok()) return s;
  // The key of breakglass token hashes (keyed_hash.hpp).
  if (absl::Status s = install_hash_key(options.hash_key); !s.ok()) return s;
  absl::StatusOr<std::unique_ptr<ProducerSegment>> segment =
      ProducerSegment::create(options, rt.clock, fork_child ? rt.segment.get() : nullptr);
  if (!segment.ok()) return segment.status();
  rt.options = options;
  rt.segment = std::move(*segment);
  ++rt.segment_epoch;
  if (!rt.hooks_installed) {
    rt.hooks_installed = true;
    std::atexit(shutdown_at_exit);
    ::pthread_atfork(before_fork, after_fork_in_parent, after_fork_in_child);
  }
  // release: publishes the mapping and header to threads that load the pointer.
  g_min_level.store(&rt.segment->header().control_min_level, std::memory_order_release);
  return absl::OkStatus();
}

absl::Status init() {
  absl::StatusOr<Options> options = options_from_env();
  if (!options.ok()) return options.status();
  return init(*options);
}

void shutdown() {
  using namespace detail;
  Runtime& rt = runtime();
  std::lock_guard lock(rt.mu);
  if (rt.shut_down || rt.segment == nullptr) return;
  rt.shut_down = true;
  g_min_level.store(&g_filter_all_word, std::memory_order_release);
  if (rt.segment->pid() == ::getpid()) {
    // release: every event this thread committed before is visible with the state.
    rt.segment->header().state.store(static_cast<uint32_t>(shm::SegmentState::kFinished), std::memory_order_release);
  }
}

void set_min_level(Level level) {
  using namespace detail;
  Runtime& rt = runtime();
  std::lock_guard lock(rt.mu);
  rt.options.min_level = level;
  if (rt.segment != nullptr && rt.segment->pid() == ::getpid()) {
    rt.segment->header().control_min_level.store(static_cast<uint32_t>(level), std::memory_order_relaxed);
  } else {
    rt.inherited_level.store(static_cast<uint32_t>(level), std::memory_order_relaxed);
  }
}

Level min_level() {
  detail::Runtime& rt = detail::runtime();
  std::lock_guard lock(rt.mu);
  if (rt.segment == nullptr) return rt.options.min_level;
  const uint32_t word = detail::g_min_level.load(std::memory_order_acquire)->load(std::memory_order_relaxed);
  return word > static_cast<uint32_t>(Level::kOff) ? Level::kOff : static_cast<Level>(word);
}

std::string segment_name() {
  detail::Runtime& rt = detail::runtime();
  std::lock_guard lock(rt.mu);
  // A fork child has no segment of its own until its first event.
  return rt.segment != nullptr && rt.segment->pid() == ::getpid() ? rt.segment->name() : std::string();
}

LossCounters loss_counters() {
  detail::Runtime& rt = detail::runtime();
  std::lock_guard lock(rt.mu);
  LossCounters c;
  c.before_init = rt.lost_before_init.load(std::memory_order_relaxed);
  c.audit_before_init = rt.audit_lost_before_init.load(std::memory_order_relaxed);
  c.audit = c.audit_before_init;
  if (rt.segment != nullptr && rt.segment->pid() == ::getpid()) {
    c.no_ring = rt.segment->header().lost_no_ring.load(std::memory_order_relaxed);
    c.callsite_table_full = rt.segment->header().lost_callsite_table_full.load(std::memory_order_relaxed);
    c.audit += rt.segment->header().audit_lost_outside_rings.load(std::memory_order_relaxed);
    for (uint32_t i = 0; i < rt.segment->geometry().ring_slot_count; ++i) {
      const shm::RingSlot& slot = rt.segment->slot(i);
      c.ring_full += slot.dropped_full.load(std::memory_order_relaxed);
      c.too_big += slot.dropped_too_big.load(std::memory_order_relaxed);
      c.audit += slot.audit_lost.load(std::memory_order_relaxed);
    }
  }
  return c;
}

void count_dropped() {
  detail::ThreadState& t = detail::t_thread_state;
  if (t.status == detail::ThreadRingStatus::kActive) {
    t.writer.drop_full();
  } else {
    detail::count_lost_no_ring(detail::runtime());
  }
}

uint64_t max_event_bytes() {
  detail::Runtime& rt = detail::runtime();
  std::lock_guard lock(rt.mu);
  return rt.segment != nullptr ? rt.segment->geometry().max_record_bytes() : 0;
}

}  // namespace ringtail
