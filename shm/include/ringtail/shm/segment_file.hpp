// A segment's file in /dev/shm and its mapping: create, open, reserve, remove.
//
// POSIX shm directly (shm_open, fchmod, ftruncate, posix_fallocate, mmap).
// The file is the boundary between users, so open() is written for a hostile
// /dev/shm: it never follows a symlink (O_NOFOLLOW), never blocks on a FIFO
// planted under a segment's name (O_NONBLOCK), maps only a regular file, and
// reports the owner the kernel recorded (fstat of the open descriptor, so the
// name cannot be swapped between the check and the mapping). No interprocess
// mutex is ever used: a process dying while holding one would wedge every
// other. Errors come back as absl::Status with the file's name and the OS
// reason; nothing here throws or aborts.
//
// Thread safety: a SegmentFile is owned by one thread at a time; the mapped
// memory itself is shared and governed by the protocol in layout.hpp.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace ringtail::shm {

class SegmentFile {
 public:
  enum class Access { kReadOnly, kReadWrite };

  SegmentFile() = default;
  SegmentFile(SegmentFile&& other) noexcept { swap(other); }
  SegmentFile& operator=(SegmentFile&& other) noexcept {
    SegmentFile gone(std::move(*this));
    swap(other);
    return *this;
  }
  ~SegmentFile();
  SegmentFile(const SegmentFile&) = delete;
  SegmentFile& operator=(const SegmentFile&) = delete;

  // Creates the named segment (AlreadyExists if the name is taken) with
  // permission bits `mode` (exactly: the umask does not apply), sized
  // `bytes` but sparse: nothing is allocated until reserve().
  static absl::StatusOr<SegmentFile> create(const std::string& name, uint64_t bytes, uint32_t mode);

  // Maps an existing segment whole. InvalidArgument for anything but a
  // non-empty regular file. The size is whatever the file says; the caller
  // validates the contents before trusting any of it.
  static absl::StatusOr<SegmentFile> open(const std::string& name, Access access);

  // Unlinks the name; mappings stay valid. Returns false if it did not exist.
  static bool remove(const std::string& name);

  // Allocates [offset, offset + bytes) in /dev/shm now, so that a full
  // /dev/shm is an error here instead of a SIGBUS on first touch; then
  // prefaults the pages (MADV_POPULATE_WRITE, then a read of one word per
  // page) so that the first writes take no page faults, in the guest or in a
  // hypervisor. Only the allocation can fail.
  absl::Status reserve(uint64_t offset, uint64_t bytes);

  std::byte* data() const { return data_; }
  uint64_t size() const { return size_; }
  const std::string& name() const { return name_; }
  bool valid() const { return data_ != nullptr; }
  // The open descriptor (kept for the mapping's lifetime; the number stays
  // the same when the SegmentFile moves): for pread() of bytes the caller
  // wants copied without entering its page tables.
  int fd() const { return fd_; }
  // The file's owner as the kernel recorded it (fstat of the descriptor).
  uid_t owner_uid() const { return owner_uid_; }

 private:
  void swap(SegmentFile& other) noexcept;

  std::string name_;
  int fd_ = -1;
  std::byte* data_ = nullptr;
  uint64_t size_ = 0;
  uid_t owner_uid_ = 0;
};

}  // namespace ringtail::shm
