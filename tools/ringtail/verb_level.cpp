// ringtail level PID LEVEL: stores a live producer's minimum level in its
// segment's control word, which the producer loads on every call site.
#include <sys/types.h>

#include <cstdio>
#include <string>

#include "absl/strings/str_cat.h"
#include "common.hpp"
#include "ringtail/reader/ingest/segment_directory.hpp"
#include "ringtail/reader/ingest/segment_view.hpp"
#include "ringtail/shm/level.hpp"
#include "ringtail/shm/process_identity.hpp"
#include "verbs.hpp"

namespace ringtail::cli {
namespace {

struct LevelConfig {
  pid_t pid = 0;
  std::string level;
};

int run_level(const LevelConfig& config) {
  const std::optional<shm::Level> level = shm::parse_level(config.level);
  if (!level.has_value()) usage_error("LEVEL: '" + config.level + "' is not a level");  // the validator checked it

  reader::DiscoveryOptions options;
  options.pids = {config.pid};
  const reader::Discovery discovery = reader::discover_segments(options);
  if (!discovery.status.ok()) {
    print_error(std::string{discovery.status.message()});
    return kExitRuntime;
  }
  const reader::DiscoveredSegment* live = nullptr;
  for (const reader::DiscoveredSegment& found : discovery.segments) {
    if (shm::process_alive(found.id)) live = &found;
  }
  if (live == nullptr) {
    if (!discovery.segments.empty()) {
      print_error(absl::StrCat("pid ", config.pid, " is not running (", discovery.segments.back().name,
                               " is left from a process that is gone)"));
    } else if (shm::process_start_ticks(config.pid).has_value()) {
      print_error(absl::StrCat("pid ", config.pid, " has no ringtail segment in /dev/shm"));
    } else {
      print_error(absl::StrCat("no ringtail segment for pid ", config.pid, " (no such process)"));
    }
    return kExitRuntime;
  }

  absl::StatusOr<reader::SegmentView> view =
      reader::SegmentView::open(live->name, reader::SegmentView::Access::kReadWrite);
  if (!view.ok()) {
    print_segment_error(live->name, view.status());
    return kExitRuntime;
  }
  const uint32_t before = view->control_min_level_untrusted();
  if (absl::Status s = view->set_control_min_level(*level); !s.ok()) {
    print_segment_error(live->name, s);
    return kExitRuntime;
  }
  std::printf("pid %d: level %s -> %s\n", static_cast<int>(config.pid), level_name(before).c_str(),
              level_name(static_cast<uint32_t>(*level)).c_str());
  const absl::StatusOr<shm::SegmentState> state = view->state();
  if (state.ok() && *state == shm::SegmentState::kFinished) {
    print_error(absl::StrCat("note: pid ", config.pid, " has shut ringtail down; it logs nothing more"));
  }
  return kExitOk;
}

}  // namespace

void add_level(CLI::App& app) {
  auto config = std::make_shared<LevelConfig>();
  CLI::App* level = app.add_subcommand("level", "Set a running producer's minimum level");
  level->footer(
      "Stores LEVEL in the live control word of PID's segment; the producer applies it at its next call site "
      "(events below it are not written). LEVEL is one of trace, debug, info, warn, error, critical, off "
      "(any case).\nPrints \"pid N: level OLD -> NEW\".\n"
      "Exit status: 0 done; 1 no segment for PID, PID not running, or the segment cannot be opened for writing; "
      "2 usage error (bad PID or LEVEL).");
  level->add_option("PID", config->pid, "The producer's process id")
      ->required()
      ->type_name("PID")
      ->transform(pid_validator());
  level->add_option("LEVEL", config->level, "trace|debug|info|warn|error|critical|off")
      ->required()
      ->type_name("LEVEL")
      ->check(level_validator());
  level->callback([config] { finish(run_level(*config)); });
}

}  // namespace ringtail::cli
