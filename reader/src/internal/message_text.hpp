// Pieces of the reader's parsers of text a person typed (--where, --level,
// --since): trimming, and for their one-line error messages, user text quoted
// inertly and concatenation of std::string_views.
//
// Internal to the reader's sources (not installed). Pure functions.
#pragma once

#include <string>
#include <string_view>

#include "absl/strings/ascii.h"
#include "absl/strings/str_format.h"

namespace ringtail::reader::internal {

// `text` without the ASCII whitespace around it.
inline std::string_view trim_space(std::string_view text) {
  while (!text.empty() && absl::ascii_isspace(static_cast<unsigned char>(text.back()))) text.remove_suffix(1);
  while (!text.empty() && absl::ascii_isspace(static_cast<unsigned char>(text.front()))) text.remove_prefix(1);
  return text;
}

// Debian's Abseil has its own absl::string_view, not std::string_view, so
// absl::StrCat is kept away from std::string_view.
template <class... Pieces>
std::string cat(const Pieces&... pieces) {
  std::string out;
  (out.append(std::string_view{pieces}), ...);
  return out;
}

// User text in a one-line message: control bytes as \xNN, the rest as is
// (a backslash stays one, so a quoted JSON escape reads as typed).
inline std::string printable(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte == 0x7F) {
      absl::StrAppendFormat(&out, "\\x%02x", byte);
    } else {
      out.push_back(c);
    }
  }
  return out;
}

}  // namespace ringtail::reader::internal
