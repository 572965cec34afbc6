// The redaction flags `ringtail drain` and `ringtail tail` share, and the
// Redactor they make (reader/output/redaction.hpp): rules from flags and a
// file, the default rules unless turned off, and the keyed hash (HMAC-SHA256,
// reader/output/hash_key.hpp) with its key.
//
// The hash key: --hash-key-file FILE (its bytes), else for drain
// DIR/.ringtail-hash-key, created with 32 random bytes (mode 0600) on first
// use so that hashes stay comparable across runs over one directory; for
// tail without a file, 32 random bytes for this run only.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "ringtail/reader/output/redaction.hpp"

namespace ringtail::cli {

struct RedactionFlags {
  std::vector<std::string> redact;
  std::vector<std::string> hash;
  std::vector<std::string> truncate;   // KEY=N
  std::vector<std::string> keep_ends;  // KEY=N
  std::string rules_file;
  std::string hash_key_file;
  bool no_defaults = false;
};

void add_redaction_flags(CLI::App* app, RedactionFlags& flags);
// Usage errors exit 2; an unreadable rules or key file is a runtime error
// (exit 1). `store_directory`: where drain keeps its key (empty for tail).
std::shared_ptr<const reader::Redactor> make_redactor(const RedactionFlags& flags, const std::string& store_directory);

}  // namespace ringtail::cli
