// ringtail ls: one row per segment in /dev/shm (reader/ingest/segment_listing.hpp
// reads them, as the drain's GET /stats does). Read-only: never consumes
// events, never takes the reader lease.
#include <sys/types.h>

#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common.hpp"
#include "ringtail/reader/ingest/segment_directory.hpp"
#include "ringtail/reader/ingest/segment_listing.hpp"
#include "verbs.hpp"

namespace ringtail::cli {
namespace {

constexpr const char* kLsHelp =
    "List the ringtail segments in /dev/shm, one row per segment:\n"
    "  PID      the producer's process id\n"
    "  SERVICE  PROGRAM  as the producer named itself\n"
    "  STATE    alive; exited (gone after a clean shutdown); crashed (gone without one); with \", stalled\"\n"
    "           (and the errno when known, e.g. \"alive, stalled (ENOSPC)\") while the drain holding its lease\n"
    "           cannot write its output (disk full...): nothing is consumed, its rings fill and it drops\n"
    "  LEVEL    the live minimum level (see `ringtail level`)\n"
    "  RINGS    ring slots in use: active/retired (retired: the thread exited)\n"
    "  PENDING  bytes written but not consumed yet, over all rings\n"
    "  DROPPED  events the producer dropped (ring full, too big, no ring, call-site table full)\n"
    "  AUDIT    audit events (RINGTAIL_AUDIT) lost for any cause: should stay 0 (in DROPPED too)\n"
    "  SAMPLED  events a sampling rule left out (see `ringtail sample`): not drops, not in DROPPED\n"
    "  ABI      the segment's ABI version\n"
    "  LEASE    pid of the reader consuming the segment (ringtail drain), or -\n"
    "  SEGMENT  the file's name in /dev/shm\n"
    "Counters are read live from a running producer, so they move while ls reads them.\n"
    "A segment that fails validation gets one line on stderr, \"ringtail: <name>: <error>\", and no row;\n"
    "so does one refused because its file is not owned by the user its process runs as (another\n"
    "user's file under that process's name: the error names both uids).\n"
    "--json prints one JSON array instead, one object per segment (per line), with the keys\n"
    "  name pid start_ticks service program hostname state alive level rings_active rings_retired\n"
    "  ring_slots ring_bytes pending_bytes dropped_events audit_lost sampled_out abi_version\n"
    "  lease_pid (null if none) reader_stalled_since reader_stall_error file_bytes allocated_bytes;\n"
    "reader_stalled_since is when the leasing drain's output began failing (RFC 3339 UTC), null while it\n"
    "writes; reader_stall_error the errno of that failure (\"ENOSPC: No space left on device\"), null when not\n"
    "known. Both are what the drain wrote into the segment: shown as they are, trusted for nothing.\n"
    "a segment that fails validation is an object with state \"invalid\" (\"refused\" for one not owned by\n"
    "its process's user, or one this user may not open) and only the keys\n"
    "  name pid start_ticks state alive error file_bytes allocated_bytes.\n"
    "Segments of other users are left out (one line on stderr each) unless --all-users or --pid names them;\n"
    "root sees every segment.\n"
    "Exit status: 0 (also when some segments were invalid); 1 if /dev/shm cannot be listed; 2 usage error.";

struct LsConfig {
  bool json = false;
  bool all_users = false;
  std::vector<pid_t> pids;
};

using Row = reader::SegmentRow;

// The STATE cell: the producer's state, and the drain's stall if any.
std::string state_cell(const Row& row) {
  if (!reader::segment_stalled(row)) return row.state;
  std::string cell = absl::StrCat(row.state, ", stalled");
  const std::string error = reader::segment_stall_error(row);
  if (!error.empty()) absl::StrAppend(&cell, " (", error.substr(0, error.find(':')), ")");
  return cell;
}

void print_table(const std::vector<Row>& rows) {
  if (std::none_of(rows.begin(), rows.end(), [](const Row& row) { return row.valid; })) return;  // no header alone
  const std::vector<std::string> header = {"PID",     "SERVICE", "PROGRAM", "STATE", "LEVEL", "RINGS",  "PENDING",
                                           "DROPPED", "AUDIT",   "SAMPLED", "ABI",   "LEASE", "SEGMENT"};
  const std::vector<bool> right = {true, false, false, false, false, true, true, true, true, true, true, true, false};
  std::vector<std::vector<std::string>> cells;
  cells.push_back(header);
  for (const Row& row : rows) {
    if (!row.valid) continue;
    const reader::SegmentSummary& s = row.summary;
    cells.push_back({std::to_string(row.found.id.pid), printable(row.service), printable(row.program),
                     printable(state_cell(row)), level_name(s.control_level), absl::StrCat(s.active, "/", s.retired),
                     std::to_string(s.pending_bytes), std::to_string(s.dropped_events), std::to_string(s.audit_lost),
                     std::to_string(row.sampled_out), std::to_string(row.abi_version),
                     row.lease ? std::to_string(*row.lease) : "-", row.found.name});
  }
  std::vector<size_t> width(header.size(), 0);
  for (const auto& line : cells) {
    for (size_t c = 0; c < line.size(); ++c) width[c] = std::max(width[c], line[c].size());
  }
  for (const auto& line : cells) {
    std::string text;
    for (size_t c = 0; c < line.size(); ++c) {
      const std::string pad(width[c] - line[c].size(), ' ');
      if (c > 0) text += "  ";
      if (c + 1 == line.size()) {
        text += line[c];  // last column: no trailing blanks
      } else {
        text += right[c] ? pad + line[c] : line[c] + pad;
      }
    }
    text.push_back('\n');
    std::fputs(text.c_str(), stdout);
  }
}

int run_ls(const LsConfig& config) {
  reader::DiscoveryOptions options;
  options.pids = config.pids;
  options.all_users = config.all_users;
  const reader::Discovery discovery = reader::discover_segments(options);
  if (!discovery.status.ok()) {
    print_error(std::string{discovery.status.message()});
    return kExitRuntime;
  }
  for (const std::string& line : discovery.skipped) print_error(line);

  std::vector<Row> rows;
  rows.reserve(discovery.segments.size());
  for (const reader::DiscoveredSegment& found : discovery.segments) {
    Row row = reader::inspect_segment(found);
    if (row.vanished) continue;
    if (!row.valid && !config.json) {
      print_error(absl::StrCat(found.name, ": ", row.error));
      continue;
    }
    rows.push_back(std::move(row));
  }
  if (config.json) {
    std::string out = "[";
    for (size_t i = 0; i < rows.size(); ++i) {
      out += i == 0 ? "\n" : ",\n";
      out += reader::segment_row_json(rows[i]);
    }
    out += "\n]\n";
    std::fputs(out.c_str(), stdout);
  } else {
    print_table(rows);
  }
  return kExitOk;
}

}  // namespace

void add_ls(CLI::App& app) {
  auto config = std::make_shared<LsConfig>();
  CLI::App* ls = app.add_subcommand("ls", "List producers' segments: state, rings, pending bytes, drops, lease");
  ls->footer(kLsHelp);
  ls->add_flag("--json", config->json, "Print a JSON array instead of a table");
  ls->add_option("--pid", config->pids, "Only this producer's segments (repeatable)")
      ->type_name("PID")
      ->transform(pid_validator());
  ls->add_flag("--all-users", config->all_users, "Also list other users' segments");
  ls->callback([config] { finish(run_ls(*config)); });
}

}  // namespace ringtail::cli
