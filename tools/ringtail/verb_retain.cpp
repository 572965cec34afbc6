// ringtail retain: applies retention to a storage directory now (what drain
// does every minute while it runs), optionally as a dry run.
#include <time.h>

#include <cstdio>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "common.hpp"
#include "retention_flags.hpp"
#include "ringtail/reader/ingest/timestamp.hpp"
#include "ringtail/reader/storage/retention.hpp"
#include "ringtail/reader/storage/store_maintainer.hpp"
#include "ringtail/reader/storage/store_names.hpp"
#include "verbs.hpp"

namespace ringtail::cli {
namespace {

constexpr const char* kRetainHelp =
    "Deletes (or with --archive moves) the closed files of DIR that retention says go: a file goes once the drain "
    "wrote it longer ago than its level class's age (debug 7d, info 30d, warn 180d, error 365d by default) or than "
    "--max-age; then, with --max-bytes, the oldest files go until DIR holds at most that much. A file's age is the "
    "time the drain wrote it (its modification time), never the timestamps in its events. Files being written "
    "are never touched; files a killed drain left open are closed first, and closed files not yet compressed are "
    "compressed. Nothing is followed through a symbolic link: links and other entries that are not regular files "
    "are reported and left alone, and an existing file in the archive is never replaced.\n"
    "Exit status: 0 done; 1 a file could not be removed or moved; 2 usage error.";

struct RetainConfig {
  std::string directory;
  RetentionFlags flags;
  bool dry_run = false;
};

int run_retain(const RetainConfig& config) {
  const reader::RetentionPolicy policy = retention_policy(config.flags);
  if (!config.dry_run) {
    // Recovery first, so that what a killed drain left is counted as it will stay.
    absl::StatusOr<size_t> recovered = reader::recover_store(
        config.directory,
        [&config](const std::string& path) {
          if (absl::Status s = reader::finish_closed_file(path, 3, config.directory); !s.ok()) {
            print_error(absl::StrCat("compressing ", path, ": ", s.message()));
          }
        },
        [](std::string_view line) { print_error(line); });
    if (!recovered.ok()) {
      print_error(std::string{recovered.status().message()});
      return kExitRuntime;
    }
  }
  absl::StatusOr<reader::RetentionPlan> plan =
      reader::plan_retention(config.directory, policy, reader::realtime_now_ns());
  if (!plan.ok()) {
    print_error(std::string{plan.status().message()});
    return kExitRuntime;
  }
  for (const std::string& line : plan->skipped) print_error(line);
  const char* verb = config.dry_run ? "would " : "";
  const char* what = config.flags.archive.empty() ? "delete" : "archive";
  for (const reader::RetentionAction& action : plan->actions) {
    const std::string written = reader::timestamp_from_name_stamp(reader::name_stamp_from_ns(action.written_ns));
    // Paths are names found in the store, which others may be able to write.
    std::printf("%s%s %s (%s; written %s)\n", verb, what, printable(action.path).c_str(), action.reason.c_str(),
                written.c_str());
  }
  for (const std::string& open : plan->skipped_open) std::printf("kept %s (being written)\n", printable(open).c_str());
  std::printf("%s%s %zu files, %llu bytes: %llu bytes before, %llu after\n", verb, what, plan->actions.size(),
              static_cast<unsigned long long>(plan->bytes_before - plan->bytes_after),
              static_cast<unsigned long long>(plan->bytes_before), static_cast<unsigned long long>(plan->bytes_after));
  if (config.dry_run) return kExitOk;
  absl::Status applied = reader::apply_retention(*plan, config.directory, config.flags.archive,
                                                 [](std::string_view line) { print_error(line); });
  return applied.ok() ? kExitOk : kExitRuntime;
}

}  // namespace

void add_retain(CLI::App& app) {
  auto config = std::make_shared<RetainConfig>();
  CLI::App* retain = app.add_subcommand("retain", "Apply retention to a storage directory now");
  retain->footer(kRetainHelp);
  retain->add_option("DIR", config->directory, "The directory drain writes (--out)")
      ->required()
      ->check(CLI::ExistingDirectory);
  add_retention_flags(retain, config->flags);
  retain->add_flag("--dry-run,-n", config->dry_run, "List what would go, change nothing");
  retain->callback([config] { finish(run_retain(*config)); });
}

}  // namespace ringtail::cli
