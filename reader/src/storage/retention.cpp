#include "ringtail/reader/storage/retention.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <map>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "ringtail/reader/storage/store_dir.hpp"

namespace ringtail::reader {
namespace {

constexpr int64_t kWeekSeconds = int64_t{7} * 86400;

// Directories made under the archive (the umask applies).
constexpr mode_t kArchiveDirectoryMode = 0750;

struct Candidate {
  RetentionAction action;
  StoredFileName name;
};

}  // namespace

absl::StatusOr<std::chrono::seconds> parse_age(std::string_view text) {
  const std::string shown(text);
  if (text.size() < 2) return absl::InvalidArgumentError(absl::StrCat("bad age '", shown, "': use e.g. 7d, 12h, 30m"));
  uint64_t n = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size() - 1, n);
  if (error != std::errc() || end != text.data() + text.size() - 1) {
    return absl::InvalidArgumentError(absl::StrCat("bad age '", shown, "': use a whole number and a unit, e.g. 7d"));
  }
  uint64_t unit = 0;
  switch (text.back()) {
    case 's':
      unit = 1;
      break;
    case 'm':
      unit = 60;
      break;
    case 'h':
      unit = 3600;
      break;
    case 'd':
      unit = 86400;
      break;
    case 'w':
      unit = kWeekSeconds;
      break;
    default:
      return absl::InvalidArgumentError(absl::StrCat("bad age '", shown, "': the unit is one of s, m, h, d, w"));
  }
  if (n > (uint64_t{1} << 40) / unit) return absl::InvalidArgumentError(absl::StrCat("age '", shown, "' is too large"));
  return std::chrono::seconds(static_cast<int64_t>(n * unit));
}

absl::StatusOr<uint64_t> parse_size(std::string_view text) {
  const std::string shown(text);
  if (text.empty()) return absl::InvalidArgumentError("bad size '': use e.g. 500M, 10G");
  uint64_t unit = 1;
  std::string_view digits = text;
  switch (text.back()) {
    case 'K':
    case 'k':
      unit = uint64_t{1} << 10;
      break;
    case 'M':
      unit = uint64_t{1} << 20;
      break;
    case 'G':
      unit = uint64_t{1} << 30;
      break;
    case 'T':
      unit = uint64_t{1} << 40;
      break;
    default:
      break;
  }
  if (unit != 1) digits.remove_suffix(1);
  uint64_t n = 0;
  const auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
  if (digits.empty() || error != std::errc() || end != digits.data() + digits.size()) {
    return absl::InvalidArgumentError(absl::StrCat("bad size '", shown, "': use bytes or K, M, G, T, e.g. 500M"));
  }
  if (n > UINT64_MAX / unit) return absl::InvalidArgumentError(absl::StrCat("size '", shown, "' is too large"));
  return n * unit;
}

std::string format_age(std::chrono::seconds age) {
  const int64_t s = age.count();
  if (s != 0 && s % (kWeekSeconds) == 0) return absl::StrCat(s / (kWeekSeconds), "w");
  if (s != 0 && s % 86400 == 0) return absl::StrCat(s / 86400, "d");
  if (s != 0 && s % 3600 == 0) return absl::StrCat(s / 3600, "h");
  if (s != 0 && s % 60 == 0) return absl::StrCat(s / 60, "m");
  return absl::StrCat(s, "s");
}

