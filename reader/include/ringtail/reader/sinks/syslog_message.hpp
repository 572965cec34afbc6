// SyslogMessageWriter: a shaped line (event_batch.hpp) as an RFC 5424 syslog
// message, without parsing the line.
//
//   <PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID [ringtail@32473 k="v" ...] MSG
//
// PRI is facility * 8 + the level's severity (syslog_severity()); TIMESTAMP
// is the line's time in UTC with microseconds; HOSTNAME is the reader's host;
// APP-NAME the producer's service; PROCID its pid; MSGID the line's message.
// The structured data holds one SD-PARAM per key after the head, in line
// order: tid, seq, the event's fields, its context, "_cut". A string value
// is its text (JSON escapes undone), anything else its JSON text (numbers,
// true/false/null, the "error" object); '"', '\' and ']' are escaped with a
// backslash as RFC 5424 section 6.3.3 requires, and a control character
// (0x00-0x1F, 0x7F), which receivers drop or rewrite, is written as \u00XX:
// undoing those four escapes gives the value back exactly. MSG is the JSON
// line itself, without its newline, so nothing is lost.
//
// The header fields are PRINTUSASCII (33-126) of bounded length: APP-NAME at
// most 48, MSGID 32, HOSTNAME 255 bytes; a byte outside that range becomes
// '_' and a longer field is cut. Likewise a key, as SD-NAME: at most 32
// bytes, without '=', ' ', ']' or '"'. An empty field is "-" (NILVALUE).
//
// Threading: one writer per thread (it keeps scratch text).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "ringtail/reader/ingest/segment_view.hpp"
#include "ringtail/reader/output/json_text.hpp"
#include "ringtail/reader/sinks/event_batch.hpp"
#include "ringtail/shm/layout.hpp"

namespace ringtail::reader {

// ringtail's SD-ID: a name at a private enterprise number (RFC 5424 7.2.2).
inline constexpr std::string_view kSyslogSdId = "ringtail@32473";

// Syslog severities (RFC 5424 table 2) of the levels: TRACE and DEBUG 7
// (debug), INFO 6 (informational), WARN 4 (warning), ERROR 3 (error),
// CRITICAL 2 (critical).
int syslog_severity(shm::Level level);

// A facility by its RFC 5424 name (kern, user, mail, daemon, auth, syslog,
// lpr, news, uucp, cron, authpriv, ftp, ntp, audit, alert, clock, local0 ...
// local7) or number (0-23).
std::optional<int> parse_syslog_facility(std::string_view text);

class SyslogMessageWriter {
 public:
  // facility: 0-23. hostname: the HOSTNAME field (made printable and cut).
  SyslogMessageWriter(int facility, std::string_view hostname);

  // Appends line `shape` of `lines`, produced by `segment`'s process, as one
  // message (no framing, no newline).
  void append(std::string& out, const SegmentIdentity& segment, const ShapedLines& lines, const LineShape& shape);

 private:
  int facility_;
  std::string hostname_;
  // At most this many layouts' parameter names are kept (then the table starts again).
  static constexpr size_t kMaxLayouts = 4096;

  // " NAME=\"" of each field of the line: worked out once per layout.
  const std::vector<std::string>& param_names(const ShapedLines& lines, const LineShape& shape);

  // "APP-NAME PROCID" of the last process seen: most batches are one segment's.
  uint32_t cached_pid_ = 0;
  uint64_t cached_start_ = 0;
  std::string cached_service_;
  std::string app_procid_;
  TimestampFormatter timestamps_;
  std::string scratch_;  // a key's or string value's text, unescaped
  absl::flat_hash_map<uint64_t, std::vector<std::string>> names_by_layout_;
  std::vector<std::string> unshared_names_;  // of a line without a layout
};

}  // namespace ringtail::reader
