#include "ringtail/reader/storage/retention.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <filesystem>
#include <map>

#include "absl/strings/str_cat.h"

namespace ringtail::reader {
namespace {

namespace fs = std::filesystem;

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
      unit = 7 * 86400;
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
  if (s != 0 && s % (7 * 86400) == 0) return absl::StrCat(s / (7 * 86400), "w");
  if (s != 0 && s % 86400 == 0) return absl::StrCat(s / 86400, "d");
  if (s != 0 && s % 3600 == 0) return absl::StrCat(s / 3600, "h");
  if (s != 0 && s % 60 == 0) return absl::StrCat(s / 60, "m");
  return absl::StrCat(s, "s");
}

absl::StatusOr<RetentionPlan> plan_retention(const std::string& directory, const RetentionPolicy& policy,
                                             int64_t now_ns) {
  RetentionPlan plan;
  std::error_code ec;
  if (!fs::exists(directory, ec)) return plan;  // nothing stored yet
  if (!fs::is_directory(directory, ec)) {
    return absl::NotFoundError(absl::StrCat(directory, " is not a directory"));
  }
  // Data files by base name, with their companions.
  std::map<std::string, Candidate> by_base;
  std::map<std::string, std::vector<std::pair<std::string, uint64_t>>> companions;  // base -> (path, bytes)
  for (auto it = fs::recursive_directory_iterator(directory, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    if (!it->is_regular_file(ec)) continue;
    const std::string path = it->path().string();
    const std::optional<StoredFileName> name = parse_stored_file_name(it->path().filename().string());
    if (!name) continue;  // not ringtail's (temporary files, notes): neither counted nor touched
    const uint64_t bytes = it->file_size(ec);
    plan.bytes_before += bytes;
    if (name->kind == StoredFileName::Kind::kOpen) {
      plan.skipped_open.push_back(path);
      continue;
    }
    const std::string base = it->path().parent_path().string() + "/" + name->base_name();
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
      candidate.action.last_timestamp = timestamp_from_name_stamp(name->last);
      by_base.emplace(base, std::move(candidate));
    } else if (name->kind == StoredFileName::Kind::kCompressed) {
      // The compressed file is the data; the plain one is a leftover twin.
      found->second.action.companions.push_back(found->second.action.path);
      found->second.action.path = path;
      found->second.name = *name;
      found->second.action.bytes += bytes;
    } else {
      found->second.action.companions.push_back(path);
      found->second.action.bytes += bytes;
    }
  }
  if (ec) return absl::ErrnoToStatus(ec.value(), absl::StrCat("cannot list ", directory, ": ", ec.message()));
  std::vector<Candidate> files;
  for (auto& [base, candidate] : by_base) {
    for (const auto& [path, bytes] : companions[base]) {
      candidate.action.companions.push_back(path);
      candidate.action.bytes += bytes;
    }
    files.push_back(std::move(candidate));
  }
  // Oldest last line first (the name stamps sort as text).
  std::sort(files.begin(), files.end(),
            [](const Candidate& a, const Candidate& b) { return a.name.last < b.name.last; });

  auto older_than = [&](const StoredFileName& name, std::chrono::seconds age) {
    const int64_t cutoff = now_ns - std::chrono::duration_cast<std::chrono::nanoseconds>(age).count();
    return name.last < name_stamp_from_ns(cutoff);
  };
  uint64_t remaining = plan.bytes_before;
  std::vector<bool> taken(files.size(), false);
  for (size_t i = 0; i < files.size(); ++i) {
    const StoredFileName& name = files[i].name;
    const std::optional<std::chrono::seconds>& class_age = policy.class_age[static_cast<size_t>(name.level_class)];
    std::string reason;
    if (class_age && older_than(name, *class_age)) {
      reason = absl::StrCat(std::string(level_class_name(name.level_class)), " older than ", format_age(*class_age));
    } else if (policy.max_age && older_than(name, *policy.max_age)) {
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
  for (const RetentionAction& action : plan.actions) {
    std::vector<std::string> paths = action.companions;
    paths.insert(paths.begin(), action.path);
    for (const std::string& path : paths) {
      std::error_code ec;
      if (archive_directory.empty()) {
        if (!fs::remove(path, ec) && ec) fail(absl::ErrnoToStatus(ec.value(), absl::StrCat("cannot delete ", path)));
        continue;
      }
      const fs::path relative = fs::relative(path, directory, ec);
      const fs::path target = fs::path(archive_directory) / relative;
      fs::create_directories(target.parent_path(), ec);
      fs::rename(path, target, ec);
      if (ec == std::errc::cross_device_link) {
        // Another file system: copy, then delete.
        ec.clear();
        fs::copy_file(path, target, fs::copy_options::overwrite_existing, ec);
        if (!ec) fs::remove(path, ec);
      }
      if (ec) fail(absl::ErrnoToStatus(ec.value(), absl::StrCat("cannot archive ", path, " to ", target.string())));
    }
  }
  return first_error;
}

}  // namespace ringtail::reader
