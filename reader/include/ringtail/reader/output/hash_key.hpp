// The secret key of the `hash` redaction rule (redaction.hpp), and the keyed
// hash made with it: HMAC-SHA256 (OpenSSL).
//
// Where a key comes from is the caller's choice among three:
//   read_hash_key_file()  a file's bytes, all of them, whatever they are;
//   store_hash_key()      DIR/.ringtail-hash-key, made on first use with
//                         kHashKeyBytes random bytes (mode 0600), so that
//                         hashes stay comparable across runs over one store;
//   random_hash_key()     kHashKeyBytes random bytes, for one run only.
// An empty key is refused: an HMAC with no secret is a plain hash that
// anyone can recompute over guessed values.
//
// The store's key is created exclusively (two drains starting at once agree
// on one key) and never read through a symbolic link: a key that is not a
// regular file is an error.
//
// Error messages are whole sentences naming the file; callers print them as
// they are. Threading: plain functions; the KeyedHash is thread-safe.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "ringtail/reader/output/redaction.hpp"

namespace ringtail::reader {

inline constexpr size_t kHashKeyBytes = 32;
inline constexpr std::string_view kStoreHashKeyName = ".ringtail-hash-key";

// kHashKeyBytes from getrandom(). Internal error if the kernel gives none.
absl::StatusOr<std::string> random_hash_key();

// The bytes of the file `path`. FailedPrecondition "cannot read the hash key
// <path>" if it cannot be read; InvalidArgument if it is empty.
absl::StatusOr<std::string> read_hash_key_file(const std::string& path);

// The key kept in the store directory `directory` (created, with mode 0750,
// if missing): read, or made when there is none yet. Errors: the
// directory's, or those of creating, writing or reading the key file;
// FailedPrecondition for an empty key file.
absl::StatusOr<std::string> store_hash_key(const std::string& directory);

// HMAC-SHA256 keyed with `key`: the digest's 32 bytes.
Redactor::KeyedHash hmac_sha256(std::string key);

}  // namespace ringtail::reader
