#include "ringtail/shm/segment_file.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <boost/interprocess/exceptions.hpp>
#include <boost/interprocess/permissions.hpp>

#include "absl/strings/str_cat.h"

namespace ringtail::shm {
namespace bip = boost::interprocess;

namespace {

absl::Status os_error(int error, const std::string& what, const std::string& name) {
  return absl::ErrnoToStatus(error, absl::StrCat(what, " /dev/shm/", name));
}

absl::Status boost_error(const bip::interprocess_exception& e, const std::string& what, const std::string& name) {
  const int native = e.get_native_error();
  if (native != 0) return os_error(native, what, name);
  return absl::InternalError(absl::StrCat(what, " /dev/shm/", name, ": ", e.what()));
}

#ifndef MADV_POPULATE_WRITE
constexpr int MADV_POPULATE_WRITE = 23;  // Linux 5.14
#endif

}  // namespace

absl::StatusOr<SegmentFile> SegmentFile::create(const std::string& name, uint64_t bytes, uint32_t mode) {
  SegmentFile file;
  file.name_ = name;
  try {
    bip::permissions permissions(static_cast<int>(mode));
    file.shm_ = bip::shared_memory_object(bip::create_only, name.c_str(), bip::read_write, permissions);
    file.shm_.truncate(static_cast<bip::offset_t>(bytes));  // sparse: ftruncate allocates nothing on tmpfs
    file.region_ = bip::mapped_region(file.shm_, bip::read_write, 0, bytes);
  } catch (const bip::interprocess_exception& e) {
    if (file.shm_.get_mapping_handle().handle >= 0) bip::shared_memory_object::remove(name.c_str());
    return boost_error(e, "cannot create", name);
  }
  return file;
}

absl::StatusOr<SegmentFile> SegmentFile::open(const std::string& name, Access access) {
  SegmentFile file;
  file.name_ = name;
  const bip::mode_t mode = access == Access::kReadOnly ? bip::read_only : bip::read_write;
  try {
    file.shm_ = bip::shared_memory_object(bip::open_only, name.c_str(), mode);
    bip::offset_t size = 0;
    if (!file.shm_.get_size(size)) return os_error(errno, "cannot stat", name);
    if (size <= 0) return absl::DataLossError(absl::StrCat("/dev/shm/", name, " is empty"));
    file.region_ = bip::mapped_region(file.shm_, mode, 0, static_cast<size_t>(size));
  } catch (const bip::interprocess_exception& e) {
    return boost_error(e, "cannot open", name);
  }
  return file;
}

bool SegmentFile::remove(const std::string& name) { return bip::shared_memory_object::remove(name.c_str()); }

absl::Status SegmentFile::reserve(uint64_t offset, uint64_t bytes) {
  if (offset > size() || bytes > size() - offset) {
    return absl::OutOfRangeError(absl::StrCat("reserve [", offset, ", +", bytes, ") outside /dev/shm/", name_));
  }
  if (bytes == 0) return absl::OkStatus();
  const int fd = shm_.get_mapping_handle().handle;
  const int rc = ::posix_fallocate(fd, static_cast<off_t>(offset), static_cast<off_t>(bytes));
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
