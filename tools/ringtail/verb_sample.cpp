// ringtail sample [TARGET] [RULES]: shows or replaces live producers'
// sampling rules (RINGTAIL_SAMPLE, see shm/sample_rules.hpp). Finding the
// producers, the sweep over their call sites and the listing of sampled
// sites are reader/ingest/live_sampling.hpp; this verb parses and prints.
#include <algorithm>
#include <cstdio>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common.hpp"
#include "ringtail/reader/ingest/live_sampling.hpp"
#include "ringtail/reader/ingest/segment_view.hpp"
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

std::string shown_rules(const absl::StatusOr<std::string>& text) {
  if (!text.ok()) return absl::StrCat("<unreadable: ", text.status().message(), ">");
  return text->empty() ? "(none)" : absl::StrCat("\"", printable(*text), "\"");
}

int set_rules(const reader::LiveProducer& target, const std::string& text) {
  // The validator checked it; a text that fails here is still a usage error.
  if (const absl::Status s = shm::parse_sample_rules(text).status(); !s.ok()) usage_error(std::string{s.message()});
  const absl::StatusOr<reader::SamplingSweep> sweep = reader::replace_sampling_rules(target.view, text);
  if (!sweep.ok()) {
    print_segment_error(target.name, sweep.status());
    return kExitRuntime;
  }
  for (const absl::Status& error : sweep->table_errors) print_segment_error(target.name, error);
  std::printf("pid %d: sampling %s -> %s (%u of %u call sites sampled)\n", static_cast<int>(target.pid),
              shown_rules(sweep->rules_before).c_str(), shown_rules(sweep->rules_after).c_str(), sweep->sampled,
              sweep->sites);
  return kExitOk;
}

int show_rules(const reader::LiveProducer& target) {
  const reader::SamplingReport report = reader::sampling_report(target.view);
  std::printf("pid %d  service %s  rules %s\n", static_cast<int>(target.pid),
              printable(target.view.identity().service).c_str(), shown_rules(report.rules).c_str());
  if (!report.table_error.ok()) print_segment_error(target.name, report.table_error);
  for (const reader::SampledSite& site : report.sampled) {
    if (!site.valid) {
      std::printf("  site %u  (invalid entry)  keep %.6g\n", site.id, shm::keep_fraction(site.keep));
      continue;
    }
    std::printf("  site %u  %s  %s:%u  \"%s\"  keep %.6g\n", site.id,
                level_name(static_cast<uint32_t>(site.level)).c_str(), printable(site.file).c_str(), site.line,
                printable(site.message).c_str(), shm::keep_fraction(site.keep));
  }
  if (report.sampled.empty()) std::printf("  no call site is sampled (%u registered)\n", report.registered);
  return kExitOk;
}

int run_sample(const SampleConfig& config) {
  const reader::ProducerSelector selector = reader::ProducerSelector::parse(config.target);
  const auto access = config.set ? reader::SegmentView::Access::kReadWrite : reader::SegmentView::Access::kReadOnly;
  int status = kExitOk;
  const absl::StatusOr<int> matched = reader::for_each_live_producer(
      selector, access,
      [&](reader::LiveProducer& target) {
        const int done = config.set ? set_rules(target, rules_text(config.rules)) : show_rules(target);
        status = std::max(status, done);
      },
      // A segment of the named pid that we cannot use is an error.
      [&](const std::string& name, const absl::Status& error) {
        print_segment_error(name, error);
        status = kExitRuntime;
      });
  if (!matched.ok()) {
    print_error(std::string{matched.status().message()});
    return kExitRuntime;
  }
  if (*matched == 0 && status == kExitOk) {
    using Kind = reader::ProducerSelector::Kind;
    print_error(selector.kind == Kind::kPid ? absl::StrCat("pid ", config.target, " has no live ringtail segment")
                : selector.kind == Kind::kAll
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
