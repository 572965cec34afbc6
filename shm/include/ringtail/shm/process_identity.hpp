// How a producer process is named, so that a reused pid is told apart, and
// who it runs as.
//
// A segment is named "ringtail.<pid>.<start_ticks>", where start_ticks is
// field 22 of /proc/<pid>/stat (the process start time in clock ticks since
// boot). A pid that now belongs to another process has other start ticks.
// When another user already holds that name (a squatter), the producer
// takes "ringtail.<pid>.<start_ticks>.<tag>" instead, tag being 16 random
// lowercase hex digits; both forms name the same process.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ringtail::shm {

inline constexpr std::string_view kSegmentPrefix = "ringtail.";
inline constexpr std::string_view kShmDirectory = "/dev/shm";

// Start time of `pid` in clock ticks since boot; nullopt if the process does
// not exist (or /proc cannot be read).
std::optional<uint64_t> process_start_ticks(pid_t pid);

// "ringtail.<pid>.<start_ticks>": the name passed to shm_open, without '/'.
std::string segment_name(pid_t pid, uint64_t start_ticks);
// "ringtail.<pid>.<start_ticks>.<tag as 16 hex digits>": the name taken when
// the plain one is held by another user.
std::string segment_name(pid_t pid, uint64_t start_ticks, uint64_t tag);

struct SegmentId {
  pid_t pid = 0;
  uint64_t start_ticks = 0;
};
// Parses a segment name (not a path), plain or tagged; nullopt for any other name.
std::optional<SegmentId> parse_segment_name(std::string_view name);

// True while the process that created a segment with this identity runs: its
// pid has that start time and at least one of its threads is not a zombie.
// A main thread that called pthread_exit() is a zombie while the other
// threads go on logging, so the main thread's state alone does not decide;
// a process all of whose threads have exited (a zombie) counts as gone.
bool process_alive(const SegmentId& id);

// The user ids of the process `id` names ("Uid:" of /proc/<pid>/status),
// read through the same /proc/<pid> handle as its start time, so that a pid
// reused in between cannot answer for it. nullopt when it is gone.
struct ProcessUids {
  uint32_t real = 0;
  uint32_t effective = 0;
  uint32_t saved = 0;
  uint32_t filesystem = 0;  // the owner of the files it creates
};
std::optional<ProcessUids> process_uids(const SegmentId& id);

}  // namespace ringtail::shm
