#include "ringtail/reader/sinks/syslog_message.hpp"

#include <array>
#include <charconv>
#include <cstddef>
#include <string>
#include <vector>

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

// PARAM-VALUE: '"', '\\' and ']' escaped with a backslash (RFC 5424 6.3.3);
// a control character as \u00XX (receivers drop or rewrite raw ones; a
// backslash of the text is always doubled, so this reads back exactly).
// Runs of bytes that need nothing are appended whole.
void append_param_value(std::string& out, std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  size_t run = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    const auto byte = static_cast<unsigned char>(text[i]);
    const bool control = byte < 0x20 || byte == 0x7F;
    if (!control && byte != '"' && byte != '\\' && byte != ']') continue;
    out.append(text.data() + run, i - run);
    run = i + 1;
    if (control) {
      const char escape[] = {'\\', 'u', '0', '0', kHex[byte >> 4], kHex[byte & 0xF]};
      out.append(escape, sizeof(escape));
    } else {
      out.push_back('\\');
      out.push_back(static_cast<char>(byte));
    }
  }
  out.append(text.data() + run, text.size() - run);
}

// " NAME=\"" of every field of a line, for its SD-PARAMs.
void append_param_names(std::vector<std::string>& names, const ShapedLines& lines, const LineShape& shape,
                        std::string& scratch) {
  names.resize(shape.field_count);
  for (uint32_t i = 0; i < shape.field_count; ++i) {
    std::string& name = names[i];
    name.clear();
    name.push_back(' ');
    append_sd_name(name, json_string_text(lines.key(shape, lines.fields[shape.first_field + i]), scratch));
    name.append("=\"");
  }
}

void append_uint(std::string& out, uint64_t value) {
  char digits[kJsonNumberBound];
  out.append(digits, write_json_uint(digits, value));
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

const std::vector<std::string>& SyslogMessageWriter::param_names(const ShapedLines& lines, const LineShape& shape) {
  if (shape.layout == 0) {
    append_param_names(unshared_names_, lines, shape, scratch_);
    return unshared_names_;
  }
  if (const auto it = names_by_layout_.find(shape.layout); it != names_by_layout_.end()) return it->second;
  if (names_by_layout_.size() >= kMaxLayouts) names_by_layout_.clear();  // a bound, not a cache policy: layouts are few
  std::vector<std::string>& names = names_by_layout_[shape.layout];
  append_param_names(names, lines, shape, scratch_);
  return names;
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
    app_procid_.push_back(' ');
    append_uint(app_procid_, segment.pid);
  }
  std::string_view line = lines.line(shape);
  if (!line.empty() && line.back() == '\n') line.remove_suffix(1);
  // The message is about twice its line (the fields, then the line): grow once.
  out.reserve(out.size() + 2 * line.size() + hostname_.size() + app_procid_.size() + 128);
  out.push_back('<');
  const int priority = facility_ * 8 + syslog_severity(shape.level);  // 0 to 191
  append_uint(out, static_cast<uint64_t>(priority));
  out.append(">1 ");
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
  out.append(" [");
  out.append(kSyslogSdId);
  if (shape.has_tid) {
    out.append(" tid=\"");
    append_uint(out, shape.tid);
    out.push_back('"');
  }
  if (shape.has_seq) {
    out.append(" seq=\"");
    append_uint(out, shape.seq);
    out.push_back('"');
  }
  const std::vector<std::string>& names = param_names(lines, shape);
  for (uint32_t i = 0; i < shape.field_count; ++i) {
    out.append(names[i]);
    const std::string_view value = lines.value(shape, lines.fields[shape.first_field + i]);
    append_param_value(out, json_kind(value) == JsonKind::kString ? json_string_text(value, scratch_) : value);
    out.push_back('"');
  }
  out.append("] ");
  out.append(line);
}

}  // namespace ringtail::reader
