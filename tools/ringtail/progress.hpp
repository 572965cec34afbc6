// Progress on long work for the verbs over a store (query, stats, report,
// export) and drain --once: one line on stderr, redrawn in place, such as
//
//   12/40 files, 1.2 GiB of 3.4 GiB, 310 MiB/s, 7 s left
//   3/10 segments, 1.2 GiB written, 310 MiB/s
//
// Two parts:
//   - ProgressMeter: what the line says and when it is drawn (rate, time
//     left, the threshold, the refresh interval, erasing), over an injected
//     clock and an injected output, so that tests drive it in memory.
//   - start_progress(): the one place that decides whether a verb shows
//     progress at all (stderr a terminal, no --no-progress, stdout not the
//     same terminal while the verb streams to it) and makes the meter that
//     writes to stderr. erase_progress_then() lets anything else that writes
//     to stderr (the verbs' one-line reports) erase the line first.
//
// Drawing. Nothing is drawn before `after` (1 s; RINGTAIL_PROGRESS_AFTER_MS
// overrides it, for tests) has passed since the meter was made, so quick
// runs never flicker; after that the line is redrawn at most once per
// `interval` (200 ms), from update()/advance(), on the caller's thread: the
// meter has no thread of its own. Each drawing is "\r" + the line +
// "\x1b[K" (clear to the end of the line); erasing is "\r\x1b[K". finish()
// erases the line if it was drawn and draws nothing afterwards, so the
// terminal is left as it was. The line is cut to `columns` (the terminal's
// width) so that it never wraps, which "\r" could not take back.
//
// Rate and time left: the average since the meter was made (done / elapsed),
// and (total - done) / rate. Without a total (0) the line shows what is done
// and the rate, never a time left; with no rate yet it shows no time left.
//
// Threading: every member takes the meter's mutex, so the work's thread may
// update() while another thread (a drain's writer, a sink, the store's
// maintainer) erases the line to write a report. The output and the clock are
// called with the mutex held.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "absl/base/thread_annotations.h"

namespace ringtail::cli {

enum class ProgressUnit : uint8_t {
  kBytes,  // "1.2 GiB", rates "310 MiB/s"
  kCount,  // plain numbers, rates "/s"
};

// What the line says, apart from the timing: built by the caller on each
// update. The meter keeps the last counts: items_noun and done_word must
// outlive it (string literals).
struct ProgressCounts {
  uint64_t done = 0;   // in `unit`
  uint64_t total = 0;  // 0: unknown (no "of", no time left)
  // An optional count of items in front: "<items_done>/<items_total> <items_noun>"
  // ("12/40 files"); left out when items_noun is empty.
  uint64_t items_done = 0;
  uint64_t items_total = 0;
  std::string_view items_noun;
  // Said after `done` when there is no total: "written" -> "1.2 GiB written".
  std::string_view done_word;
};

struct ProgressTiming {
  std::chrono::milliseconds after{1000};    // nothing drawn before this
  std::chrono::milliseconds interval{200};  // at most one drawing per interval
  size_t columns = 0;                       // cut the line to this width; 0: no limit
};

class ProgressMeter {
 public:
  using Clock = std::function<std::chrono::steady_clock::time_point()>;
  using Output = std::function<void(std::string_view bytes)>;

  // `output` receives the terminal bytes (drawings and erasures); `clock`
  // is read at construction (the start) and on each update. A null clock
  // is std::chrono::steady_clock.
  ProgressMeter(ProgressUnit unit, Output output, Clock clock = nullptr, ProgressTiming timing = {});
  ~ProgressMeter();  // finish()
  ProgressMeter(const ProgressMeter&) = delete;
  ProgressMeter& operator=(const ProgressMeter&) = delete;

  // The work's state now; draws the line if `after` has passed and the last
  // drawing is at least `interval` old. Ignored after finish().
  void update(const ProgressCounts& counts);
  // update() with `done` advanced by n (the rest as last given).
  void advance(uint64_t n);

  // Erases the line (if drawn) and draws nothing more. Idempotent.
  void finish();

  // Erases the line (if drawn), then calls `write` (with the meter's mutex
  // held, so the line is not drawn again in between); the next update()
  // draws it again below what was written.
  void erase_then(const std::function<void()>& write);

  // Whether the line is on the terminal now (tests).
  bool shown() const;

  // The text of the line for these counts after `elapsed` (no "\r", no
  // escape), not cut to any width.
  static std::string format_line(ProgressUnit unit, const ProgressCounts& counts, std::chrono::nanoseconds elapsed);
  // "512 B", "1.2 KiB", "310 MiB", "3.4 GiB" (one decimal under 10).
  static std::string format_bytes(double bytes);
  // "7 s", "2 min 5 s", "1 h 3 min".
  static std::string format_duration(std::chrono::seconds seconds);

  static constexpr std::string_view kErase = "\r\x1b[K";

 private:
  void draw_locked(std::chrono::steady_clock::time_point now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  void erase_locked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);

  const ProgressUnit unit_;
  const Output output_;
  const Clock clock_;
  const ProgressTiming timing_;
  const std::chrono::steady_clock::time_point start_;

  mutable std::mutex mutex_;
  ProgressCounts counts_ ABSL_GUARDED_BY(mutex_);
  bool shown_ ABSL_GUARDED_BY(mutex_) = false;
  bool finished_ ABSL_GUARDED_BY(mutex_) = false;
  bool drawn_before_ ABSL_GUARDED_BY(mutex_) = false;  // last_draw_ is set
  std::chrono::steady_clock::time_point last_draw_ ABSL_GUARDED_BY(mutex_);
};

// Whether a verb shows progress, decided in one place: stderr is a terminal,
// --no-progress was not given, and (for a verb that writes its answer to
// stdout while it works: query, export to stdout) stdout is not a terminal,
// where the answer itself shows the progress and the line would land between
// its lines.
struct ProgressChoice {
  bool no_progress = false;         // --no-progress
  bool stdout_during_work = false;  // the verb writes to stdout before the work ends
};
bool progress_wanted(const ProgressChoice& choice);

// A meter drawing on stderr, registered so that erase_progress_then() finds
// it; null when progress_wanted() says no. Timing: 1 s threshold (or
// RINGTAIL_PROGRESS_AFTER_MS, for tests), 200 ms interval, the terminal's
// width. The meter unregisters itself when destroyed; one at a time.
std::unique_ptr<ProgressMeter> start_progress(const ProgressChoice& choice, ProgressUnit unit);

// Calls `write` (which writes to stderr) with the live stderr meter's line,
// if any, erased first; at once when there is none. From any thread.
void erase_progress_then(const std::function<void()>& write);

// The help text of --no-progress, the same on every verb.
inline constexpr const char* kNoProgressHelp =
    "Never show progress (otherwise shown on stderr, when it is a terminal, for work that takes over a second)";

}  // namespace ringtail::cli
