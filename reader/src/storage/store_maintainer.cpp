#include "ringtail/reader/storage/store_maintainer.hpp"
#include "ringtail/reader/ingest/timestamp.hpp"

#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <vector>

#include "absl/strings/str_cat.h"
#include "concurrentqueue/blockingconcurrentqueue.h"
#include "ringtail/reader/errno_texts.hpp"
#include "ringtail/reader/storage/compress_file.hpp"
#include "ringtail/reader/storage/file_index.hpp"
#include "ringtail/reader/storage/jsonl_reader.hpp"
#include "ringtail/reader/storage/store_checkpoint.hpp"
#include "ringtail/reader/storage/store_dir.hpp"
#include "ringtail/reader/storage/store_files.hpp"
#include "ringtail/reader/storage/store_names.hpp"

namespace ringtail::reader {
namespace {

// Errors that may pass without anyone touching the store: no space (ENOSPC,
// EDQUOT), too many open files, a resource busy for now.
bool may_pass(const absl::Status& status) {
  return status.code() == absl::StatusCode::kResourceExhausted || status.code() == absl::StatusCode::kUnavailable;
}

}  // namespace

absl::Status finish_closed_file(const StoreDir& dir, std::string_view closed_name, int compression_level,
                                std::optional<FileIndex> counted) {
  std::optional<StoredFileName> name = parse_stored_file_name(closed_name);
  if (!name || name->kind != StoredFileName::Kind::kClosed) {
    return absl::InvalidArgumentError(absl::StrCat(dir.path_of(closed_name), " is not a closed plain storage file"));
  }
  name->kind = StoredFileName::Kind::kCompressed;
  const std::string compressed = name->file_name();
  name->kind = StoredFileName::Kind::kIndex;
  const std::string index_name = name->file_name();
  absl::StatusOr<struct stat> existing = dir.status(compressed);
  if (existing.ok() && !S_ISREG(existing->st_mode)) {
    // Not a compressed file ringtail wrote: the plain one is not given up for it.
    return absl::FailedPreconditionError(absl::StrCat(dir.path_of(compressed), " is ",
                                                      std::string(file_type_name(existing->st_mode)), "; ",
                                                      dir.path_of(closed_name), " is left as it is"));
  }
  if (!existing.ok() && existing.status().code() != absl::StatusCode::kNotFound) return existing.status();
  if (!existing.ok()) {
    // The index the drain counted, if it describes the file as it is; else
    // one from the data (before compressing: the plain file is cheaper to read).
    absl::StatusOr<struct stat> plain = dir.status(closed_name);
    if (!plain.ok()) return plain.status();
    const bool trusted = counted.has_value() && counted->data_file == closed_name &&
                         counted->data_bytes == static_cast<uint64_t>(plain->st_size);
    absl::StatusOr<FileIndex> index =
        trusted ? absl::StatusOr<FileIndex>(std::move(*counted)) : build_index(dir, closed_name);
    if (!index.ok()) return index.status();
    if (absl::Status status = compress_file(dir, closed_name, compressed, compression_level); !status.ok()) {
      return status;
    }
    absl::StatusOr<struct stat> written = dir.status(compressed);
    if (!written.ok()) return written.status();
    index->data_file = compressed;
    index->data_bytes = static_cast<uint64_t>(written->st_size);
    if (absl::Status status = write_index(*index, dir, index_name); !status.ok()) return status;
  }
  // The compressed file is complete (it exists under its name only once it
  // is): the plain one can go.
  if (absl::Status status = dir.remove(closed_name); !status.ok() && status.code() != absl::StatusCode::kNotFound) {
    return status;
  }
  return absl::OkStatus();
}

absl::Status finish_closed_file(const std::string& closed_path, int compression_level, const std::string& store_root,
                                std::optional<FileIndex> counted) {
  absl::StatusOr<StoreDir> dir = StoreDir::open_parent(closed_path, store_root);
  if (!dir.ok()) return dir.status();
  return finish_closed_file(*dir, file_name_of(closed_path), compression_level, std::move(counted));
}

absl::StatusOr<size_t> recover_store(const std::string& directory,
                                     const std::function<void(const std::string& closed_path)>& finish,
                                     const std::function<void(std::string_view)>& report) {
  absl::StatusOr<StoreDir> root = StoreDir::open(directory);
  if (!root.ok()) {
    if (root.status().code() == absl::StatusCode::kNotFound) return size_t{0};  // nothing stored yet
    return root.status();
  }
  // First: "-open" files cut back to what their checkpoints cover, before
  // they are closed below (store_checkpoint.hpp).
  apply_checkpoints(*root, report);
  std::vector<std::string> closed;
  const int64_t an_hour_ago = realtime_now_ns() - int64_t{3600} * 1'000'000'000;
  absl::Status walked = walk_store(
      *root,
      [&](const StoreDir& dir, std::vector<StoreDir::Entry>& files) -> absl::Status {
        for (const StoreDir::Entry& entry : files) {
          // A compression or index write that never finished; an hour old, so
          // not another drain's work in progress.
          if (is_temporary_name(entry.name)) {
            if (modified_ns(entry.st) < an_hour_ago) (void)dir.remove(entry.name);
            continue;
          }
          const std::optional<StoredFileName> name = parse_stored_file_name(entry.name);
          if (!name) continue;
          if (name->kind == StoredFileName::Kind::kClosed) closed.push_back(dir.path_of(entry.name));
          if (name->kind != StoredFileName::Kind::kOpen) continue;
          absl::StatusOr<std::optional<std::string>> result = close_orphan(dir, entry.name);
          if (!result.ok() && result.status().code() == absl::StatusCode::kFailedPrecondition) {
            // Replaced by a link (or the like) since it was listed: left alone.
            if (report) report(std::string{result.status().message()});
            continue;
          }
          if (!result.ok()) return result.status();
          if (result->has_value()) closed.push_back(**result);
        }
        return absl::OkStatus();
      },
      report);
  if (!walked.ok()) return walked;
  for (const std::string& path : closed) finish(path);
  return closed.size();
}

struct StoreMaintainer::WorkQueue {
  moodycamel::BlockingConcurrentQueue<Work> items;
};

StoreMaintainer::StoreMaintainer(StoreMaintainerOptions options)
    : options_(std::move(options)), queue_(std::make_unique<WorkQueue>()), files_(std::make_unique<WorkQueue>()) {
  absl::StatusOr<size_t> recovered = recover_store(
      options_.directory, [this](const std::string& path) { file_closed(path, std::nullopt); },
      [this](std::string_view line) {
        if (options_.report) options_.report(absl::StrCat("recovery: ", std::string(line)));
      });
  if (!recovered.ok() && options_.report) options_.report(absl::StrCat("recovery: ", recovered.status().message()));
  prepare_errno_texts();
  unsigned threads = options_.file_threads;
  if (threads == 0) threads = std::clamp(std::thread::hardware_concurrency(), 1U, 4U);
  for (unsigned i = 0; i < threads; ++i) workers_.emplace_back([this] { file_worker(); });
  thread_ = std::thread([this] { loop(); });
}

StoreMaintainer::~StoreMaintainer() {
  // Every file handed over first: the queue keeps order per producing thread
  // only, and files may come from the drain's writer thread.
  wait_idle();
  for (size_t i = 0; i < workers_.size(); ++i) files_->items.enqueue(Work{Work::Kind::kStop, {}, {}});
  for (std::thread& worker : workers_) worker.join();
  queue_->items.enqueue(Work{Work::Kind::kStop, {}, {}});
  thread_.join();
}

void StoreMaintainer::file_closed(const std::string& path, std::optional<FileIndex> index) {
  submitted_.fetch_add(1, std::memory_order_relaxed);
  files_->items.enqueue(Work{Work::Kind::kFile, path, std::move(index)});
}

bool StoreMaintainer::retain_now() {
  if (!options_.retention) return false;
  // One wake-up per run: later requests find the flag set and add nothing.
  if (!retention_requested_.exchange(true, std::memory_order_acq_rel))
    queue_->items.enqueue(Work{Work::Kind::kRetain, {}, {}});
  return true;
}

void StoreMaintainer::wait_idle() {
  std::unique_lock lock(idle_mutex_);
  idle_.wait(lock,
             [&] { return finished_.load(std::memory_order_acquire) >= submitted_.load(std::memory_order_acquire); });
}

void StoreMaintainer::run_retention() {
  std::unique_lock exclusive(store_mutex_);
  absl::StatusOr<RetentionPlan> plan = plan_retention(options_.directory, *options_.retention, realtime_now_ns());
  if (!plan.ok()) {
    if (options_.report) options_.report(absl::StrCat("retention: ", plan.status().message()));
    return;
  }
  if (options_.report) {
    for (const std::string& line : plan->skipped) options_.report(absl::StrCat("retention: ", line));
  }
  for (const RetentionAction& action : plan->actions) {
    if (options_.report) {
      options_.report(absl::StrCat("retention: ", options_.archive_directory.empty() ? "deleted " : "archived ",
                                   action.path, " (", action.reason, ")"));
    }
  }
  (void)apply_retention(*plan, options_.directory, options_.archive_directory, options_.report);
}

void StoreMaintainer::finish(const std::string& path, std::optional<FileIndex> index, bool retry) {
  const absl::Status status =
      finish_closed_file(path, options_.compression_level, options_.directory, std::move(index));
  if (status.ok()) return;
  if (may_pass(status)) {
    {
      std::lock_guard lock(failed_mutex_);
      failed_.push_back(path);
    }
    if (!retry && options_.report) {
      options_.report(absl::StrCat("compressing ", path, ": ", status.message(), " (the plain file is kept and ",
                                   "tried again every ", options_.retry_interval.count(), " s)"));
    }
    return;
  }
  if (options_.report) options_.report(absl::StrCat("compressing ", path, ": ", status.message()));
}

void StoreMaintainer::retry_failed() {
  std::vector<std::string> paths;
  {
    std::lock_guard lock(failed_mutex_);
    paths.swap(failed_);
  }
  std::shared_lock shared(store_mutex_);
  for (const std::string& path : paths) finish(path, std::nullopt, /*retry=*/true);
}

void StoreMaintainer::file_worker() {
  for (;;) {
    Work work;
    files_->items.wait_dequeue(work);
    if (work.kind == Work::Kind::kStop) return;  // sent once every file handed over is finished
    {
      std::shared_lock shared(store_mutex_);
      finish(work.path, std::move(work.index), /*retry=*/false);
    }
    {
      std::lock_guard lock(idle_mutex_);
      finished_.fetch_add(1, std::memory_order_release);
    }
    idle_.notify_all();
  }
}

void StoreMaintainer::loop() {
  const auto now = [] { return std::chrono::steady_clock::now(); };
  auto next_retention = now();
  auto next_retry = now() + options_.retry_interval;
  for (;;) {
    const bool requested = retention_requested_.exchange(false, std::memory_order_acq_rel);
    if (options_.retention && (requested || now() >= next_retention)) {
      run_retention();
      next_retention = now() + options_.retention_interval;
    }
    bool retry = false;
    {
      std::lock_guard lock(failed_mutex_);
      // A retry_interval after the first failure (seen within a second).
      if (failed_.empty()) next_retry = now() + options_.retry_interval;
      retry = !failed_.empty() && (requested || now() >= next_retry);
    }
    if (retry) {
      retry_failed();  // retention may just have made room
      next_retry = now() + options_.retry_interval;
    }
    Work work;
    if (!queue_->items.wait_dequeue_timed(work, std::chrono::seconds(1))) continue;
    if (work.kind == Work::Kind::kStop) return;
  }
}

}  // namespace ringtail::reader
