#include "ringtail/reader/storage/store_files.hpp"

#include <fcntl.h>
#include <stdio.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "ringtail/reader/storage/file_io.hpp"

namespace ringtail::reader {
namespace {

// Enough of a line's start for its timestamp.
constexpr size_t kHeadBytes = 64;

// Exactly `size` bytes at `offset`: a file that ends before is an error (EIO).
absl::Status read_at(int fd, const std::string& path, char* out, size_t size, uint64_t offset) {
  const ssize_t n = pread_fully(fd, out, size, offset);
  if (n < 0 || static_cast<size_t>(n) != size) {
    return absl::ErrnoToStatus(n < 0 ? errno : EIO, absl::StrCat("cannot read ", path));
  }
  return absl::OkStatus();
}

// The offset just after the last '\n' before `end` (0 if none).
absl::StatusOr<uint64_t> line_start_before(int fd, const std::string& path, uint64_t end) {
  char chunk[4096];
  while (end > 0) {
    const uint64_t begin = end > sizeof(chunk) ? end - sizeof(chunk) : 0;
    const size_t want = static_cast<size_t>(end - begin);
    if (absl::Status status = read_at(fd, path, chunk, want, begin); !status.ok()) return status;
    for (size_t i = want; i > 0; --i) {
      if (chunk[i - 1] == '\n') return begin + i;
    }
    end = begin;
  }
  return 0;
}

// The name stamp of the line at `offset` (empty if it has no timestamp).
absl::StatusOr<std::string> stamp_at(int fd, const std::string& path, uint64_t offset, uint64_t size) {
  char head[kHeadBytes];
  const size_t want = static_cast<size_t>(std::min<uint64_t>(sizeof(head), size - offset));
  if (absl::Status status = read_at(fd, path, head, want, offset); !status.ok()) return status;
  return name_stamp_from_timestamp(line_timestamp(std::string_view(head, want)));
}

// Moves the nanoseconds of a name stamp on by one; false past .999999999.
bool next_stamp(std::string& stamp) {
  if (stamp.size() != 26) return false;
  for (size_t i = 24; i >= 16; --i) {
    if (stamp[i] != '9') {
      ++stamp[i];
      return true;
    }
    stamp[i] = '0';
  }
  return false;
}

}  // namespace

absl::StatusOr<std::optional<AdoptedFile>> adopt_file(const StoreDir& dir, const StoredFileName& name) {
  const std::string file_name = name.file_name();
  const std::string path = dir.path_of(file_name);
  absl::StatusOr<FileDescriptor> opened = dir.open_file(file_name, O_RDWR | O_APPEND);
  if (!opened.ok()) {
    if (opened.status().code() == absl::StatusCode::kNotFound) return std::optional<AdoptedFile>();  // closed meanwhile
    return opened.status();
  }
  const int fd = opened->release();
  AdoptedFile file;
  file.name = name;
  file.path = path;
  file.fd = fd;
  auto fail = [&](absl::Status status) {
    ::close(fd);
    return status;
  };
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    if (errno == EWOULDBLOCK) {
      ::close(fd);
      return std::optional<AdoptedFile>();  // a drain writes it
    }
    return fail(absl::ErrnoToStatus(errno, absl::StrCat("cannot lock ", path)));
  }
  struct stat st;
  if (::fstat(fd, &st) != 0) return fail(absl::ErrnoToStatus(errno, absl::StrCat("cannot stat ", path)));
  // A drain killed in the middle of a write(2) may have left a partial last
  // line. Its records were not committed, so they are written again: cut it.
  const uint64_t size = static_cast<uint64_t>(st.st_size);
  absl::StatusOr<uint64_t> whole = line_start_before(fd, path, size);
  if (!whole.ok()) return fail(whole.status());
  if (*whole != size) {
    if (::ftruncate(fd, static_cast<off_t>(*whole)) != 0) {
      return fail(absl::ErrnoToStatus(errno, absl::StrCat("cannot cut the partial last line of ", path)));
    }
    // The cut is not a write of the reader's: the file keeps the time a
    // drain last wrote it (retention goes by it).
    const timespec times[2] = {{0, UTIME_OMIT}, st.st_mtim};
    if (::futimens(fd, times) != 0) {
      return fail(absl::ErrnoToStatus(errno, absl::StrCat("cannot keep the modification time of ", path)));
    }
  }
  file.size = *whole;
  if (file.size > 0) {
    absl::StatusOr<std::string> first = stamp_at(fd, path, 0, file.size);
    if (!first.ok()) return fail(first.status());
    absl::StatusOr<uint64_t> last_line = line_start_before(fd, path, file.size - 1);
    if (!last_line.ok()) return fail(last_line.status());
    absl::StatusOr<std::string> last = stamp_at(fd, path, *last_line, file.size);
    if (!last.ok()) return fail(last.status());
    file.first_stamp = *first;
    file.last_stamp = *last;
  }
  return std::optional<AdoptedFile>(std::move(file));
}

