#include "ringtail/reader/ingest/segment_listing.hpp"

#include <string.h>

#include <atomic>
#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "ringtail/reader/ingest/segment_view.hpp"
#include "ringtail/reader/output/json_text.hpp"
#include "ringtail/shm/level.hpp"
#include "ringtail/shm/process_identity.hpp"

namespace ringtail::reader {
namespace {

// Sum of every slot's sampled_out (live, untrusted: for display; saturating).
uint64_t sampled_out(const SegmentView& view) {
  uint64_t total = 0;
  for (uint32_t i = 0; i < view.slot_count(); ++i) {
    const absl::StatusOr<const shm::RingSlot*> slot = view.slot(i);
    if (!slot.ok()) continue;  // cannot happen: i < slot_count
    const uint64_t n = (*slot)->sampled_out.load(std::memory_order_relaxed);
    total = n > UINT64_MAX - total ? UINT64_MAX : total + n;
  }
  return total;
}

// The stored name, "TRACE" ... "OFF"; "LEVEL(<n>)" for a control word that is not a level.
std::string level_text(uint32_t level) {
  if (shm::is_level(level)) return std::string(shm::level_name(static_cast<shm::Level>(level)));
  return absl::StrCat("LEVEL(", level, ")");
}

// The status message without the "segment /dev/shm/<name>: " prefix the
// library puts in front of its own messages.
std::string error_text(std::string_view name, const absl::Status& status) {
  std::string_view message(status.message().data(), status.message().size());
  const std::string prefix = absl::StrCat("segment /dev/shm/", std::string(name), ": ");
  if (message.substr(0, prefix.size()) == prefix) message.remove_prefix(prefix.size());
  return std::string(message);
}

void append_key(std::string& out, const char* key) {
  if (out.back() != '{') out.push_back(',');
  append_json_string(out, key);
  out.push_back(':');
}

}  // namespace

SegmentRow inspect_segment(const DiscoveredSegment& found) {
  SegmentRow row;
  row.found = found;
  row.alive = shm::process_alive(found.id);
  absl::StatusOr<SegmentView> view = SegmentView::open(found.name, SegmentView::Access::kReadOnly);
  if (!view.ok()) {
    row.vanished = view.status().code() == absl::StatusCode::kNotFound;
    // Another user's file under a process's name, or one this user may not open.
    row.refused = view.status().code() == absl::StatusCode::kPermissionDenied;
    row.error = error_text(found.name, view.status());
    return row;
  }
  row.valid = true;
  const SegmentIdentity& id = view->identity();
  row.service = id.service;
  row.program = id.program;
  row.hostname = id.hostname;
  row.state = std::string(producer_state_name(producer_state(*view)));
  row.summary = summarize(*view);
  row.ring_bytes = view->ring_capacity();
  row.abi_version = id.abi_version;
  row.lease = lease_holder(*view);
  if (row.lease.has_value()) row.stall = reader_stall(*view);
  row.sampled_out = sampled_out(*view);
  return row;
}

bool segment_stalled(const SegmentRow& row) {
  return row.lease.has_value() && row.stall.since_realtime_ns_untrusted != 0;
}

std::string segment_stall_error(const SegmentRow& row) {
  const uint32_t number = row.stall.errno_untrusted;
  if (number == 0) return {};
  const int e = number > INT32_MAX ? 0 : static_cast<int>(number);
  const char* name = e == 0 ? nullptr : ::strerrorname_np(e);
  const char* text = e == 0 ? nullptr : ::strerrordesc_np(e);
  if (name == nullptr || text == nullptr) return absl::StrCat("errno ", number);
  return absl::StrCat(name, ": ", text);
}

std::string segment_row_json(const SegmentRow& row) {
  const DiscoveredSegment& f = row.found;
  std::string out = "{";
  append_key(out, "name");
  append_json_string(out, f.name);
  append_key(out, "pid");
  append_json_int(out, f.id.pid);
  append_key(out, "start_ticks");
  append_json_uint(out, f.id.start_ticks);
  if (row.valid) {
    append_key(out, "service");
    append_json_string(out, row.service);
    append_key(out, "program");
    append_json_string(out, row.program);
    append_key(out, "hostname");
    append_json_string(out, row.hostname);
  }
  append_key(out, "state");
  append_json_string(out, row.valid ? row.state : row.refused ? "refused" : "invalid");
  append_key(out, "alive");
  out += row.alive ? "true" : "false";
  if (row.valid) {
    const SegmentSummary& s = row.summary;
    append_key(out, "level");
    append_json_string(out, level_text(s.control_level));
    append_key(out, "rings_active");
    append_json_uint(out, s.active);
    append_key(out, "rings_retired");
    append_json_uint(out, s.retired);
    append_key(out, "ring_slots");
    append_json_uint(out, s.slots);
    append_key(out, "ring_bytes");
    append_json_uint(out, row.ring_bytes);
    append_key(out, "pending_bytes");
    append_json_uint(out, s.pending_bytes);
    append_key(out, "dropped_events");
    append_json_uint(out, s.dropped_events);
    append_key(out, "audit_lost");
    append_json_uint(out, s.audit_lost);
    append_key(out, "sampled_out");
    append_json_uint(out, row.sampled_out);
    append_key(out, "abi_version");
    append_json_uint(out, row.abi_version);
    append_key(out, "lease_pid");
    if (row.lease.has_value()) {
      append_json_int(out, *row.lease);
    } else {
      out += "null";
    }
    append_key(out, "reader_stalled_since");
    const uint64_t since = row.stall.since_realtime_ns_untrusted;
    if (segment_stalled(row) && since <= static_cast<uint64_t>(INT64_MAX)) {
      TimestampFormatter().append(out, static_cast<int64_t>(since));  // quoted
    } else {
      out += "null";
    }
    append_key(out, "reader_stall_error");
    if (const std::string error = segment_stall_error(row); segment_stalled(row) && !error.empty()) {
      append_json_string(out, error);
    } else {
      out += "null";
    }
  } else {
    append_key(out, "error");
    append_json_string(out, row.error);
  }
  append_key(out, "file_bytes");
  append_json_uint(out, f.file_bytes);
  append_key(out, "allocated_bytes");
  append_json_uint(out, f.allocated_bytes);
  out.push_back('}');
  return out;
}

}  // namespace ringtail::reader
