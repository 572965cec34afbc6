#include "ringtail/shm/segment_file.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
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

// Makes the pages of [begin, begin + bytes) resident and mapped writable in
// this process, and touches each once, so that the first writes into them
// (a thread's first events) take no fault of any kind. Cold path; it cannot
// fail, only do less: the pages are allocated already (posix_fallocate), so
// no access here can raise SIGBUS.
//
// MADV_POPULATE_WRITE maps every page writable in one call. It is not enough
// on a virtual machine: there the first CPU access to a page the guest kernel
// has just mapped can still trap to the hypervisor (measured on the 2-vCPU
// VMs of bench/README.md: ~4 us for the first write to each page after
// MADV_POPULATE_WRITE, none after a read of one word of it), so one word of
// each page is read as well. Without MADV_POPULATE_WRITE (Linux < 5.14) that
// read faults the page in; tmpfs maps it writable for a shared mapping, so
// the writes after it take no fault either. A read, not a write: a ring slot
// is only ever written by its owner, and an atomic load races with nothing.
void prefault(std::byte* begin, uint64_t bytes) noexcept {
  const auto page = static_cast<uintptr_t>(::sysconf(_SC_PAGESIZE));
  const uintptr_t first = reinterpret_cast<uintptr_t>(begin) & ~(page - 1);
  const uintptr_t end = reinterpret_cast<uintptr_t>(begin) + bytes;
  (void)::madvise(reinterpret_cast<void*>(first), end - first, MADV_POPULATE_WRITE);
  uint64_t sum = 0;
  for (uintptr_t p = first; p < end; p += page) {
    sum += std::atomic_ref<uint64_t>(*reinterpret_cast<uint64_t*>(p)).load(std::memory_order_relaxed);
  }
  asm volatile("" : : "r"(sum));  // the loads are the point: keep them
}

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
  prefault(data() + offset, bytes);
  return absl::OkStatus();
}

}  // namespace ringtail::shm
