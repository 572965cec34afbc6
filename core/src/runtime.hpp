// Process-wide producer state behind the cold paths. Not API.
//
// Every field is guarded by `mu` except the atomics. The hot path never takes
// `mu`; it runs on a thread's first event, on first use of a call site, at
// thread exit, init, shutdown and fork.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>

#include "absl/base/thread_annotations.h"
#include "clock.hpp"
#include "producer_segment.hpp"
#include "ringtail/options.hpp"

namespace ringtail::detail {

struct Runtime {
  std::mutex mu;
  Options options ABSL_GUARDED_BY(mu);
  ClockCalibration clock ABSL_GUARDED_BY(mu);
  std::unique_ptr<ProducerSegment> segment ABSL_GUARDED_BY(mu);
  // Bumped whenever `segment` is replaced (a fork child's first event), so a
  // thread-exit hook can tell its ring belongs to a segment no longer ours.
  uint64_t segment_epoch ABSL_GUARDED_BY(mu) = 0;
  bool shut_down ABSL_GUARDED_BY(mu) = false;
  bool hooks_installed ABSL_GUARDED_BY(mu) = false;
  bool warned_no_ring ABSL_GUARDED_BY(mu) = false;
  bool warned_table_full ABSL_GUARDED_BY(mu) = false;

  // Level word used between a fork and the child's own segment.
  std::atomic<uint32_t> inherited_level{0};
  std::atomic<uint64_t> lost_before_init{0};
  std::atomic<uint64_t> audit_lost_before_init{0};
};

// Never destroyed, so that call sites in static destructors stay safe.
Runtime& runtime();

// Words g_min_level points at when there is no live segment.
extern std::atomic<uint32_t> g_pass_all_word;    // before init: every event reaches the cold path
extern std::atomic<uint32_t> g_filter_all_word;  // after shutdown: no event passes

// Replaces the segment of a fork child with one of its own (lock held).
absl::Status adopt_child_segment(Runtime& rt) ABSL_EXCLUSIVE_LOCKS_REQUIRED(rt.mu);

// Counts an event lost for want of a ring (lock not needed).
void count_lost_no_ring(Runtime& rt);

}  // namespace ringtail::detail
