// Scanner: reads the stored files a query needs and hands on the lines that
// pass its Filter, with the parsed line.
//
// Per file (JsonlReader blocks of complete lines): when the filter has
// needles, the block is searched for the longest with memmem and only the
// lines around a hit are looked at; otherwise every line is. A line then
// passes Filter::may_match (needles, and the timestamp and level at their
// fixed offsets) before it is parsed with simdjson and checked with
// Filter::matches. A line that does not parse is counted (bad_lines) and
// reported once per file; a damaged compressed file or a truncated last line
// is reported, and what could be read is used.
//
// scan_ordered() merges the files by timestamp (a k-way merge over one cursor
// per file; a file is opened only once the merge reaches its first
// timestamp, from its index). Lines keep their order within a file, which is
// timestamp order except for the few the drain wrote late. scan_unordered()
// reads file after file, for answers that do not depend on order.
//
// Progress (set_progress): the callback gets a ScanProgress at the start of a
// scan, after each block read and after each file is done, on the scanning
// thread. Its bytes are sizes on disk, as StoredFile::disk_bytes has them: a
// plain file counts as it is read, a compressed file (whose position in its
// compressed bytes the reader does not expose) counts whole once read to its
// end; a file that grew since it was listed (an open one) counts no more than
// its listed size.
//
// Threading: one thread per Scanner.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "ringtail/reader/query/catalog.hpp"
#include "ringtail/reader/query/filter.hpp"
#include "simdjson.h"

namespace ringtail::reader {

struct ScanStats {
  uint64_t files = 0;          // data files listed
  uint64_t files_skipped = 0;  // excluded by their index
  uint64_t files_read = 0;
  uint64_t bytes_read = 0;  // uncompressed
  uint64_t lines_parsed = 0;
  uint64_t lines_matched = 0;
  uint64_t bad_lines = 0;  // not JSON objects
  uint64_t damaged_files = 0;
};

// Where a scan stands (see "Progress" above).
struct ScanProgress {
  uint64_t files = 0;            // files the scan reads: listed and not excluded by their index
  uint64_t files_done = 0;       // of those, read to their end (or found unreadable)
  uint64_t disk_bytes = 0;       // their sizes on disk
  uint64_t disk_bytes_done = 0;  // of that, what is done
};
using ProgressCallback = std::function<void(const ScanProgress&)>;

// A test of a line's text before it is parsed (set_prefilter): false skips
// the line. It may let through lines that fail, never reject one the caller
// wants.
using LinePrefilter = std::function<bool(std::string_view raw)>;

// Called per passing line: its text (without '\n') and its parsed object,
// both valid during the call. Return false to stop the scan.
using LineCallback = std::function<bool(std::string_view raw, simdjson::dom::element line)>;

class Scanner {
 public:
  Scanner(const Filter& filter, std::function<void(std::string_view)> report);

  absl::Status scan_ordered(const std::vector<StoredFile>& files, const LineCallback& emit);
  absl::Status scan_unordered(const std::vector<StoredFile>& files, const LineCallback& emit);

  const ScanStats& stats() const { return stats_; }

  // Called as the scans go (see "Progress" above); none by default.
  void set_progress(ProgressCallback on_progress) { on_progress_ = std::move(on_progress); }

  // Lines whose text it rejects are skipped unparsed (after the filter's
  // needle and may_match); none by default. With one, every line the
  // needle lets through is looked at alone, never parsed as a stream.
  void set_prefilter(LinePrefilter prefilter) { prefilter_ = std::move(prefilter); }

 private:
  class Cursor;

  // Starts progress_ over for the files a scan reads.
  void start_progress(const std::vector<const StoredFile*>& files);
  void report_progress() const {
    if (on_progress_) on_progress_(progress_);
  }

  const Filter& filter_;
  std::function<void(std::string_view)> report_;
  std::string needle_;  // the longest clause needle, or empty
  ScanStats stats_;
  ProgressCallback on_progress_;
  LinePrefilter prefilter_;
  ScanProgress progress_;
};

}  // namespace ringtail::reader
