// What the verbs over a storage directory share (query, stats, report, export):
// where the lines are (DIR, or a ClickHouse table with --engine), scanning
// the store (with progress on stderr, progress.hpp), and plain-text tables
// with JSON values as people read them.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/status/statusor.h"
#include "progress.hpp"
#include "ringtail/reader/clickhouse/clickhouse_client.hpp"
#include "ringtail/reader/query/catalog.hpp"
#include "ringtail/reader/query/scanner.hpp"

namespace ringtail::cli {

// DIR (a positional argument, no longer required) and --engine URI on
// `verb`: the verb reads one of them.
void add_store_source(CLI::App* verb, std::string& directory, std::string& engine);

// The ClickHouse table --engine names, or nullopt when DIR was given.
// Usage errors (exit 2): both or neither given, a bad URI.
std::optional<reader::ClickHouseTarget> engine_target(const std::string& directory, const std::string& engine);

// Rows (the first is the header) in columns two spaces apart, on stdout.
void print_table(const std::vector<std::vector<std::string>>& rows);

// A compact JSON value as people read it: a string without its quotes
// (escapes left as they are), anything else as it is.
std::string unquoted(const std::string& json_text);

// The stored files of DIR, indexes loaded or rebuilt unless use_indexes is
// false; nullopt (reported) if DIR cannot be read.
std::optional<std::vector<reader::StoredFile>> list_store(const std::string& directory, bool use_indexes);

// The stored files of DIR (as list_store gives them) scanned with `filter`: in timestamp order, or file after file.
// Read problems go to stderr (report_line). Progress, if `progress` wants it
// (progress_wanted), is shown while the files are read and erased before
// this returns. Returns the exit status (0, or 1 if DIR cannot be read).
// `prefilter`, if set, skips lines by their text before they are parsed
// (Scanner::set_prefilter).
int scan_store(const std::string& directory, const reader::Filter& filter, bool ordered, bool use_indexes,
               const reader::LineCallback& emit, const ProgressChoice& progress,
               const reader::LinePrefilter& prefilter = {});

// print_error() for the reports made while a meter may be drawn: the line is
// erased first (erase_progress_then). Any thread.
void report_line(std::string_view line);

// A Scanner's progress drawn by `meter`: "<files done>/<files> files, <bytes
// on disk done> of <bytes on disk>, rate, time left".
reader::ProgressCallback scan_progress(ProgressMeter& meter);

}  // namespace ringtail::cli
