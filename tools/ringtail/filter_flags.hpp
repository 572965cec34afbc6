// The filter flags `ringtail query`, `stats`, `report` and `export` share
// (--since, --until, --level, --message, --pid, --service, --where), and
// their translation into a reader::Filter (usage errors exit 2, pointing at
// the bad part).
#pragma once

#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "ringtail/reader/query/filter.hpp"

namespace ringtail::cli {

struct FilterFlags {
  std::string since;
  std::string until;
  std::string level;
  std::string message;
  std::string pid;
  std::string service;
  std::vector<std::string> where;
};

void add_filter_flags(CLI::App* app, FilterFlags& flags);
reader::Filter build_filter(const FilterFlags& flags);

// The flags as given, as a command line would repeat them
// ("--service agent --where 'allow=false'"); "" when none was given.
std::string describe_filter(const FilterFlags& flags);

}  // namespace ringtail::cli
