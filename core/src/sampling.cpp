// Sampling: the cold path of an event whose call site has a sampling rule,
// and the rules' way from Options::sample into each call site's sample_keep.
//
// The decision: an event is kept when its 32-bit draw is below
// sample_keep - 1. Inside a trace (a Span bound on the thread) the draw is
// the trace's own, the same for every event of the trace, so a trace is kept
// or left out whole, and a site with a lower rate keeps a subset of the
// traces a higher rate keeps. Outside a trace it comes from a per-thread
// generator. Neither path takes a lock or makes a syscall once the thread's
// generator is seeded.
#include "sampling.hpp"

#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <atomic>

#include "ringtail/detail/producer_state.hpp"
#include "ringtail/shm/sample_rules.hpp"

namespace ringtail::detail {
namespace {

// SplitMix64's output function (Steele, Lea and Flood, "Fast splittable
// pseudorandom number generators", OOPSLA 2014; the constants are the ones
// published with it): a bijection of 64-bit words whose outputs, for
// consecutive inputs, pass BigCrush. Ample for sampling, and two multiplies.
constexpr uint64_t kGolden = 0x9E3779B97F4A7C15ULL;
uint64_t mix64(uint64_t z) noexcept {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

// A seed no other thread, and no other process, is likely to share: the
// pid, the thread id, the time, this thread's TLS address and a process-wide
// counter. A fork child starts from a reset ThreadState (the runtime's
// atfork handler clears it), so it seeds again with its own pid instead of
// repeating its parent's stream. Never 0, which means "not seeded".
uint64_t seed(const ThreadState& thread) noexcept {
  static std::atomic<uint64_t> counter{0};
  timespec now{};
  ::clock_gettime(CLOCK_MONOTONIC, &now);
  uint64_t z = counter.fetch_add(kGolden, std::memory_order_relaxed);
  z = mix64(z ^ static_cast<uint64_t>(::getpid()));
  z = mix64(z ^ static_cast<uint64_t>(::syscall(SYS_gettid)));
  z = mix64(z ^ (static_cast<uint64_t>(now.tv_sec) * 1000000000ULL + static_cast<uint64_t>(now.tv_nsec)));
  z = mix64(z ^ reinterpret_cast<uintptr_t>(&thread));
  return z != 0 ? z : kGolden;
}

// The thread's next draw (SplitMix64: a Weyl sequence through mix64).
uint32_t next_draw(ThreadState& thread) noexcept {
  if (thread.sample_state == 0) [[unlikely]] {
    thread.sample_state = seed(thread);
  }
  thread.sample_state += kGolden;  // reaching 0 again only reseeds
  return static_cast<uint32_t>(mix64(thread.sample_state) >> 32);
}

}  // namespace

bool sample_keep_event(ThreadState& thread, uint32_t keep) noexcept {
  const uint32_t draw = thread.in_trace ? thread.trace_draw : next_draw(thread);
  // keep - 1 wraps for 0 ("keep all"), which the hot path never passes.
  if (keep == 0 || draw < keep - 1) return true;
  thread.writer.count_sampled_out();
  return false;
}

absl::Status check_sample_rules(const std::string& rules) {
  absl::Status status = shm::parse_sample_rules(rules).status();
  if (status.ok() && rules.size() > shm::kSampleRulesBytes) {
    status = absl::InvalidArgumentError(absl::StrCat(
        "the rules are ", rules.size(), " bytes, more than the segment holds (", shm::kSampleRulesBytes, ")"));
  }
  if (!status.ok()) {
    return absl::InvalidArgumentError(
        std::string("Options::sample (RINGTAIL_SAMPLE): ").append(status.message().data(), status.message().size()));
  }
  return absl::OkStatus();
}

void write_sample_rules(shm::SegmentHeader& header, const std::string& rules,
                        const shm::SegmentHeader* parent) noexcept {
  if (parent != nullptr) {
    inherit_sample_rules(header, *parent);
  } else {
    (void)shm::store_sample_rules_text(header, rules);  // checked by check_sample_rules()
  }
}

uint32_t sample_keep_for_new_site(const shm::SegmentHeader& header, shm::Level level, std::string_view message,
                                  std::string_view file, uint32_t line) noexcept {
  try {
    const absl::StatusOr<std::string> text = shm::load_sample_rules_text(header);
    if (!text.ok() || text->empty()) return 0;
    const absl::StatusOr<shm::SampleRules> rules = shm::parse_sample_rules(*text);
    if (!rules.ok()) return 0;  // a reader wrote rules that do not parse: none
    return shm::keep_for(*rules, level, message, file, line);
  } catch (...) {
    return 0;  // out of memory while parsing: the site keeps everything
  }
}

void inherit_sample_rules(shm::SegmentHeader& child, const shm::SegmentHeader& parent) noexcept {
  try {
    const absl::StatusOr<std::string> text = shm::load_sample_rules_text(parent);
    if (text.ok()) (void)shm::store_sample_rules_text(child, *text);
  } catch (...) {
    // Out of memory: the child's new sites go unsampled.
  }
}

}  // namespace ringtail::detail
