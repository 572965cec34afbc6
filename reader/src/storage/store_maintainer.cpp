#include "ringtail/reader/storage/store_maintainer.hpp"
#include "ringtail/reader/ingest/timestamp.hpp"

#include <time.h>
#include <unistd.h>

#include <filesystem>
#include <vector>

#include "absl/strings/str_cat.h"
#include "ringtail/reader/storage/file_index.hpp"
#include "ringtail/reader/storage/jsonl_reader.hpp"
#include "ringtail/reader/storage/layout.hpp"
#include "ringtail/reader/storage/store_files.hpp"

namespace ringtail::reader {
namespace {

namespace fs = std::filesystem;

std::string message_of(const absl::Status& status) {
  return std::string(status.message().data(), status.message().size());
}

}  // namespace

absl::Status finish_closed_file(const std::string& closed_path, int compression_level) {
  const fs::path plain(closed_path);
  std::optional<StoredFileName> name = parse_stored_file_name(plain.filename().string());
  if (!name || name->kind != StoredFileName::Kind::kClosed) {
    return absl::InvalidArgumentError(absl::StrCat(closed_path, " is not a closed plain storage file"));
  }
  name->kind = StoredFileName::Kind::kCompressed;
  const std::string compressed = (plain.parent_path() / name->file_name()).string();
  std::error_code ec;
  if (!fs::exists(compressed, ec)) {
    // Index first (from the plain file: cheaper to read), then compress.
    absl::StatusOr<FileIndex> index = build_index(closed_path);
    if (!index.ok()) return index.status();
    if (absl::Status status = compress_file(closed_path, compressed, compression_level); !status.ok()) return status;
    const uintmax_t bytes = fs::file_size(compressed, ec);
    if (ec) return absl::ErrnoToStatus(ec.value(), absl::StrCat("cannot stat ", compressed));
    index->data_file = name->file_name();
    index->data_bytes = bytes;
    if (absl::Status status = write_index(*index, index_path_for(compressed)); !status.ok()) return status;
  }
  // The compressed file is complete (it exists under its name only once it
  // is): the plain one can go.
  if (::unlink(closed_path.c_str()) != 0 && errno != ENOENT) {
    return absl::ErrnoToStatus(errno, absl::StrCat("cannot remove ", closed_path));
  }
  return absl::OkStatus();
}

absl::StatusOr<size_t> recover_store(const std::string& directory,
                                     const std::function<void(const std::string& closed_path)>& finish) {
  std::error_code ec;
  if (!fs::exists(directory, ec)) return size_t{0};
  std::vector<std::string> orphans;
  std::vector<std::string> closed;
  std::vector<fs::path> stale_temporaries;
  const auto an_hour_ago = fs::file_time_type::clock::now() - std::chrono::hours(1);
  for (auto it = fs::recursive_directory_iterator(directory, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    if (!it->is_regular_file(ec)) continue;
    const std::string file_name = it->path().filename().string();
    // A compression or index write that never finished ("….jsonl.zst.tmp.XXXXXX",
    // "….index.json.tmp"); an hour old, so not another drain's work in progress.
    if ((file_name.find(".jsonl.zst.tmp.") != std::string::npos || file_name.ends_with(".index.json.tmp")) &&
        it->last_write_time(ec) < an_hour_ago) {
      stale_temporaries.push_back(it->path());
      continue;
    }
    const std::optional<StoredFileName> name = parse_stored_file_name(file_name);
    if (!name) continue;
    if (name->kind == StoredFileName::Kind::kOpen) orphans.push_back(it->path().string());
    if (name->kind == StoredFileName::Kind::kClosed) closed.push_back(it->path().string());
  }
  if (ec) return absl::ErrnoToStatus(ec.value(), absl::StrCat("cannot list ", directory, ": ", ec.message()));
  for (const fs::path& path : stale_temporaries) fs::remove(path, ec);
  for (const std::string& path : orphans) {
    absl::StatusOr<std::optional<std::string>> result = close_orphan(path);
    if (!result.ok()) return result.status();
    if (result->has_value()) closed.push_back(**result);
  }
  for (const std::string& path : closed) finish(path);
  return closed.size();
}

StoreMaintainer::StoreMaintainer(StoreMaintainerOptions options) : options_(std::move(options)) {
  absl::StatusOr<size_t> recovered = recover_store(options_.directory, [this](const std::string& path) {
    submitted_.fetch_add(1, std::memory_order_relaxed);
    queue_.enqueue(path);
  });
  if (!recovered.ok() && options_.report) options_.report(absl::StrCat("recovery: ", message_of(recovered.status())));
  thread_ = std::thread([this] { loop(); });
}

StoreMaintainer::~StoreMaintainer() {
  // Every file handed over first: the queue keeps order per producing thread
  // only, and files may come from the drain's writer thread.
  wait_idle();
  queue_.enqueue(std::string());
  thread_.join();
}

void StoreMaintainer::file_closed(const std::string& path) {
  submitted_.fetch_add(1, std::memory_order_relaxed);
  queue_.enqueue(path);
}

void StoreMaintainer::wait_idle() {
  std::unique_lock lock(idle_mutex_);
  idle_.wait(lock,
             [&] { return finished_.load(std::memory_order_acquire) >= submitted_.load(std::memory_order_acquire); });
}

void StoreMaintainer::run_retention() {
  absl::StatusOr<RetentionPlan> plan = plan_retention(options_.directory, *options_.retention, realtime_now_ns());
  if (!plan.ok()) {
    if (options_.report) options_.report(absl::StrCat("retention: ", message_of(plan.status())));
    return;
  }
  for (const RetentionAction& action : plan->actions) {
    if (options_.report) {
      options_.report(absl::StrCat("retention: ", options_.archive_directory.empty() ? "deleted " : "archived ",
                                   action.path, " (", action.reason, ")"));
    }
  }
  (void)apply_retention(*plan, options_.directory, options_.archive_directory, options_.report);
}

void StoreMaintainer::loop() {
  auto next_retention = std::chrono::steady_clock::now();
  for (;;) {
    if (options_.retention && std::chrono::steady_clock::now() >= next_retention) {
      run_retention();
      next_retention = std::chrono::steady_clock::now() + options_.retention_interval;
    }
    std::string path;
    if (!queue_.wait_dequeue_timed(path, std::chrono::seconds(1))) continue;
    if (path.empty()) return;  // everything queued before the stop is done
    if (absl::Status status = finish_closed_file(path, options_.compression_level); !status.ok()) {
      if (options_.report) options_.report(absl::StrCat("compressing ", path, ": ", message_of(status)));
    }
    {
      std::lock_guard lock(idle_mutex_);
      finished_.fetch_add(1, std::memory_order_release);
    }
    idle_.notify_all();
  }
}

}  // namespace ringtail::reader
