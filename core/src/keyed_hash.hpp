// The producer's keyed hash: the process's secret key, set up by init().
// Not API.
//
// Some values must be correlatable but never written: a breakglass token is
// logged only as "hmac:" and the first 8 bytes (16 hex digits) of
// HMAC-SHA256(key, the value's JSON text), the text and format of the
// reader's `hash` redaction rule (reader/src/output/redaction.cpp), so that a
// producer's hash and a reader's hash of the same value under the same key
// are equal. The hashing itself is ringtail::detail::token_hash
// (ringtail/agent.hpp), implemented in keyed_hash.cpp.
//
// The key is one immutable heap object behind an atomic pointer: init()
// publishes it (release), any thread reads it with one acquire load and no
// lock. A key replaced by a later init() (a fork child's, or after a failed
// init with a new key) is never freed, since a thread may still be hashing
// with it; one object per distinct key, so the leak is bounded.
#pragma once

#include <string_view>

#include "absl/status/status.h"

namespace ringtail::detail {

// Bytes of the random key made when Options::hash_key is empty.
inline constexpr size_t kRandomHashKeyBytes = 32;

// Publishes `key` as the process's hash key. An empty `key` keeps the key
// already published (a fork child, or a second init() after an error, hashes
// as before), or makes kRandomHashKeyBytes random bytes (getrandom(2)) when
// there is none. A non-empty key equal to the published one changes nothing.
// Fails only when no random bytes can be had. Cold path: init(), under the
// runtime's lock.
absl::Status install_hash_key(std::string_view key);

}  // namespace ringtail::detail
