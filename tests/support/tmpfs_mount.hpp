// A small tmpfs mounted on a new temporary directory, for tests of a full
// disk: fill() takes every byte left, so the next write there fails with
// ENOSPC, and removing the filler gives the space back. Mounting needs root
// (CAP_SYS_ADMIN): a test without it skips, except under CI (where it runs
// as root), where it fails: RINGTAIL_SKIP_OR_FAIL_WITHOUT_ROOT (needs_root.hpp).
#pragma once

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <system_error>

#include <gtest/gtest.h>

#include "needs_root.hpp"

namespace ringtail::test {

class TmpfsMount {
 public:
  // Mounts a tmpfs of `size` ("8m") on a new directory under /tmp.
  explicit TmpfsMount(const std::string& size) {
    char dir_template[] = "/tmp/ringtail-tmpfs-XXXXXX";
    if (::mkdtemp(dir_template) == nullptr) {
      error_ = std::string("mkdtemp: ") + std::strerror(errno);
      return;
    }
    path_ = dir_template;
    const std::string data = "size=" + size + ",mode=0755";
    if (::mount("tmpfs", path_.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, data.c_str()) != 0) {
      error_ = "mount -t tmpfs -o " + data + " " + path_ + ": " + std::strerror(errno);
      return;
    }
    mounted_ = true;
  }
  // Unmounts (lazily if a process still uses it) and removes the directory.
  ~TmpfsMount() {
    if (mounted_ && ::umount2(path_.c_str(), 0) != 0) (void)::umount2(path_.c_str(), MNT_DETACH);
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove(path_, ec);
  }
  TmpfsMount(const TmpfsMount&) = delete;
  TmpfsMount& operator=(const TmpfsMount&) = delete;

  bool mounted() const { return mounted_; }
  const std::string& error() const { return error_; }
  const std::string& path() const { return path_; }

  // Writes `name` (in the mount) until the file system is full; true once a
  // write failed with ENOSPC.
  bool fill(const std::string& name) const {
    const int fd = ::open((path_ + "/" + name).c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) return false;
    static const std::string chunk(64 << 10, 'f');
    bool full = false;
    for (;;) {
      const ssize_t n = ::write(fd, chunk.data(), chunk.size());
      if (n > 0) continue;
      if (n < 0 && errno == EINTR) continue;
      full = n < 0 && errno == ENOSPC;
      break;
    }
    ::close(fd);
    return full;
  }

 private:
  std::string path_;
  std::string error_;
  bool mounted_ = false;
};

}  // namespace ringtail::test
