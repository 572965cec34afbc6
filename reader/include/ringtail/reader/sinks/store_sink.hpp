// StoreSink: the drain's EventSink for a storage directory (store_names.hpp): one
// file per producer process and level class, rotated by size, age and at
// midnight UTC, closed files handed on (to the background compressor) with
// their index.
//
// Lines: each line goes to its class's file, found from the level in its
// shape (level_class_of); consecutive lines of one class are appended as one
// piece. A file's name carries the timestamps of its first
// and last lines once it is closed.
//
// Index: as it writes a line, the sink counts it into its file's index
// (file_index.hpp) from the line's shape, so that a closed file needs no
// second reading to be indexed. A file it adopted (a killed drain's) or from
// which it took back lines (discard) is handed on without an index: the
// maintainer builds that one from the data.
//
// Rotation by size happens as lines are written: once a file holds
// max_file_bytes, the next line of its class goes to a new file, so no file
// holds more than max_file_bytes plus one line. The full file stays open
// (and listed in its segment's checkpoints) until the next flush has
// written and covered it; then it is closed: renamed from
// "…-<start>-open.jsonl" to "…-<first>-<last>.jsonl" (never over an existing
// name) and passed to on_closed. So a closed file never holds a line that a
// restart could write again, and discard() never reaches into one. Rotation
// by age (max_file_age) and at midnight UTC happens at a flush.
//
// While open, a file is locked (flock, exclusive) so that retention and
// other tools can tell a file being written from one a killed drain left
// behind. Opening a file for a process and class first adopts such a left-
// behind "-open" file of the same service, pid and class in today's
// directory: its partial last line (a drain killed mid-write(2)) is cut off,
// since those records were not committed and are written again.
//
// Files and directories are opened, created and renamed relative to
// directory descriptors, never through a symbolic link (store_dir.hpp): a
// "<service>" or "<date>" directory that is a link fails the write, an
// "-open" name that is a link is reported and not adopted, and a new file is
// created O_EXCL. When it closes a file the sink sets the file's
// modification time to its clock at the last flush that wrote to it: the
// time the reader wrote the file, which retention goes by (the name's stamps
// are the producers' timestamps).
//
// Exactly once (EventSink::flush_with): flush_with() writes every buffer,
// then each segment's checkpoint (store_checkpoint.hpp) listing its open
// files at their sizes now, then rotates; a file is created listed (a
// checkpoint with size 0 is written first). A segment's lines count as
// flushed once its checkpoint is stored, so discard() goes back to the last
// stored checkpoint. segment_finished() removes the segment's checkpoint;
// resume_point() reads it back. The constructor applies the store's
// checkpoints (apply_checkpoints) before it adopts any "-open" file.
//
// Buffering, fsync, discard(): as the EventSink contract says. write()
// buffers per file and write(2)s at buffer_bytes; flush() write(2)s every
// buffer (then fdatasync()s with fsync); discard() drops buffers and
// truncates every file back to its size at the last OK flush.
// segment_finished() closes the segment's files (flushed by then), and
// past max_open_files the least recently used flushed file is closed. The
// destructor drops what was not flushed (not committed: written again by the
// next drain) and closes every file, so no "-open" file outlives a drain that
// exits.
//
// Threading: one thread at a time (the engine's writer thread); on_closed is
// called on it.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "ringtail/reader/sinks/event_sink.hpp"
#include "ringtail/reader/storage/file_index.hpp"
#include "ringtail/reader/storage/store_dir.hpp"
#include "ringtail/reader/storage/store_names.hpp"

namespace ringtail::reader {

struct StoreSinkOptions {
  std::string directory;                         // DIR; created if missing
  uint64_t max_file_bytes = uint64_t{64} << 20;  // rotate once a file holds this much
  std::chrono::seconds max_file_age{3600};       // rotate a file open this long
  bool fsync = false;                            // flush(): also fdatasync() each file written
  mode_t file_mode = 0640;                       // new files (the umask applies)
  mode_t directory_mode = 0750;                  // new directories (the umask applies)
  size_t buffer_bytes = size_t{1} << 20;         // per file: write(2) once this much is buffered
  size_t max_open_files = 256;                   // past this, the least recently used flushed file is closed
  // A closed file's path (the sink is done with it), and its index when the
  // sink counted every line in it (FileIndex::data_file and data_bytes name
  // the closed plain file). Default: nothing.
  std::function<void(const std::string& path, std::optional<FileIndex> index)> on_closed;
  // The realtime clock, ns since the Unix epoch (tests fake the date, the age
  // and the time a file was written).
  std::function<int64_t()> now_ns;
  // Problems that do not fail a write: an entry not adopted (not a regular
  // file), a file that could not be closed. Default: nothing.
  std::function<void(std::string_view)> report;
};

class StoreSink : public EventSink {
 public:
  explicit StoreSink(StoreSinkOptions options);
  ~StoreSink() override;
  StoreSink(const StoreSink&) = delete;
  StoreSink& operator=(const StoreSink&) = delete;

