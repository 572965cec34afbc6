// JSON text primitives for the JSONL writer: strings, numbers, timestamps.
//
// Every byte a producer logs must come out as valid UTF-8 JSON (RFC 8259), so
// strings are escaped here, not trusted: quotes, backslashes and all control
// characters are escaped, and every ill-formed UTF-8 sequence (overlong forms,
// surrogates, code points above U+10FFFF, truncated sequences, stray
// continuation bytes) is replaced by U+FFFD, one per maximal ill-formed
// subpart, as the Unicode standard recommends.
//
// Written by hand rather than through a library: the JSON libraries in
// Debian 12 (simdjson) parse but do not build documents, and these few
// functions sit on the reader's per-event path, where they must not allocate
// beyond the output buffer.
//
// The append_* functions append to `out`. The write_* functions underneath
// write at `out` (room for at most the documented bound must be there) and
// return the end of what they wrote: a line formatter reserves room for a
// whole line once and writes with these, instead of growing a string per
// piece. All are thread-compatible (no shared state).
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace ringtail::reader {

// Appends `bytes` as a quoted JSON string.
void append_json_string(std::string& out, std::string_view bytes);
// At most json_string_bound(bytes.size()) bytes: 6 per input byte (\u00XX)
// and the quotes.
constexpr size_t json_string_bound(size_t bytes) { return 6 * bytes + 2; }
// Writes `bytes` as a quoted JSON string at `out` (room for
// json_string_bound) and returns its end; it writes nothing past that end.
char* write_json_string(char* out, std::string_view bytes);
// Copies text that is JSON already (keys, punctuation, cached pieces) at `out`; returns the end.
inline char* write_raw(char* out, std::string_view text) {
  std::memcpy(out, text.data(), text.size());
  return out + text.size();
}

// The text of a JSON string as the reader writes it (json_escape.hpp): with
// its quotes, or without them as a line's key and message spans are. A view
// of `written` when it holds no escape, else unescaped into `scratch`
// (\uXXXX to UTF-8; a lone surrogate, never written, as U+FFFD).
std::string_view json_string_text(std::string_view written, std::string& scratch);

// Appends a double with the shortest text that reads back to the same value.
// JSON has no NaN or infinities: they are written as the strings "NaN",
// "Infinity" and "-Infinity" (the proto3 JSON convention), so no value is lost
// and every line still parses.
void append_json_double(std::string& out, double value);
void append_json_float(std::string& out, float value);

void append_json_int(std::string& out, int64_t value);
void append_json_uint(std::string& out, uint64_t value);

// The bound of every write_json_<number> (the longest double text is 24).
// Each needs that much room at `out`: the integers store whole words and may
// leave bytes past the end they return, within the bound.
inline constexpr size_t kJsonNumberBound = 32;
char* write_json_double(char* out, double value);
char* write_json_float(char* out, float value);
char* write_json_int(char* out, int64_t value);
char* write_json_uint(char* out, uint64_t value);

// An error value as a JSON object:
//   {"type":"std::runtime_error","message":"…","code":N,"stack":["frame",…]}
// "code" only with has_code; "stack" only when it has a frame. `type` and
// `message` as they are to be shown (the type already demangled); `stack`
// holds frames separated by '\n' (empty ones are skipped), each written as
// `frame_text` shows it (as it is when null). frame_text must give the same
// text for the same frame every time: the bound relies on it.
struct JsonError {
  std::string_view type;
  std::string_view message;
  std::string_view stack;
  int64_t code = 0;
  bool has_code = false;
  std::string_view (*frame_text)(std::string_view frame) = nullptr;
};
void append_json_error(std::string& out, const JsonError& error);
// At most json_error_bound(error) bytes.
size_t json_error_bound(const JsonError& error);
char* write_json_error(char* out, const JsonError& error);

// Formats ns since the Unix epoch as RFC 3339 UTC with nanoseconds,
// "2026-11-22T21:00:00.123456789Z". The date and time of day are cached per
// second, so consecutive events of the same second cost a few stores.
class TimestampFormatter {
 public:
  void append(std::string& out, int64_t realtime_ns);
  // The same text, quotes included: exactly kBytes bytes.
  static constexpr size_t kBytes = 32;
  char* write(char* out, int64_t realtime_ns);

 private:
  // The second of the last stamp, as its first nanosecond, and its text: a
  // stamp in the same second needs no division. Not cached: the second
  // before INT64_MIN's first full one, whose start is below INT64_MIN.
  bool cached_ = false;
  int64_t second_start_ns_ = 0;
  char prefix_[20] = {};  // "YYYY-MM-DDTHH:MM:SS"
};

}  // namespace ringtail::reader
