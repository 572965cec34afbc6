// The text of one `ringtail top` frame: a title line, one row per process
// (PID SERVICE STATE EVENTS/S DROPS/S DROPPED FULL BIG NORING TABLE AUDIT
// SAMPLED MAXFILL AVGFILL PENDING LEASE) with its top messages beneath, and
// the frame's notes. Plain lines without escape codes or line ends: the verb
// draws them on a terminal (cursor home, clear to end of line) or prints
// them as they are when stdout is not one, and tests read them.
//
// Every text that came from a segment (service, message, file, notes) goes
// through terminal_safe(), so no producer can move the cursor or retitle the
// terminal; columns are as wide as their widest cell.
//
// Threading: a plain function; use from any thread.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "ringtail/reader/top/top_sampler.hpp"

namespace ringtail::reader {

struct TopViewOptions {
  TopSort sort = TopSort::kEventRate;  // its column's header ends in '*'; the title names it
  double interval_seconds = 1;
  bool paused = false;  // the title says PAUSED
  bool keys = false;    // the title lists the keys (interactive view)
  size_t width = 0;     // lines are cut to this many bytes (at a UTF-8 boundary); 0: not cut
  size_t height = 0;    // at most this many lines, the last saying what was left out; 0: all
};

// The frame's lines, processes ordered by `view.sort`.
std::vector<std::string> render_top_frame(const TopFrame& frame, const TopViewOptions& view);

// "12.3k", "4.5M", "812", "3.2": a rate for a narrow column.
std::string top_rate_text(double per_second);
// "812", "12.3k", "4.5M", "1.2G": a count for a narrow column.
std::string top_count_text(uint64_t count);
// "0", "512B", "4.0K", "1.2M", "3.0G" (binary units).
std::string top_bytes_text(uint64_t bytes);

}  // namespace ringtail::reader
