// StoreMaintainer: the drain's background work on its storage directory, on
// threads of its own so that none of it is on the drain path:
//   * closed files (StoreSink::on_closed -> file_closed()) are indexed and
//     compressed: finish_closed_file(), on file_threads workers (several
//     files at once; a drain that rotates in the middle of a pass closes
//     many at its end);
//   * at start, recovery: "-open" files no drain holds (a killed drain left
//     them) are closed, closed plain files are finished (a compressed twin
//     that exists is complete, so the plain one just goes), and temporary
//     files of a compression or index write that never finished (an hour old
//     or more) are removed;
//   * every retention_interval, retention (retention.hpp), if a policy is set;
//     and at once on retain_now() (the drain asks when its disk is full), on
//     the maintainer's own thread, while no file is being finished.
// A full disk (or quota) does not stop it: a compression or index write
// that fails for lack of space is reported, its temporary file removed, the
// plain file kept, and the file tried again every retry_interval (reported
// once); other failures are reported and left to the next start's recovery.
// Everything is done relative to directory descriptors and never through a
// symbolic link (store_dir.hpp): a link or other entry that is not a regular
// file where the store expects one is reported and left alone, and a file
// planted at a temporary's name fails that compression or index write (it
// is reported; the plain file stays and is finished at the next start).
//
// Threading: file_closed() and retain_now() from any thread; the rest from
// the owner's. Retention excludes file work (a shared mutex): it may move or
// delete a closed file, which a worker must not be compressing meanwhile.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "ringtail/reader/storage/file_index.hpp"
#include "ringtail/reader/storage/retention.hpp"
#include "ringtail/reader/storage/store_dir.hpp"

namespace ringtail::reader {

// A closed plain file: index it, compress it ("<base>.jsonl.zst", complete
// under that name or not at all, with the plain file's modification time),
// point the index at the compressed file, then remove the plain one. A crash
// at any step leaves either the plain file, or a complete compressed file
// (and maybe its plain twin). A "<base>.jsonl.zst" that is not a regular
// file is an error, and the plain file stays. `counted`: the index the drain
// counted as it wrote the file (StoreSink), used when it names this file at
// its size now; otherwise the index is built from the data.
absl::Status finish_closed_file(const StoreDir& dir, std::string_view closed_name, int compression_level,
                                std::optional<FileIndex> counted = std::nullopt);
// The same for the file `closed_path`; with `store_root` (the storage
// directory it lies in), the directories below the root are opened without
// following links (StoreDir::open_parent).
absl::Status finish_closed_file(const std::string& closed_path, int compression_level,
                                const std::string& store_root = {}, std::optional<FileIndex> counted = std::nullopt);

// Recovery of a storage directory, as described above: calls `finish` for
// every closed plain file to finish (orphans closed first). Entries that are
// not regular files go to `report` (if set) and are left alone. Returns how
// many files it handed to `finish`.
absl::StatusOr<size_t> recover_store(const std::string& directory,
                                     const std::function<void(const std::string& closed_path)>& finish,
                                     const std::function<void(std::string_view)>& report = {});

struct StoreMaintainerOptions {
  std::string directory;
  // zstd level. 1: twice the speed of 3 on ringtail's JSONL for a file
  // about 1.5% larger (bench/README.md); compression is most of a backlog
  // drain's CPU.
  int compression_level = 1;
  std::optional<RetentionPolicy> retention;  // none: no retention
  std::chrono::seconds retention_interval{60};
  // A file whose compression or index write failed for lack of space (or
  // another error that may pass) is tried again this often.
  std::chrono::seconds retry_interval{30};
  std::string archive_directory;  // retention moves files there instead of deleting them
  // Threads that index and compress closed files (0: min(4, cores)).
  unsigned file_threads = 0;
  std::function<void(std::string_view)> report;
};

class StoreMaintainer {
 public:
  explicit StoreMaintainer(StoreMaintainerOptions options);  // recovers, then starts its threads
  ~StoreMaintainer();                                        // finishes every queued file, then stops
  StoreMaintainer(const StoreMaintainer&) = delete;
  StoreMaintainer& operator=(const StoreMaintainer&) = delete;

  // A file the sink closed, with the index it counted if any (StoreSinkOptions::on_closed).
  void file_closed(const std::string& path, std::optional<FileIndex> index = std::nullopt);
  // Runs retention now, on the maintainer's thread (it wakes up for it),
  // instead of at the next interval; requests made before it starts count
  // as one. False (and nothing happens) when no retention policy is set.
  bool retain_now();
  // Waits until every file handed over so far is finished (tests, shutdown).
  void wait_idle();
  uint64_t files_finished() const { return finished_.load(std::memory_order_acquire); }

 private:
  // What the maintainer's threads are asked to do: files go to the workers,
  // retention requests to the maintainer's own thread.
  struct Work {
    enum class Kind { kFile, kRetain, kStop } kind = Kind::kStop;
    std::string path;                // kFile
    std::optional<FileIndex> index;  // kFile: the sink's, if it counted one
  };

  void loop();
  void file_worker();
  void run_retention();
  // Finishes a closed file; one that failed with an error that may pass is
  // kept for a retry (reported the first time only).
  void finish(const std::string& path, std::optional<FileIndex> index, bool retry);
  void retry_failed();

  // The queues of Work (defined in the .cpp: the queue library is linked
  // privately, so no public header names it).
  struct WorkQueue;

  StoreMaintainerOptions options_;
  std::unique_ptr<WorkQueue> queue_;  // to the maintainer's thread
  std::unique_ptr<WorkQueue> files_;  // to the file workers
  std::atomic<bool> retention_requested_{false};
  // Shared while a file is finished, exclusive while retention runs.
  std::shared_mutex store_mutex_;
  std::mutex failed_mutex_;
  std::vector<std::string> failed_ ABSL_GUARDED_BY(failed_mutex_);  // files to try again
  std::atomic<uint64_t> submitted_{0};
  std::atomic<uint64_t> finished_{0};
  // Guards no member: finished_ is counted under it so that wait_idle()
  // cannot miss the notification between its check and its wait.
  std::mutex idle_mutex_;
  std::condition_variable idle_;
  std::thread thread_;
  std::vector<std::thread> workers_;
};

}  // namespace ringtail::reader
