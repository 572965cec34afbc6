// The retention flags `ringtail drain` and `ringtail retain` share, and
// their translation into a reader::RetentionPolicy (usage errors exit 2).
#pragma once

#include <string>

#include "CLI/CLI.hpp"
#include "ringtail/reader/storage/retention.hpp"

namespace ringtail::cli {

struct RetentionFlags {
  std::string max_age;
  std::string max_bytes;
  std::string class_age[4];  // debug, info, warn, error; empty: the default
  std::string archive;
};

void add_retention_flags(CLI::App* app, RetentionFlags& flags);
// Exits with a usage error on a bad age or size.
reader::RetentionPolicy retention_policy(const RetentionFlags& flags);

}  // namespace ringtail::cli
