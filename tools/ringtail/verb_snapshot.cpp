// ringtail snapshot PID --out FILE: the events a process's rings hold now, as
// JSONL in FILE, without consuming them (reader/snapshot/process_snapshot.hpp).
#include <sys/types.h>

#include <cstdio>
#include <memory>
#include <string>
#include <string_view>

#include "absl/strings/str_cat.h"
#include "common.hpp"
#include "redaction_flags.hpp"
#include "ringtail/reader/sinks/event_sink.hpp"
#include "ringtail/reader/snapshot/process_snapshot.hpp"
#include "ringtail/reader/storage/store_dir.hpp"
#include "verbs.hpp"

namespace ringtail::cli {
namespace {

constexpr const char* kSnapshotHelp =
    "Writes the events that process PID's rings hold now to FILE as JSONL (the lines of `ringtail drain`), "
    "then exits.\n"
    "For a producer in flight-recorder mode (RINGTAIL_MODE=flight) that is the last events of each of its "
    "threads, as far back as each ring still holds them, also after the process crashed; events overwritten "
    "before they could be copied are left out and counted in \"ringtail.dropped\" lines. For a normal-mode "
    "producer it is the events no reader has consumed yet.\n"
    "snapshot only peeks: it takes no lease and never moves a ring's read position, so a running "
    "`ringtail drain` loses nothing. FILE is written whole (a temporary file beside it, renamed over it; a "
    "link at FILE is replaced, not followed), mode 0600; "
    "redaction applies as for drain and tail.\n"
    "Exit status: 0 written; 1 no segment of PID, or FILE could not be written; 2 usage error.";

struct SnapshotConfig {
  pid_t pid = 0;
  std::string out;
  bool all_users = false;
  RedactionFlags redaction;
};

// Lines straight into the temporary file that becomes FILE.
class TemporaryFileSink : public reader::EventSink {
 public:
  explicit TemporaryFileSink(reader::TemporaryFile& file) : file_(file) {}
  absl::Status write(const reader::EventBatch& batch) override { return file_.write(batch.text); }
  absl::Status flush() override { return absl::OkStatus(); }  // write() leaves nothing buffered

 private:
  reader::TemporaryFile& file_;
};

int run_snapshot(const SnapshotConfig& config) {
  reader::SnapshotOptions options;
  options.pid = config.pid;
  options.all_users = config.all_users;
  options.redactor = make_redactor(config.redaction, "");

  // FILE is written whole or not at all: a temporary beside it, renamed over it.
  absl::StatusOr<reader::StoreDir> dir = reader::StoreDir::open_parent(config.out);
  if (!dir.ok()) {
    print_error(absl::StrCat("cannot write ", config.out, ": ", dir.status().message()));
    return kExitRuntime;
  }
  absl::StatusOr<reader::TemporaryFile> file =
      reader::TemporaryFile::create(*dir, reader::file_name_of(config.out), 0600);
  if (!file.ok()) {
    print_error(absl::StrCat("cannot write ", config.out, ": ", file.status().message()));
    return kExitRuntime;
  }
  TemporaryFileSink sink(*file);
  const absl::StatusOr<reader::SnapshotResult> result =
      reader::snapshot_process(options, sink, [](std::string_view line) { print_error(line); });
  if (!result.ok()) {
    print_error(absl::StrCat(result.status().message()));
    return kExitRuntime;  // the temporary goes with `file`
  }
  if (absl::Status s = file->commit(/*replace=*/true); !s.ok()) {
    print_error(absl::StrCat("cannot write ", config.out, ": ", s.message()));
    return kExitRuntime;
  }
  std::fprintf(stderr, "ringtail: pid %d: %llu events (%llu lines) from %llu segment(s) to %s", config.pid,
               static_cast<unsigned long long>(result->events), static_cast<unsigned long long>(result->lines),
               static_cast<unsigned long long>(result->segments), config.out.c_str());
  if (result->dropped != 0) {
    std::fprintf(stderr, "; %llu earlier events were overwritten or dropped",
                 static_cast<unsigned long long>(result->dropped));
  }
  std::fprintf(stderr, "\n");
  return kExitOk;
}

}  // namespace

void add_snapshot(CLI::App& app) {
  auto config = std::make_shared<SnapshotConfig>();
  CLI::App* snapshot =
      app.add_subcommand("snapshot", "Copy a process's current events (its flight recorder) to a file, peeking");
  snapshot->footer(kSnapshotHelp);
  snapshot->add_option("PID", config->pid, "The producer process")->required()->transform(pid_validator());
  snapshot->add_option("--out", config->out, "The JSONL file to write (replaced)")->required()->type_name("FILE");
  snapshot->add_flag("--all-users", config->all_users, "Also a process of another user");
  add_redaction_flags(snapshot, config->redaction);
  snapshot->callback([config] { finish(run_snapshot(*config)); });
}

}  // namespace ringtail::cli
