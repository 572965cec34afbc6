// ringtail top: a live view of the producers on this host, refreshed every
// --interval. The model (sampling, rates, top messages) is
// reader/top/top_sampler.hpp, the frame's text reader/top/top_view.hpp; this
// file only draws the frames and reads the keys. Read-only: never consumes
// events, never takes the reader lease.
//
// On a terminal (stdin and stdout both one): the alternate screen, redrawn
// in place (cursor home, clear to end of line), keys read in non-canonical
// mode without echo; the terminal is given back as it was on q, on SIGINT
// and SIGTERM (stop_signals.hpp) and on any error. Otherwise: one frame of
// plain lines per interval, no escape codes.
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "common.hpp"
#include "ringtail/reader/top/top_sampler.hpp"
#include "ringtail/reader/top/top_view.hpp"
#include "ringtail/shm/errno_text.hpp"
#include "stop_signals.hpp"
#include "verbs.hpp"

namespace ringtail::cli {
namespace {

constexpr const char* kTopHelp =
    "A live view of the ringtail producers on this host, one row per segment, refreshed every --interval:\n"
    "  PID SERVICE STATE  the producer, and alive, exited or crashed (\"/flight\": flight-recorder rings)\n"
    "  EVENTS/S DROPS/S   events committed and dropped per second since the previous refresh\n"
    "  DROPPED            events dropped in all, then by cause: FULL (ring full), BIG (too big for the ring),\n"
    "                     NORING (no ring for the thread), TABLE (call-site table full)\n"
    "  AUDIT              audit events lost (also in DROPPED): should stay 0\n"
    "  SAMPLED            events a sampling rule left out (`ringtail sample`): not drops\n"
    "  MAXFILL AVGFILL    the fullest ring and the mean over claimed rings: bytes written and not consumed,\n"
    "                     of the ring's capacity (a ring at 100% drops what comes next)\n"
    "  PENDING LEASE      bytes no reader has consumed yet (the drain's lag), and the pid of the reader\n"
    "                     holding the lease (`ringtail drain`), or -\n"
    "Beneath each row, its top messages: the call sites of the events written since the previous refresh,\n"
    "as rate, share, level, message and file:line. top reads them as `tail` does, peeking (nothing is\n"
    "consumed), at most 256 KiB per ring and 16 MiB in all per refresh; when that was not all of what was\n"
    "written, the rates are estimates from the share counted, marked ~, and a line says how much was read.\n"
    "Rates need two samples: the first frame shows - until the next refresh.\n"
    "Keys: q quits; s sorts by the next column (events/s, drops, fill, lag, pid; the sorted column's\n"
    "header ends in *); p pauses and resumes. SIGINT and SIGTERM quit too; the terminal is restored.\n"
    "When stdout is not a terminal, top prints one frame of plain lines per interval (no escape codes), and\n"
    "--once prints one frame, after sampling for one interval, and exits.\n"
    "Examples:\n"
    "  ringtail top                         watch every producer of this user\n"
    "  ringtail top --pid 4242 --sort drops one producer, worst drops first\n"
    "  ringtail top --once --interval 5     one frame, rates over 5 seconds, for a script or a log\n"
    "Segments of other users are left out unless --all-users or --pid names them; root sees every segment.\n"
    "Exit status: 0 quit (q, SIGINT, SIGTERM, --once, a closed pipe); 1 /dev/shm cannot be listed or stdout\n"
    "fails; 2 usage error.";

struct TopConfig {
  std::vector<pid_t> pids;
  bool all_users = false;
  double interval = 1.0;
  bool once = false;
  std::string sort = "events/s";
  size_t messages = 3;
};

using Clock = std::chrono::steady_clock;

// Writes all of `text` to stdout (fd 1, unbuffered); false on an error.
bool write_all(const std::string& text) {
  size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(STDOUT_FILENO, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

// The terminal in the view's mode while it lives: non-canonical, no echo
// (signals still work: ^C is SIGINT), the alternate screen, no cursor.
class TerminalMode {
 public:
  TerminalMode() {
    if (::tcgetattr(STDIN_FILENO, &saved_) != 0) return;
    termios raw = saved_;
    raw.c_lflag &= ~static_cast<tcflag_t>(ICANON | ECHO);
    raw.c_cc[VMIN] = 0;
    raw.c_cc[VTIME] = 0;
    if (::tcsetattr(STDIN_FILENO, TCSAFLUSH, &raw) != 0) return;
    active_ = true;
    (void)write_all("\x1b[?1049h\x1b[?25l");  // alternate screen, cursor hidden
  }
  ~TerminalMode() { restore(); }
  TerminalMode(const TerminalMode&) = delete;
  TerminalMode& operator=(const TerminalMode&) = delete;

  void restore() {
    if (!active_) return;
    active_ = false;
    (void)write_all("\x1b[?25h\x1b[?1049l");  // cursor shown, main screen back
    (void)::tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved_);
  }
  bool active() const { return active_; }

 private:
  termios saved_{};
  bool active_ = false;
};

struct ScreenSize {
  size_t rows = 24;
  size_t columns = 80;
  bool operator==(const ScreenSize&) const = default;
};

ScreenSize screen_size() {
  winsize size{};
  ScreenSize screen;
  if (::ioctl(STDOUT_FILENO, TIOCGWINSZ, &size) == 0 && size.ws_row > 0 && size.ws_col > 0) {
    screen.rows = size.ws_row;
    screen.columns = size.ws_col;
  }
  return screen;
}

// One frame drawn in place: home, each line then clear to its end, clear below.
bool draw(const std::vector<std::string>& lines) {
  std::string out = "\x1b[H";
  for (size_t i = 0; i < lines.size(); ++i) {
    out += lines[i];
    out += "\x1b[K";
    if (i + 1 < lines.size()) out += "\r\n";  // no newline after the last row: the screen must not scroll
  }
  out += "\x1b[J";
  return write_all(out);
}

// Sleeps until `until` or a stop request, whichever first; false on a stop.
bool sleep_until(Clock::time_point until, const std::atomic<bool>& stop) {
  while (!stop.load(std::memory_order_relaxed)) {
    const Clock::time_point now = Clock::now();
    if (now >= until) return true;
    std::this_thread::sleep_for(std::min<Clock::duration>(until - now, std::chrono::milliseconds(100)));
  }
  return false;
}

Clock::duration interval_of(const TopConfig& config) {
  return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(config.interval));
}

int run_plain(const TopConfig& config, reader::TopSampler& sampler, const std::atomic<bool>& stop) {
  ::signal(SIGPIPE, SIG_IGN);  // a closed pipe is EPIPE from write, not death
  reader::TopViewOptions view;
  view.sort = *reader::parse_top_sort(config.sort);
  view.interval_seconds = config.interval;
  Clock::time_point next = Clock::now() + interval_of(config);
  for (;;) {
    if (!sleep_until(next, stop)) return kExitOk;
    next += interval_of(config);
    const absl::StatusOr<reader::TopFrame> frame = sampler.sample();
    if (!frame.ok()) {
      print_error(std::string{frame.status().message()});
      return kExitRuntime;
    }
    std::string text;
    for (const std::string& line : reader::render_top_frame(*frame, view)) text += line + "\n";
    if (!config.once) text += "\n";
    if (!write_all(text)) {
      if (errno == EPIPE) return kExitOk;  // `ringtail top | head`
      print_error("stdout: " + shm::errno_text(errno));
      return kExitRuntime;
    }
    if (config.once) return kExitOk;
  }
}

int run_interactive(const TopConfig& config, reader::TopSampler& sampler, reader::TopFrame frame,
                    const std::atomic<bool>& stop) {
  TerminalMode terminal;
  reader::TopViewOptions view;
  view.sort = *reader::parse_top_sort(config.sort);
  view.interval_seconds = config.interval;
  view.keys = true;
  ScreenSize screen = screen_size();
  auto redraw = [&] {
    view.width = screen.columns;
    view.height = screen.rows;
    return draw(reader::render_top_frame(frame, view));
  };
  if (!redraw()) return kExitRuntime;
  Clock::time_point next = Clock::now() + interval_of(config);
  while (!stop.load(std::memory_order_relaxed)) {
    const Clock::time_point now = Clock::now();
    if (now >= next) {
      next = std::max(next + interval_of(config), now);
      if (!view.paused) {
        absl::StatusOr<reader::TopFrame> sampled = sampler.sample();
        if (sampled.ok()) {
          frame = std::move(*sampled);
        } else {
          frame.notes.assign(1, std::string{sampled.status().message()});  // keep the last numbers, say why
        }
      }
      if (!redraw()) return kExitRuntime;
      continue;
    }
    const auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::min<Clock::duration>(next - now, std::chrono::milliseconds(100)));
    pollfd input{STDIN_FILENO, POLLIN, 0};
    const int ready = ::poll(&input, 1, static_cast<int>(std::max<int64_t>(wait.count(), 1)));
    bool changed = false;
    if (ready > 0) {
      char keys[64];
      const ssize_t n = ::read(STDIN_FILENO, keys, sizeof(keys));
      if (n == 0 && (input.revents & POLLHUP) != 0) return kExitOk;  // the terminal went away
      for (ssize_t i = 0; i < n; ++i) {
        switch (keys[i]) {
          case 'q':
          case 'Q':
            return kExitOk;  // the terminal is restored by TerminalMode
          case 's':
          case 'S':
            view.sort = reader::next_top_sort(view.sort);
            changed = true;
            break;
          case 'p':
          case 'P':
            view.paused = !view.paused;
            changed = true;
            break;
          default:
            break;  // other keys, escape sequences: ignored
        }
      }
    }
    if (const ScreenSize now_size = screen_size(); now_size != screen) {
      screen = now_size;
      changed = true;
    }
    if (changed && !redraw()) return kExitRuntime;
  }
  return kExitOk;
}

int run_top(const TopConfig& config) {
  const std::atomic<bool>& stop = watch_stop_signals();
  reader::TopOptions options;
  options.discovery.pids = config.pids;
  options.discovery.all_users = config.all_users;
  options.messages_per_process = config.messages;
  reader::TopSampler sampler(options);
  absl::StatusOr<reader::TopFrame> first = sampler.sample();
  if (!first.ok()) {
    print_error(std::string{first.status().message()});
    return kExitRuntime;
  }
  if (config.once || ::isatty(STDIN_FILENO) != 1 || ::isatty(STDOUT_FILENO) != 1) {
    return run_plain(config, sampler, stop);
  }
  return run_interactive(config, sampler, std::move(*first), stop);
}

}  // namespace

