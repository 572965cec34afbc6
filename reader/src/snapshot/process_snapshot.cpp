#include "ringtail/reader/snapshot/process_snapshot.hpp"

#include "absl/strings/str_cat.h"
#include "ringtail/reader/drain/drain_engine.hpp"
#include "ringtail/reader/ingest/segment_directory.hpp"

namespace ringtail::reader {

absl::StatusOr<SnapshotResult> snapshot_process(const SnapshotOptions& options, EventSink& sink,
                                                const std::function<void(std::string_view)>& report) {
  if (options.pid <= 0) return absl::InvalidArgumentError(absl::StrCat("pid ", options.pid, " is not a process id"));
  DiscoveryOptions discovery;
  discovery.pids = {options.pid};
  discovery.all_users = options.all_users;
  discovery.directory = options.directory;
  const Discovery found = discover_segments(discovery);
  if (!found.status.ok()) return found.status;
  if (found.segments.empty()) {
    return absl::NotFoundError(
        absl::StrCat("no ringtail segment of pid ", options.pid, " in ", options.directory,
                     found.skipped.empty() ? "" : absl::StrCat(" (", found.skipped.front(), ")")));
  }

  // The drain engine, peeking: one pass, on this thread, no reorder window.
  DrainOptions drain;
  drain.mode = DrainOptions::Mode::kPeek;
  drain.discovery = discovery;
  drain.reorder_window = std::chrono::milliseconds(0);
  drain.remove_drained_dead_segments = false;
  drain.writer_thread = false;
  drain.decode_threads = 1;
  drain.redactor = options.redactor;
  DrainEngine engine(drain, sink, report);
  if (absl::Status s = engine.drain_once(); !s.ok()) return s;
  const DrainStats stats = engine.stats();
  if (stats.segments_seen == 0) {
    return absl::NotFoundError(absl::StrCat("no readable ringtail segment of pid ", options.pid));
  }
  SnapshotResult result;
  result.segments = stats.segments_seen;
  result.events = stats.events;
  result.lines = stats.lines;
  result.dropped = stats.dropped;
  result.overwritten = stats.overwritten;
  return result;
}

}  // namespace ringtail::reader
