#include "ringtail/reader/storage/store_files.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>

#include "absl/strings/str_cat.h"

namespace ringtail::reader {
namespace {

// Enough of a line's start for its timestamp.
constexpr size_t kHeadBytes = 64;

absl::Status read_at(int fd, const std::string& path, char* out, size_t size, uint64_t offset) {
  size_t done = 0;
  while (done < size) {
    const ssize_t n = ::pread(fd, out + done, size - done, static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return absl::ErrnoToStatus(n < 0 ? errno : EIO, absl::StrCat("cannot read ", path));
    done += static_cast<size_t>(n);
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

absl::StatusOr<std::optional<AdoptedFile>> adopt_file(const std::string& path, const StoredFileName& name) {
  const int fd = ::open(path.c_str(), O_RDWR | O_APPEND | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return std::optional<AdoptedFile>();  // closed meanwhile
    return absl::ErrnoToStatus(errno, absl::StrCat("cannot open ", path));
  }
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
  if (*whole != size && ::ftruncate(fd, static_cast<off_t>(*whole)) != 0) {
    return fail(absl::ErrnoToStatus(errno, absl::StrCat("cannot cut the partial last line of ", path)));
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

absl::StatusOr<std::optional<AdoptedFile>> adopt_open_file(const std::string& directory, const std::string& service,
                                                           uint32_t pid, LevelClass level_class) {
  std::unique_ptr<DIR, int (*)(DIR*)> dir(::opendir(directory.c_str()), &::closedir);
  if (!dir) return absl::ErrnoToStatus(errno, absl::StrCat("cannot list ", directory));
  std::vector<std::string> candidates;
  while (const dirent* entry = ::readdir(dir.get())) {
    const std::optional<StoredFileName> name = parse_stored_file_name(entry->d_name);
    if (name && name->kind == StoredFileName::Kind::kOpen && name->service == service && name->pid == pid &&
        name->level_class == level_class) {
      candidates.emplace_back(entry->d_name);
    }
  }
  for (const std::string& candidate : candidates) {
    absl::StatusOr<std::optional<AdoptedFile>> adopted =
        adopt_file(absl::StrCat(directory, "/", candidate), *parse_stored_file_name(candidate));
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

absl::StatusOr<std::string> rename_closed(const std::string& open_path, const std::string& directory,
                                          StoredFileName closed) {
  closed.kind = StoredFileName::Kind::kClosed;
  for (int attempt = 0; attempt < 1000; ++attempt) {
    const std::string path = absl::StrCat(directory, "/", closed.file_name());
    if (::renameat2(AT_FDCWD, open_path.c_str(), AT_FDCWD, path.c_str(), RENAME_NOREPLACE) == 0) return path;
    if (errno != EEXIST || !next_stamp(closed.last)) {
      return absl::ErrnoToStatus(errno, absl::StrCat("cannot rename ", open_path, " to ", path));
    }
  }
  return absl::AlreadyExistsError(absl::StrCat("cannot find a free closed name for ", open_path));
}

absl::StatusOr<std::optional<std::string>> close_orphan(const std::string& path) {
  const size_t slash = path.rfind('/');
  const std::string directory = slash == std::string::npos ? "." : path.substr(0, slash);
  const std::string file_name = slash == std::string::npos ? path : path.substr(slash + 1);
  const std::optional<StoredFileName> name = parse_stored_file_name(file_name);
  if (!name || name->kind != StoredFileName::Kind::kOpen) {
    return absl::InvalidArgumentError(absl::StrCat(path, " is not an open ringtail file"));
  }
  absl::StatusOr<std::optional<AdoptedFile>> adopted = adopt_file(path, *name);
  if (!adopted.ok()) return adopted.status();
  if (!adopted->has_value()) return std::optional<std::string>();
  AdoptedFile& file = **adopted;
  std::optional<std::string> result;
  if (file.size == 0) {
    ::unlink(path.c_str());
  } else {
    absl::StatusOr<std::string> renamed =
        rename_closed(path, directory, closed_name(file.name, file.first_stamp, file.last_stamp));
    if (!renamed.ok()) {
      ::close(file.fd);
      return renamed.status();
    }
    result = *renamed;
  }
  ::close(file.fd);  // after the rename: nobody else took it over meanwhile
  return result;
}

}  // namespace ringtail::reader
