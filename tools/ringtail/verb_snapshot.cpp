// ringtail snapshot PID --out FILE: the events a process's rings hold now, as
// JSONL in FILE, without consuming them (reader/snapshot/process_snapshot.hpp).
#include <fcntl.h>
#include <sys/types.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "common.hpp"
#include "redaction_flags.hpp"
#include "ringtail/reader/sinks/stream_sink.hpp"
#include "ringtail/reader/snapshot/process_snapshot.hpp"
#include "ringtail/shm/errno_text.hpp"
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
    "`ringtail drain` loses nothing. FILE is written whole (a temporary file renamed over it), mode 0600; "
    "redaction applies as for drain and tail.\n"
    "Exit status: 0 written; 1 no segment of PID, or FILE could not be written; 2 usage error.";

struct SnapshotConfig {
  pid_t pid = 0;
  std::string out;
  bool all_users = false;
  RedactionFlags redaction;
};

int run_snapshot(const SnapshotConfig& config) {
  reader::SnapshotOptions options;
  options.pid = config.pid;
  options.all_users = config.all_users;
  options.redactor = make_redactor(config.redaction, "");

  // A temporary file beside FILE, renamed over it once complete.
  const std::string temporary = absl::StrCat(config.out, ".tmp.", ::getpid());
  const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) {
    print_error(absl::StrCat("cannot create ", temporary, ": ", shm::errno_text(errno)));
    return kExitRuntime;
  }
  std::FILE* stream = ::fdopen(fd, "w");
  if (stream == nullptr) {
    print_error(absl::StrCat("cannot write ", temporary, ": ", shm::errno_text(errno)));
    ::close(fd);
    ::unlink(temporary.c_str());
    return kExitRuntime;
  }
  absl::StatusOr<reader::SnapshotResult> result;
  {
    reader::StreamSink sink(stream, config.out);
    result = reader::snapshot_process(options, sink, [](std::string_view line) { print_error(line); });
  }
  const bool closed = std::fclose(stream) == 0;
  if (!result.ok() || !closed) {
    print_error(result.ok() ? absl::StrCat("cannot write ", config.out, ": ", shm::errno_text(errno))
                            : absl::StrCat(result.status().message()));
    ::unlink(temporary.c_str());
    return kExitRuntime;
  }
  if (::rename(temporary.c_str(), config.out.c_str()) != 0) {
    print_error(absl::StrCat("cannot rename ", temporary, " to ", config.out, ": ", shm::errno_text(errno)));
    ::unlink(temporary.c_str());
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
