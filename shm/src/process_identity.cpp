#include "ringtail/shm/process_identity.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <cinttypes>
#include <cstdio>

#include <fstream>
#include <sstream>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace ringtail::shm {

namespace {

struct ProcStat {
  char state = '?';
  uint64_t start_ticks = 0;
};

// `path` is /proc/<pid>/stat or /proc/<pid>/task/<tid>/stat.
std::optional<ProcStat> read_stat_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::stringstream buffer;
  buffer << in.rdbuf();
  const std::string stat = buffer.str();
  // The command name (field 2) may hold spaces and parentheses: fields are
  // counted from the last ')'.
  const size_t close = stat.rfind(')');
  if (close == std::string::npos) return std::nullopt;
  std::vector<absl::string_view> fields =
      absl::StrSplit(absl::string_view(stat).substr(close + 1), ' ', absl::SkipEmpty());
  // After ')' comes field 3 (state); field 22 is at index 22 - 3.
  constexpr size_t kStartTimeIndex = 22 - 3;
  ProcStat result;
  if (fields.size() <= kStartTimeIndex || fields[0].empty() ||
      !absl::SimpleAtoi(fields[kStartTimeIndex], &result.start_ticks)) {
    return std::nullopt;
  }
  result.state = fields[0][0];
  return result;
}

std::optional<ProcStat> read_proc_stat(pid_t pid) { return read_stat_file(absl::StrCat("/proc/", pid, "/stat")); }

// A zombie ('Z') or dead ('X') task runs no more code.
bool task_gone(char state) { return state == 'Z' || state == 'X'; }

// True if any thread of `pid` still runs. The main thread's own state says
// nothing about the others: after pthread_exit() in main() it is a zombie
// while the rest of the process goes on.
bool any_thread_runs(pid_t pid) {
  const std::string tasks = absl::StrCat("/proc/", pid, "/task");
  DIR* dir = ::opendir(tasks.c_str());
  if (dir == nullptr) return false;
  bool runs = false;
  while (const dirent* entry = ::readdir(dir)) {
    if (entry->d_name[0] < '0' || entry->d_name[0] > '9') continue;
    const std::optional<ProcStat> stat = read_stat_file(absl::StrCat(tasks, "/", entry->d_name, "/stat"));
    if (stat && !task_gone(stat->state)) {
      runs = true;
      break;
    }
  }
  ::closedir(dir);
  return runs;
}

}  // namespace

std::optional<uint64_t> process_start_ticks(pid_t pid) {
  const std::optional<ProcStat> stat = read_proc_stat(pid);
  if (!stat) return std::nullopt;
  return stat->start_ticks;
}

std::string segment_name(pid_t pid, uint64_t start_ticks) {
  return absl::StrCat(std::string(kSegmentPrefix), pid, ".", start_ticks);
}

std::string segment_name(pid_t pid, uint64_t start_ticks, uint64_t tag) {
  char hex[17];
  std::snprintf(hex, sizeof(hex), "%016" PRIx64, tag);
  return absl::StrCat(segment_name(pid, start_ticks), ".", hex);
}

std::optional<SegmentId> parse_segment_name(std::string_view full_name) {
  absl::string_view name(full_name.data(), full_name.size());
  if (!absl::ConsumePrefix(&name, absl::string_view(kSegmentPrefix.data(), kSegmentPrefix.size()))) {
    return std::nullopt;
  }
  std::vector<absl::string_view> parts = absl::StrSplit(name, '.');
  SegmentId id;
  int32_t pid = 0;
  if ((parts.size() != 2 && parts.size() != 3) || !absl::SimpleAtoi(parts[0], &pid) || pid <= 0 ||
      !absl::SimpleAtoi(parts[1], &id.start_ticks)) {
    return std::nullopt;
  }
  uint64_t tag = 0;
  if (parts.size() == 3 && (parts[2].size() != 16 || !absl::SimpleHexAtoi(parts[2], &tag))) return std::nullopt;
  // Reject forms the parsers tolerate ("+12", " 12", upper-case hex) so that
  // a name is written one way only.
  const std::string canonical =
      parts.size() == 2 ? segment_name(pid, id.start_ticks) : segment_name(pid, id.start_ticks, tag);
  if (canonical != full_name) return std::nullopt;
  id.pid = pid;
  return id;
}

bool process_alive(const SegmentId& id) {
  const std::optional<ProcStat> stat = read_proc_stat(id.pid);
  if (!stat.has_value() || stat->start_ticks != id.start_ticks) return false;
  if (!task_gone(stat->state)) return true;
  // The main thread is gone; the process lives while any other thread does.
  // A process whose threads have all exited writes nothing more: its segment is final.
  return any_thread_runs(id.pid);
}

std::optional<ProcessUids> process_uids(const SegmentId& id) {
  const int dir = ::open(absl::StrCat("/proc/", id.pid).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir < 0) return std::nullopt;
  // Both files through one handle: once the process is gone, reads through
  // it fail instead of answering for a process that reused the pid.
  auto read_file = [dir](const char* file) -> std::optional<std::string> {
    const int fd = ::openat(dir, file, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return std::nullopt;
    std::string text;
    char chunk[4096];
    ssize_t n = 0;
    while ((n = ::read(fd, chunk, sizeof(chunk))) > 0) text.append(chunk, static_cast<size_t>(n));
    ::close(fd);
    if (n < 0) return std::nullopt;
    return text;
  };
  const std::optional<std::string> stat = read_file("stat");
  const std::optional<std::string> status = read_file("status");
  ::close(dir);
  if (!stat || !status) return std::nullopt;
  const size_t close = stat->rfind(')');
  if (close == std::string::npos) return std::nullopt;
  std::vector<absl::string_view> fields =
      absl::StrSplit(absl::string_view(*stat).substr(close + 1), ' ', absl::SkipEmpty());
  uint64_t start_ticks = 0;
  if (fields.size() <= 22 - 3 || !absl::SimpleAtoi(fields[22 - 3], &start_ticks) || start_ticks != id.start_ticks) {
    return std::nullopt;
  }
  for (absl::string_view line : absl::StrSplit(*status, '\n')) {
    if (!absl::ConsumePrefix(&line, "Uid:")) continue;
    std::vector<absl::string_view> uids = absl::StrSplit(line, absl::ByAnyChar(" \t"), absl::SkipEmpty());
    ProcessUids out;
    if (uids.size() != 4 || !absl::SimpleAtoi(uids[0], &out.real) || !absl::SimpleAtoi(uids[1], &out.effective) ||
        !absl::SimpleAtoi(uids[2], &out.saved) || !absl::SimpleAtoi(uids[3], &out.filesystem)) {
      return std::nullopt;
    }
    return out;
  }
  return std::nullopt;
}

}  // namespace ringtail::shm
