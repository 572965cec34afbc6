// The verbs of the `ringtail` command-line tool, one file each
// (verb_<name>.cpp). Each add_<verb>() adds its subcommand to the app with
// its options and a callback that runs the verb and exits the process with
// the verb's status (see common.hpp: 0 ok, 1 runtime error, 2 usage error).
#pragma once

#include "CLI/CLI.hpp"

namespace ringtail::cli {

void add_ls(CLI::App& app);        // list segments: producer, state, rings, pending, drops, lease
void add_level(CLI::App& app);     // set a live producer's minimum level
void add_sample(CLI::App& app);    // show or change live producers' sampling rules
void add_gc(CLI::App& app);        // remove dead producers' segments that hold nothing to drain
void add_drain(CLI::App& app);     // consume events into JSONL files
void add_tail(CLI::App& app);      // follow events on stdout without consuming them
void add_top(CLI::App& app);       // live view of producers: events/s, drops, ring fill, lag, top messages
void add_snapshot(CLI::App& app);  // copy a process's current events to a file without consuming them
void add_retain(CLI::App& app);    // apply retention to a storage directory
void add_query(CLI::App& app);     // print the stored events that pass a filter
void add_export(CLI::App& app);    // export stored events as JSON or a Chrome trace
void add_stats(CLI::App& app);     // statistics over stored events, per group
void add_report(CLI::App& app);    // reports over stored events: --cost

}  // namespace ringtail::cli
