// ringtail ls: one row per segment in /dev/shm. Read-only: never consumes
// events, never takes the reader lease.
#include <string.h>
#include <sys/types.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common.hpp"
#include "ringtail/reader/ingest/consumer_lease.hpp"
#include "ringtail/reader/ingest/segment_directory.hpp"
#include "ringtail/reader/ingest/segment_summary.hpp"
#include "ringtail/reader/ingest/segment_view.hpp"
#include "ringtail/reader/output/json_text.hpp"
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

struct Row {
  const reader::DiscoveredSegment* found = nullptr;
  bool alive = false;
  bool valid = false;
  bool vanished = false;  // removed since it was listed
  bool refused = false;   // PermissionDenied: not its process's user's (or not ours to open)
  std::string error;      // when !valid
  // valid only:
  std::string service, program, hostname, state;
  reader::SegmentSummary summary;
  uint64_t ring_bytes = 0;
  uint32_t abi_version = 0;
  std::optional<pid_t> lease;
  reader::ReaderStall stall;  // only while `lease` names a live reader
  uint64_t sampled_out = 0;   // sum of the slots' sampled_out
};

bool stalled(const Row& row) { return row.lease.has_value() && row.stall.since_realtime_ns_untrusted != 0; }

// "ENOSPC: No space left on device"; "errno N" for a number this system does
// not know (the word is untrusted); empty when not known.
std::string stall_error(const Row& row) {
  const uint32_t number = row.stall.errno_untrusted;
  if (number == 0) return {};
  const int e = number > INT32_MAX ? 0 : static_cast<int>(number);
  const char* name = e == 0 ? nullptr : ::strerrorname_np(e);
  const char* text = e == 0 ? nullptr : ::strerrordesc_np(e);
  if (name == nullptr || text == nullptr) return absl::StrCat("errno ", number);
  return absl::StrCat(name, ": ", text);
}

// The STATE cell: the producer's state, and the drain's stall if any.
std::string state_cell(const Row& row) {
  if (!stalled(row)) return row.state;
  std::string cell = absl::StrCat(row.state, ", stalled");
  const std::string error = stall_error(row);
  if (!error.empty()) absl::StrAppend(&cell, " (", error.substr(0, error.find(':')), ")");
  return cell;
}

// Sum of every slot's sampled_out (live, untrusted: for display; saturating).
uint64_t sampled_out(const reader::SegmentView& view) {
  uint64_t total = 0;
  for (uint32_t i = 0; i < view.slot_count(); ++i) {
    const absl::StatusOr<const shm::RingSlot*> slot = view.slot(i);
    if (!slot.ok()) continue;  // cannot happen: i < slot_count
    const uint64_t n = (*slot)->sampled_out.load(std::memory_order_relaxed);
    total = n > UINT64_MAX - total ? UINT64_MAX : total + n;
  }
  return total;
}

Row inspect(const reader::DiscoveredSegment& found) {
  Row row;
  row.found = &found;
  row.alive = shm::process_alive(found.id);
  absl::StatusOr<reader::SegmentView> view =
      reader::SegmentView::open(found.name, reader::SegmentView::Access::kReadOnly);
  if (!view.ok()) {
    row.vanished = view.status().code() == absl::StatusCode::kNotFound;
    // Another user's file under a process's name, or one this user may not open.
    row.refused = view.status().code() == absl::StatusCode::kPermissionDenied;
    row.error = segment_error_text(found.name, view.status());
    return row;
  }
  row.valid = true;
  const reader::SegmentIdentity& id = view->identity();
  row.service = id.service;
  row.program = id.program;
  row.hostname = id.hostname;
  row.state = std::string(reader::producer_state_name(reader::producer_state(*view)));
  row.summary = reader::summarize(*view);
  row.ring_bytes = view->ring_capacity();
  row.abi_version = id.abi_version;
  row.lease = reader::lease_holder(*view);
  if (row.lease.has_value()) row.stall = reader::reader_stall(*view);
  row.sampled_out = sampled_out(*view);
  return row;
}

void append_key(std::string& out, const char* key) {
  if (out.back() != '{') out.push_back(',');
  reader::append_json_string(out, key);
  out.push_back(':');
}

std::string json_row(const Row& row) {
  const reader::DiscoveredSegment& f = *row.found;
  std::string out = "{";
  append_key(out, "name");
  reader::append_json_string(out, f.name);
  append_key(out, "pid");
  reader::append_json_int(out, f.id.pid);
  append_key(out, "start_ticks");
  reader::append_json_uint(out, f.id.start_ticks);
  if (row.valid) {
    append_key(out, "service");
    reader::append_json_string(out, row.service);
    append_key(out, "program");
    reader::append_json_string(out, row.program);
    append_key(out, "hostname");
    reader::append_json_string(out, row.hostname);
  }
  append_key(out, "state");
  reader::append_json_string(out, row.valid ? row.state : row.refused ? "refused" : "invalid");
  append_key(out, "alive");
  out += row.alive ? "true" : "false";
  if (row.valid) {
    const reader::SegmentSummary& s = row.summary;
    append_key(out, "level");
    reader::append_json_string(out, level_name(s.control_level));
    append_key(out, "rings_active");
    reader::append_json_uint(out, s.active);
    append_key(out, "rings_retired");
    reader::append_json_uint(out, s.retired);
    append_key(out, "ring_slots");
    reader::append_json_uint(out, s.slots);
    append_key(out, "ring_bytes");
    reader::append_json_uint(out, row.ring_bytes);
    append_key(out, "pending_bytes");
    reader::append_json_uint(out, s.pending_bytes);
    append_key(out, "dropped_events");
    reader::append_json_uint(out, s.dropped_events);
    append_key(out, "audit_lost");
    reader::append_json_uint(out, s.audit_lost);
    append_key(out, "sampled_out");
    reader::append_json_uint(out, row.sampled_out);
    append_key(out, "abi_version");
    reader::append_json_uint(out, row.abi_version);
    append_key(out, "lease_pid");
    if (row.lease.has_value()) {
      reader::append_json_int(out, *row.lease);
    } else {
      out += "null";
    }
    append_key(out, "reader_stalled_since");
    const uint64_t since = row.stall.since_realtime_ns_untrusted;
    if (stalled(row) && since <= static_cast<uint64_t>(INT64_MAX)) {
      reader::TimestampFormatter().append(out, static_cast<int64_t>(since));  // quoted
    } else {
      out += "null";
    }
    append_key(out, "reader_stall_error");
    if (const std::string error = stall_error(row); stalled(row) && !error.empty()) {
      reader::append_json_string(out, error);
    } else {
      out += "null";
    }
  } else {
    append_key(out, "error");
    reader::append_json_string(out, row.error);
  }
  append_key(out, "file_bytes");
  reader::append_json_uint(out, f.file_bytes);
  append_key(out, "allocated_bytes");
  reader::append_json_uint(out, f.allocated_bytes);
  out.push_back('}');
  return out;
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
    cells.push_back({std::to_string(row.found->id.pid), printable(row.service), printable(row.program),
                     printable(state_cell(row)), level_name(s.control_level), absl::StrCat(s.active, "/", s.retired),
                     std::to_string(s.pending_bytes), std::to_string(s.dropped_events), std::to_string(s.audit_lost),
                     std::to_string(row.sampled_out), std::to_string(row.abi_version),
                     row.lease ? std::to_string(*row.lease) : "-", row.found->name});
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
    Row row = inspect(found);
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
      out += json_row(rows[i]);
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
