// File I/O of the store: an owned descriptor and the loops around read(2),
// pread(2) and write(2) that every store file goes through (data files,
// indexes, checkpoints, compressed copies).
//
// Why one home: each loop must retry EINTR, and must tell a short transfer
// (the end of a file; a write that made no progress) from an error, the same
// way everywhere. Descriptors are opened elsewhere (StoreDir, store_dir.hpp,
// which never follows a link); the atomic replacement of a file (a
// temporary renamed into place) is TemporaryFile and replace_file() there.
//
// Threading: free functions, no state; a FileDescriptor belongs to one owner.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace ringtail::reader {

// An owned file descriptor: closed by the destructor, -1 once moved from.
class FileDescriptor {
 public:
  FileDescriptor() = default;
  explicit FileDescriptor(int fd) : fd_(fd) {}
  FileDescriptor(FileDescriptor&& other) noexcept : fd_(other.release()) {}
  FileDescriptor& operator=(FileDescriptor&& other) noexcept;
  ~FileDescriptor();

  int get() const { return fd_; }
  int release() {
    const int fd = fd_;
    fd_ = -1;
    return fd;
  }
  // close(2) now, with its result (for a file just written, close reports
  // delayed write errors); -1 afterwards.
  int close();

 private:
  int fd_ = -1;
};

// read(2) until `size` bytes or the end of the file: the bytes read (fewer
// than `size` only at the end), or -1 with errno set.
ssize_t read_fully(int fd, char* out, size_t size);
// The same with pread(2) from `offset`; the file offset is left alone.
ssize_t pread_fully(int fd, char* out, size_t size, uint64_t offset);
// Everything from the file offset to the end, at most `limit` bytes (more:
// InvalidArgument). Errors name `path`.
absl::StatusOr<std::string> read_to_end(int fd, const std::string& path, size_t limit = SIZE_MAX);

// write(2) until all of `bytes` are written. An error (a write(2) that wrote
// nothing counts as EIO) names `path`; `written`, if given, receives the bytes
// written before it, all of them on success.
absl::Status write_all(int fd, std::string_view bytes, const std::string& path, size_t* written = nullptr);

}  // namespace ringtail::reader
