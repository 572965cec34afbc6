// A segment's file in /dev/shm and its mapping: create, open, reserve, remove.
//
// Boost.Interprocess does the POSIX shm lifecycle (shm_open with an explicit
// mode that the umask cannot widen or narrow, ftruncate, mmap). No
// interprocess mutex is ever used: a process dying while holding one would
// wedge every other. Errors come back as absl::Status with the file's name and
// the OS reason; nothing here throws or aborts.
//
// Thread safety: a SegmentFile is owned by one thread at a time; the mapped
// memory itself is shared and governed by the protocol in layout.hpp.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include <boost/interprocess/mapped_region.hpp>
#include <boost/interprocess/shared_memory_object.hpp>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace ringtail::shm {

class SegmentFile {
 public:
  enum class Access { kReadOnly, kReadWrite };

  SegmentFile() = default;
  SegmentFile(SegmentFile&&) noexcept = default;
  SegmentFile& operator=(SegmentFile&&) noexcept = default;

  // Creates the named segment (fails if it exists) with permission bits
  // `mode`, sized `bytes` but sparse: nothing is allocated until reserve().
  static absl::StatusOr<SegmentFile> create(const std::string& name, uint64_t bytes, uint32_t mode);

  // Maps an existing segment whole. The size is whatever the file says;
  // the caller validates the contents before trusting any of it.
  static absl::StatusOr<SegmentFile> open(const std::string& name, Access access);

  // Unlinks the name; mappings stay valid. Returns false if it did not exist.
  static bool remove(const std::string& name);

  // Allocates [offset, offset + bytes) in /dev/shm now, so that a full
  // /dev/shm is an error here instead of a SIGBUS on first touch; then
  // prefaults the pages so that the first writes take no page faults.
  absl::Status reserve(uint64_t offset, uint64_t bytes);

  std::byte* data() const { return static_cast<std::byte*>(region_.get_address()); }
  uint64_t size() const { return region_.get_size(); }
  const std::string& name() const { return name_; }
  bool valid() const { return region_.get_address() != nullptr; }

 private:
  std::string name_;
  boost::interprocess::shared_memory_object shm_;
  boost::interprocess::mapped_region region_;
};

}  // namespace ringtail::shm
