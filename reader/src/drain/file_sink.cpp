#include "ringtail/reader/drain/file_sink.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"

namespace ringtail::reader {
namespace {

std::string utc_date_now() {
  const time_t now = ::time(nullptr);
  tm parts{};
  ::gmtime_r(&now, &parts);
  char text[40];
  std::snprintf(text, sizeof(text), "%04d-%02d-%02d", parts.tm_year + 1900, parts.tm_mon + 1, parts.tm_mday);
  return text;
}

// mkdir -p, each missing component with `mode`.
absl::Status make_directories(const std::string& path, mode_t mode) {
  for (size_t i = 1; i <= path.size(); ++i) {
    if (i != path.size() && path[i] != '/') continue;
    const std::string prefix = path.substr(0, i);
    if (::mkdir(prefix.c_str(), mode) != 0 && errno != EEXIST) {
      return absl::ErrnoToStatus(errno, absl::StrCat("cannot create directory ", prefix));
    }
  }
  struct stat st;
  if (::stat(path.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    return absl::FailedPreconditionError(absl::StrCat(path, " is not a directory"));
  }
  return absl::OkStatus();
}

// A reader killed in the middle of a write(2) may have left a partial last
// line. Its records were not committed (that happens after the write), so
// the engine writes them again: cut the fragment off so that every line
// stays whole. `size` is updated to the new size.
absl::Status cut_partial_line(int fd, const std::string& path, uint64_t& size) {
  char chunk[4096];
  uint64_t end = size;
  while (end > 0) {
    const uint64_t begin = end > sizeof(chunk) ? end - sizeof(chunk) : 0;
    const size_t want = static_cast<size_t>(end - begin);
    const ssize_t n = ::pread(fd, chunk, want, static_cast<off_t>(begin));
    if (n < 0 && errno == EINTR) continue;
    if (n != static_cast<ssize_t>(want))
      return absl::ErrnoToStatus(n < 0 ? errno : EIO, absl::StrCat("cannot read ", path));
    for (size_t i = want; i > 0; --i) {
      if (chunk[i - 1] == '\n') {
        const uint64_t whole = begin + i;
        if (whole != size && ::ftruncate(fd, static_cast<off_t>(whole)) != 0) {
          return absl::ErrnoToStatus(errno, absl::StrCat("cannot cut the partial last line of ", path));
        }
        size = whole;
        return absl::OkStatus();
      }
    }
    end = begin;
  }
  // No newline at all: the whole file is one fragment.
  if (size != 0 && ::ftruncate(fd, 0) != 0) {
    return absl::ErrnoToStatus(errno, absl::StrCat("cannot cut the partial last line of ", path));
  }
  size = 0;
  return absl::OkStatus();
}

}  // namespace

FileSink::FileSink(FileSinkOptions options) : options_(std::move(options)) {
  while (options_.directory.size() > 1 && options_.directory.back() == '/') options_.directory.pop_back();
  if (options_.directory.empty()) options_.directory.assign(1, '.');
  if (options_.max_open_files == 0) options_.max_open_files = 1;
}

FileSink::~FileSink() {
  // Unflushed lines were not committed: dropping them loses nothing.
  for (auto& [key, file] : files_) close_file(file);
}

std::string FileSink::safe_service_name(std::string_view service) {
  std::string name;
  name.reserve(service.size());
  for (const char c : service) {
    const bool plain =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
    char out = plain ? c : '_';
    if (out == '.' && (name.empty() || name.back() == '.')) out = '_';
    name.push_back(out);
  }
  if (name.empty()) name = "unknown";
  return name;
}

std::string FileSink::path_for(const SegmentIdentity& segment, std::string_view utc_date) const {
  const std::string service = safe_service_name(segment.service);
  return absl::StrCat(options_.directory, "/", service, "/", std::string(utc_date), "/", service, "-", segment.pid,
                      ".jsonl");
}

void FileSink::close_file(File& file) {
  if (file.fd >= 0) ::close(file.fd);
  file.fd = -1;
}

void FileSink::close_least_recently_used() {
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

absl::StatusOr<FileSink::File*> FileSink::file_for(const SegmentIdentity& segment) {
  const Key key{segment.pid, segment.process_start_ticks};
  auto it = files_.find(key);
  if (it != files_.end()) {
    it->second.last_use = ++use_counter_;
    return &it->second;
  }
  if (files_.size() >= options_.max_open_files) close_least_recently_used();
  File file;
  file.path = path_for(segment, utc_date_now());
  const std::string directory = file.path.substr(0, file.path.rfind('/'));
  if (absl::Status status = make_directories(directory, options_.directory_mode); !status.ok()) return status;
  file.fd = ::open(file.path.c_str(), O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, options_.file_mode);
  if (file.fd < 0) return absl::ErrnoToStatus(errno, absl::StrCat("cannot open ", file.path));
  struct stat st;
  if (::fstat(file.fd, &st) != 0) {
    const int error = errno;
    ::close(file.fd);
    return absl::ErrnoToStatus(error, absl::StrCat("cannot stat ", file.path));
  }
  uint64_t size = static_cast<uint64_t>(st.st_size);
  if (absl::Status status = cut_partial_line(file.fd, file.path, size); !status.ok()) {
    ::close(file.fd);
    return status;
  }
  file.flushed_size = file.size = size;
  file.last_use = ++use_counter_;
  return &files_.emplace(key, std::move(file)).first->second;
}

absl::Status FileSink::write_bytes(File& file, std::string_view bytes) {
  size_t done = 0;
  absl::Status status;
  while (done < bytes.size()) {
    const ssize_t n = ::write(file.fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      status = absl::ErrnoToStatus(n < 0 ? errno : EIO, absl::StrCat("cannot write ", file.path));
      break;
    }
    done += static_cast<size_t>(n);
  }
  file.size += done;
  if (done != 0) file.synced = false;
  return status;
}

absl::Status FileSink::write_buffer(File& file) {
  absl::Status status = write_bytes(file, file.buffer);
  // What was not written is dropped with the error: discard() follows.
  file.buffer.clear();
  return status;
}

absl::Status FileSink::write(const SegmentIdentity& segment, std::string_view lines) {
  absl::StatusOr<File*> file = file_for(segment);
  if (!file.ok()) return file.status();
  File& f = **file;
  if (f.buffer.empty() && lines.size() >= options_.buffer_bytes) {
    // A whole buffer's worth: straight to the file, without copying it first.
    return write_bytes(f, lines);
  }
  f.buffer.append(lines);
  if (f.buffer.size() >= options_.buffer_bytes) return write_buffer(f);
  return absl::OkStatus();
}

absl::Status FileSink::flush() {
  for (auto& [key, file] : files_) {
    if (absl::Status status = write_buffer(file); !status.ok()) return status;
  }
  if (options_.fsync) {
    for (auto& [key, file] : files_) {
      if (file.synced) continue;
      if (::fdatasync(file.fd) != 0) return absl::ErrnoToStatus(errno, absl::StrCat("cannot fdatasync ", file.path));
      file.synced = true;
    }
  }
  for (auto& [key, file] : files_) file.flushed_size = file.size;
  return absl::OkStatus();
}

void FileSink::discard() {
  for (auto it = files_.begin(); it != files_.end();) {
    File& file = it->second;
    file.buffer.clear();
    bool keep = true;
    if (file.size != file.flushed_size) {
      // Take back what this sink wrote since the last OK flush, if the file
      // still ends where this sink left it (else someone else appended: leave it).
      struct stat st;
      if (::fstat(file.fd, &st) == 0 && static_cast<uint64_t>(st.st_size) == file.size &&
          ::ftruncate(file.fd, static_cast<off_t>(file.flushed_size)) == 0) {
        file.size = file.flushed_size;
      } else {
        keep = false;  // unknown state: reopen (and re-stat) on the next write
      }
    }
    if (keep) {
      ++it;
    } else {
      close_file(file);
      it = files_.erase(it);
    }
  }
}

void FileSink::segment_finished(const SegmentIdentity& segment) {
  auto it = files_.find(Key{segment.pid, segment.process_start_ticks});
  if (it == files_.end()) return;
  if (!it->second.buffer.empty() || it->second.size != it->second.flushed_size) return;  // not flushed: keep
  close_file(it->second);
  files_.erase(it);
}

}  // namespace ringtail::reader
