#include "ringtail/reader/top/top_view.hpp"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <string_view>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "ringtail/reader/output/terminal_text.hpp"

namespace ringtail::reader {
namespace {

constexpr size_t kMaxServiceBytes = 16;
constexpr size_t kMaxMessageBytes = 72;
constexpr size_t kMaxNotes = 5;

std::string fixed(double value, int decimals) {
  char text[64];
  std::snprintf(text, sizeof(text), "%.*f", decimals, value);
  return text;
}

// Cuts `text` to at most `bytes` bytes, never inside a UTF-8 sequence.
std::string cut(std::string text, size_t bytes) {
  if (text.size() <= bytes) return text;
  size_t end = bytes;
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
  text.resize(end);
  return text;
}

// Untrusted text made inert, "-" when empty, cut to `bytes`.
std::string safe(std::string_view untrusted, size_t bytes) {
  std::string text = terminal_safe(untrusted);
  if (text.empty()) return "-";
  if (text.size() > bytes) text = cut(std::move(text), bytes - 1) + "~";
  return text;
}

std::string percent(double fraction) { return absl::StrCat(fixed(fraction * 100.0, 0), "%"); }

std::string base_name(std::string_view path) {
  const size_t slash = path.rfind('/');
  return std::string(slash == std::string_view::npos ? path : path.substr(slash + 1));
}

// The column `sort` orders by.
std::string_view sorted_column(TopSort sort) {
  switch (sort) {
    case TopSort::kEventRate:
      return "EVENTS/S";
    case TopSort::kDrops:
      return "DROPS/S";
    case TopSort::kRingFill:
      return "MAXFILL";
    case TopSort::kLag:
      return "PENDING";
    case TopSort::kPid:
      return "PID";
  }
  return "EVENTS/S";
}

std::string title(const TopFrame& frame, const TopViewOptions& view, const std::vector<TopProcess>& processes) {
  double events = 0;
  double drops = 0;
  bool rates = false;
  for (const TopProcess& p : processes) {
    if (!p.has_rates) continue;
    rates = true;
    events += p.events_per_second;
    drops += p.drops_per_second;
  }
  std::string line = absl::StrCat(
      "ringtail top  ",
      absl::FormatTime("%Y-%m-%d %H:%M:%S", absl::FromUnixNanos(frame.realtime_ns), absl::LocalTimeZone()), "  every ",
      fixed(view.interval_seconds, view.interval_seconds < 10 ? 1 : 0), "s  ", processes.size(),
      processes.size() == 1 ? " producer  " : " producers  ", rates ? top_rate_text(events) : "-", " events/s  ",
      rates ? top_rate_text(drops) : "-", " drops/s  sort: ", std::string(top_sort_name(view.sort)));
  if (view.paused) absl::StrAppend(&line, "  PAUSED");
  if (view.keys) absl::StrAppend(&line, "  [q quit, s sort, p ", view.paused ? "resume" : "pause", "]");
  return line;
}

std::vector<std::string> row_cells(const TopProcess& p) {
  auto rate = [&](double value) { return p.has_rates ? top_rate_text(value) : std::string("-"); };
  const bool fill_known = !p.flight && p.rings_claimed > 0;
  return {std::to_string(p.pid),
          safe(p.service, kMaxServiceBytes),
          p.flight ? p.state + "/flight" : p.state,
          rate(p.events_per_second),
          rate(p.drops_per_second),
          top_count_text(p.dropped),
          top_count_text(p.dropped_by_cause.ring_full),
          top_count_text(p.dropped_by_cause.too_big),
          top_count_text(p.dropped_by_cause.no_ring),
          top_count_text(p.dropped_by_cause.callsite_table_full),
          top_count_text(p.audit_lost),
          top_count_text(p.sampled_out),
          fill_known ? percent(p.fill_max) : "-",
          fill_known ? percent(p.fill_mean) : "-",
          top_bytes_text(p.pending_bytes),
          p.lease ? std::to_string(*p.lease) : "-"};
}

// The lines under a process's row: its top messages.
void append_messages(const TopProcess& p, std::vector<std::string>& lines) {
  if (!p.has_rates) {
    lines.emplace_back("        top messages from the next refresh on");
    return;
  }
  const char* estimate = p.messages_sampled ? "~" : "";
  for (const TopMessage& m : p.messages) {
    std::string line = absl::StrCat("        ", estimate, top_rate_text(m.per_second), "/s  ", percent(m.share), "  ",
                                    std::string(shm::level_name(m.level)), "  ", safe(m.message, kMaxMessageBytes));
    if (!m.file.empty()) absl::StrAppend(&line, "  (", safe(base_name(m.file), 40), ":", m.line, ")");
    lines.push_back(std::move(line));
  }
  if (p.messages_sampled) {
    lines.push_back(absl::StrCat("        (sampled: ", p.messages_counted, " of ", p.events,
                                 " new events read; rates are estimates)"));
  }
  if (p.rings_poisoned > 0) {
    lines.push_back(absl::StrCat("        (", p.rings_poisoned, " ring", p.rings_poisoned == 1 ? "" : "s",
                                 " broke the protocol and are not read: see the notes)"));
  }
}

}  // namespace

std::string top_rate_text(double per_second) {
  if (!(per_second > 0)) return "0";
  if (per_second < 10) return fixed(per_second, 1);
  if (per_second < 10'000) return fixed(per_second, 0);
  if (per_second < 1e6) return fixed(per_second / 1e3, 1) + "k";
  if (per_second < 1e9) return fixed(per_second / 1e6, 1) + "M";
  return fixed(per_second / 1e9, 1) + "G";
}

std::string top_count_text(uint64_t count) {
  if (count < 100'000) return std::to_string(count);
  const auto value = static_cast<double>(count);
  if (count < 1'000'000) return fixed(value / 1e3, 1) + "k";
  if (count < 1'000'000'000) return fixed(value / 1e6, 1) + "M";
  return fixed(value / 1e9, 1) + "G";
}

std::string top_bytes_text(uint64_t bytes) {
  if (bytes == 0) return "0";
  if (bytes < 1024) return absl::StrCat(bytes, "B");
  const auto value = static_cast<double>(bytes);
  if (bytes < (uint64_t{1} << 20)) return fixed(value / 1024.0, 1) + "K";
  if (bytes < (uint64_t{1} << 30)) return fixed(value / (1024.0 * 1024.0), 1) + "M";
  return fixed(value / (1024.0 * 1024.0 * 1024.0), 1) + "G";
}

std::vector<std::string> render_top_frame(const TopFrame& frame, const TopViewOptions& view) {
  std::vector<TopProcess> processes = frame.processes;
  sort_top_processes(processes, view.sort);

  std::vector<std::string> lines;
  lines.push_back(title(frame, view, processes));
  lines.emplace_back();

  std::vector<std::string> header = {"PID",     "SERVICE", "STATE",   "EVENTS/S", "DROPS/S", "DROPPED",
                                     "FULL",    "BIG",     "NORING",  "TABLE",    "AUDIT",   "SAMPLED",
                                     "MAXFILL", "AVGFILL", "PENDING", "LEASE"};
  const std::vector<bool> left = {false, true,  true,  false, false, false, false, false,
                                  false, false, false, false, false, false, false, false};
  for (std::string& name : header) {
    if (name == sorted_column(view.sort)) name += "*";
  }
  std::vector<std::vector<std::string>> rows;
  rows.reserve(processes.size());
  for (const TopProcess& p : processes) rows.push_back(row_cells(p));
  std::vector<size_t> width(header.size());
  for (size_t c = 0; c < header.size(); ++c) width[c] = header[c].size();
  for (const auto& row : rows) {
    for (size_t c = 0; c < row.size(); ++c) width[c] = std::max(width[c], row[c].size());
  }
  auto format_row = [&](const std::vector<std::string>& cells) {
    std::string text;
    for (size_t c = 0; c < cells.size(); ++c) {
      const std::string pad(width[c] - cells[c].size(), ' ');
      if (c > 0) text += "  ";
      text += left[c] ? cells[c] + pad : pad + cells[c];
    }
    while (!text.empty() && text.back() == ' ') text.pop_back();
    return text;
  };

  if (processes.empty()) {
    lines.emplace_back("no ringtail producers (segments /dev/shm/ringtail.<pid>.<start>)");
  } else {
    lines.push_back(format_row(header));
    for (size_t i = 0; i < processes.size(); ++i) {
      lines.push_back(format_row(rows[i]));
      append_messages(processes[i], lines);
    }
  }
  lines.emplace_back();
  lines.push_back(absl::StrCat("top messages: the call sites of the events written since the previous refresh, ",
                               "peeked (nothing consumed), at most ", top_bytes_text(frame.peek_bytes_per_ring),
                               " per ring per refresh; ~ marks estimates from a sample"));
  for (size_t i = 0; i < frame.notes.size() && i < kMaxNotes; ++i) {
    lines.push_back(absl::StrCat("note: ", terminal_safe(frame.notes[i])));
  }
  if (frame.notes.size() > kMaxNotes) {
    lines.push_back(absl::StrCat("note: ", frame.notes.size() - kMaxNotes, " more"));
  }

  if (view.height > 0 && lines.size() > view.height) {
    const size_t left_out = lines.size() - (view.height - 1);
    lines.resize(view.height - 1);
    lines.push_back(absl::StrCat("... ", left_out, " more lines (a taller terminal shows them)"));
  }
  if (view.width > 0) {
    for (std::string& line : lines) line = cut(std::move(line), view.width);
  }
  return lines;
}

}  // namespace ringtail::reader
