// What the verbs over a storage directory share (query, stats, report):
// scanning the store, and plain-text tables with JSON values as people read
// them.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "ringtail/reader/query/catalog.hpp"
#include "ringtail/reader/query/scanner.hpp"

namespace ringtail::cli {

// Rows (the first is the header) in columns two spaces apart, on stdout.
void print_table(const std::vector<std::vector<std::string>>& rows);

// A compact JSON value as people read it: a string without its quotes
// (escapes left as they are), anything else as it is.
std::string unquoted(const std::string& json_text);

// The stored files of DIR, indexes loaded or rebuilt unless use_indexes is
// false; nullopt (reported) if DIR cannot be read.
std::optional<std::vector<reader::StoredFile>> list_store(const std::string& directory, bool use_indexes);

// The stored files of DIR (as list_store gives them) scanned with `filter`: in timestamp order, or file after file.
// Read problems go to stderr. Returns the exit status (0, or 1 if DIR cannot be read).
int scan_store(const std::string& directory, const reader::Filter& filter, bool ordered, bool use_indexes,
               const reader::LineCallback& emit);

}  // namespace ringtail::cli
