#include "progress.hpp"

#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace ringtail::cli {
namespace {

// The stderr meter erase_progress_then() erases (start_progress's), or null.
std::mutex g_active_mutex;
ProgressMeter* g_active ABSL_GUARDED_BY(g_active_mutex) = nullptr;

std::string format_count(double count) {
  char text[32];
  std::snprintf(text, sizeof text, "%.0f", count);
  return text;
}

// The threshold: 1 s, or RINGTAIL_PROGRESS_AFTER_MS (for tests: 0 draws at
// the first update).
std::chrono::milliseconds progress_after() {
  // NOLINTNEXTLINE(concurrency-mt-unsafe): read once, before any thread of ours starts.
  const char* text = std::getenv("RINGTAIL_PROGRESS_AFTER_MS");
  if (text == nullptr || *text == '\0') return std::chrono::milliseconds(1000);
  char* end = nullptr;
  const unsigned long long ms = std::strtoull(text, &end, 10);
  if (*end != '\0' || ms > 3'600'000) return std::chrono::milliseconds(1000);
  return std::chrono::milliseconds(static_cast<int64_t>(ms));
}

size_t terminal_columns(int fd) {
  winsize size{};
  if (::ioctl(fd, TIOCGWINSZ, &size) != 0 || size.ws_col == 0) return 80;
  return size.ws_col;
}

}  // namespace

ProgressMeter::ProgressMeter(ProgressUnit unit, Output output, Clock clock, ProgressTiming timing)
    : unit_(unit),
      output_(std::move(output)),
      clock_(clock ? std::move(clock) : Clock([] { return std::chrono::steady_clock::now(); })),
      timing_(timing),
      start_(clock_()) {}

ProgressMeter::~ProgressMeter() {
  {
    const std::lock_guard lock(g_active_mutex);
    if (g_active == this) g_active = nullptr;
  }
  finish();
}

void ProgressMeter::update(const ProgressCounts& counts) {
  const std::lock_guard lock(mutex_);
  if (finished_) return;
  counts_ = counts;
  draw_locked(clock_());
}

void ProgressMeter::advance(uint64_t n) {
  const std::lock_guard lock(mutex_);
  if (finished_) return;
  counts_.done += n;
  draw_locked(clock_());
}

void ProgressMeter::finish() {
  const std::lock_guard lock(mutex_);
  erase_locked();
  finished_ = true;
}

void ProgressMeter::erase_then(const std::function<void()>& write) {
  const std::lock_guard lock(mutex_);
  erase_locked();
  write();
}

bool ProgressMeter::shown() const {
  const std::lock_guard lock(mutex_);
  return shown_;
}

void ProgressMeter::draw_locked(std::chrono::steady_clock::time_point now) {
  if (now - start_ < timing_.after) return;
  if (drawn_before_ && now - last_draw_ < timing_.interval) return;
  std::string line = format_line(unit_, counts_, now - start_);
  if (timing_.columns > 1 && line.size() > timing_.columns - 1) line.resize(timing_.columns - 1);
  std::string bytes = "\r";
  bytes += line;
  bytes += "\x1b[K";
  output_(bytes);
  shown_ = true;
  drawn_before_ = true;
  last_draw_ = now;
}

void ProgressMeter::erase_locked() {
  if (!shown_) return;
  output_(kErase);
  shown_ = false;
}

std::string ProgressMeter::format_bytes(double bytes) {
  static constexpr const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
  size_t unit = 0;
  while (bytes >= 1024 && unit + 1 < std::size(kUnits)) {
    bytes /= 1024;
    ++unit;
  }
  char text[32];
  if (unit == 0) {
    std::snprintf(text, sizeof text, "%.0f B", bytes);
  } else {
    // 9.96 would print as "10.0": one decimal only while it stays under 10.
    std::snprintf(text, sizeof text, bytes < 9.95 ? "%.1f %s" : "%.0f %s", bytes, kUnits[unit]);
  }
  return text;
}

std::string ProgressMeter::format_duration(std::chrono::seconds seconds) {
  const int64_t s = std::max<int64_t>(seconds.count(), 0);
  char text[48];
  if (s < 60) {
    std::snprintf(text, sizeof text, "%" PRId64 " s", s);
  } else if (s < 3600) {
    std::snprintf(text, sizeof text, "%" PRId64 " min %" PRId64 " s", s / 60, s % 60);
  } else {
    std::snprintf(text, sizeof text, "%" PRId64 " h %" PRId64 " min", s / 3600, (s % 3600) / 60);
  }
  return text;
}

std::string ProgressMeter::format_line(ProgressUnit unit, const ProgressCounts& counts,
                                       std::chrono::nanoseconds elapsed) {
  const auto amount = [unit](double value) {
    return unit == ProgressUnit::kBytes ? format_bytes(value) : format_count(value);
  };
  std::string line;
  if (!counts.items_noun.empty()) {
    line += std::to_string(counts.items_done);
    line += "/";
    line += std::to_string(counts.items_total);
    line += " ";
    line += counts.items_noun;
    line += ", ";
  }
  line += amount(static_cast<double>(counts.done));
  if (counts.total != 0) {
    line += " of ";
    line += amount(static_cast<double>(counts.total));
  } else if (!counts.done_word.empty()) {
    line += " ";
    line += counts.done_word;
  }
  const double seconds = std::chrono::duration<double>(elapsed).count();
  if (seconds > 0) {
    const double rate = static_cast<double>(counts.done) / seconds;
    line += ", ";
    line += amount(rate);
    line += "/s";
    if (counts.total != 0 && rate > 0) {
      const uint64_t left = counts.total > counts.done ? counts.total - counts.done : 0;
      // Rounded up: "0 s left" only when nothing is.
      const double left_s = static_cast<double>(left) / rate;
      line += ", ";
      line += format_duration(std::chrono::seconds(static_cast<int64_t>(left_s + 0.999)));
      line += " left";
    }
  }
  return line;
}

bool progress_wanted(const ProgressChoice& choice) {
  if (choice.no_progress) return false;
  if (::isatty(STDERR_FILENO) == 0) return false;
  return !(choice.stdout_during_work && ::isatty(STDOUT_FILENO) != 0);
}

std::unique_ptr<ProgressMeter> start_progress(const ProgressChoice& choice, ProgressUnit unit) {
  if (!progress_wanted(choice)) return nullptr;
  ProgressTiming timing;
  timing.after = progress_after();
  timing.columns = terminal_columns(STDERR_FILENO);
  auto meter = std::make_unique<ProgressMeter>(
      unit,
      [](std::string_view bytes) {
        // stderr is unbuffered: the bytes are on the terminal when this returns.
        std::fwrite(bytes.data(), 1, bytes.size(), stderr);
      },
      nullptr, timing);
  const std::lock_guard lock(g_active_mutex);
  g_active = meter.get();
  return meter;
}

void erase_progress_then(const std::function<void()>& write) {
  const std::lock_guard lock(g_active_mutex);
  if (g_active != nullptr) {
    g_active->erase_then(write);
  } else {
    write();
  }
}

}  // namespace ringtail::cli
