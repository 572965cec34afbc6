// FileSink: JSONL files, one per producer process.
//
//   <directory>/<service>/<YYYY-MM-DD>/<service>-<pid>.jsonl
//
// The date is the UTC date when the sink opens the file (the first line of
// that process in this sink's life), not the date of each line: a process
// that runs past midnight keeps writing to the file it started, and a reader
// restarted on another day opens a new file for it. Files are opened with
// O_APPEND (an existing file is continued) and directories are created as
// needed. A file that does not end with a newline (a reader was killed in
// the middle of a write(2)) has its partial last line cut off when it is
// opened: those records were not committed, so they are written again.
//
// The service name is made safe for a path component: bytes other than
// ASCII letters, digits, '-', '_' and '.' become '_', a leading '.' becomes
// '_', a '.' after a '.' becomes '_' (so no "..", no hidden files), and an
// empty name becomes "unknown".
//
// Buffering: write() appends to the file's buffer and passes it to write(2)
// once it holds buffer_bytes. flush() write(2)s every buffer; with fsync set
// it then fdatasync()s each file it wrote (off by default: flush() only
// promises that the data is in the OS, which survives the reader's death but
// not the machine's).
//
// After an error the engine calls discard(): buffers are dropped and every
// file is truncated back to its size at the last OK flush (only if it still
// has the size this sink gave it, so a line someone else appended is never
// cut), so the lines the engine writes again are not duplicated. Lines still
// buffered are dropped by the destructor (they were not committed: the next
// reader writes them).
//
// Files are closed by segment_finished(), and the least recently used one is
// closed when more than max_open_files are open.
//
// Threading: one thread at a time (the engine's).
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "ringtail/reader/drain/line_sink.hpp"

namespace ringtail::reader {

struct FileSinkOptions {
  std::string directory;                  // DIR; created if missing
  bool fsync = false;                     // flush(): also fdatasync() each file written
  mode_t file_mode = 0640;                // new files (the umask applies)
  mode_t directory_mode = 0750;           // new directories (the umask applies)
  size_t buffer_bytes = size_t{1} << 20;  // per file: write(2) once this much is buffered
  size_t max_open_files = 256;
};

class FileSink : public LineSink {
 public:
  explicit FileSink(FileSinkOptions options);
  ~FileSink() override;
  FileSink(const FileSink&) = delete;
  FileSink& operator=(const FileSink&) = delete;

  absl::Status write(const SegmentIdentity& segment, std::string_view lines) override;
  absl::Status flush() override;
  void discard() override;
  void segment_finished(const SegmentIdentity& segment) override;

  // "<service>" made safe for a path component, as described above.
  static std::string safe_service_name(std::string_view service);
  // The file for a segment's lines if it were opened on `utc_date` ("YYYY-MM-DD").
  std::string path_for(const SegmentIdentity& segment, std::string_view utc_date) const;
  size_t open_files() const { return files_.size(); }

 private:
  struct File {
    std::string path;
    int fd = -1;
    std::string buffer;
    uint64_t flushed_size = 0;  // file size after the last OK flush (or at open)
    uint64_t size = 0;          // file size with what this sink has write(2)n since
    bool synced = true;         // nothing written since the last fdatasync
    uint64_t last_use = 0;
  };
  using Key = std::pair<uint32_t, uint64_t>;  // pid, process start ticks

  absl::StatusOr<File*> file_for(const SegmentIdentity& segment);
  absl::Status write_bytes(File& file, std::string_view bytes);
  absl::Status write_buffer(File& file);
  void close_file(File& file);
  void close_least_recently_used();

  FileSinkOptions options_;
  std::map<Key, File> files_;
  uint64_t use_counter_ = 0;
};

}  // namespace ringtail::reader
