#include "retention_flags.hpp"

#include "absl/strings/str_cat.h"
#include "common.hpp"

namespace ringtail::cli {

void add_retention_flags(CLI::App* app, RetentionFlags& flags) {
  const reader::RetentionPolicy defaults;
  app->add_option("--max-age", flags.max_age, "Delete files the drain wrote longer ago than this (e.g. 90d)")
      ->type_name("AGE");
  app->add_option("--max-bytes", flags.max_bytes,
                  "Then delete the oldest files until DIR holds at most this (e.g. 10G)")
      ->type_name("SIZE");
  for (int i = 0; i < reader::kLevelClassCount; ++i) {
    const std::string name(reader::level_class_name(static_cast<reader::LevelClass>(i)));
    app->add_option("--" + name + "-age", flags.class_age[i],
                    absl::StrCat("Keep ", name, " files this long (default ",
                                 reader::format_age(*defaults.class_age[i]), "; 'forever' keeps them)"))
        ->type_name("AGE");
  }
  app->add_option("--archive", flags.archive, "Move expired files under this directory instead of deleting them")
      ->type_name("DIR");
}

reader::RetentionPolicy retention_policy(const RetentionFlags& flags) {
  reader::RetentionPolicy policy;
  auto age = [](const std::string& flag, const std::string& text) {
    absl::StatusOr<std::chrono::seconds> parsed = reader::parse_age(text);
    if (!parsed.ok()) usage_error(absl::StrCat(flag, ": ", parsed.status().message()));
    return *parsed;
  };
  if (!flags.max_age.empty()) policy.max_age = age("--max-age", flags.max_age);
  if (!flags.max_bytes.empty()) {
    absl::StatusOr<uint64_t> bytes = reader::parse_size(flags.max_bytes);
    if (!bytes.ok()) usage_error(absl::StrCat("--max-bytes: ", bytes.status().message()));
    policy.max_bytes = *bytes;
  }
  for (int i = 0; i < reader::kLevelClassCount; ++i) {
    if (flags.class_age[i].empty()) continue;
    const std::string flag =
        absl::StrCat("--", std::string(reader::level_class_name(static_cast<reader::LevelClass>(i))), "-age");
    if (flags.class_age[i] == "forever") {
      policy.class_age[i].reset();
    } else {
      policy.class_age[i] = age(flag, flags.class_age[i]);
    }
  }
  return policy;
}

}  // namespace ringtail::cli
