// ringtail tail: follows producers' events as JSONL on stdout, peeking:
// read positions are never moved, so a running `ringtail drain` loses nothing.
#include <signal.h>
#include <sys/types.h>
#include <atomic>

#include <stdio_ext.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common.hpp"
#include "filter_flags.hpp"
#include "redaction_flags.hpp"
#include "ringtail/reader/drain/drain_engine.hpp"
#include "ringtail/reader/query/shaped_filter.hpp"
#include "ringtail/reader/sinks/stream_sink.hpp"
#include "ringtail/shm/errno_text.hpp"
#include "ringtail/shm/level.hpp"
#include "stop_signals.hpp"
#include "verbs.hpp"

namespace ringtail::cli {
namespace {

constexpr const char* kTailHelp =
    "Prints the events of every producer's segment (or only those of --pid) on stdout as JSONL, as they "
    "come, until SIGINT or SIGTERM, or until the reader of stdout goes away.\n"
    "tail only peeks: it never moves a ring's read position and takes no lease, so it never steals events "
    "from a running `ringtail drain` and any number of tails may run at once. The flip side: it sees only "
    "events nobody has consumed yet, and a producer may overwrite what tail has not read yet once a drain "
    "has consumed it (tail then skips ahead), so tail is for watching, drain for keeping.\n"
    "It starts at the oldest event still unconsumed in each ring. --where filters lines as `ringtail query` does "
    "(drop and crash notes too).\n"
    "Exit status: 0 stopped by a signal or a closed pipe; 1 stdout failed otherwise; 2 usage error.";

struct TailConfig {
  std::vector<pid_t> pids;
  std::string level;
  std::vector<std::string> where;
  bool all_users = false;
  RedactionFlags redaction;
};

// StreamSink that remembers a reader of stdout going away (EPIPE), so that
// tail ends quietly then.
// With --where, only the lines that pass the filter (read from their
// shapes on the writer thread, never parsed whole).
class StdoutSink : public reader::EventSink {
 public:
  explicit StdoutSink(std::optional<reader::Filter> filter) {
    if (filter) filter_.emplace(std::move(*filter));
  }

  absl::Status write(const reader::EventBatch& batch) override {
    if (!filter_) return check(inner_.write(batch));
    kept_.clear();
    kept_.segment = batch.segment;
    for (const reader::LineShape& shape : batch.lines) {
      if (filter_->matches(batch, shape)) kept_.append_line(batch, shape);
    }
    if (kept_.empty()) return absl::OkStatus();
    return check(inner_.write(kept_));
  }
  absl::Status flush() override { return check(inner_.flush()); }
  bool broken_pipe() const { return broken_pipe_.load(std::memory_order_relaxed); }

 private:
  absl::Status check(absl::Status status) {
    const int error = errno;  // as the failed fwrite/fflush left it
    if (!status.ok() &&
        (error == EPIPE ||
         std::string_view(status.message().data(), status.message().size()).find(shm::errno_text(EPIPE)) !=
             std::string_view::npos)) {
      broken_pipe_.store(true, std::memory_order_relaxed);
    }
    return status;
  }

  std::optional<reader::ShapedFilter> filter_;
  reader::EventBatch kept_;
  reader::StreamSink inner_{stdout, "stdout"};
  std::atomic<bool> broken_pipe_{false};  // set on the writer thread, read by the report callback
};

int run_tail(const TailConfig& config) {
  const std::atomic<bool>& stop = watch_stop_signals();  // before the engine starts its threads
  reader::DrainOptions options;
  options.mode = reader::DrainOptions::Mode::kPeek;
  options.discovery.pids = config.pids;
  options.discovery.all_users = config.all_users;
  options.remove_drained_dead_segments = false;
  options.redactor = make_redactor(config.redaction, "");
  if (!config.level.empty()) options.min_level = shm::parse_level(config.level);

  std::optional<reader::Filter> filter;
  if (!config.where.empty()) {
    FilterFlags flags;
    flags.where = config.where;
    filter = build_filter(flags);
  }
  ::signal(SIGPIPE, SIG_IGN);  // a closed pipe is EPIPE from the sink, not death
  StdoutSink sink(std::move(filter));
  reader::DrainEngine engine(options, sink, [&sink](std::string_view line) {
    if (!sink.broken_pipe()) print_error(line);
  });
  engine.run(stop);
  if (engine.last_error().ok()) return kExitOk;
  // stdout failed and the engine said so (unless the pipe was closed, which
  // is how tail is meant to end in `ringtail tail | head`). Drop what stdio
  // still holds, so that finish() does not report the same failure again.
  ::__fpurge(stdout);
  std::clearerr(stdout);
  return sink.broken_pipe() ? kExitOk : kExitRuntime;
}

}  // namespace

void add_tail(CLI::App& app) {
  auto config = std::make_shared<TailConfig>();
  CLI::App* tail = app.add_subcommand("tail", "Follow events on stdout without consuming them (peek)");
  tail->footer(kTailHelp);
  tail->add_option("--pid", config->pids, "Only this producer's segments (repeatable)")
      ->type_name("PID")
      ->transform(pid_validator());
  tail->add_option("--level", config->level, "Only events at or above this level (drop and crash notes always show)")
      ->type_name("LEVEL")
      ->check(level_validator());
  tail->add_option("--where", config->where,
                   "Only lines that pass (repeatable, all must hold; the syntax of `ringtail query --where`)")
      ->type_name("EXPR");
  tail->add_flag("--all-users", config->all_users, "Also show other users' segments");
  add_redaction_flags(tail, config->redaction);
  tail->callback([config] { finish(run_tail(*config)); });
}

}  // namespace ringtail::cli
