#include "ringtail/reader/ingest/consumer_lease.hpp"

#include <unistd.h>

#include <utility>

#include "absl/strings/str_cat.h"
#include "ringtail/shm/layout.hpp"
#include "ringtail/shm/process_identity.hpp"

namespace ringtail::reader {
namespace {

constexpr uint64_t kLowTicksMask = 0xFFFFFFFFULL;

pid_t lease_pid(uint64_t lease) { return static_cast<pid_t>(static_cast<uint32_t>(lease >> 32)); }

// The live process a lease word names, if it still runs.
std::optional<pid_t> live_holder(uint64_t lease) {
  if (lease == 0) return std::nullopt;
  const pid_t pid = lease_pid(lease);
  if (pid <= 0) return std::nullopt;
  const std::optional<uint64_t> ticks = shm::process_start_ticks(pid);
  if (!ticks.has_value() || (*ticks & kLowTicksMask) != (lease & kLowTicksMask)) return std::nullopt;
  // Same process, but a zombie consumes nothing more.
  if (!shm::process_alive(shm::SegmentId{pid, *ticks})) return std::nullopt;
  return pid;
}

}  // namespace

absl::StatusOr<ConsumerLease> ConsumerLease::acquire(SegmentView& view) {
  if (!view.writable()) {
    return absl::FailedPreconditionError(
        absl::StrCat("segment ", view.name(), ": opened read-only, cannot take the reader lease"));
  }
  const pid_t me = ::getpid();
  const std::optional<uint64_t> my_ticks = shm::process_start_ticks(me);
  if (!my_ticks.has_value()) {
    return absl::InternalError(absl::StrCat("cannot read this process's start time from /proc/", me, "/stat"));
  }
  const uint64_t mine = shm::make_reader_lease(static_cast<uint32_t>(me), *my_ticks);
  std::atomic<uint64_t>* word = view.reader_lease_word();

  ConsumerLease lease;
  // Each failed CAS means another reader changed the word between our load
  // and our CAS; a few rounds settle any realistic race.
  constexpr int kAttempts = 64;
  uint64_t seen = 0;
  for (int attempt = 0; attempt < kAttempts; ++attempt) {
    // acquire: the read_pos stores of the previous holder, released with its
    // lease, happen-before everything this holder reads.
    if (word->compare_exchange_strong(seen, mine, std::memory_order_acq_rel, std::memory_order_acquire)) {
      lease.word_ = word;
      lease.stalled_since_ = view.reader_stalled_since_word();
      lease.stall_errno_ = view.reader_stall_errno_word();
      lease.value_ = mine;
      lease.owner_pid_ = me;
      if (seen != 0) lease.took_over_from_ = lease_pid(seen);
      // A dead holder's stall is not ours.
      lease.clear_stalled();
      return lease;
    }
    // `seen` now holds the current word.
    if (seen == mine) {
      return absl::UnavailableError(
          absl::StrCat("segment ", view.name(), " is being drained by pid ", me, " (this process)"));
    }
    if (const std::optional<pid_t> holder = live_holder(seen); holder.has_value()) {
      return absl::UnavailableError(absl::StrCat("segment ", view.name(), " is being drained by pid ", *holder));
    }
    // Stale: the next CAS expects exactly this value.
  }
  return absl::UnavailableError(
      absl::StrCat("segment ", view.name(), ": its reader lease keeps changing, another reader is taking it"));
}

ConsumerLease::ConsumerLease(ConsumerLease&& other) noexcept
    : word_(std::exchange(other.word_, nullptr)),
      stalled_since_(std::exchange(other.stalled_since_, nullptr)),
      stall_errno_(std::exchange(other.stall_errno_, nullptr)),
      value_(std::exchange(other.value_, 0)),
      owner_pid_(std::exchange(other.owner_pid_, 0)),
      took_over_from_(std::exchange(other.took_over_from_, std::nullopt)) {}

ConsumerLease& ConsumerLease::operator=(ConsumerLease&& other) noexcept {
  if (this != &other) {
    release();
    word_ = std::exchange(other.word_, nullptr);
    stalled_since_ = std::exchange(other.stalled_since_, nullptr);
    stall_errno_ = std::exchange(other.stall_errno_, nullptr);
    value_ = std::exchange(other.value_, 0);
    owner_pid_ = std::exchange(other.owner_pid_, 0);
    took_over_from_ = std::exchange(other.took_over_from_, std::nullopt);
  }
  return *this;
}

void ConsumerLease::release() {
  if (word_ == nullptr) return;
  if (::getpid() == owner_pid_) {
    // Only while the lease is still ours: a reader that took it over (judging
    // us dead) owns the stall words now.
    if (word_->load(std::memory_order_relaxed) == value_) clear_stalled();
    uint64_t expected = value_;
    // release: every read_pos this reader stored happens-before the next holder's acquire.
    word_->compare_exchange_strong(expected, 0, std::memory_order_release, std::memory_order_relaxed);
  }
  word_ = nullptr;
  stalled_since_ = nullptr;
  stall_errno_ = nullptr;
  value_ = 0;
}

void ConsumerLease::mark_stalled(uint64_t since_realtime_ns, uint32_t error_number) {
  if (word_ == nullptr || ::getpid() != owner_pid_) return;
  // Relaxed: display only, nobody orders anything by them.
  stall_errno_->store(error_number, std::memory_order_relaxed);
  stalled_since_->store(since_realtime_ns, std::memory_order_relaxed);
}

void ConsumerLease::clear_stalled() {
  if (word_ == nullptr || ::getpid() != owner_pid_) return;
  stalled_since_->store(0, std::memory_order_relaxed);
  stall_errno_->store(0, std::memory_order_relaxed);
}

std::optional<pid_t> lease_holder(const SegmentView& view) {
  return live_holder(view.reader_lease_word()->load(std::memory_order_acquire));
}

ReaderStall reader_stall(const SegmentView& view) {
  ReaderStall stall;
  stall.since_realtime_ns_untrusted = view.reader_stalled_since_word()->load(std::memory_order_relaxed);
  stall.errno_untrusted = view.reader_stall_errno_word()->load(std::memory_order_relaxed);
  return stall;
}

}  // namespace ringtail::reader