  absl::Status write(const EventBatch& batch) override;
  absl::Status flush() override;
  absl::Status flush_with(const std::vector<SegmentCheckpoint>& checkpoints) override;
  // Reads the checkpoint file (any thread; problems go to report).
  std::optional<std::string> resume_point(const SegmentIdentity& segment) override;
  void discard() override;
  void segment_finished(const SegmentIdentity& segment) override;

  size_t open_files() const { return files_.size(); }
  // Paths of the files open now.
  std::vector<std::string> open_paths() const;

 private:
  struct File {
    std::string relative_directory;  // <service>/<date>
    std::string directory;           // DIR/<service>/<date>
    StoredFileName name;             // kind kOpen
    std::string path;
    std::string date;  // YYYY-MM-DD it was opened on
    int64_t opened_ns = 0;
    int fd = -1;
    std::string buffer;
    uint64_t flushed_size = 0;  // file size after the last OK flush (or at open)
    uint64_t size = 0;          // file size with what this sink has write(2)n since
    bool synced = true;         // nothing written since the last fdatasync
    std::string first_stamp;    // name stamps of the first and last line in the file
    std::string last_stamp;
    std::string flushed_last_stamp;  // last_stamp at the last OK flush (discard() goes back to it)
    int64_t written_ns = 0;          // the clock at the last OK flush that wrote to it (0: none yet)
    uint64_t last_use = 0;
    // Every line in the file, counted as written; none when the file holds
    // lines this sink did not count (adopted) or took back some (discard).
    std::optional<FileIndexBuilder> index;
    std::string shown_service;  // the service as its lines show it (for the index)
  };
  // pid, process start ticks, class.
  using Key = std::tuple<uint32_t, uint64_t, LevelClass>;
  // pid, process start ticks.
  using SegmentKey = std::pair<uint32_t, uint64_t>;

  absl::StatusOr<File*> file_for(const SegmentIdentity& segment, LevelClass level_class);
  absl::Status append(File& file, std::string_view lines);
  // Takes back what was written to `file` since its last OK flush (lines
  // not committed: the next drain writes them again), its buffer and its
  // index's counts of them with it, if the file still ends where this sink
  // left it; false if it could not (the file then keeps those lines, whole:
  // only complete writes count).
  static bool take_back_unflushed(File& file);
  // f(key, file) for every open file: the full ones (older lines) first.
  template <class F>
  void for_each_file(F&& f) {
    for (auto& [key, file] : full_) f(key, file);
    for (auto& [key, file] : files_) f(key, file);
  }
  // The file's size once its buffer is written.
  static uint64_t pending_bytes(const File& file) { return file.size + file.buffer.size(); }
  absl::Status write_bytes(File& file, std::string_view bytes);
  absl::Status write_buffer(File& file);
  bool wants_rotation(const File& file, int64_t now_ns) const;
  // DIR/<relative>: opened (created with `create`) one component at a time.
  absl::StatusOr<StoreDir> open_directory(const std::string& relative, bool create) const;
  // Closes a flushed file: its modification time set to written_ns, renamed
  // to its closed name, unlocked, on_closed.
  void close_file(File& file);
  int64_t now() const;
  void close_least_recently_used();
  // Writes the buffers (and fdatasyncs them with fsync).
  absl::Status write_buffers();
  // The files of `segment` count as flushed at their size now.
  void mark_flushed(const SegmentKey* segment, int64_t now_ns);
  // Replaces the segment's checkpoint: its resume point and open files, each
  // at its flushed size, or at its size now with `sizes_now`.
  absl::Status store_checkpoint(const SegmentKey& segment, bool sizes_now);
  absl::StatusOr<const StoreDir*> checkpoint_directory();

  StoreSinkOptions options_;
  std::map<Key, File> files_;  // the file each process and class writes to now
  // Files that reached max_file_bytes since the last flush: no more lines go
  // in; closed once the next flush covers them (in the order they filled).
  std::vector<std::pair<Key, File>> full_;
  std::map<SegmentKey, std::string> resume_;  // the last resume point stored per segment
  std::optional<StoreDir> checkpoints_;       // DIR/.checkpoints, once made
  uint64_t use_counter_ = 0;
};

}  // namespace ringtail::reader
