// ringtail gc: removes the segments of producers that are gone and hold
// nothing left to drain. The policy is reader::collect_segment()
// (reader/ingest/segment_gc.hpp); this verb parses flags and prints.
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common.hpp"
#include "ringtail/reader/ingest/segment_directory.hpp"
#include "ringtail/reader/ingest/segment_gc.hpp"
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

// One line per segment looked at: what collect_segment() decided, in words.
void report(const std::string& name, const reader::GcDecision& d, bool dry_run, bool& failed) {
  using Outcome = reader::GcDecision::Outcome;
  const std::string invalid = d.invalid_status.ok() ? "" : segment_error_text(name, d.invalid_status);
  std::string line;
  switch (d.outcome) {
    case Outcome::kFailed:
      print_segment_error(name, d.error);
      failed = true;
      return;
    case Outcome::kKeptInvalid:
      line = absl::StrCat("kept ", name, " (invalid: ", invalid, "; --invalid removes it)");
      break;
    case Outcome::kKeptLeased:
      line = absl::StrCat("kept ", name, " (", d.state, ", being drained by pid ", d.lease_holder, ")");
      break;
    case Outcome::kKeptPending:
      line = absl::StrCat("kept ", name, " (", d.state, ", ", d.pending_bytes,
                          " bytes pending: run `ringtail drain --once --out DIR` to collect them)");
      break;
    case Outcome::kRemoved:
      line = absl::StrCat(
          dry_run ? "would remove " : "removed ", name, " (",
          d.invalid_status.ok() ? absl::StrCat(d.state, ", nothing pending") : absl::StrCat("invalid: ", invalid), ")");
      break;
  }
  std::printf("%s\n", printable(line).c_str());
}

int run_gc(const GcConfig& config) {
  reader::DiscoveryOptions options;
  options.pids = config.pids;
  const reader::Discovery discovery = reader::discover_segments(options);
  if (!discovery.status.ok()) {
    print_error(std::string{discovery.status.message()});
    return kExitRuntime;
  }
  for (const std::string& line : discovery.skipped) print_error(line);
  const reader::GcOptions gc{.dry_run = config.dry_run, .remove_invalid = config.invalid};
  bool failed = false;
  for (const reader::DiscoveredSegment& found : discovery.segments) {
    if (const std::optional<reader::GcDecision> d = reader::collect_segment(found, gc); d.has_value()) {
      report(found.name, *d, config.dry_run, failed);
    }
  }
  return failed ? kExitRuntime : kExitOk;
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