absl::StatusOr<std::optional<AdoptedFile>> adopt_open_file(const StoreDir& dir, const std::string& service,
                                                           uint32_t pid, LevelClass level_class,
                                                           const std::function<void(std::string_view)>& report) {
  absl::StatusOr<std::vector<StoreDir::Entry>> entries = dir.entries();
  if (!entries.ok()) return entries.status();
  for (const StoreDir::Entry& entry : *entries) {
    const std::optional<StoredFileName> name = parse_stored_file_name(entry.name);
    if (!name || name->kind != StoredFileName::Kind::kOpen || name->service != service || name->pid != pid ||
        name->level_class != level_class) {
      continue;
    }
    absl::StatusOr<std::optional<AdoptedFile>> adopted = adopt_file(dir, *name);
    if (!adopted.ok() && adopted.status().code() == absl::StatusCode::kFailedPrecondition) {
      // Not a file a drain left (a link, a FIFO ...): never taken over.
      if (report) report(absl::StrCat(adopted.status().message(), "; not taken over"));
      continue;
    }
    if (!adopted.ok() || adopted->has_value()) return adopted;
  }
  return std::optional<AdoptedFile>();
}

StoredFileName closed_name(const StoredFileName& open, const std::string& first_stamp, const std::string& last_stamp) {
  StoredFileName closed = open;
  closed.kind = StoredFileName::Kind::kClosed;
  closed.first = first_stamp.empty() ? open.first : first_stamp;
  closed.last = last_stamp.empty() ? closed.first : last_stamp;
  return closed;
}

absl::StatusOr<std::string> rename_closed(const StoreDir& dir, std::string_view open_name, StoredFileName closed) {
  closed.kind = StoredFileName::Kind::kClosed;
  for (int attempt = 0; attempt < 1000; ++attempt) {
    const std::string name = closed.file_name();
    absl::Status status = dir.rename(open_name, dir, name, /*replace=*/false);
    if (status.ok()) return name;
    if (status.code() != absl::StatusCode::kAlreadyExists || !next_stamp(closed.last)) return status;
  }
  return absl::AlreadyExistsError(absl::StrCat("cannot find a free closed name for ", dir.path_of(open_name)));
}

absl::StatusOr<std::optional<std::string>> close_orphan(const StoreDir& dir, std::string_view file_name) {
  const std::optional<StoredFileName> name = parse_stored_file_name(file_name);
  if (!name || name->kind != StoredFileName::Kind::kOpen) {
    return absl::InvalidArgumentError(absl::StrCat(dir.path_of(file_name), " is not an open ringtail file"));
  }
  absl::StatusOr<std::optional<AdoptedFile>> adopted = adopt_file(dir, *name);
  if (!adopted.ok()) return adopted.status();
  if (!adopted->has_value()) return std::optional<std::string>();
  AdoptedFile& file = **adopted;
  std::optional<std::string> result;
  if (file.size == 0) {
    (void)dir.remove(file_name);
  } else {
    absl::StatusOr<std::string> renamed =
        rename_closed(dir, file_name, closed_name(file.name, file.first_stamp, file.last_stamp));
    if (!renamed.ok()) {
      ::close(file.fd);
      return renamed.status();
    }
    result = dir.path_of(*renamed);
  }
  ::close(file.fd);  // after the rename: nobody else took it over meanwhile
  return result;
}

absl::StatusOr<std::optional<std::string>> close_orphan(const std::string& path) {
  absl::StatusOr<StoreDir> dir = StoreDir::open_parent(path);
  if (!dir.ok()) return dir.status();
  return close_orphan(*dir, file_name_of(path));
}

}  // namespace ringtail::reader
