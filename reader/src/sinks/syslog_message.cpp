#include "ringtail/reader/sinks/syslog_message.hpp"

#include <array>
#include <charconv>
#include <cstddef>

#include "absl/strings/str_cat.h"
#include "ringtail/reader/output/json_text.hpp"

namespace ringtail::reader {
namespace {

constexpr size_t kMaxHostname = 255;
constexpr size_t kMaxAppName = 48;
constexpr size_t kMaxMsgId = 32;
constexpr size_t kMaxSdName = 32;

constexpr std::array<std::string_view, 24> kFacilityNames = {
    "kern",   "user",   "mail",     "daemon", "auth",   "syslog", "lpr",    "news",
    "uucp",   "cron",   "authpriv", "ftp",    "ntp",    "audit",  "alert",  "clock",
    "local0", "local1", "local2",   "local3", "local4", "local5", "local6", "local7"};

constexpr bool printable_ascii(unsigned char c) { return c >= 33 && c <= 126; }

// A header field: PRINTUSASCII, at most `limit` bytes, "-" when empty.
void append_header_field(std::string& out, std::string_view text, size_t limit) {
  if (text.empty()) {
    out.push_back('-');
    return;
  }
  if (text.size() > limit) text = text.substr(0, limit);
  for (const char c : text) out.push_back(printable_ascii(static_cast<unsigned char>(c)) ? c : '_');
}

// A key as SD-NAME: PRINTUSASCII except '=', ' ', ']' and '"', at most 32 bytes.
void append_sd_name(std::string& out, std::string_view name) {
  if (name.empty()) {
    out.push_back('_');
    return;
  }
  if (name.size() > kMaxSdName) name = name.substr(0, kMaxSdName);
  for (const char c : name) {
    const bool allowed = printable_ascii(static_cast<unsigned char>(c)) && c != '=' && c != ']' && c != '"';
    out.push_back(allowed ? c : '_');
  }
}

// PARAM-VALUE: '"', '\' and ']' escaped with a backslash (RFC 5424 6.3.3);
// a control character as \u00XX (receivers drop or rewrite raw ones; a
// backslash of the text is always doubled, so this reads back exactly).
void append_param_value(std::string& out, std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte == 0x7F) {
      out.append("\\u00");
      out.push_back(kHex[byte >> 4]);
      out.push_back(kHex[byte & 0xF]);
      continue;
    }
    if (c == '"' || c == '\\' || c == ']') out.push_back('\\');
    out.push_back(c);
  }
}

}  // namespace

int syslog_severity(shm::Level level) {
  switch (level) {
    case shm::Level::kTrace:
    case shm::Level::kDebug:
      return 7;
    case shm::Level::kInfo:
      return 6;
    case shm::Level::kWarn:
      return 4;
    case shm::Level::kError:
      return 3;
    case shm::Level::kCritical:
      return 2;
    default:
      return 5;  // not an event's level (notice): never written by the reader
  }
}

std::optional<int> parse_syslog_facility(std::string_view text) {
  for (size_t i = 0; i < kFacilityNames.size(); ++i) {
    if (kFacilityNames[i] == text) return static_cast<int>(i);
  }
  int number = -1;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), number);
  if (error != std::errc() || end != text.data() + text.size() || number < 0 ||
      number >= static_cast<int>(kFacilityNames.size())) {
    return std::nullopt;
  }
  return number;
}

SyslogMessageWriter::SyslogMessageWriter(int facility, std::string_view hostname) : facility_(facility) {
  append_header_field(hostname_, hostname, kMaxHostname);
}

void SyslogMessageWriter::append(std::string& out, const SegmentIdentity& segment, const ShapedLines& lines,
                                 const LineShape& shape) {
  if (segment.pid != cached_pid_ || segment.process_start_ticks != cached_start_ ||
      segment.service != cached_service_ || app_procid_.empty()) {
    cached_pid_ = segment.pid;
    cached_start_ = segment.process_start_ticks;
    cached_service_ = segment.service;
    app_procid_.clear();
    append_header_field(app_procid_, segment.service, kMaxAppName);
    absl::StrAppend(&app_procid_, " ", segment.pid);
  }
  absl::StrAppend(&out, "<", facility_ * 8 + syslog_severity(shape.level), ">1 ");
  // The stored time format (json_text.hpp), to the microsecond.
  char stamp[TimestampFormatter::kBytes];
  timestamps_.write(stamp, shape.time_ns);
  out.append(stamp + 1, 26);  // "YYYY-MM-DDTHH:MM:SS.uuuuuu" without the opening quote
  out.push_back('Z');
  out.push_back(' ');
  out.append(hostname_);
  out.push_back(' ');
  out.append(app_procid_);
  out.push_back(' ');
  append_header_field(out, json_string_text(lines.message(shape), scratch_), kMaxMsgId);
  out.push_back(' ');
  out.push_back('[');
  out.append(kSyslogSdId);
  if (shape.has_tid) absl::StrAppend(&out, " tid=\"", shape.tid, "\"");
  if (shape.has_seq) absl::StrAppend(&out, " seq=\"", shape.seq, "\"");
  for (uint32_t i = 0; i < shape.field_count; ++i) {
    const FieldSpan& field = lines.fields[shape.first_field + i];
    out.push_back(' ');
    append_sd_name(out, json_string_text(lines.key(shape, field), scratch_));
    out.append("=\"");
    const std::string_view value = lines.value(shape, field);
    append_param_value(out, json_kind(value) == JsonKind::kString ? json_string_text(value, scratch_) : value);
    out.push_back('"');
  }
  out.append("] ");
  std::string_view line = lines.line(shape);
  if (!line.empty() && line.back() == '\n') line.remove_suffix(1);
  out.append(line);
}

}  // namespace ringtail::reader
