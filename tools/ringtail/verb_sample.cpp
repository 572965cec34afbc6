// ringtail sample [TARGET] [RULES]: shows or replaces live producers'
// sampling rules (RINGTAIL_SAMPLE, see shm/sample_rules.hpp).
//
// The rules live in two places of a segment: the header's rules text (a
// seqlock), which the producer applies to each call site it registers from
// then on, and each registered site's CallSiteEntry::sample_keep word, which
// the producer reads on every event of the site. Replacing the rules writes
// the text first, then recomputes the word of every site in the table from
// the site's level, message, file and line (all through SegmentView); sites
// the producer registers meanwhile read the new text. A site registered exactly while the words are
// rewritten may still have read the old text: the table is therefore swept
// again until it stops growing.
#include <sys/types.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common.hpp"
#include "ringtail/reader/ingest/callsite_table.hpp"
#include "ringtail/reader/ingest/segment_directory.hpp"
#include "ringtail/reader/ingest/segment_view.hpp"
#include "ringtail/shm/process_identity.hpp"
#include "ringtail/shm/sample_rules.hpp"
#include "verbs.hpp"

namespace ringtail::cli {
namespace {

constexpr const char* kSampleHelp =
    "TARGET is a producer's pid, a service name (every live producer of that service), or \"all\" (the default: "
    "every live producer of yours).\n"
    "Without RULES, prints each target's rules and every call site they sample (sample_keep != 0) with the "
    "fraction of its events kept.\n"
    "With RULES, replaces the rules: the producer applies them to its call sites at once (new and existing). "
    "RULES is comma-separated selector=rate items, the syntax of RINGTAIL_SAMPLE:\n"
    "  trace|debug|info|warn|error|critical=RATE   sites of that level\n"
    "  msg:MESSAGE=RATE                            sites whose message is exactly MESSAGE\n"
    "  site:FILE:LINE=RATE                         the site at LINE of a file whose path ends in FILE\n"
    "RATE is the fraction of events kept, a decimal from 0 (none) to 1 (all). A site rule beats a msg rule, "
    "which beats a level rule; the last of equals wins. Inside a trace (a Span), all events of the trace are "
    "kept or left out together. \"\" or \"none\" clears the rules. Sampled-out events are counted per ring "
    "(ringtail ls: SAMPLED), not as drops.\n"
    "Setting prints one line per producer: pid N: sampling OLD -> NEW (K of M call sites sampled), the rules "
    "quoted, or (none).\n"
    "Exit status: 0 done; 1 no live producer matches TARGET, or a segment cannot be read or opened for writing; "
    "2 usage error (bad RULES).";

struct SampleConfig {
  std::string target = "all";
  std::string rules;
  bool set = false;  // RULES was given
};

bool is_pid(const std::string& text) {
  return !text.empty() && text.size() <= 10 &&
         std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// The rules as given: "none" means no rules.
std::string rules_text(const std::string& given) { return given == "none" ? std::string() : given; }

CLI::Validator rules_validator() {
  return CLI::Validator(
      [](std::string& text) -> std::string {
        const absl::Status s = shm::parse_sample_rules(rules_text(text)).status();
        return s.ok() ? std::string() : std::string(s.message().data(), s.message().size());
      },
      "");
}

// A live producer's segment, mapped for this verb.
struct Target {
  std::string name;
  pid_t pid = 0;
  std::unique_ptr<reader::SegmentView> view;
};

absl::StatusOr<Target> open_target(const reader::DiscoveredSegment& found, bool writable) {
  const auto access = writable ? reader::SegmentView::Access::kReadWrite : reader::SegmentView::Access::kReadOnly;
  absl::StatusOr<reader::SegmentView> view = reader::SegmentView::open(found.name, access);
  if (!view.ok()) return view.status();
  Target target;
  target.name = found.name;
  target.pid = found.id.pid;
  target.view = std::make_unique<reader::SegmentView>(std::move(*view));
  return target;
}

std::string shown_rules(const reader::SegmentView& view) {
  const absl::StatusOr<std::string> text = view.sample_rules_untrusted();
  if (!text.ok()) return absl::StrCat("<unreadable: ", std::string(text.status().message()), ">");
  return text->empty() ? "(none)" : absl::StrCat("\"", printable(*text), "\"");
}

// Stores the keep word of every site of the table from index `from` on;
// returns how many of them sample (a word other than 0).
uint32_t apply_to_sites(const Target& target, const reader::CallSiteTable& table, uint32_t from,
                        const shm::SampleRules& rules) {
  uint32_t sampled = 0;
  for (uint32_t id = from; id < table.size(); ++id) {
    const reader::CallSiteInfo* site = table.find(id);
    if (site == nullptr || !site->valid) continue;  // nothing to match a rule against; left as it is
    const uint32_t keep = shm::keep_for(rules, site->level, site->message, site->file, site->line);
    if (!target.view->store_sample_keep(id, keep).ok()) continue;  // the table holds only ids below capacity
    sampled += keep != 0;
  }
  return sampled;
}

int set_rules(const Target& target, const std::string& text) {
  const absl::StatusOr<shm::SampleRules> rules = shm::parse_sample_rules(text);
  if (!rules.ok()) usage_error(std::string(rules.status().message()));  // the validator checked it
  const std::string before = shown_rules(*target.view);
  // The text first: sites registered from now on read it.
  if (absl::Status s = target.view->store_sample_rules(text); !s.ok()) {
    print_segment_error(target.name, s);
    return kExitRuntime;
  }
  reader::CallSiteTable table(*target.view);
  uint32_t swept = 0;
  uint32_t sampled = 0;
  // Then every registered site, and again for any registered meanwhile
  // (which may have read the old text) until the table stops growing.
  for (int round = 0; round < 50; ++round) {
    if (absl::Status s = table.refresh(); !s.ok()) print_segment_error(target.name, s);
    if (round > 0 && table.size() == swept) break;
    sampled += apply_to_sites(target, table, swept, *rules);
    swept = table.size();
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  std::printf("pid %d: sampling %s -> %s (%u of %u call sites sampled)\n", static_cast<int>(target.pid), before.c_str(),
              shown_rules(*target.view).c_str(), sampled, swept);
  return kExitOk;
}

int show_rules(const Target& target) {
  const reader::SegmentIdentity& id = target.view->identity();
  std::printf("pid %d  service %s  rules %s\n", static_cast<int>(target.pid), printable(id.service).c_str(),
              shown_rules(*target.view).c_str());
  reader::CallSiteTable table(*target.view);
  if (absl::Status s = table.refresh(); !s.ok()) print_segment_error(target.name, s);
  uint32_t sampled = 0;
  for (uint32_t site_id = 0; site_id < table.size(); ++site_id) {
    const uint32_t keep = target.view->sample_keep_untrusted(site_id).value_or(0);
    if (keep == 0) continue;
    ++sampled;
    const reader::CallSiteInfo* site = table.find(site_id);
    if (site == nullptr || !site->valid) {
      std::printf("  site %u  (invalid entry)  keep %.6g\n", site_id, shm::keep_fraction(keep));
      continue;
    }
    std::printf("  site %u  %s  %s:%u  \"%s\"  keep %.6g\n", site_id,
                level_name(static_cast<uint32_t>(site->level)).c_str(), printable(site->file).c_str(), site->line,
                printable(site->message).c_str(), shm::keep_fraction(keep));
  }
  if (sampled == 0) std::printf("  no call site is sampled (%u registered)\n", table.size());
  return kExitOk;
}

int run_sample(const SampleConfig& config) {
  reader::DiscoveryOptions options;
  const bool by_pid = is_pid(config.target);
  if (by_pid) options.pids = {static_cast<pid_t>(std::stoll(config.target))};
  const reader::Discovery discovery = reader::discover_segments(options);
  if (!discovery.status.ok()) {
    print_error(std::string(discovery.status.message()));
    return kExitRuntime;
  }
  int status = kExitOk;
  int matched = 0;
  for (const reader::DiscoveredSegment& found : discovery.segments) {
    if (!shm::process_alive(found.id)) continue;  // rules of a process that is gone change nothing
    absl::StatusOr<Target> target = open_target(found, config.set);
    if (!target.ok()) {
      if (target.status().code() == absl::StatusCode::kNotFound) continue;     // gone since it was listed
      if (target.status().code() == absl::StatusCode::kUnavailable) continue;  // still initialising
      // A segment of the named pid or service that we cannot use is an error; others are not ours to judge.
      if (by_pid) {
        print_segment_error(found.name, target.status());
        status = kExitRuntime;
      }
      continue;
    }
    if (!by_pid && config.target != "all" && target->view->identity().service != config.target) continue;
    ++matched;
    const int done = config.set ? set_rules(*target, rules_text(config.rules)) : show_rules(*target);
    status = std::max(status, done);
  }
  if (matched == 0 && status == kExitOk) {
    print_error(by_pid ? absl::StrCat("pid ", config.target, " has no live ringtail segment")
                : config.target == "all"
                    ? std::string("no live ringtail producer")
                    : absl::StrCat("no live ringtail producer of service '", printable(config.target), "'"));
    return kExitRuntime;
  }
  return status;
}

}  // namespace

void add_sample(CLI::App& app) {
  auto config = std::make_shared<SampleConfig>();
  CLI::App* sample = app.add_subcommand("sample", "Show or change live producers' sampling rules");
  sample->footer(kSampleHelp);
  sample->add_option("TARGET", config->target, "A pid, a service name, or all (default)")->type_name("TARGET");
  CLI::Option* rules = sample->add_option("RULES", config->rules, "New rules, e.g. debug=0.1,msg:tool call=0.5")
                           ->type_name("RULES")
                           ->check(rules_validator());
  sample->callback([config, rules] {
    config->set = rules->count() > 0;
    finish(run_sample(*config));
  });
}

}  // namespace ringtail::cli
