#include "ringtail/shm/process_identity.hpp"

#include <fstream>
#include <sstream>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace ringtail::shm {

namespace {

struct ProcStat {
  char state = '?';
  uint64_t start_ticks = 0;
};

std::optional<ProcStat> read_proc_stat(pid_t pid) {
  std::ifstream in(absl::StrCat("/proc/", pid, "/stat"));
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

}  // namespace

std::optional<uint64_t> process_start_ticks(pid_t pid) {
  const std::optional<ProcStat> stat = read_proc_stat(pid);
  if (!stat) return std::nullopt;
  return stat->start_ticks;
}

std::string segment_name(pid_t pid, uint64_t start_ticks) {
  return absl::StrCat(std::string(kSegmentPrefix), pid, ".", start_ticks);
}

std::optional<SegmentId> parse_segment_name(std::string_view full_name) {
  absl::string_view name(full_name.data(), full_name.size());
  if (!absl::ConsumePrefix(&name, absl::string_view(kSegmentPrefix.data(), kSegmentPrefix.size()))) {
    return std::nullopt;
  }
  std::vector<absl::string_view> parts = absl::StrSplit(name, '.');
  SegmentId id;
  int32_t pid = 0;
  if (parts.size() != 2 || !absl::SimpleAtoi(parts[0], &pid) || pid <= 0 ||
      !absl::SimpleAtoi(parts[1], &id.start_ticks)) {
    return std::nullopt;
  }
  // Reject forms SimpleAtoi tolerates ("+12", " 12") so that a name maps to one identity.
  if (segment_name(pid, id.start_ticks) != full_name) return std::nullopt;
  id.pid = pid;
  return id;
}

bool process_alive(const SegmentId& id) {
  const std::optional<ProcStat> stat = read_proc_stat(id.pid);
  // A zombie ('Z') or dying ('X') process writes nothing more: its segment is final.
  return stat.has_value() && stat->start_ticks == id.start_ticks && stat->state != 'Z' && stat->state != 'X';
}

}  // namespace ringtail::shm
