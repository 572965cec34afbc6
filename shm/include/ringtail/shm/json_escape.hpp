// How a byte below 0x80 is escaped in a JSON string: the one rule the reader
// writes strings by (reader/output/json_text) and the producer hashes values
// by (a breakglass token's keyed hash is over its JSON text, and must equal
// the reader's `hash` redaction of the same value), so both use this.
//
// '"' and '\\' and the controls with a short form are written as \" \\ \b \f
// \n \r \t; the other bytes below 0x20 as \u00XX in lowercase hex; every
// other byte below 0x80 (DEL included) as it is.
#pragma once

#include <cstring>

namespace ringtail::shm {

// True if byte `c` (below 0x80) is escaped in a JSON string.
constexpr bool json_needs_escape(unsigned char c) { return c < 0x20 || c == '"' || c == '\\'; }

// Writes the escape of a byte for which json_needs_escape() holds: 2 or 6
// bytes at `out`; returns the end.
inline char* write_json_escape(char* out, unsigned char c) noexcept {
  char short_form = 0;
  switch (c) {
    case '"':
      short_form = '"';
      break;
    case '\\':
      short_form = '\\';
      break;
    case '\b':
      short_form = 'b';
      break;
    case '\f':
      short_form = 'f';
      break;
    case '\n':
      short_form = 'n';
      break;
    case '\r':
      short_form = 'r';
      break;
    case '\t':
      short_form = 't';
      break;
    default:
      break;
  }
  if (short_form != 0) {
    out[0] = '\\';
    out[1] = short_form;
    return out + 2;
  }
  static constexpr char kHex[] = "0123456789abcdef";
  const char escape[6] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 0xF]};
  std::memcpy(out, escape, sizeof(escape));
  return out + sizeof(escape);
}

}  // namespace ringtail::shm
