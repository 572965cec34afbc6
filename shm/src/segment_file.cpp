#include "ringtail/shm/segment_file.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"

namespace ringtail::shm {
namespace {

absl::Status os_error(int error, const std::string& what, const std::string& name) {
  return absl::ErrnoToStatus(error, absl::StrCat(what, " /dev/shm/", name));
}

std::string shm_path(const std::string& name) { return absl::StrCat("/", name); }

#ifndef MADV_POPULATE_WRITE
constexpr int MADV_POPULATE_WRITE = 23;  // Linux 5.14
#endif

}  // namespace

SegmentFile::~SegmentFile() {
  if (data_ != nullptr) ::munmap(data_, size_);
  if (fd_ >= 0) ::close(fd_);
}

void SegmentFile::swap(SegmentFile& other) noexcept {
  std::swap(name_, other.name_);
  std::swap(fd_, other.fd_);
  std::swap(data_, other.data_);
  std::swap(size_, other.size_);
  std::swap(owner_uid_, other.owner_uid_);
}

absl::StatusOr<SegmentFile> SegmentFile::create(const std::string& name, uint64_t bytes, uint32_t mode) {
  SegmentFile file;
  file.name_ = name;
  file.fd_ = ::shm_open(shm_path(name).c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, static_cast<mode_t>(mode));
  if (file.fd_ < 0) return os_error(errno, "cannot create", name);
  absl::Status status;
  // fchmod: the mode exactly as asked, whatever the umask took away.
  if (::fchmod(file.fd_, static_cast<mode_t>(mode)) != 0) {
    status = os_error(errno, "cannot set the mode of", name);
  } else if (::ftruncate(file.fd_, static_cast<off_t>(bytes)) != 0) {  // sparse: allocates nothing on tmpfs
    status = os_error(errno, "cannot size", name);
  } else {
    void* map = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, file.fd_, 0);
    if (map == MAP_FAILED) {
      status = os_error(errno, "cannot map", name);
    } else {
      file.data_ = static_cast<std::byte*>(map);
      file.size_ = bytes;
      struct stat st {};
      file.owner_uid_ = ::fstat(file.fd_, &st) == 0 ? st.st_uid : ::geteuid();
    }
  }
  if (!status.ok()) {
    remove(name);
    return status;
  }
  return file;
}

absl::StatusOr<SegmentFile> SegmentFile::open(const std::string& name, Access access) {
  SegmentFile file;
  file.name_ = name;
  const bool write = access == Access::kReadWrite;
  // O_NONBLOCK: a FIFO planted under the name would block a read-only open.
  file.fd_ = ::shm_open(shm_path(name).c_str(), (write ? O_RDWR : O_RDONLY) | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0);
  if (file.fd_ < 0) return os_error(errno, "cannot open", name);
  struct stat st {};
  if (::fstat(file.fd_, &st) != 0) return os_error(errno, "cannot stat", name);
  if (!S_ISREG(st.st_mode))
    return absl::InvalidArgumentError(absl::StrCat("/dev/shm/", name, " is not a regular file"));
  if (st.st_size <= 0) return absl::DataLossError(absl::StrCat("/dev/shm/", name, " is empty"));
  void* map = ::mmap(nullptr, static_cast<size_t>(st.st_size), write ? PROT_READ | PROT_WRITE : PROT_READ, MAP_SHARED,
                     file.fd_, 0);
  if (map == MAP_FAILED) return os_error(errno, "cannot map", name);
  file.data_ = static_cast<std::byte*>(map);
  file.size_ = static_cast<uint64_t>(st.st_size);
  file.owner_uid_ = st.st_uid;
  return file;
}

bool SegmentFile::remove(const std::string& name) { return ::shm_unlink(shm_path(name).c_str()) == 0; }

absl::Status SegmentFile::reserve(uint64_t offset, uint64_t bytes) {
  if (offset > size() || bytes > size() - offset) {
    return absl::OutOfRangeError(absl::StrCat("reserve [", offset, ", +", bytes, ") outside /dev/shm/", name_));
  }
  if (bytes == 0) return absl::OkStatus();
  const int rc = ::posix_fallocate(fd_, static_cast<off_t>(offset), static_cast<off_t>(bytes));
  if (rc != 0) {
    return os_error(rc, absl::StrCat("cannot reserve ", bytes, " bytes (is /dev/shm full?) in"), name_);
  }
  std::byte* begin = data() + offset;
  const long page = ::sysconf(_SC_PAGESIZE);
  auto* aligned =
      reinterpret_cast<std::byte*>(reinterpret_cast<uintptr_t>(begin) & ~(static_cast<uintptr_t>(page) - 1));
  const size_t span = static_cast<size_t>(begin + bytes - aligned);
  if (::madvise(aligned, span, MADV_POPULATE_WRITE) != 0) {
    // Older kernels: fault the pages in by reading them (tmpfs maps the
    // allocated page, writable, on a read fault).
    for (std::byte* p = begin; p < begin + bytes; p += page) {
      (void)*reinterpret_cast<volatile const std::byte*>(p);
    }
  }
  return absl::OkStatus();
}

}  // namespace ringtail::shm