absl::StatusOr<RetentionPlan> plan_retention(const std::string& directory, const RetentionPolicy& policy,
                                             int64_t now_ns) {
  RetentionPlan plan;
  absl::StatusOr<StoreDir> root = StoreDir::open(directory);
  if (!root.ok()) {
    if (root.status().code() == absl::StatusCode::kNotFound) return plan;  // nothing stored yet
    if (root.status().code() == absl::StatusCode::kFailedPrecondition) {
      return absl::NotFoundError(absl::StrCat(directory, " is not a directory"));
    }
    return root.status();
  }
  std::vector<Candidate> files;
  absl::Status walked = walk_store(
      *root,
      [&](const StoreDir& dir, std::vector<StoreDir::Entry>& entries) -> absl::Status {
        // Data files by base name, with their companions (all in one directory).
        std::map<std::string, Candidate> by_base;
        std::map<std::string, std::vector<std::pair<std::string, uint64_t>>> companions;  // base -> (path, bytes)
        for (const StoreDir::Entry& entry : entries) {
          const std::optional<StoredFileName> name = parse_stored_file_name(entry.name);
          if (!name) continue;  // not ringtail's (temporary files, notes): neither counted nor touched
          const std::string path = dir.path_of(entry.name);
          const uint64_t bytes = static_cast<uint64_t>(entry.st.st_size);
          plan.bytes_before += bytes;
          if (name->kind == StoredFileName::Kind::kOpen) {
            plan.skipped_open.push_back(path);
            continue;
          }
          const std::string base = name->base_name();
          if (name->kind == StoredFileName::Kind::kIndex) {
            companions[base].emplace_back(path, bytes);
            continue;
          }
          auto found = by_base.find(base);
          if (found == by_base.end()) {
            Candidate candidate;
            candidate.name = *name;
            candidate.action.path = path;
            candidate.action.bytes = bytes;
            candidate.action.written_ns = modified_ns(entry.st);
            by_base.emplace(base, std::move(candidate));
          } else if (name->kind == StoredFileName::Kind::kCompressed) {
            // The compressed file is the data; the plain one is a leftover twin.
            RetentionAction& action = found->second.action;
            action.companions.push_back(action.path);
            action.path = path;
            action.bytes += bytes;
            action.written_ns = modified_ns(entry.st);
            found->second.name = *name;
          } else {
            found->second.action.companions.push_back(path);
            found->second.action.bytes += bytes;
          }
        }
        for (auto& [base, candidate] : by_base) {
          for (const auto& [path, bytes] : companions[base]) {
            candidate.action.companions.push_back(path);
            candidate.action.bytes += bytes;
          }
          files.push_back(std::move(candidate));
        }
        return absl::OkStatus();
      },
      [&](std::string_view line) { plan.skipped.emplace_back(line); });
  if (!walked.ok()) return walked;
  // Oldest first: by when the reader wrote them, never by the timestamps in
  // their lines (a producer chose those).
  std::sort(files.begin(), files.end(), [](const Candidate& a, const Candidate& b) {
    return a.action.written_ns != b.action.written_ns ? a.action.written_ns < b.action.written_ns
                                                      : a.action.path < b.action.path;
  });

  auto older_than = [&](const Candidate& file, std::chrono::seconds age) {
    return file.action.written_ns < now_ns - std::chrono::duration_cast<std::chrono::nanoseconds>(age).count();
  };
  uint64_t remaining = plan.bytes_before;
  std::vector<bool> taken(files.size(), false);
  for (size_t i = 0; i < files.size(); ++i) {
    const StoredFileName& name = files[i].name;
    const std::optional<std::chrono::seconds>& class_age = policy.class_age[static_cast<size_t>(name.level_class)];
    std::string reason;
    if (class_age && older_than(files[i], *class_age)) {
      reason = absl::StrCat(std::string(level_class_name(name.level_class)), " older than ", format_age(*class_age));
    } else if (policy.max_age && older_than(files[i], *policy.max_age)) {
      reason = absl::StrCat("older than max-age ", format_age(*policy.max_age));
    }
    if (reason.empty()) continue;
    files[i].action.reason = std::move(reason);
    taken[i] = true;
    remaining -= files[i].action.bytes;
  }
  if (policy.max_bytes) {
    for (size_t i = 0; i < files.size() && remaining > *policy.max_bytes; ++i) {
      if (taken[i]) continue;
      files[i].action.reason = absl::StrCat("over max-bytes ", *policy.max_bytes);
      taken[i] = true;
      remaining -= files[i].action.bytes;
    }
  }
  for (size_t i = 0; i < files.size(); ++i) {
    if (taken[i]) plan.actions.push_back(std::move(files[i].action));
  }
  plan.bytes_after = remaining;
  return plan;
}

absl::Status apply_retention(const RetentionPlan& plan, const std::string& directory,
                             const std::string& archive_directory,
                             const std::function<void(std::string_view)>& report) {
  absl::Status first_error;
  auto fail = [&](absl::Status status) {
    if (report) report(std::string(status.message().data(), status.message().size()));
    if (first_error.ok()) first_error = std::move(status);
  };
  if (plan.actions.empty()) return first_error;
  absl::StatusOr<StoreDir> root = StoreDir::open(directory);
  if (!root.ok()) {
    fail(root.status());
    return first_error;
  }
  std::optional<StoreDir> archive;
  if (!archive_directory.empty()) {
    absl::StatusOr<StoreDir> made = StoreDir::create(archive_directory, kArchiveDirectoryMode);
    if (!made.ok()) {
      fail(made.status());
      return first_error;
    }
    archive.emplace(*std::move(made));
  }
  const std::string prefix = root->path() == "/" ? "/" : root->path() + "/";
  for (const RetentionAction& action : plan.actions) {
    // The files of an action share a directory: DIR/<relative>.
    const size_t slash = action.path.rfind('/');
    if (!action.path.starts_with(prefix) || slash == std::string::npos || slash + 1 < prefix.size()) {
      fail(absl::InvalidArgumentError(absl::StrCat(action.path, " is not below ", root->path())));
      continue;
    }
    const std::string relative =
        slash + 1 == prefix.size() ? std::string() : action.path.substr(prefix.size(), slash - prefix.size());
    absl::StatusOr<StoreDir> from = root->descend(relative);
    if (!from.ok()) {
      fail(from.status());
      continue;
    }
    std::optional<StoreDir> to;
    if (archive) {
      absl::StatusOr<StoreDir> made = archive->descend(relative, kArchiveDirectoryMode);
      if (!made.ok()) {
        fail(absl::Status(made.status().code(),
                          absl::StrCat("cannot archive ", action.path, ": ", made.status().message())));
        continue;
      }
      to.emplace(*std::move(made));
    }
    std::vector<std::string> paths = action.companions;
    paths.insert(paths.begin(), action.path);
    for (const std::string& path : paths) {
      absl::Status status;
      if (path.size() <= slash + 1 || path.compare(0, slash + 1, action.path, 0, slash + 1) != 0 ||
          path.find('/', slash + 1) != std::string::npos) {
        status = absl::InvalidArgumentError(absl::StrCat(path, " is not beside ", action.path));
      } else if (const std::string name = path.substr(slash + 1); !to) {
        status = from->remove(name);
        if (status.code() == absl::StatusCode::kNotFound) status = absl::OkStatus();
      } else {
        status = from->move_to(name, *to, name);
        if (!status.ok()) {
          status = absl::Status(status.code(), absl::StrCat("cannot archive ", path, ": ", status.message()));
        }
      }
      if (status.ok()) continue;
      fail(std::move(status));
      // The companions stay with a data file that stays.
      if (path == action.path) break;
    }
  }
  return first_error;
}

}  // namespace ringtail::reader
