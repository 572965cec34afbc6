// The store's read/write loops and descriptor owner. See file_io.hpp.
#include "ringtail/reader/storage/file_io.hpp"

#include <unistd.h>

#include <cerrno>

#include "absl/strings/str_cat.h"

namespace ringtail::reader {

FileDescriptor& FileDescriptor::operator=(FileDescriptor&& other) noexcept {
  if (this != &other) {
    close();
    fd_ = other.release();
  }
  return *this;
}

FileDescriptor::~FileDescriptor() { close(); }

int FileDescriptor::close() {
  if (fd_ < 0) return 0;
  // Not retried on EINTR: on Linux the descriptor is released either way.
  const int result = ::close(fd_);
  fd_ = -1;
  return result;
}

ssize_t read_fully(int fd, char* out, size_t size) {
  size_t done = 0;
  while (done < size) {
    const ssize_t n = ::read(fd, out + done, size - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return -1;
    if (n == 0) break;
    done += static_cast<size_t>(n);
  }
  return static_cast<ssize_t>(done);
}

ssize_t pread_fully(int fd, char* out, size_t size, uint64_t offset) {
  size_t done = 0;
  while (done < size) {
    const ssize_t n = ::pread(fd, out + done, size - done, static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return -1;
    if (n == 0) break;
    done += static_cast<size_t>(n);
  }
  return static_cast<ssize_t>(done);
}

absl::StatusOr<std::string> read_to_end(int fd, const std::string& path, size_t limit) {
  std::string text;
  char chunk[16384];
  for (;;) {
    const ssize_t n = read_fully(fd, chunk, sizeof(chunk));
    if (n < 0) return absl::ErrnoToStatus(errno, absl::StrCat("cannot read ", path));
    if (static_cast<size_t>(n) > limit - text.size()) {
      return absl::InvalidArgumentError(absl::StrCat(path, " holds more than ", limit, " bytes"));
    }
    text.append(chunk, static_cast<size_t>(n));
    if (static_cast<size_t>(n) < sizeof(chunk)) return text;
  }
}

absl::Status write_all(int fd, std::string_view bytes, const std::string& path, size_t* written) {
  size_t done = 0;
  absl::Status status;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      status = absl::ErrnoToStatus(n < 0 ? errno : EIO, absl::StrCat("cannot write ", path));
      break;
    }
    done += static_cast<size_t>(n);
  }
  if (written != nullptr) *written = done;
  return status;
}

}  // namespace ringtail::reader