void add_top(CLI::App& app) {
  auto config = std::make_shared<TopConfig>();
  CLI::App* top = app.add_subcommand("top", "Live view of producers: events/s, drops, ring fill, lag, top messages");
  top->footer(kTopHelp);
  top->add_option("--pid", config->pids, "Only this producer's segments (repeatable)")
      ->type_name("PID")
      ->transform(pid_validator());
  top->add_flag("--all-users", config->all_users, "Also show other users' segments");
  top->add_option("--interval", config->interval, "Seconds between refreshes, 0.1 to 3600")
      ->type_name("SECONDS")
      ->capture_default_str()
      ->check(CLI::Range(0.1, 3600.0));
  top->add_flag("--once", config->once, "Print one frame (rates over one interval) as plain lines and exit");
  top->add_option("--sort", config->sort, "Sort by events/s, drops, fill, lag or pid (the s key cycles them)")
      ->type_name("COLUMN")
      ->capture_default_str()
      ->check(CLI::IsMember({"events/s", "drops", "fill", "lag", "pid"}));
  top->add_option("--messages", config->messages, "Top messages shown per process, 0 to 20")
      ->type_name("N")
      ->capture_default_str()
      ->check(CLI::Range(0, 20));
  top->callback([config] { finish(run_top(*config)); });
}

}  // namespace ringtail::cli
