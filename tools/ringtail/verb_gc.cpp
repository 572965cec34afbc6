// ringtail gc: removes the segments of producers that are gone and hold
// nothing left to drain.
#include <sys/mman.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common.hpp"
#include "ringtail/reader/ingest/consumer_lease.hpp"
#include "ringtail/reader/ingest/segment_directory.hpp"
#include "ringtail/reader/ingest/segment_summary.hpp"
#include "ringtail/reader/ingest/segment_view.hpp"
#include "ringtail/shm/process_identity.hpp"
#include "verbs.hpp"

namespace ringtail::cli {
namespace {

constexpr const char* kGcHelp =
    "Removes from /dev/shm the segments of producers that are gone (exited or crashed), hold no events left to "
    "drain (every ring's read position has reached its write position) and are not being consumed by a live "
    "reader. It prints one line per segment it looks at:\n"
    "  removed ringtail.123.456 (exited, nothing pending)\n"
    "  kept ringtail.124.789 (crashed, 8192 bytes pending: run `ringtail drain --once --out DIR` to collect them)\n"
    "  kept ringtail.125.790 (exited, being drained by pid 77)\n"
    "Segments of running producers are left alone, silently. A segment of a dead producer that fails "
    "validation (corrupt, truncated, another ABI version, never finished initialising) is reported and kept; "
    "--invalid removes those too. While it decides, gc holds the segment's reader lease, so it never races a "
    "`ringtail drain`.\n"
    "Exit status: 0 done (also when segments were kept); 1 /dev/shm cannot be listed, or a segment could not be "
    "opened or removed; 2 usage error.";

struct GcConfig {
  bool dry_run = false;
  bool invalid = false;
  std::vector<pid_t> pids;
};

// Validation failures, as opposed to not being allowed to open the file.
bool is_invalid(const absl::Status& status) {
  switch (status.code()) {
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

class Collector {
 public:
  explicit Collector(const GcConfig& config) : config_(config) {}

  void visit(const reader::DiscoveredSegment& found) {
    if (shm::process_alive(found.id)) return;
    const auto access =
        config_.dry_run ? reader::SegmentView::Access::kReadOnly : reader::SegmentView::Access::kReadWrite;
    absl::StatusOr<reader::SegmentView> view = reader::SegmentView::open(found.name, access);
    if (!view.ok()) {
      if (view.status().code() == absl::StatusCode::kNotFound) return;  // removed since listed
      const std::string error = segment_error_text(found.name, view.status());
      if (!is_invalid(view.status())) {
        print_error(absl::StrCat(found.name, ": ", error));
        failed_ = true;
        return;
      }
      if (config_.invalid) {
        remove(found.name, absl::StrCat("invalid: ", error));
      } else {
        say(absl::StrCat("kept ", found.name, " (invalid: ", error, "; --invalid removes it)"));
      }
      return;
    }
    const std::string state(reader::producer_state_name(reader::producer_state(*view)));

    std::optional<reader::ConsumerLease> lease;
    if (config_.dry_run) {
      if (const std::optional<pid_t> holder = reader::lease_holder(*view); holder.has_value()) {
        say(absl::StrCat("kept ", found.name, " (", state, ", being drained by pid ", *holder, ")"));
        return;
      }
    } else {
      absl::StatusOr<reader::ConsumerLease> taken = reader::ConsumerLease::acquire(*view);
      if (!taken.ok()) {
        if (const std::optional<pid_t> holder = reader::lease_holder(*view); holder.has_value()) {
          say(absl::StrCat("kept ", found.name, " (", state, ", being drained by pid ", *holder, ")"));
        } else {
          print_segment_error(found.name, taken.status());
          failed_ = true;
        }
        return;
      }
      lease.emplace(std::move(*taken));
    }
    const uint64_t pending = reader::summarize(*view).pending_bytes;
    if (pending > 0) {
      say(absl::StrCat("kept ", found.name, " (", state, ", ", pending,
                       " bytes pending: run `ringtail drain --once --out DIR` to collect them)"));
      return;
    }
    remove(found.name, absl::StrCat(state, ", nothing pending"));
    // The lease is released after the unlink: the mapping outlives the name.
  }

  bool failed() const { return failed_; }

 private:
  void remove(const std::string& name, const std::string& why) {
    if (config_.dry_run) {
      say(absl::StrCat("would remove ", name, " (", why, ")"));
      return;
    }
    if (::shm_unlink(name.c_str()) != 0 && errno != ENOENT) {
      print_error(absl::StrCat(name, ": cannot remove: ", std::strerror(errno)));
      failed_ = true;
      return;
    }
    say(absl::StrCat("removed ", name, " (", why, ")"));
  }

  static void say(const std::string& line) { std::printf("%s\n", printable(line).c_str()); }

  const GcConfig& config_;
  bool failed_ = false;
};

int run_gc(const GcConfig& config) {
  reader::DiscoveryOptions options;
  options.pids = config.pids;
  const reader::Discovery discovery = reader::discover_segments(options);
  if (!discovery.status.ok()) {
    print_error(std::string(discovery.status.message()));
    return kExitRuntime;
  }
  for (const std::string& line : discovery.skipped) print_error(line);
  Collector collector(config);
  for (const reader::DiscoveredSegment& found : discovery.segments) collector.visit(found);
  return collector.failed() ? kExitRuntime : kExitOk;
}

}  // namespace

void add_gc(CLI::App& app) {
  auto config = std::make_shared<GcConfig>();
  CLI::App* gc = app.add_subcommand("gc", "Remove dead producers' segments that hold nothing to drain");
  gc->footer(kGcHelp);
  gc->add_flag("--dry-run,-n", config->dry_run, "Say what would be removed, remove nothing");
  gc->add_option("--pid", config->pids, "Only this (dead) producer's segments (repeatable)")
      ->type_name("PID")
      ->transform(pid_validator());
  gc->add_flag("--invalid", config->invalid, "Also remove dead producers' segments that fail validation");
  gc->callback([config] { finish(run_gc(*config)); });
}

}  // namespace ringtail::cli
