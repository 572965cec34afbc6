// The text of a keyed hash: "hmac:" and the first 8 bytes of an HMAC-SHA256
// digest in lowercase hex ("hmac:0123456789abcdef", 21 characters).
//
// One format, two writers: the producer writes a breakglass token's hash
// (core/src/keyed_hash.cpp) and the reader writes a `hash` redaction
// (reader/src/output/redaction.cpp); both must write the same text for the
// same value and key, and the reader tells the producer's hash from a value
// that merely looks like one with is_hmac_token(). A digest shorter than 8
// bytes gives no token: both sides write kHmacUnavailable instead.
#pragma once

#include <cstddef>
#include <string_view>

namespace ringtail::shm {

inline constexpr std::string_view kHmacTokenPrefix = "hmac:";
// Bytes of the digest the token shows: 64 bits, enough to correlate values,
// too few to help guess a value.
inline constexpr size_t kHmacTokenDigestBytes = 8;
inline constexpr size_t kHmacTokenChars = kHmacTokenPrefix.size() + 2 * kHmacTokenDigestBytes;
// What is written where no digest can be had (no key, a failed HMAC).
inline constexpr std::string_view kHmacUnavailable = "hmac:unavailable";

// Writes the token of `digest` (its first kHmacTokenDigestBytes bytes, which
// it must have) at `out`: kHmacTokenChars bytes; returns the end.
inline char* write_hmac_token(char* out, const unsigned char* digest) noexcept {
  static constexpr char kHex[] = "0123456789abcdef";
  for (const char c : kHmacTokenPrefix) *out++ = c;
  for (size_t i = 0; i < kHmacTokenDigestBytes; ++i) {
    *out++ = kHex[digest[i] >> 4];
    *out++ = kHex[digest[i] & 0xF];
  }
  return out;
}

// True if `text` is a token as write_hmac_token() writes it: the prefix and
// exactly 16 lowercase hex digits.
constexpr bool is_hmac_token(std::string_view text) {
  if (text.size() != kHmacTokenChars || !text.starts_with(kHmacTokenPrefix)) return false;
  for (const char c : text.substr(kHmacTokenPrefix.size())) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

}  // namespace ringtail::shm
