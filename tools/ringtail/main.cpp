// ringtail: the reader's command-line tool.
//
//   ringtail ls [--json] [--pid PID]... [--all-users]   list segments
//   ringtail level PID LEVEL                            set a live producer's level
//   ringtail gc [--dry-run] [--invalid]                 remove dead producers' drained segments
//   ringtail drain --out DIR (--once | --follow) ...    consume events into JSONL files
//   ringtail tail [--pid PID]... [--level L]            follow events without consuming them
//   ringtail top [--pid PID]... [--once]                live view of producers, rates, top messages
//   ringtail snapshot PID --out FILE                    copy a process's current events, peeking
//
// `ringtail VERB --help` describes each verb. Exit status: 0 success;
// 1 runtime error; 2 usage error. Errors are one line on stderr,
// "ringtail: <message>".
#include <algorithm>
#include <exception>
#include <string>

#include "CLI/CLI.hpp"
#include "common.hpp"
#include "ringtail/shm/layout.hpp"
#include "verbs.hpp"

#ifndef RINGTAIL_VERSION
#define RINGTAIL_VERSION "unknown"
#endif

namespace {

int run(int argc, char** argv) {
  CLI::App app{"Reads the telemetry that ringtail producers write to /dev/shm/ringtail.<pid>.<start>.", "ringtail"};
  app.set_version_flag(
      "--version",
      std::string("ringtail " RINGTAIL_VERSION " (shm ABI ") + std::to_string(ringtail::shm::kAbiVersion) + ")",
      "Print the version and exit");
  app.require_subcommand(1);
  app.footer("Exit status: 0 success, 1 runtime error, 2 usage error. Run `ringtail VERB --help` for a verb.");
  ringtail::cli::add_ls(app);
  ringtail::cli::add_level(app);
  ringtail::cli::add_sample(app);
  ringtail::cli::add_gc(app);
  ringtail::cli::add_drain(app);
  ringtail::cli::add_tail(app);
  ringtail::cli::add_top(app);
  ringtail::cli::add_snapshot(app);
  ringtail::cli::add_retain(app);
  ringtail::cli::add_query(app);
  ringtail::cli::add_export(app);
  ringtail::cli::add_stats(app);
  ringtail::cli::add_report(app);

  // The verbs' callbacks run inside parse() and exit the process themselves.
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);  // --help, --version
    std::string where = "ringtail";
    for (const CLI::App* sub : app.get_subcommands()) where += " " + sub->get_name();
    std::string message = e.what();
    // "ringtail bogus": CLI11 complains about the missing verb, not the unknown word.
    if (app.get_subcommands().empty() && argc > 1 && argv[1][0] != '-') {
      message = "unknown verb '" + std::string(argv[1]) + "'";
    }
    ringtail::cli::print_error(message + " (see " + where + " --help)");
    return ringtail::cli::kExitUsage;
  }
  return ringtail::cli::kExitOk;
}

}  // namespace

int main(int argc, char** argv) {
  // Whatever escapes a verb (std::bad_alloc, a bug) ends the process with a
  // message and the runtime error status, not with std::terminate's abort.
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {
    ringtail::cli::print_error(std::string("internal error: ") + e.what());
  } catch (...) {
    ringtail::cli::print_error("internal error: an unknown exception");
  }
  return ringtail::cli::kExitRuntime;
}
