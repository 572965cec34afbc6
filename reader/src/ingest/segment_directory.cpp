#include "ringtail/reader/ingest/segment_directory.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "ringtail/shm/errno_text.hpp"

namespace ringtail::reader {

Discovery discover_segments(const DiscoveryOptions& options) {
  Discovery out;
  DIR* dir = ::opendir(options.directory.c_str());
  if (dir == nullptr) {
    out.status = absl::ErrnoToStatus(errno, absl::StrCat("cannot list ", options.directory));
    return out;
  }
  const uid_t me = options.as_uid.value_or(::geteuid());
  const int dir_fd = ::dirfd(dir);
  for (;;) {
    errno = 0;
    const dirent* entry = ::readdir(dir);
    if (entry == nullptr) {
      if (errno != 0) out.status = absl::ErrnoToStatus(errno, absl::StrCat("cannot list ", options.directory));
      break;
    }
    const std::string name = entry->d_name;
    if (name.compare(0, shm::kSegmentPrefix.size(), shm::kSegmentPrefix) != 0) continue;
    const std::optional<shm::SegmentId> id = shm::parse_segment_name(name);
    if (!id.has_value()) {
      // Reported only when every segment was asked for: it belongs to no named pid.
      if (options.pids.empty()) {
        out.skipped.push_back(absl::StrCat(name, ": not a segment name (expected ringtail.<pid>.<start_ticks>)"));
      }
      continue;
    }
    if (!options.pids.empty() && std::find(options.pids.begin(), options.pids.end(), id->pid) == options.pids.end()) {
      continue;
    }
    struct stat st;
    if (::fstatat(dir_fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
      if (errno == ENOENT) continue;  // removed since readdir
      out.skipped.push_back(absl::StrCat(name, ": cannot stat: ", shm::errno_text(errno)));
      continue;
    }
    if (!S_ISREG(st.st_mode)) {
      out.skipped.push_back(absl::StrCat(name, ": not a regular file"));
      continue;
    }
    const bool named = !options.pids.empty();  // the pid passed the filter above, so it was named
    if (st.st_uid != me && !options.all_users && me != 0 && !named) {
      out.skipped.push_back(absl::StrCat(name, ": owned by another user (uid ", st.st_uid, ")"));
      continue;
    }
    DiscoveredSegment segment;
    segment.name = name;
    segment.id = *id;
    segment.file_uid = st.st_uid;
    segment.file_bytes = static_cast<uint64_t>(st.st_size);
    segment.allocated_bytes = static_cast<uint64_t>(st.st_blocks) * 512;
    out.segments.push_back(std::move(segment));
  }
  ::closedir(dir);
  if (!out.status.ok()) {
    out.segments.clear();
    out.skipped.clear();
    return out;
  }
  std::sort(out.segments.begin(), out.segments.end(), [](const DiscoveredSegment& a, const DiscoveredSegment& b) {
    return std::tie(a.id.pid, a.id.start_ticks) < std::tie(b.id.pid, b.id.start_ticks);
  });
  std::sort(out.skipped.begin(), out.skipped.end());
  return out;
}

ProducerState producer_state(const SegmentView& view) {
  const SegmentIdentity& identity = view.identity();
  const shm::SegmentId id{static_cast<pid_t>(identity.pid), identity.process_start_ticks};
  if (id.pid > 0 && shm::process_alive(id)) return ProducerState::kAlive;
  // acquire (in state()): a finished state was stored before the process went away.
  const absl::StatusOr<shm::SegmentState> state = view.state();
  if (state.ok() && *state == shm::SegmentState::kFinished) return ProducerState::kExited;
  return ProducerState::kCrashed;
}

std::string_view producer_state_name(ProducerState state) {
  switch (state) {
    case ProducerState::kAlive:
      return "alive";
    case ProducerState::kExited:
      return "exited";
    case ProducerState::kCrashed:
      return "crashed";
  }
  return "unknown";
}

}  // namespace ringtail::reader
