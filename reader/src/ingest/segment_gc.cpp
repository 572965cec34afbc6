#include "ringtail/reader/ingest/segment_gc.hpp"

#include <sys/mman.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "ringtail/reader/ingest/consumer_lease.hpp"
#include "ringtail/reader/ingest/segment_summary.hpp"
#include "ringtail/reader/ingest/segment_view.hpp"
#include "ringtail/shm/errno_text.hpp"
#include "ringtail/shm/process_identity.hpp"

namespace ringtail::reader {
namespace {

GcDecision kept_leased(std::string state, pid_t holder) {
  GcDecision d;
  d.outcome = GcDecision::Outcome::kKeptLeased;
  d.state = std::move(state);
  d.lease_holder = holder;
  return d;
}

GcDecision failed(absl::Status error) {
  GcDecision d;
  d.outcome = GcDecision::Outcome::kFailed;
  d.error = std::move(error);
  return d;
}

// Unlinks `name` unless dry_run; `d` is what to report when it is gone.
GcDecision remove(const std::string& name, GcDecision d, bool dry_run) {
  if (!dry_run && ::shm_unlink(name.c_str()) != 0 && errno != ENOENT) {
    const int error = errno;
    return failed(
        absl::Status(absl::ErrnoToStatusCode(error), absl::StrCat("cannot remove: ", shm::errno_text(error))));
  }
  d.outcome = GcDecision::Outcome::kRemoved;
  return d;
}

}  // namespace

bool is_invalid_segment(const absl::Status& open_status) {
  switch (open_status.code()) {
    case absl::StatusCode::kDataLoss:
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kUnimplemented:
    case absl::StatusCode::kUnavailable:  // still initialising, but its producer is gone: never will be
    case absl::StatusCode::kOutOfRange:
      return true;
    default:
      return false;
  }
}

std::optional<GcDecision> collect_segment(const DiscoveredSegment& found, const GcOptions& options) {
  if (shm::process_alive(found.id)) return std::nullopt;
  const auto access = options.dry_run ? SegmentView::Access::kReadOnly : SegmentView::Access::kReadWrite;
  absl::StatusOr<SegmentView> view = SegmentView::open(found.name, access);
  if (!view.ok()) {
    if (view.status().code() == absl::StatusCode::kNotFound) return std::nullopt;  // removed since listed
    if (!is_invalid_segment(view.status())) return failed(view.status());
    GcDecision d;
    d.invalid_status = view.status();
    if (options.remove_invalid) return remove(found.name, std::move(d), options.dry_run);
    d.outcome = GcDecision::Outcome::kKeptInvalid;
    return d;
  }
  std::string state(producer_state_name(producer_state(*view)));

  std::optional<ConsumerLease> lease;
  if (options.dry_run) {
    if (const std::optional<pid_t> holder = lease_holder(*view); holder.has_value()) {
      return kept_leased(std::move(state), *holder);
    }
  } else {
    absl::StatusOr<ConsumerLease> taken = ConsumerLease::acquire(*view);
    if (!taken.ok()) {
      if (const std::optional<pid_t> holder = lease_holder(*view); holder.has_value()) {
        return kept_leased(std::move(state), *holder);
      }
      return failed(taken.status());
    }
    lease.emplace(std::move(*taken));
  }
  GcDecision d;
  d.state = std::move(state);
  d.pending_bytes = summarize(*view).pending_bytes;
  if (d.pending_bytes > 0) {
    d.outcome = GcDecision::Outcome::kKeptPending;
    return d;
  }
  // `lease` is released on return, after the unlink: the mapping outlives the name.
  return remove(found.name, std::move(d), options.dry_run);
}

}  // namespace ringtail::reader
