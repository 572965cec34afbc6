#include "filter_flags.hpp"
#include "ringtail/reader/ingest/timestamp.hpp"

#include <time.h>

#include <charconv>

#include "absl/strings/str_cat.h"
#include "common.hpp"
#include "ringtail/reader/output/time_text.hpp"

namespace ringtail::cli {
namespace {}  // namespace

void add_filter_flags(CLI::App* app, FilterFlags& flags) {
  app->add_option("--since", flags.since, "From this time on (RFC 3339, or relative: -1h, -7d, 30m)")
      ->type_name("TIME");
  app->add_option("--until", flags.until, "Before this time (same forms)")->type_name("TIME");
  app->add_option("--level", flags.level, "This level and above (TRACE, DEBUG, INFO, WARN, ERROR, CRITICAL)")
      ->type_name("LEVEL");
  app->add_option("--message", flags.message, "Only events with this message")->type_name("TEXT");
  app->add_option("--pid", flags.pid, "Only this producer process")->type_name("PID");
  app->add_option("--service", flags.service, "Only this service")->type_name("NAME");
  app->add_option("--where", flags.where,
                  "KEY=VALUE, KEY!=VALUE, KEY>N, KEY>=N, KEY<N, KEY<=N, KEY~REGEX or 'KEY exists'; repeatable, "
                  "all must hold; values compare as JSON types (allow=false is the boolean)")
      ->type_name("EXPR");
}

reader::Filter build_filter(const FilterFlags& flags) {
  reader::Filter filter;
  const int64_t now = reader::realtime_now_ns();
  if (!flags.since.empty()) {
    absl::StatusOr<int64_t> since = reader::parse_time_bound(flags.since, now);
    if (!since.ok()) usage_error(absl::StrCat("--since: ", since.status().message()));
    filter.set_since(*since);
  }
  if (!flags.until.empty()) {
    absl::StatusOr<int64_t> until = reader::parse_time_bound(flags.until, now);
    if (!until.ok()) usage_error(absl::StrCat("--until: ", until.status().message()));
    filter.set_until(*until);
  }
  if (!flags.level.empty()) {
    absl::StatusOr<shm::Level> level = reader::parse_min_level(flags.level);
    if (!level.ok()) usage_error(absl::StrCat("--level: ", level.status().message()));
    filter.set_min_level(*level);
  }
  if (!flags.message.empty()) filter.add(reader::WhereClause::equals("message", flags.message));
  if (!flags.service.empty()) filter.add(reader::WhereClause::equals("service", flags.service));
  if (!flags.pid.empty()) {
    uint64_t pid = 0;
    const std::string& text = flags.pid;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), pid);
    if (error != std::errc() || end != text.data() + text.size() || pid == 0) {
      usage_error(absl::StrCat("--pid: '", text, "' is not a process id"));
    }
    filter.add(reader::WhereClause::equals("pid", pid));
  }
  for (const std::string& text : flags.where) {
    absl::StatusOr<reader::WhereClause> clause = reader::parse_where(text);
    if (!clause.ok()) usage_error(std::string{clause.status().message()});
    filter.add(std::move(*clause));
  }
  return filter;
}

std::string describe_filter(const FilterFlags& flags) {
  std::string out;
  const auto flag = [&out](std::string_view name, const std::string& value) {
    if (value.empty()) return;
    if (!out.empty()) out += ' ';
    out += name;
    out += ' ';
    // Quoted as a POSIX shell would need it when it holds more than plain characters.
    const bool plain =
        value.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.:/+,@") ==
        std::string::npos;
    if (plain) {
      out += value;
      return;
    }
    out += '\'';
    for (const char c : value) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    out += '\'';
  };
  flag("--since", flags.since);
  flag("--until", flags.until);
  flag("--level", flags.level);
  flag("--message", flags.message);
  flag("--pid", flags.pid);
  flag("--service", flags.service);
  for (const std::string& where : flags.where) flag("--where", where);
  return out;
}

}  // namespace ringtail::cli
