#include "ringtail/reader/sinks/store_sink.hpp"

#include <fcntl.h>
#include <stdio.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <optional>
#include <set>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "ringtail/reader/ingest/timestamp.hpp"
#include "ringtail/reader/output/json_text.hpp"
#include "ringtail/reader/output/time_text.hpp"
#include "ringtail/reader/storage/store_checkpoint.hpp"
#include "ringtail/reader/storage/store_files.hpp"

namespace ringtail::reader {
namespace {

// The name stamp of the timestamp of the line that starts at `line` (empty if
// it has none).
std::string stamp_of(std::string_view line) { return name_stamp_from_timestamp(line_timestamp(line)); }

}  // namespace

StoreSink::StoreSink(StoreSinkOptions options) : options_(std::move(options)) {
  while (options_.directory.size() > 1 && options_.directory.back() == '/') options_.directory.pop_back();
  if (options_.directory.empty()) options_.directory.assign(1, '.');
  // Before any "-open" file is adopted: what a killed sink wrote past its
  // checkpoints goes (a no-op after StoreMaintainer's recovery did it).
  if (absl::StatusOr<StoreDir> root = StoreDir::open(options_.directory); root.ok()) {
    apply_checkpoints(*root, options_.report);
  }
}

bool StoreSink::take_back_unflushed(File& file) {
  // The counted index no longer describes the file once lines it counted go.
  if (!file.buffer.empty() || file.size != file.flushed_size) file.index.reset();
  file.buffer.clear();
  if (file.size != file.flushed_size) {
    struct stat st;
    if (::fstat(file.fd, &st) != 0 || static_cast<uint64_t>(st.st_size) != file.size ||
        ::ftruncate(file.fd, static_cast<off_t>(file.flushed_size)) != 0) {
      return false;
    }
    file.size = file.flushed_size;
  }
  file.last_stamp = file.flushed_last_stamp;
  if (file.flushed_size == 0) file.first_stamp.clear();
  return true;
}

StoreSink::~StoreSink() {
  for_each_file([this](const Key&, File& file) {
    (void)take_back_unflushed(file);
    close_file(file);
  });
}

int64_t StoreSink::now() const { return options_.now_ns ? options_.now_ns() : realtime_now_ns(); }

std::vector<std::string> StoreSink::open_paths() const {
  std::vector<std::string> paths;
  for (const auto& [key, file] : full_) paths.push_back(file.path);
  for (const auto& [key, file] : files_) paths.push_back(file.path);
  return paths;
}

absl::StatusOr<StoreSink::File*> StoreSink::file_for(const SegmentIdentity& segment, LevelClass level_class) {
  const Key key{segment.pid, segment.process_start_ticks, level_class};
  auto it = files_.find(key);
  if (it != files_.end()) {
    it->second.last_use = ++use_counter_;
    return &it->second;
  }
  if (files_.size() >= options_.max_open_files) close_least_recently_used();

  File file;
  file.opened_ns = now();
  // A file that filled up in this pass is still open under its name: the
  // next one of the same process and class gets a later stamp.
  for (const auto& [full_key, full] : full_) {
    if (full_key == key && full.opened_ns >= file.opened_ns) file.opened_ns = full.opened_ns + 1;
  }
  file.date = utc_date(file.opened_ns);
  const std::string service = safe_service_name(segment.service);
  file.relative_directory = absl::StrCat(service, "/", file.date);
  absl::StatusOr<StoreDir> dir = open_directory(file.relative_directory, /*create=*/true);
  if (!dir.ok()) return dir.status();
  file.directory = dir->path();

  // A file a killed drain left open for this process and class: continue it.
  absl::StatusOr<std::optional<AdoptedFile>> adopted =
      adopt_open_file(*dir, service, segment.pid, level_class, options_.report);
  if (!adopted.ok()) return adopted.status();
  if (adopted->has_value()) {
    AdoptedFile& found = **adopted;
    file.name = found.name;
    file.path = found.path;
    file.fd = found.fd;
    file.size = file.flushed_size = found.size;
    file.first_stamp = found.first_stamp;
    file.last_stamp = file.flushed_last_stamp = found.last_stamp;
    file.last_use = ++use_counter_;
    File& added = files_.emplace(key, std::move(file)).first->second;
    // Listed at the size it had, as a new file is (below).
    if (absl::Status status = store_checkpoint(SegmentKey{segment.pid, segment.process_start_ticks}, false);
        !status.ok()) {
      return status;
    }
    return &added;
  }

  // A new file: every line in it will be counted as it is written.
  file.index.emplace();
  std::string escaped;
  append_json_string(escaped, segment.service);
  std::string scratch;
  file.shown_service = std::string(json_string_text(escaped, scratch));
  file.name.kind = StoredFileName::Kind::kOpen;
  file.name.service = service;
  file.name.pid = segment.pid;
  file.name.level_class = level_class;
  file.name.first = name_stamp_from_ns(file.opened_ns);
  file.path = dir->path_of(file.name.file_name());
  absl::StatusOr<FileDescriptor> created =
      dir->create_file(file.name.file_name(), O_RDWR | O_APPEND, options_.file_mode);
  if (!created.ok()) return created.status();
  file.fd = created->release();
  if (::flock(file.fd, LOCK_EX | LOCK_NB) != 0) {
    const int error = errno;
    ::close(file.fd);
    return absl::ErrnoToStatus(error, absl::StrCat("cannot lock ", file.path));
  }
  file.last_use = ++use_counter_;
  File& added = files_.emplace(key, std::move(file)).first->second;
  // Listed before a line goes in: a kill before the next checkpoint leaves
  // it cut back to nothing, not holding lines written again later.
  if (absl::Status status = store_checkpoint(SegmentKey{segment.pid, segment.process_start_ticks}, false);
      !status.ok()) {
    return status;  // discard() follows: the empty file goes with it
  }
  return &added;
}

absl::StatusOr<const StoreDir*> StoreSink::checkpoint_directory() {
  if (!checkpoints_.has_value()) {
    absl::StatusOr<StoreDir> root = StoreDir::create(options_.directory, options_.directory_mode);
    if (!root.ok()) return root.status();
    absl::StatusOr<StoreDir> dir = root->make_subdirectory(kCheckpointDirectory, options_.directory_mode);
    if (!dir.ok()) return dir.status();
    checkpoints_.emplace(std::move(*dir));
  }
  return &*checkpoints_;
}

absl::Status StoreSink::store_checkpoint(const SegmentKey& segment, bool sizes_now) {
  absl::StatusOr<const StoreDir*> dir = checkpoint_directory();
  if (!dir.ok()) return dir.status();
  StoreCheckpoint checkpoint;
  checkpoint.pid = segment.first;
  checkpoint.start_ticks = segment.second;
  auto list = [&](const Key& key, const File& file) {
    if (std::get<0>(key) != segment.first || std::get<1>(key) != segment.second) return;
    checkpoint.files.push_back(StoreCheckpoint::File{absl::StrCat(file.relative_directory, "/", file.name.file_name()),
                                                     sizes_now ? file.size : file.flushed_size});
  };
  for (const auto& [key, file] : full_) list(key, file);
  for (const auto& [key, file] : files_) list(key, file);
  auto it = resume_.find(segment);
  if (it == resume_.end()) {
    // First words on this segment: keep what an earlier drain stored (the
    // engine resumes from it until it has a resume point of its own).
    absl::StatusOr<std::optional<StoreCheckpoint>> stored =
        read_checkpoint(options_.directory, segment.first, segment.second);
    std::string resume = stored.ok() && stored->has_value() ? std::move((*stored)->resume) : std::string();
    it = resume_.emplace(segment, std::move(resume)).first;
  }
  checkpoint.resume = it->second;
  // 0600 whatever file_mode says: its frames are raw records, values not redacted.
  return write_checkpoint(**dir, checkpoint, 0600, options_.fsync);
}

std::optional<std::string> StoreSink::resume_point(const SegmentIdentity& segment) {
  absl::StatusOr<std::optional<StoreCheckpoint>> checkpoint =
      read_checkpoint(options_.directory, segment.pid, segment.process_start_ticks);
  if (!checkpoint.ok()) {
    if (options_.report) {
      options_.report(absl::StrCat("ignoring the checkpoint of pid ", segment.pid, ": ",
                                   std::string{checkpoint.status().message()}));
    }
    return std::nullopt;
  }
  if (!checkpoint->has_value() || (*checkpoint)->resume.empty()) return std::nullopt;
  return std::move((*checkpoint)->resume);
}

absl::Status StoreSink::write_bytes(File& file, std::string_view bytes) {
  size_t done = 0;
  absl::Status status = write_all(file.fd, bytes, file.path, &done);
  file.size += done;
  if (done != 0) file.synced = false;
  return status;
}

absl::Status StoreSink::write_buffer(File& file) {
  absl::Status status = write_bytes(file, file.buffer);
  // What was not written is dropped with the error: discard() follows.
  file.buffer.clear();
  return status;
}

absl::Status StoreSink::append(File& file, std::string_view lines) {
  if (file.buffer.empty() && lines.size() >= options_.buffer_bytes) {
    // A whole buffer's worth: straight to the file, without copying it first.
    return write_bytes(file, lines);
  }
  file.buffer.append(lines);
  if (file.buffer.size() >= options_.buffer_bytes) return write_buffer(file);
  return absl::OkStatus();
}

absl::Status StoreSink::write(const EventBatch& batch) {
  const SegmentIdentity& segment = *batch.segment;
  const std::vector<LineShape>& shapes = batch.lines;
  size_t next = 0;
  while (next < shapes.size()) {
    // One run: consecutive lines of one class, as many as its file takes
    // before it reaches max_file_bytes (the line that reaches it included),
    // appended in one piece.
    const LevelClass run_class = level_class_of(shapes[next].level);
    absl::StatusOr<File*> file = file_for(segment, run_class);
    if (!file.ok()) return file.status();
    if (pending_bytes(**file) >= options_.max_file_bytes) {
      // Full: no more lines go in; it is closed once the next flush covers it.
      auto node = files_.extract(Key{segment.pid, segment.process_start_ticks, run_class});
      full_.emplace_back(node.key(), std::move(node.mapped()));
      file = file_for(segment, run_class);
      if (!file.ok()) return file.status();
    }
    File& f = **file;
    const size_t run_first = next;
    uint64_t size = pending_bytes(f) + shapes[next].size;
    ++next;
    while (next < shapes.size() && size < options_.max_file_bytes) {
      if (level_class_of(shapes[next].level) != run_class) break;
      size += shapes[next].size;
      ++next;
    }
    if (f.first_stamp.empty()) f.first_stamp = stamp_of(batch.line(shapes[run_first]));
    if (std::string last = stamp_of(batch.line(shapes[next - 1])); !last.empty()) f.last_stamp = std::move(last);
    if (f.index.has_value()) {
      for (size_t i = run_first; i < next; ++i)
        f.index->add_shaped_line(batch, shapes[i], f.shown_service, segment.pid);
    }
    // A run's lines are consecutive in the batch.
    const uint64_t begin = shapes[run_first].offset;
    const uint64_t end = shapes[next - 1].offset + shapes[next - 1].size;
    const std::string_view text = batch.text;
    if (absl::Status status = append(f, text.substr(begin, end - begin)); !status.ok()) {
      return status;
    }
  }
  return absl::OkStatus();
}

bool StoreSink::wants_rotation(const File& file, int64_t now_ns) const {
  return file.size >= options_.max_file_bytes ||
         now_ns - file.opened_ns >=
             std::chrono::duration_cast<std::chrono::nanoseconds>(options_.max_file_age).count() ||
         utc_date(now_ns) != file.date;
}

absl::Status StoreSink::write_buffers() {
  absl::Status status;
  for_each_file([&](const Key&, File& file) {
    if (status.ok()) status = write_buffer(file);
  });
  if (!status.ok() || !options_.fsync) return status;
  for_each_file([&](const Key&, File& file) {
    if (!status.ok() || file.synced) return;
    if (::fdatasync(file.fd) != 0) {
      status = absl::ErrnoToStatus(errno, absl::StrCat("cannot fdatasync ", file.path));
      return;
    }
    file.synced = true;
  });
  return status;
}

void StoreSink::mark_flushed(const SegmentKey* segment, int64_t now_ns) {
  for_each_file([&](const Key& key, File& file) {
    if (segment != nullptr && (std::get<0>(key) != segment->first || std::get<1>(key) != segment->second)) return;
    if (file.size != file.flushed_size) file.written_ns = now_ns;
    file.flushed_size = file.size;
    file.flushed_last_stamp = file.last_stamp;
  });
}

absl::Status StoreSink::flush() { return flush_with({}); }

absl::Status StoreSink::flush_with(const std::vector<SegmentCheckpoint>& checkpoints) {
  if (absl::Status status = write_buffers(); !status.ok()) return status;
  const int64_t now_ns = now();
  // Each segment's lines count once its checkpoint says so; a failure here
  // leaves the segments after it to discard().
  for (const SegmentCheckpoint& checkpoint : checkpoints) {
    const SegmentKey segment{checkpoint.segment.pid, checkpoint.segment.process_start_ticks};
    std::optional<std::string> previous;
    if (auto it = resume_.find(segment); it != resume_.end()) previous = std::move(it->second);
    resume_[segment] = checkpoint.resume;
    if (absl::Status status = store_checkpoint(segment, /*sizes_now=*/true); !status.ok()) {
      if (previous.has_value()) {
        resume_[segment] = std::move(*previous);
      } else {
        resume_.erase(segment);
      }
      return status;
    }
    mark_flushed(&segment, now_ns);
  }
  // Segments with lines but no new resume point (a sink used without them):
  // their files are listed at their new sizes all the same, so that recovery
  // never cuts lines whose read positions may be published; a kill before
  // the next resume point then repeats lines rather than losing any.
  std::set<SegmentKey> grown;
  for_each_file([&](const Key& key, const File& file) {
    if (file.size != file.flushed_size) grown.insert(SegmentKey{std::get<0>(key), std::get<1>(key)});
  });
  for (const SegmentKey& segment : grown) {
    if (absl::Status status = store_checkpoint(segment, /*sizes_now=*/true); !status.ok()) return status;
    mark_flushed(&segment, now_ns);
  }
  // Everything is in the OS and covered: close the files that filled up,
  // and rotate what is due.
  for (auto& [key, file] : full_) close_file(file);
  full_.clear();
  for (auto it = files_.begin(); it != files_.end();) {
    if (wants_rotation(it->second, now_ns)) {
      close_file(it->second);
      it = files_.erase(it);
    } else {
      ++it;
    }
  }
  return absl::OkStatus();
}

void StoreSink::discard() {
  // A file that filled up in the failed pass holds, after the take-back,
  // only lines a stored checkpoint covers: closed (or removed, if empty).
  for (auto& [key, file] : full_) {
    (void)take_back_unflushed(file);
    close_file(file);
  }
  full_.clear();
  for (auto it = files_.begin(); it != files_.end();) {
    File& file = it->second;
    if (take_back_unflushed(file)) {
      ++it;
    } else {
      close_file(file);  // in an unknown state: closed as it is
      it = files_.erase(it);
    }
  }
}

void StoreSink::segment_finished(const SegmentIdentity& segment) {
  for (auto it = files_.begin(); it != files_.end();) {
    const auto& [pid, start_ticks, level_class] = it->first;
    File& file = it->second;
    const bool flushed = file.buffer.empty() && file.size == file.flushed_size;
    if (pid == segment.pid && start_ticks == segment.process_start_ticks && flushed) {
      close_file(file);
      it = files_.erase(it);
    } else {
      ++it;
    }
  }
  // Nothing more comes for it: no restart will resume it.
  const SegmentKey key{segment.pid, segment.process_start_ticks};
  const bool had = resume_.erase(key) > 0;
  if (checkpoints_.has_value()) {
    absl::Status removed = checkpoints_->remove(checkpoint_file_name(key.first, key.second));
    if (!removed.ok() && !absl::IsNotFound(removed) && had && options_.report) {
      options_.report(std::string{removed.message()});
    }
  }
}

void StoreSink::close_least_recently_used() {
  auto victim = files_.end();
  for (auto it = files_.begin(); it != files_.end(); ++it) {
    // Only a file with nothing pending: closing must not lose or write lines.
    if (!it->second.buffer.empty() || it->second.size != it->second.flushed_size) continue;
    if (victim == files_.end() || it->second.last_use < victim->second.last_use) victim = it;
  }
  if (victim == files_.end()) return;
  close_file(victim->second);
  files_.erase(victim);
}

absl::StatusOr<StoreDir> StoreSink::open_directory(const std::string& relative, bool create) const {
  absl::StatusOr<StoreDir> root =
      create ? StoreDir::create(options_.directory, options_.directory_mode) : StoreDir::open(options_.directory);
  if (!root.ok()) return root.status();
  return root->descend(relative, create ? std::optional<mode_t>(options_.directory_mode) : std::nullopt);
}

void StoreSink::close_file(File& file) {
  if (file.fd < 0) return;
  auto report = [&](const absl::Status& status) {
    if (options_.report) {
      options_.report(absl::StrCat("closing ", file.path, ": ", status.message(),
                                   " (left \"-open\": the next drain or `ringtail retain` closes it)"));
    }
  };
  // The time the reader wrote the file: retention goes by it, never by the
  // timestamps in its lines. Best effort: failing, the kernel's time of the
  // last write is the reader's too.
  if (file.written_ns > 0) {
    const timespec times[2] = {
        {0, UTIME_OMIT},
        {static_cast<time_t>(file.written_ns / 1'000'000'000), static_cast<long>(file.written_ns % 1'000'000'000)}};
    (void)::futimens(file.fd, times);
  }
  // Renamed (or removed) while still locked, so that no one takes it over
  // meanwhile; closing it releases the lock.
  std::optional<std::string> closed_path;
  std::optional<FileIndex> index;
  absl::StatusOr<StoreDir> dir = open_directory(file.relative_directory, /*create=*/false);
  if (!dir.ok()) {
    report(dir.status());
  } else if (file.size == 0) {
    (void)dir->remove(file.name.file_name());  // nothing in it (all taken back)
  } else {
    absl::StatusOr<std::string> name =
        rename_closed(*dir, file.name.file_name(), closed_name(file.name, file.first_stamp, file.last_stamp));
    if (name.ok()) {
      closed_path = dir->path_of(*name);
      if (file.index.has_value()) index = file.index->finish(*name, file.size);
    } else {
      report(name.status());
    }
  }
  ::close(file.fd);
  file.fd = -1;
  if (closed_path && options_.on_closed) options_.on_closed(*closed_path, std::move(index));
}

}  // namespace ringtail::reader
